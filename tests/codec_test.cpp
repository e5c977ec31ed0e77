// Tests of algorithms/codec (bit packing, wire layout, sizes), algorithms/compressed (Aggregator)
// and algorithms/compressor (Top-K, make_compressor). Sizes are hand-computed from the layout
// documented in codec.hpp; Top-K is checked against a brute-force reference.
#include "algorithms/wire/codec.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "algorithms/compressors/compressor.hpp"
#include "algorithms/core/error.hpp"
#include "algorithms/wire/compressed.hpp"

namespace {

using efsim::InputError;
using efsim::alg::Aggregator;
using efsim::alg::BitReader;
using efsim::alg::BitWriter;
using efsim::alg::Compressed;
using efsim::alg::CompressorSpec;
using efsim::alg::Message;
using efsim::alg::Rng;
using efsim::alg::TopK;
using efsim::alg::Vector;
using efsim::alg::WireFormat;

// Every value rounded as the wire rounds it.
void round_all(Compressed& c, const WireFormat& w) {
  for (auto& v : c.value) v = efsim::alg::round_value(v, w.value_bits);
}

// ---------------------------------------------------------------------------------------------
// BitWriter / BitReader

TEST(Bits, MostSignificantBitFirst) {
  BitWriter w;
  w.write(1, 1);     // 1
  w.write(0b01, 2);  // 01
  w.write(0xFF, 3);  // masked to 111
  w.write(0b10, 2);  // 10   -> 1011 1110 = 0xBE
  w.write(0x5, 4);   // 0101 -> 0101 0000 (padded) = 0x50
  EXPECT_EQ(w.bit_count(), 12u);
  const Message m = w.finish();
  ASSERT_EQ(m.size_bytes(), 2u);
  EXPECT_EQ(m.bytes[0], 0xBE);
  EXPECT_EQ(m.bytes[1], 0x50);
}

TEST(Bits, ZeroWidthWritesNothing) {
  BitWriter w;
  w.write(123, 0);
  EXPECT_EQ(w.bit_count(), 0u);
  EXPECT_TRUE(w.finish().empty());
}

TEST(Bits, RoundTripMixedWidths) {
  std::mt19937_64 rng(12345);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<std::pair<std::uint64_t, int>> items;
    std::size_t total = 0;
    BitWriter w;
    const int n = 1 + static_cast<int>(rng() % 200);
    for (int t = 0; t < n; ++t) {
      const int bits = 1 + static_cast<int>(rng() % 64);
      std::uint64_t v = rng();
      // The writer masks to `bits`; pass the unmasked value half the time.
      const std::uint64_t masked = bits == 64 ? v : v & ((std::uint64_t{1} << bits) - 1);
      w.write(t % 2 ? v : masked, bits);
      items.emplace_back(masked, bits);
      total += static_cast<std::size_t>(bits);
    }
    ASSERT_EQ(w.bit_count(), total);
    const Message m = w.finish();
    ASSERT_EQ(m.size_bytes(), (total + 7) / 8);
    BitReader r(m);
    for (std::size_t t = 0; t < items.size(); ++t)
      ASSERT_EQ(r.read(items[t].second), items[t].first) << "trial " << trial << " item " << t;
    EXPECT_TRUE(r.at_end());
    EXPECT_THROW(r.read(8), std::out_of_range);
  }
}

TEST(Bits, EdgeValues) {
  BitWriter w;
  w.write(~std::uint64_t{0}, 64);
  w.write(0, 64);
  w.write(std::uint64_t{1} << 63, 64);
  w.write(1, 1);
  w.write(std::bit_cast<std::uint64_t>(-0.0), 64);
  const Message m = w.finish();
  EXPECT_EQ(m.size_bytes(), 33u);  // 257 bits
  BitReader r(m);
  EXPECT_EQ(r.read(64), ~std::uint64_t{0});
  EXPECT_EQ(r.read(64), 0u);
  EXPECT_EQ(r.read(64), std::uint64_t{1} << 63);
  EXPECT_EQ(r.read(1), 1u);
  EXPECT_EQ(r.read(64), std::bit_cast<std::uint64_t>(-0.0));
}

TEST(Bits, ReadPastEndThrows) {
  BitWriter w;
  w.write(0x3, 2);
  const Message m = w.finish();
  BitReader r(m);
  EXPECT_EQ(r.read(2), 3u);
  EXPECT_EQ(r.read(6), 0u);  // padding is readable and zero
  EXPECT_THROW(r.read(1), std::out_of_range);
}

// ---------------------------------------------------------------------------------------------
// Wire layout and sizes

// ceil(log2 d), at least 1 -- hand-written table, not the product's loop.
struct IndexBitsCase {
  int dim;
  int bits;
};
const IndexBitsCase kIndexBits[] = {
    {1, 1}, {2, 1},   {3, 2},   {4, 2},   {5, 3},     {7, 3},     {8, 3},     {13, 4},
    {9, 4}, {123, 7}, {128, 7}, {129, 8}, {1000, 10}, {1024, 10}, {1025, 11}, {47236, 16}};

TEST(Wire, IndexBitsAuto) {
  WireFormat w;
  w.index_bits = 0;
  for (const auto& c : kIndexBits) EXPECT_EQ(w.index_bits_for(c.dim), c.bits) << "d=" << c.dim;
  w.index_bits = 32;
  EXPECT_EQ(w.index_bits_for(123), 32);
  w.index_bits = 5;
  EXPECT_EQ(w.index_bits_for(1000), 5);  // explicit width is taken as given
}

Compressed sparse_of(int d, std::vector<std::int32_t> idx, std::vector<double> val) {
  return Compressed::sparse(d, std::move(idx), std::move(val));
}

Compressed dense_of(const Vector& v) {
  Compressed c;
  c.set_dense(v);
  return c;
}

Message encode_one(const Compressed& c, const WireFormat& wire) {
  BitWriter w;
  efsim::alg::encode(w, c, wire);
  EXPECT_EQ(w.bit_count(), efsim::alg::encoded_bits(c, wire));
  return w.finish();
}

Compressed decode_one(const Message& m, int dim, const WireFormat& wire) {
  BitReader r(m);
  Compressed out;
  out.dim = -1;
  out.dense = true;
  out.index = {7, 7};  // garbage to make sure decode overwrites
  out.value = {1, 2, 3};
  efsim::alg::decode(r, dim, wire, out);
  EXPECT_TRUE(r.at_end());
  return out;
}

bool bit_equal(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  return a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

void expect_same(const Compressed& a, const Compressed& b, const std::string& what) {
  EXPECT_EQ(a.dim, b.dim) << what;
  EXPECT_EQ(a.dense, b.dense) << what;
  EXPECT_EQ(a.index, b.index) << what;
  EXPECT_TRUE(bit_equal(a.value, b.value)) << what;
}

TEST(Wire, Top1OnA9aDimWith64BitValues) {
  // 1 layout bit + 32-bit count + 7-bit index + 64-bit value = 104 bits = 13 bytes.
  WireFormat wire{64, 0};
  const Compressed c = sparse_of(123, {57}, {-0.125});
  EXPECT_EQ(efsim::alg::encoded_bits(c, wire), 104u);
  const Message m = encode_one(c, wire);
  EXPECT_EQ(m.size_bytes(), 13u);
  expect_same(decode_one(m, 123, wire), c, "top-1 d=123");
}

TEST(Wire, HandComputedSizes) {
  struct Case {
    int d;
    bool dense;
    int k;
    int value_bits;
    int index_bits;  // as configured (0 = auto)
    std::size_t bits;
  };
  const Case cases[] = {
      {123, true, 0, 64, 0, 1 + 123 * 64},  // 7873 bits
      {123, true, 0, 32, 0, 1 + 123 * 32},  // 3937
      {13, true, 0, 32, 0, 1 + 13 * 32},    // 417 (d not a multiple of 8)
      {1, true, 0, 32, 0, 33},              // d = 1
      {1, true, 0, 64, 0, 65},
      {1, false, 1, 32, 0, 1 + 32 + 1 * (1 + 32)},  // d = 1 sparse: 1 index bit
      {1, false, 0, 64, 0, 33},                     // K = 0
      {1000, false, 0, 32, 32, 33},
      {1000, false, 3, 32, 0, 1 + 32 + 3 * (10 + 32)},
      {1000, false, 3, 32, 32, 1 + 32 + 3 * (32 + 32)},
      {129, false, 5, 64, 0, 1 + 32 + 5 * (8 + 64)},
  };
  for (const auto& c : cases) {
    WireFormat wire{c.value_bits, c.index_bits};
    Compressed x;
    if (c.dense) {
      x = dense_of(Vector::LinSpaced(c.d, -1.0, 2.0));
    } else {
      std::vector<std::int32_t> idx(c.k);
      std::iota(idx.begin(), idx.end(), 0);
      x = sparse_of(c.d, idx, std::vector<double>(c.k, 0.5));
    }
    const std::string what =
        "d=" + std::to_string(c.d) + (c.dense ? " dense" : " sparse K=" + std::to_string(c.k)) +
        " vb=" + std::to_string(c.value_bits) + " ib=" + std::to_string(c.index_bits);
    EXPECT_EQ(efsim::alg::encoded_bits(x, wire), c.bits) << what;
    const Message m = encode_one(x, wire);
    EXPECT_EQ(m.size_bytes(), (c.bits + 7) / 8) << what;
  }
}

TEST(Wire, LayoutBitAndCountAreAtTheFront) {
  WireFormat wire{32, 0};
  const Message dense = encode_one(dense_of(Vector::Zero(3)), wire);
  EXPECT_EQ(dense.bytes[0] & 0x80, 0);  // layout bit 0 = dense
  const Message sparse = encode_one(sparse_of(1000, {2, 999}, {1.0, 2.0}), wire);
  BitReader r(sparse);
  EXPECT_EQ(r.read(1), 1u);   // sparse
  EXPECT_EQ(r.read(32), 2u);  // count
  EXPECT_EQ(r.read(10), 2u);  // indices, 10 bits each, ascending
  EXPECT_EQ(r.read(10), 999u);
  EXPECT_EQ(r.read(32), std::bit_cast<std::uint32_t>(1.0f));
  EXPECT_EQ(r.read(32), std::bit_cast<std::uint32_t>(2.0f));
}

TEST(Wire, RoundTripExact) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal(0.0, 3.0);
  int checked = 0;
  for (int d : {1, 2, 7, 13, 123, 1000}) {
    for (int vb : {32, 64}) {
      for (int ib : {0, 32}) {
        const WireFormat wire{vb, ib};
        // Dense.
        Vector v(d);
        for (int j = 0; j < d; ++j)
          v[j] = normal(rng) * std::pow(10.0, static_cast<double>(j % 7) - 3.0);
        if (d > 2) v[1] = 0.1;  // not representable in binary32
        {
          Compressed c = dense_of(v);
          round_all(c, wire);
          const Message m = encode_one(c, wire);
          EXPECT_EQ(m.size_bytes(), (1 + static_cast<std::size_t>(d) * vb + 7) / 8);
          expect_same(decode_one(m, d, wire), c, "dense d=" + std::to_string(d));
          ++checked;
        }
        // Sparse with K = 0, 1, d/2 and d entries.
        for (int k : {0, 1, d / 2, d}) {
          std::vector<std::int32_t> all(d);
          std::iota(all.begin(), all.end(), 0);
          std::shuffle(all.begin(), all.end(), rng);
          std::vector<std::int32_t> idx(all.begin(), all.begin() + k);
          std::sort(idx.begin(), idx.end());
          std::vector<double> val;
          for (auto j : idx) val.push_back(v[j]);
          Compressed c = sparse_of(d, idx, val);
          round_all(c, wire);
          const auto* entry = std::find_if(std::begin(kIndexBits), std::end(kIndexBits),
                                           [d](const IndexBitsCase& e) { return e.dim == d; });
          ASSERT_NE(entry, std::end(kIndexBits)) << "add d=" << d << " to kIndexBits";
          const int index_bits = ib == 32 ? 32 : entry->bits;
          const Message m = encode_one(c, wire);
          EXPECT_EQ(m.size_bytes(),
                    (1 + 32 + static_cast<std::size_t>(k) * (index_bits + vb) + 7) / 8);
          expect_same(decode_one(m, d, wire), c,
                      "sparse d=" + std::to_string(d) + " K=" + std::to_string(k));
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 6 * 2 * 2 * 5);
}

TEST(Wire, Float32RoundingMatchesRoundValue) {
  // A 32-bit wire delivers float(v): exactly what round_value predicts.
  const WireFormat wire{32, 0};
  Vector v(4);
  v << 0.1, 1.0 / 3.0, -1e-8, 123456789.123;
  Compressed raw = dense_of(v);
  Compressed predicted = raw;
  round_all(predicted, wire);
  for (int j = 0; j < 4; ++j)
    EXPECT_EQ(predicted.value[j], static_cast<double>(static_cast<float>(v[j])));
  EXPECT_NE(predicted.value[0], 0.1);
  expect_same(decode_one(encode_one(raw, wire), 4, wire), predicted, "float32 dense");
  // 64-bit wire: untouched.
  Compressed same = raw;
  round_all(same, WireFormat{64, 0});
  expect_same(same, raw, "float64");
  EXPECT_EQ(efsim::alg::round_value(0.1, 64), 0.1);
}

TEST(Wire, NonFiniteValuesSurvive) {
  const WireFormat wire{64, 0};
  const double inf = std::numeric_limits<double>::infinity();
  const Compressed c = sparse_of(5, {0, 3, 4}, {inf, -inf, -0.0});
  const Compressed back = decode_one(encode_one(c, wire), 5, wire);
  expect_same(back, c, "inf/-0");
  const Compressed n = sparse_of(5, {1}, {std::numeric_limits<double>::quiet_NaN()});
  const Compressed nb = decode_one(encode_one(n, WireFormat{32, 0}), 5, WireFormat{32, 0});
  ASSERT_EQ(nb.value.size(), 1u);
  EXPECT_TRUE(std::isnan(nb.value[0]));
}

// ---------------------------------------------------------------------------------------------
// compact(): the smaller layout

TEST(Compact, SparseWithManyEntriesBecomesDense) {
  // d = 123, 32-bit values, auto index (7 bits): dense = 1 + 123*32 = 3937 bits;
  // sparse K entries = 33 + 39K: K = 100 -> 3933 (sparse smaller), K = 101 -> 3972 (dense smaller).
  const WireFormat wire{32, 0};
  for (int k : {100, 101}) {
    std::vector<std::int32_t> idx(k);
    std::iota(idx.begin(), idx.end(), 0);
    std::vector<double> val(k);
    for (int t = 0; t < k; ++t) val[t] = t + 1.0;
    Compressed c = sparse_of(123, idx, val);
    const Vector before = c.to_dense();
    efsim::alg::compact(c, wire);
    EXPECT_EQ(c.dense, k == 101) << "K=" << k;
    EXPECT_EQ(c.to_dense(), before);
    EXPECT_EQ(efsim::alg::encoded_bits(c, wire), k == 100 ? 3933u : 3937u);
  }
}

TEST(Compact, TieGoesDense) {
  // 32-bit values and 32-bit indices: sparse K=2 on d=5 is 33 + 2*64 = 161 bits = dense 1 + 5*32.
  const WireFormat wire{32, 32};
  Compressed c = sparse_of(5, {1, 3}, {2.0, -1.0});
  efsim::alg::compact(c, wire);
  EXPECT_TRUE(c.dense);
  EXPECT_EQ(c.to_dense(), (Vector(5) << 0, 2, 0, -1, 0).finished());
}

TEST(Compact, EmptySparseStaysSparse) {
  const WireFormat wire{32, 0};
  Compressed c = sparse_of(1000, {}, {});
  efsim::alg::compact(c, wire);
  EXPECT_FALSE(c.dense);
  EXPECT_EQ(efsim::alg::encoded_bits(c, wire), 33u);
}

TEST(Compact, DenseWithManyNonZerosStaysDense) {
  const WireFormat wire{32, 0};
  Compressed c = dense_of(Vector::LinSpaced(50, 1.0, 50.0));
  efsim::alg::compact(c, wire);
  EXPECT_TRUE(c.dense);
  EXPECT_EQ(c.value.size(), 50u);
}

// Regression (found by this suite, fixed): codec.hpp says compact() "converts c to whichever layout
// is smaller on the wire", but for a dense input it computes the sparse size with c.nnz() == d
// (every stored value, zeros included), so a dense vector is never converted to sparse. Here a
// dense d = 1000 vector with 2 non-zeros costs 1 + 1000*32 = 32001 bits dense but 33 + 2*(10+32) =
// 117 bits sparse; compact() leaves it dense.
TEST(Compact, DenseWithFewNonZerosBecomesSparse) {
  const WireFormat wire{32, 0};
  Vector v = Vector::Zero(1000);
  v[17] = 1.5;
  v[400] = -2.0;
  Compressed c = dense_of(v);
  efsim::alg::compact(c, wire);
  EXPECT_FALSE(c.dense);
  EXPECT_EQ(c.index, (std::vector<std::int32_t>{17, 400}));
  EXPECT_EQ(efsim::alg::encoded_bits(c, wire), 117u);
  EXPECT_EQ(c.to_dense(), v);
}

// ---------------------------------------------------------------------------------------------
// Aggregator

TEST(AggregatorTest, SumsOverSortedUnionOfSupports) {
  Aggregator agg(10);
  agg.add(sparse_of(10, {1, 5, 8}, {1.0, 2.0, 3.0}), 0.5);
  agg.add(sparse_of(10, {0, 5}, {4.0, -1.0}), 2.0);
  Vector dense = Vector::Zero(10);
  dense[9] = 1.0;
  dense[1] = 3.0;
  agg.add_dense(dense, 1.0);
  Compressed out;
  agg.take(out);
  EXPECT_FALSE(out.dense);
  EXPECT_EQ(out.dim, 10);
  EXPECT_EQ(out.index, (std::vector<std::int32_t>{0, 1, 5, 8, 9}));
  // 0: 2*4; 1: 0.5*1 + 3; 5: 0.5*2 + 2*(-1); 8: 0.5*3; 9: 1
  EXPECT_EQ(out.value, (std::vector<double>{8.0, 3.5, -1.0, 1.5, 1.0}));
  // take() resets.
  Compressed again;
  agg.take(again);
  EXPECT_TRUE(again.index.empty());
  EXPECT_TRUE(again.value.empty());
  agg.add(sparse_of(10, {3}, {1.0}), 1.0);
  agg.take(again);
  EXPECT_EQ(again.index, (std::vector<std::int32_t>{3}));
  EXPECT_EQ(again.value, (std::vector<double>{1.0}));
}

TEST(AggregatorTest, DenseCompressedTouchesEveryIndex) {
  Aggregator agg(4);
  agg.add(dense_of((Vector(4) << 1, 0, 2, 0).finished()), 1.0);
  Compressed out;
  agg.take(out);
  EXPECT_EQ(out.index, (std::vector<std::int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(out.to_dense(), (Vector(4) << 1, 0, 2, 0).finished());
}

// Both ways take() lists the support: scanning the flags (support a large share of d) and
// sorting (a small share).
TEST(AggregatorTest, MatchesDenseSum) {
  std::mt19937_64 rng(99);
  for (const auto& [d, adds] : {std::pair{200, 7}, std::pair{5000, 3}}) {
    Aggregator agg(d);
    Vector expected = Vector::Zero(d);
    TopK top(13);
    Rng r(1);
    std::vector<char> in_support(d, 0);
    for (int i = 0; i < adds; ++i) {
      Vector x(d);
      for (int j = 0; j < d; ++j)
        x[j] = static_cast<double>(static_cast<std::int64_t>(rng() % 2001) - 1000);
      Compressed c;
      top.compress(x, r, WireFormat{64, 0}, c);
      agg.add(c, 1.0 / adds);
      for (std::size_t t = 0; t < c.index.size(); ++t) {
        expected[c.index[t]] += c.value[t] / adds;
        in_support[c.index[t]] = 1;
      }
    }
    Compressed out;
    agg.take(out);
    std::vector<std::int32_t> support;
    for (int j = 0; j < d; ++j)
      if (in_support[j]) support.push_back(j);
    EXPECT_EQ(out.index, support) << d;
    EXPECT_LT((out.to_dense() - expected).norm(), 1e-12);
  }
}

// ---------------------------------------------------------------------------------------------
// Top-K

Compressed topk(const Vector& x, int k) {
  TopK c(k);
  Rng rng(0);
  Compressed out;
  c.compress(x, rng, WireFormat{64, 0}, out);
  return out;
}

// Brute force: stable sort by descending magnitude (NaN as +inf); the stable sort keeps
// equal magnitudes in index order.
std::vector<std::int32_t> reference_topk(const Vector& x, int k) {
  std::vector<std::int32_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  auto mag = [&](std::int32_t j) {
    return std::isnan(x[j]) ? std::numeric_limits<double>::infinity() : std::abs(x[j]);
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](std::int32_t a, std::int32_t b) { return mag(a) > mag(b); });
  order.resize(k);
  std::sort(order.begin(), order.end());
  return order;
}

TEST(TopKTest, KeepsLargestMagnitudes) {
  const Vector x = (Vector(5) << 0.1, -5, 3, 0.2, -4).finished();
  const Compressed c = topk(x, 2);
  EXPECT_FALSE(c.dense);
  EXPECT_EQ(c.dim, 5);
  EXPECT_EQ(c.index, (std::vector<std::int32_t>{1, 4}));
  EXPECT_EQ(c.value, (std::vector<double>{-5, -4}));
  EXPECT_EQ(topk(x, 3).index, (std::vector<std::int32_t>{1, 2, 4}));
  EXPECT_EQ(topk(x, 1).index, (std::vector<std::int32_t>{1}));
}

TEST(TopKTest, TiesGoToSmallerIndex) {
  const Vector x = (Vector(4) << 1, -1, 1, -1).finished();
  EXPECT_EQ(topk(x, 2).index, (std::vector<std::int32_t>{0, 1}));
  EXPECT_EQ(topk(x, 3).index, (std::vector<std::int32_t>{0, 1, 2}));
  EXPECT_EQ(topk(x, 1).index, (std::vector<std::int32_t>{0}));
  const Vector y = (Vector(6) << 0, 2, 0, -2, 0, 2).finished();
  EXPECT_EQ(topk(y, 2).index, (std::vector<std::int32_t>{1, 3}));
  EXPECT_EQ(topk(y, 4).index, (std::vector<std::int32_t>{0, 1, 3, 5}));
  EXPECT_EQ(topk(Vector::Zero(8), 3).index, (std::vector<std::int32_t>{0, 1, 2}));
}

TEST(TopKTest, NanCountsAsLargest) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const Vector x = (Vector(4) << 1e300, 1, nan, -7).finished();
  const Compressed c = topk(x, 1);
  EXPECT_EQ(c.index, (std::vector<std::int32_t>{2}));
  ASSERT_EQ(c.value.size(), 1u);
  EXPECT_TRUE(std::isnan(c.value[0]));
  EXPECT_EQ(topk(x, 2).index, (std::vector<std::int32_t>{0, 2}));
  // NaN and inf are equally large: the smaller index wins.
  EXPECT_EQ(topk((Vector(3) << 0, -inf, nan).finished(), 1).index, (std::vector<std::int32_t>{1}));
  EXPECT_EQ(topk((Vector(3) << nan, 0, -inf).finished(), 1).index, (std::vector<std::int32_t>{0}));
}

TEST(TopKTest, KEqualsDReturnsX) {
  const Vector x = (Vector(5) << 3, 0, -1, 0, 2.5).finished();
  const Compressed c = topk(x, 5);
  EXPECT_EQ(c.to_dense(), x);
  EXPECT_EQ(c.index, (std::vector<std::int32_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(topk(x, 9).to_dense(), x);  // k > d is clamped
  EXPECT_DOUBLE_EQ(TopK(9).alpha(5), 1.0);
}

double contraction_gap(const Vector& x, int k) {
  const Vector cx = topk(x, k).to_dense();
  const int d = static_cast<int>(x.size());
  // ||C(x) - x||^2 <= (1 - K/d) ||x||^2 ; returns lhs - rhs (should be <= ~0).
  return (cx - x).squaredNorm() - (1.0 - static_cast<double>(k) / d) * x.squaredNorm();
}

TEST(TopKTest, MatchesReferenceAndContracts) {
  std::mt19937_64 rng(2024);
  std::normal_distribution<double> normal;
  for (int trial = 0; trial < 400; ++trial) {
    const int d = 1 + static_cast<int>(rng() % 300);
    const int k = 1 + static_cast<int>(rng() % d);
    Vector x(d);
    for (int j = 0; j < d; ++j) {
      x[j] = normal(rng);
      if (trial % 3 == 0) x[j] = std::round(x[j] * 2);  // many ties, many zeros
    }
    const Compressed c = topk(x, k);
    ASSERT_EQ(c.index, reference_topk(x, k)) << "trial " << trial << " d=" << d << " k=" << k;
    ASSERT_TRUE(std::is_sorted(c.index.begin(), c.index.end()));
    ASSERT_EQ(c.value.size(), static_cast<std::size_t>(k));
    for (std::size_t t = 0; t < c.index.size(); ++t) ASSERT_EQ(c.value[t], x[c.index[t]]);
    EXPECT_LE(contraction_gap(x, k), 1e-12 * x.squaredNorm()) << "trial " << trial;
    EXPECT_DOUBLE_EQ(TopK(k).alpha(d), static_cast<double>(k) / d);
  }
}

TEST(TopKTest, ContractionAdversarial) {
  for (int d : {1, 2, 3, 10, 123, 1000}) {
    for (int k = 1; k <= d; k = k < 4 ? k + 1 : k * 3) {
      // All magnitudes equal: the bound holds with equality, (d-K) a^2 = (1 - K/d) d a^2.
      Vector flat(d);
      for (int j = 0; j < d; ++j) flat[j] = j % 2 ? -0.7 : 0.7;
      EXPECT_LE(contraction_gap(flat, k), 1e-12 * flat.squaredNorm())
          << "flat d=" << d << " k=" << k;
      EXPECT_GE(contraction_gap(flat, k), -1e-12 * flat.squaredNorm()) << "flat bound is tight";
      // One spike: Top-K removes it first.
      Vector spike = Vector::Constant(d, 1e-3);
      spike[d / 2] = -1e6;
      EXPECT_LE(contraction_gap(spike, k), 1e-12 * spike.squaredNorm())
          << "spike d=" << d << " k=" << k;
      EXPECT_EQ(topk(spike, k).index.size(), static_cast<std::size_t>(k));
      EXPECT_NE(std::find(topk(spike, k).index.begin(), topk(spike, k).index.end(), d / 2),
                topk(spike, k).index.end());
      // Geometric decay across scales.
      Vector geo(d);
      for (int j = 0; j < d; ++j) geo[j] = std::pow(0.5, j % 60) * (j % 3 ? 1 : -1);
      EXPECT_LE(contraction_gap(geo, k), 1e-12 * geo.squaredNorm()) << "geo d=" << d << " k=" << k;
    }
  }
}

TEST(MakeCompressor, ValidAndInvalid) {
  const auto id = efsim::alg::make_compressor(CompressorSpec{"identity", 0}, 10);
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->label(), "identity");
  EXPECT_EQ(id->alpha(10), 1.0);
  {
    Rng rng(0);
    Compressed out;
    const Vector x = Vector::LinSpaced(10, -1, 1);
    id->compress(x, rng, WireFormat{64, 0}, out);
    EXPECT_TRUE(out.dense);
    EXPECT_EQ(out.to_dense(), x);
  }
  const auto t = efsim::alg::make_compressor(CompressorSpec{"top_k", 10}, 10);  // k = d allowed
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->label(), "top_k10");
  EXPECT_DOUBLE_EQ(efsim::alg::make_compressor(CompressorSpec{"top_k", 3}, 12)->alpha(12), 0.25);

  EXPECT_THROW(efsim::alg::make_compressor(CompressorSpec{"top_k", 0}, 10), InputError);
  EXPECT_THROW(efsim::alg::make_compressor(CompressorSpec{"top_k", -2}, 10), InputError);
  EXPECT_THROW(efsim::alg::make_compressor(CompressorSpec{"top_k", 11}, 10), InputError);
  try {
    efsim::alg::make_compressor(CompressorSpec{"rand_kk", 3}, 10);
    FAIL() << "unknown kind accepted";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("rand_kk"), std::string::npos) << msg;
    EXPECT_NE(msg.find("identity"), std::string::npos) << msg;
    EXPECT_NE(msg.find("top_k"), std::string::npos) << msg;
  }
  try {
    efsim::alg::make_compressor(CompressorSpec{"top_k", 11}, 10);
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("11"), std::string::npos) << e.what();
  }
}

}  // namespace
