// Every compressor against its definition: the declared contraction / second-moment constant
// (Monte-Carlo where random), unbiasedness, exact wire sizes from the documented formats,
// decode(encode(C(x))) == C(x) bit for bit, and no crash on non-finite input.
#include "algorithms/compressors/compressor.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "algorithms/compressors/detail.hpp"
#include "algorithms/core/error.hpp"

namespace efsim::alg {
namespace {

CompressorSpec spec(const std::string& kind, int k = 0, int s = 0, const std::string& coding = "",
                    const std::string& values = "") {
  CompressorSpec c(kind, k, s);
  c.coding = coding;
  c.values = values;
  return c;
}

CompressorSpec induced(const CompressorSpec& c1, const CompressorSpec& c2) {
  CompressorSpec c("induced");
  c.c1 = std::make_shared<CompressorSpec>(c1);
  c.c2 = std::make_shared<CompressorSpec>(c2);
  return c;
}

// Every operator, with parameters valid for d >= 4.
std::vector<CompressorSpec> all_specs(int d) {
  const int k = std::max(1, d / 4);
  return {spec("identity"),
          spec("top_k", k),
          spec("top_k", d),  // K = d
          spec("top_k", k, 0, "", "natural"),
          spec("rand_k", k),
          spec("rand_k", k, 0, "", "natural"),
          spec("rand_k_unbiased", k),
          spec("rand_k_unbiased", k, 0, "", "natural"),
          spec("wangni", k),
          spec("nu_rand_k", k),
          spec("scaled_sign"),
          spec("natural"),
          spec("natural_dithering", 0, 1),
          spec("natural_dithering", 0, 3),
          spec("qsgd", 0, 1),
          spec("qsgd", 0, 4),
          spec("qsgd", 0, 4, "elias"),
          spec("terngrad"),
          induced(spec("top_k", std::max(1, k / 2)), spec("wangni", std::max(1, k / 2))),
          induced(spec("top_k", k), spec("rand_k_unbiased", k)),
          induced(spec("scaled_sign"), spec("natural"))};
}

TEST(CompressorRegistry, EveryKindIsTestedAndBuilds) {
  std::set<std::string> tested;
  for (const auto& s : all_specs(64)) tested.insert(s.kind);
  for (const auto& info : compressor_registry()) {
    EXPECT_TRUE(tested.count(info.kind)) << info.kind << " has no test case";
    EXPECT_FALSE(info.constant.empty());
    EXPECT_FALSE(info.summary.empty());
  }
}

Vector gaussian(int d, Rng& rng, double scale = 1.0) {
  Vector v(d);
  for (int j = 0; j < d; ++j) v[j] = scale * standard_normal(rng);
  return v;
}

// Vectors a codec must survive: random, zero, ties, signed zeros, subnormals, huge, spikes.
std::vector<Vector> test_vectors(int d) {
  Rng rng(99);
  std::vector<Vector> out;
  out.push_back(gaussian(d, rng));
  out.push_back(Vector::Zero(d));
  Vector ties(d);
  for (int j = 0; j < d; ++j) ties[j] = j % 2 ? -1.5 : 1.5;
  out.push_back(ties);
  Vector zeros(d);
  for (int j = 0; j < d; ++j) zeros[j] = j % 2 ? -0.0 : 0.0;
  zeros[0] = 2.0;
  out.push_back(zeros);
  Vector tiny = gaussian(d, rng, 1e-310);  // subnormal doubles
  out.push_back(tiny);
  out.push_back(gaussian(d, rng, 1e30));
  Vector spike = Vector::Zero(d);
  spike[d - 1] = -3.25;
  out.push_back(spike);
  return out;
}

bool same_bits(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}

void expect_same_value(const Compressed& a, const Compressed& b, const std::string& what) {
  const Vector da = a.to_dense(), db = b.to_dense();
  ASSERT_EQ(da.size(), db.size()) << what;
  for (Eigen::Index j = 0; j < da.size(); ++j)
    ASSERT_TRUE(same_bits(da[j], db[j])) << what << " j=" << j << ": " << da[j] << " vs " << db[j];
}

Message encode_message(const Compressor& C, const Compressed& c, const WireFormat& wire) {
  BitWriter w;
  C.encode(c, wire, w);
  return w.finish();
}

Compressed decode_message(const Compressor& C, const Message& m, int d, const WireFormat& wire) {
  BitReader r(m);
  Compressed out;
  C.decode(r, d, wire, out);
  EXPECT_TRUE(r.at_end()) << "bytes left after decoding";
  return out;
}

int index_bits(int d) {  // ceil(log2 d), at least 1 -- written independently of the codec
  int b = 1;
  while ((1L << b) < d) ++b;
  return b;
}

int level_bits(int s) {  // ceil(log2(s + 1))
  int b = 0;
  while ((1L << b) < s + 1) ++b;
  return std::max(1, b);
}

std::size_t gamma_bits(std::uint64_t n) {
  std::size_t b = 0;
  while ((n >> b) > 1) ++b;
  return 2 * b + 1;
}

// The documented wire size in bits of C(x) = c (before padding to bytes).
std::size_t documented_bits(const CompressorSpec& s, const Compressed& c, const WireFormat& w) {
  const std::size_t d = c.dim, vb = w.value_bits;
  const std::size_t ib = w.index_bits ? w.index_bits : index_bits(c.dim);
  const bool natural = s.values == "natural";
  auto nonzeros = [&c] {
    std::size_t n = 0;
    for (double v : c.to_dense()) n += v != 0.0;
    return n;
  };
  if (s.kind == "identity") return 1 + d * vb;
  if (s.kind == "top_k") return natural ? 32 + s.k * (ib + 9) : 1 + 32 + s.k * (ib + vb);
  if (s.kind == "rand_k" || s.kind == "rand_k_unbiased") return 64 + s.k * (natural ? 9 : vb);
  if (s.kind == "wangni") return 1 + 32 + c.nnz() * (ib + vb);
  if (s.kind == "nu_rand_k") return vb + s.k * (ib + 1);
  if (s.kind == "scaled_sign") return vb + d;
  if (s.kind == "natural") return 9 * d;
  if (s.kind == "natural_dithering") return vb + d * (1 + level_bits(s.s));
  if (s.kind == "terngrad") return vb + 2 * d;
  if (s.kind == "qsgd" && s.coding != "elias") return vb + d * (1 + level_bits(s.s));
  if (s.kind == "qsgd") {
    if (!std::isfinite(c.scale)) return vb + gamma_bits(1);  // overflowing norm: no levels sent
    const Vector v = c.to_dense();
    std::size_t bits = vb + gamma_bits(nonzeros() + 1);
    long previous = -1;
    for (Eigen::Index j = 0; j < v.size(); ++j) {
      if (v[j] == 0.0) continue;
      const auto level = static_cast<std::uint64_t>(std::llround(std::abs(v[j]) / c.scale * s.s));
      bits += gamma_bits(static_cast<std::uint64_t>(j - previous)) + 1 + gamma_bits(level);
      previous = static_cast<long>(j);
    }
    return bits;
  }
  if (s.kind == "induced")
    return documented_bits(*s.c1, c.parts.at(0), w) + documented_bits(*s.c2, c.parts.at(1), w);
  ADD_FAILURE() << "no documented size for " << s.kind;
  return 0;
}

// decode(encode(C(x))) == C(x) bit for bit, and the byte count is the documented formula, for
// every operator, value width, index width, dimension (incl. d not a multiple of 8) and vector.
TEST(CompressorWire, RoundTripIsExactAndSizesMatchTheFormats) {
  int checked = 0;
  for (int d : {4, 7, 13, 64, 257}) {
    for (const auto& s : all_specs(d)) {
      const auto C = make_compressor(s, d);
      for (int vb : {16, 32, 64}) {
        for (int ib : {0, 32}) {
          const WireFormat wire{vb, ib};
          int vi = 0;
          for (const Vector& x : test_vectors(d)) {
            const std::string what = C->label() + " d=" + std::to_string(d) +
                                     " vb=" + std::to_string(vb) + " ib=" + std::to_string(ib) +
                                     " vector " + std::to_string(vi++);
            Rng rng(7);
            Compressed c;
            C->compress(x, rng, wire, c);
            const Message m = encode_message(*C, c, wire);
            const Compressed back = decode_message(*C, m, d, wire);
            expect_same_value(back, c, what);
            EXPECT_EQ(m.size_bytes(), (documented_bits(s, c, wire) + 7) / 8) << what;
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_EQ(checked, 5 * 21 * 3 * 2 * 7);
}

TEST(CompressorWire, SameSeedSameOutput) {
  const int d = 50;
  Rng data(3);
  const Vector x = gaussian(d, data);
  for (const auto& s : all_specs(d)) {
    const auto C = make_compressor(s, d);
    Rng r1(11), r2(11);
    Compressed a, b;
    C->compress(x, r1, WireFormat{}, a);
    C->compress(x, r2, WireFormat{}, b);
    expect_same_value(a, b, C->label());
  }
}

// Non-finite input never crashes and is never hidden: what the receiver decodes is non-finite,
// so the run ends as `diverged`.
TEST(CompressorWire, NonFiniteInputGivesNonFiniteOutput) {
  const int d = 16;
  for (const double bad :
       {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    Rng data(5);
    Vector x = gaussian(d, data);
    x[3] = bad;
    for (const auto& s : all_specs(d)) {
      const auto C = make_compressor(s, d);
      Rng rng(1);
      Compressed c;
      C->compress(x, rng, WireFormat{}, c);
      const Compressed back =
          decode_message(*C, encode_message(*C, c, WireFormat{}), d, WireFormat{});
      EXPECT_FALSE(back.to_dense().allFinite()) << C->label() << " hid a " << bad << " input";
    }
  }
}

TEST(CompressorWire, RandKSendsOnlySeedAndValues) {
  const int d = 1000, k = 10;
  RandK C(k, true);
  Rng rng(2), data(4);
  const Vector x = gaussian(d, data);
  Compressed c;
  C.compress(x, rng, WireFormat{32, 0}, c);
  const Message m = encode_message(C, c, WireFormat{32, 0});
  EXPECT_EQ(m.size_bytes(), 8u + 4u * k);  // 64-bit seed + K float32 values, no indices
  const Compressed back = decode_message(C, m, d, WireFormat{32, 0});
  EXPECT_EQ(back.index, c.index);  // the support is regenerated from the seed
  for (std::size_t t = 0; t < c.index.size(); ++t)
    EXPECT_EQ(back.value[t], static_cast<double>(static_cast<float>(x[c.index[t]] * d / k)));
}

TEST(CompressorWire, Float16RoundsToNearestEven) {
  EXPECT_EQ(round_value(1.0 + std::ldexp(1.0, -11), 16), 1.0);  // tie -> even (1.0)
  EXPECT_EQ(round_value(1.0 + 3 * std::ldexp(1.0, -11), 16), 1.0 + std::ldexp(1.0, -9));
  EXPECT_EQ(round_value(65504.0, 16), 65504.0);  // largest half
  EXPECT_TRUE(std::isinf(round_value(65520.0, 16)));
  EXPECT_EQ(round_value(std::ldexp(1.0, -24), 16), std::ldexp(1.0, -24));  // smallest subnormal
  EXPECT_EQ(round_value(std::ldexp(1.0, -26), 16), 0.0);
  EXPECT_EQ(round_value(-0.1, 16), -0.0999755859375);
  EXPECT_TRUE(std::signbit(round_value(-0.0, 16)));
  EXPECT_GE(round_value_up(0.1, 16), 0.1);
  EXPECT_GE(round_value_up(0.1, 32), 0.1);
  EXPECT_EQ(round_value_up(0.5, 16), 0.5);
}

TEST(CompressorWire, EliasGammaCodes) {
  for (std::uint64_t n : {1ULL, 2ULL, 3ULL, 4ULL, 7ULL, 8ULL, 1000ULL, (1ULL << 40) + 5}) {
    BitWriter w;
    write_elias_gamma(w, n);
    EXPECT_EQ(w.bit_count(), gamma_bits(n));
    const Message m = w.finish();
    BitReader r(m);
    EXPECT_EQ(read_elias_gamma(r), n);
  }
  // 5 = 101b -> 00101
  BitWriter w;
  write_elias_gamma(w, 5);
  EXPECT_EQ(w.finish().bytes[0], 0b00101000);
}

// ---- The declared constants ----

struct Moments {
  Vector mean;         // E C(x)
  Vector mean_sq_err;  // per coordinate E (C(x)_j - x_j)^2 (for the standard error)
  double sq_norm = 0;  // E ||C(x)||^2
  double sq_dist = 0;  // E ||C(x) - x||^2
  double sq_dist_se = 0;
  double sq_norm_se = 0;
};

Moments monte_carlo(const Compressor& C, const Vector& x, int draws, std::uint64_t seed) {
  Rng rng(seed);
  const int d = static_cast<int>(x.size());
  Moments m;
  m.mean = Vector::Zero(d);
  m.mean_sq_err = Vector::Zero(d);
  double n2 = 0, n4 = 0, e2 = 0, e4 = 0;
  Compressed c;
  for (int t = 0; t < draws; ++t) {
    C.compress(x, rng, WireFormat{64, 0}, c);
    const Vector v = c.to_dense();
    m.mean += v;
    m.mean_sq_err += (v - x).cwiseAbs2();
    const double a = v.squaredNorm(), b = (v - x).squaredNorm();
    n2 += a;
    n4 += a * a;
    e2 += b;
    e4 += b * b;
  }
  m.mean /= draws;
  m.mean_sq_err /= draws;
  m.sq_norm = n2 / draws;
  m.sq_dist = e2 / draws;
  m.sq_norm_se = std::sqrt(std::max(0.0, n4 / draws - m.sq_norm * m.sq_norm) / draws);
  m.sq_dist_se = std::sqrt(std::max(0.0, e4 / draws - m.sq_dist * m.sq_dist) / draws);
  return m;
}

std::vector<Vector> constant_vectors(int d) {
  Rng rng(21);
  std::vector<Vector> out = {gaussian(d, rng), Vector::Ones(d)};  // all-equal: Top-K's worst case
  Vector spike = Vector::Constant(d, 0.01);
  spike[2] = 10.0;  // one dominant coordinate
  out.push_back(spike);
  Vector ramp(d);
  for (int j = 0; j < d; ++j) ramp[j] = (j % 2 ? -1.0 : 1.0) * (j + 1);
  out.push_back(ramp);
  return out;
}

// E ||C(x) - x||^2 <= (1 - alpha) ||x||^2 for every contractive operator (and every unbiased one
// with delta < 2). Deterministic operators: exactly; random ones: the Monte-Carlo mean within 4
// standard errors.
TEST(CompressorConstants, ContractionInequality) {
  const int d = 24;
  int checked = 0;
  for (const auto& s : all_specs(d)) {
    const auto C = make_compressor(s, d);
    const double alpha = C->alpha(d);
    if (!(alpha > 0)) continue;
    for (const Vector& x : constant_vectors(d)) {
      const double bound = (1 - alpha) * x.squaredNorm();
      if (C->deterministic()) {
        Rng rng(1);
        Compressed c;
        C->compress(x, rng, WireFormat{64, 0}, c);
        EXPECT_LE((c.to_dense() - x).squaredNorm(), bound * (1 + 1e-12)) << C->label();
      } else {
        const Moments m = monte_carlo(*C, x, 4000, 17);
        EXPECT_LE(m.sq_dist, bound + 4 * m.sq_dist_se + 1e-12 * bound) << C->label();
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, 4 * 8);
}

TEST(CompressorConstants, TopKAttainsItsBoundOnEqualMagnitudes) {
  // With |x_j| all equal, ||TopK(x) - x||^2 = (1 - K/d) ||x||^2 exactly: alpha = K/d is tight.
  TopK C(5);
  Rng rng(1);
  Compressed c;
  const Vector x = Vector::Constant(20, -2.0);
  C.compress(x, rng, WireFormat{}, c);
  EXPECT_DOUBLE_EQ((c.to_dense() - x).squaredNorm(), (1 - 5.0 / 20) * x.squaredNorm());
}

// Top-K against a full sort: the K largest magnitudes, ties broken by the smaller index, NaN
// ranked above everything; on vectors full of ties, zeros and non-finite values.
TEST(CompressorConstants, TopKMatchesAFullSortWithTiesAndNonFinite) {
  Rng rng(7);
  for (int trial = 0; trial < 216; ++trial) {
    // Short vectors, then long ones with small K (the sampled threshold's path), then long ones
    // whose large entries sit exactly where the strided sample looks, so its bound is too high
    // and the selection must fall back to a full scan.
    const int d = trial < 200 ? 1 + static_cast<int>(uniform_below(rng, 60)) : 40000;
    Vector x(d);
    for (int j = 0; j < d; ++j) {
      const auto r = uniform_below(rng, 10);
      x[j] = r < 3    ? 0.0
             : r < 6  ? (r % 2 ? 1.5 : -1.5)
             : r == 6 ? std::numeric_limits<double>::quiet_NaN()
             : r == 7 ? -std::numeric_limits<double>::infinity()
                      : standard_normal(rng);
      if (trial >= 200) x[j] = std::round(standard_normal(rng) * 100) / 100;  // many ties
    }
    if (trial >= 212) {
      for (int t = 0; t < 4096; ++t) x[static_cast<Eigen::Index>(t) * d / 4096] = 1000.0 + t;
      x[5] = std::numeric_limits<double>::quiet_NaN();
    }
    // Every fourth short trial K = 1 (its own one-scan path).
    const int k = trial < 200 ? (trial % 4 == 0 ? 1
                                                : 1 + static_cast<int>(uniform_below(
                                                          rng, static_cast<std::uint64_t>(d))))
                              : std::vector<int>{1, 7, 100, 2500, 4999, 5000}[trial % 6];
    std::vector<int> order(d);
    for (int j = 0; j < d; ++j) order[j] = j;
    auto mag = [&x](int j) { return std::isnan(x[j]) ? INFINITY : std::abs(x[j]); };
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return mag(a) > mag(b); });
    std::set<int> expected(order.begin(), order.begin() + k);
    TopK C(k);
    Compressed c;
    C.compress(x, rng, WireFormat{64, 0}, c);
    ASSERT_EQ(static_cast<int>(c.index.size()), k);
    EXPECT_EQ(std::set<int>(c.index.begin(), c.index.end()), expected) << "d=" << d << " k=" << k;
    EXPECT_TRUE(std::is_sorted(c.index.begin(), c.index.end()));
    for (int i = 0; i < k; ++i) {
      const double xi = x[c.index[i]];
      EXPECT_TRUE(std::isnan(xi) ? std::isnan(c.value[i]) : c.value[i] == xi);
    }
  }
}

// Top-K's two candidate scans (scalar, AVX-512) give the same indices and values, bit for bit,
// against the plain definition {j : |x_j| >= L, NaN above +inf}, at every length around the
// 16-lane blocks, every offset and bounds that keep none, some and all of x.
TEST(CompressorConstants, TopKCandidateScansAgreeWithTheDefinition) {
  if (!detail::has_avx512f()) GTEST_SKIP() << "this CPU has no AVX-512: only the scalar scan runs";
  Rng rng(11);
  for (int trial = 0; trial < 400; ++trial) {
    const int d = trial < 100 ? trial : 1 + static_cast<int>(uniform_below(rng, 5000));
    const int begin = trial % 3 == 0 ? 0 : static_cast<int>(uniform_below(rng, d + 1));
    std::vector<double> x(static_cast<std::size_t>(d));
    for (auto& v : x) {
      const auto r = uniform_below(rng, 12);
      v = r == 0   ? std::numeric_limits<double>::quiet_NaN()
          : r == 1 ? -std::numeric_limits<double>::infinity()
          : r == 2 ? -0.0
          : r == 3 ? std::numeric_limits<double>::denorm_min()
                   : standard_normal(rng);
    }
    const double bounds[] = {0.0, 0.5, 1.0, 2.5, INFINITY, NAN};
    const double b = bounds[trial % 6];
    const std::uint64_t L = std::bit_cast<std::uint64_t>(b);
    std::vector<std::int32_t> want;
    for (int j = begin; j < d; ++j) {
      const double m = std::abs(x[j]);
      if (std::isnan(b) ? std::isnan(m) : (std::isnan(m) || m >= b)) want.push_back(j);
    }
    const std::size_t room = static_cast<std::size_t>(d - begin) + 16;
    std::vector<std::int32_t> i1(room), i2(room);
    std::vector<double> v1(room), v2(room);
    const int n1 = detail::collect_candidates_scalar(x.data(), begin, d, L, i1.data(), v1.data());
    const int n2 = detail::collect_candidates_avx512(x.data(), begin, d, L, i2.data(), v2.data());
    ASSERT_EQ(n1, static_cast<int>(want.size())) << "d=" << d << " L=" << b;
    ASSERT_EQ(n2, n1) << "d=" << d << " L=" << b;
    for (int c = 0; c < n1; ++c) {
      ASSERT_EQ(i1[c], want[c]);
      ASSERT_EQ(i2[c], want[c]);
      ASSERT_EQ(std::bit_cast<std::uint64_t>(v1[c]), std::bit_cast<std::uint64_t>(x[want[c]]));
      ASSERT_EQ(std::bit_cast<std::uint64_t>(v2[c]), std::bit_cast<std::uint64_t>(x[want[c]]));
    }
  }
}

// Unbiased operators: the Monte-Carlo mean of C(x) is x within 5 standard errors per coordinate,
// and E ||C(x)||^2 <= delta ||x||^2.
TEST(CompressorConstants, UnbiasedAndSecondMomentBound) {
  const int d = 16;
  int checked = 0;
  for (const auto& s : all_specs(d)) {
    const auto C = make_compressor(s, d);
    if (C->klass() != CompressorClass::kUnbiased) continue;
    const double delta = C->delta(d);
    ASSERT_GE(delta, 1.0) << C->label();
    for (const Vector& x : constant_vectors(d)) {
      const int draws = 20000;
      const Moments m = monte_carlo(*C, x, draws, 23);
      // Standard error per coordinate, floored by the mean over coordinates: a coordinate whose
      // rare outcome never showed up in the sample would otherwise look variance-free.
      const double floor = m.mean_sq_err.mean();
      for (int j = 0; j < d; ++j) {
        const double se = std::sqrt(std::max(m.mean_sq_err[j], floor) / draws);
        EXPECT_NEAR(m.mean[j], x[j], 5 * se + 1e-12 * std::abs(x[j])) << C->label() << " j=" << j;
      }
      EXPECT_LE(m.sq_norm, delta * x.squaredNorm() + 4 * m.sq_norm_se) << C->label();
      ++checked;
    }
  }
  EXPECT_GE(checked, 4 * 12);
}

// Closed-form second moments where the paper gives them, against the Monte-Carlo estimate.
TEST(CompressorConstants, ClosedFormSecondMoments) {
  const int d = 12, draws = 40000;
  Rng data(8);
  const Vector x = gaussian(d, data);
  const double n2 = x.squaredNorm(), n1 = x.lpNorm<1>(), ninf = x.lpNorm<Eigen::Infinity>();
  struct Case {
    CompressorSpec spec;
    double expected;
  };
  const std::vector<Case> cases = {
      {spec("rand_k_unbiased", 3), d / 3.0 * n2},                // E||C||^2 = (d/K)||x||^2
      {spec("nu_rand_k", 1), n1 * n1},                           // K = 1: ||x||_1^2
      {spec("nu_rand_k", 4), n1 * n1 / 4 + (1 - 1.0 / 4) * n2},  // (1/K)||x||_1^2 + (1-1/K)||x||^2
      {spec("terngrad"), ninf * n1},                             // ||x||_inf ||x||_1
      {spec("rand_k", 3), 3.0 / d * n2},                         // unscaled: (K/d)||x||^2
  };
  for (const auto& c : cases) {
    const auto C = make_compressor(c.spec, d);
    const Moments m = monte_carlo(*C, x, draws, 31);
    EXPECT_NEAR(m.sq_norm, c.expected, 5 * m.sq_norm_se + 1e-9 * c.expected) << C->label();
  }
}

TEST(CompressorConstants, DeclaredFormulas) {
  const int d = 100;
  EXPECT_DOUBLE_EQ(make_compressor(spec("top_k", 10), d)->alpha(d), 0.1);
  EXPECT_DOUBLE_EQ(make_compressor(spec("top_k", 10, 0, "", "natural"), d)->alpha(d), 0.1 * 7 / 8);
  EXPECT_DOUBLE_EQ(make_compressor(spec("rand_k_unbiased", 10), d)->delta(d), 10.0);
  EXPECT_DOUBLE_EQ(make_compressor(spec("wangni", 10), d)->delta(d), 11.0);
  EXPECT_DOUBLE_EQ(make_compressor(spec("nu_rand_k", 3), d)->delta(d), 1 + 99.0 / 3);
  EXPECT_DOUBLE_EQ(make_compressor(spec("natural"), d)->delta(d), 9.0 / 8);
  EXPECT_DOUBLE_EQ(make_compressor(spec("natural"), d)->alpha(d), 7.0 / 8);  // 2 - delta
  EXPECT_DOUBLE_EQ(make_compressor(spec("qsgd", 0, 2), d)->delta(d),
                   1 + std::min(100.0 / 4, 10.0 / 2));
  EXPECT_DOUBLE_EQ(make_compressor(spec("qsgd", 0, 20), d)->delta(d),
                   1 + std::min(100.0 / 400, 10.0 / 20));
  EXPECT_DOUBLE_EQ(make_compressor(spec("terngrad"), d)->delta(d), (1 + 10.0) / 2);
  EXPECT_DOUBLE_EQ(make_compressor(spec("natural_dithering", 0, 3), d)->delta(d),
                   1 + 0.125 + std::min(10.0 / 4, 100.0 / 16));
  EXPECT_DOUBLE_EQ(make_compressor(spec("scaled_sign"), d)->alpha(d), 0.01);
  EXPECT_EQ(make_compressor(spec("qsgd", 0, 1), d)->alpha(d), 0.0);  // delta = 11: not contractive
  // Induced (Theorem 3): delta = delta2 (1 - 1/delta1) + 1/delta1, delta1 = 1/alpha1 = d/K.
  const double induced_delta =
      make_compressor(induced(spec("top_k", 5), spec("wangni", 5)), d)->delta(d);
  EXPECT_DOUBLE_EQ(induced_delta, (1 + 100.0 / 5) * (1 - 0.05) + 0.05);
}

TEST(CompressorConstants, InducedIsUnbiasedEvenWithBiasedC1) {
  // C1 = Top-2 alone is biased; C1 + C2(x - C1(x)) is not.
  const int d = 10;
  Rng data(12);
  const Vector x = gaussian(d, data);
  const auto C = make_compressor(induced(spec("top_k", 2), spec("rand_k_unbiased", 2)), d);
  const int draws = 40000;
  const Moments m = monte_carlo(*C, x, draws, 3);
  for (int j = 0; j < d; ++j)
    EXPECT_NEAR(m.mean[j], x[j], 5 * std::sqrt(m.mean_sq_err[j] / draws) + 1e-10 * std::abs(x[j]))
        << j;
}

TEST(CompressorConstants, NaturalCompressionRoundsToNeighbouringPowersOfTwo) {
  Natural C;
  Rng rng(1);
  Compressed c;
  Vector x(5);
  x << 3.0, -0.75, 4.0, 0.0, 1e-40;  // 1e-40 < 2^-126: rounds to 0 or 2^-126
  for (int t = 0; t < 200; ++t) {
    C.compress(x, rng, WireFormat{}, c);
    EXPECT_TRUE(c.value[0] == 2.0 || c.value[0] == 4.0);
    EXPECT_TRUE(c.value[1] == -0.5 || c.value[1] == -1.0);
    EXPECT_EQ(c.value[2], 4.0);  // a power of two is kept
    EXPECT_EQ(c.value[3], 0.0);
    EXPECT_TRUE(c.value[4] == 0.0 || c.value[4] == std::ldexp(1.0, -126));
  }
}

TEST(CompressorConstants, InvalidParametersAreInputErrors) {
  const int d = 10;
  for (const auto& bad :
       {spec("top_k", 0), spec("top_k", 11), spec("rand_k", 0), spec("wangni", 12),
        spec("nu_rand_k", 0), spec("qsgd", 0, 0), spec("qsgd", 0, 2, "huffman"),
        spec("natural_dithering", 0, 0), spec("top_k", 2, 0, "", "float8"),
        induced(spec("natural"), spec("wangni", 2)), induced(spec("top_k", 2), spec("top_k", 2)),
        spec("nope")})
    EXPECT_THROW(make_compressor(bad, d), InputError) << bad.label();
}

}  // namespace
}  // namespace efsim::alg
