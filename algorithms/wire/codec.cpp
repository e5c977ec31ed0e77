#include "algorithms/wire/codec.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "algorithms/core/error.hpp"

namespace efsim::alg {

int WireFormat::index_bits_for(int dim) const {
  if (index_bits > 0) return index_bits;
  int bits = 1;
  while ((std::int64_t{1} << bits) < dim) ++bits;
  return bits;
}

void BitWriter::grow(std::size_t more) {
  buf_.resize(std::max({2 * buf_.size(), len_ + more, std::size_t{64}}));
}

Message BitWriter::finish() {
  // Unique per process: workers may step on several threads (efsim run --threads). A serial
  // only names a message (caches compare it for equality), so its value never reaches a result.
  static std::atomic<std::uint64_t> next_serial{0};
  ensure(8);
  if (acc_bits_ > 0) {  // the last bits, top-aligned, padded with zero bits to whole bytes
    const std::uint64_t word = __builtin_bswap64(acc_ << (64 - acc_bits_));
    std::memcpy(buf_.data() + len_, &word, 8);
    len_ += static_cast<std::size_t>((acc_bits_ + 7) / 8);
  }
  buf_.resize(len_);
  Message m;
  m.serial = next_serial.fetch_add(1, std::memory_order_relaxed) + 1;
  m.bytes = std::move(buf_);
  buf_ = {};
  len_ = 0;
  acc_ = 0;
  acc_bits_ = 0;
  bits_ = 0;
  return m;
}

std::uint64_t BitReader::read_slow(int bits) {
  if (pos_ + static_cast<std::size_t>(bits) > buf_.size() * 8)
    throw std::out_of_range("BitReader: read past the end of the message");
  std::uint64_t v = 0;
  if (pos_ % 8 == 0 && bits % 8 == 0) {  // aligned whole bytes
    for (int b = 0; b < bits; b += 8) v = (v << 8) | buf_[(pos_ + static_cast<std::size_t>(b)) / 8];
    pos_ += static_cast<std::size_t>(bits);
    return v;
  }
  while (bits > 0) {
    const int used = static_cast<int>(pos_ % 8);
    const int avail = 8 - used;
    const int take = bits < avail ? bits : avail;
    const unsigned byte = buf_[pos_ / 8];
    const unsigned chunk = (byte >> (avail - take)) & ((1u << take) - 1u);
    v = (v << take) | chunk;
    bits -= take;
    pos_ += static_cast<std::size_t>(take);
  }
  return v;
}

namespace {

constexpr int kCountBits = 32;

}  // namespace

// IEEE binary16 bits of v (round to nearest even; overflow to infinity).
std::uint16_t to_half_bits(double v) {
  const std::uint16_t sign = std::signbit(v) ? 0x8000u : 0u;
  if (std::isnan(v)) return static_cast<std::uint16_t>(sign | 0x7E00u);
  const double a = std::abs(v);
  if (a == 0.0) return sign;
  int e = 0;
  std::frexp(a, &e);  // a = m 2^e, m in [0.5, 1): the leading bit has weight 2^(e-1)
  // Quantum: 10 fraction bits below the leading bit; subnormals have the fixed quantum 2^-24.
  const int q = std::max(e - 11, -24);
  const double units = std::nearbyint(std::ldexp(a, -q));  // ties to even (default mode)
  const double r = std::ldexp(units, q);
  if (r >= 65520.0 || r > 65504.0) return static_cast<std::uint16_t>(sign | 0x7C00u);
  if (r < 0x1p-14) return static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(units));
  int er = 0;
  const double mr = std::frexp(r, &er);  // r = mr 2^er
  const auto exponent = static_cast<std::uint16_t>(er - 1 + 15);
  const auto fraction = static_cast<std::uint16_t>(std::ldexp(mr * 2.0 - 1.0, 10));
  return static_cast<std::uint16_t>(sign | (exponent << 10) | fraction);
}

double from_half_bits(std::uint16_t h) {
  const double sign = (h & 0x8000u) ? -1.0 : 1.0;
  const int exponent = (h >> 10) & 0x1F;
  const int fraction = h & 0x3FF;
  if (exponent == 0) return sign * std::ldexp(fraction, -24);
  if (exponent == 31) return fraction ? std::numeric_limits<double>::quiet_NaN() : sign * HUGE_VAL;
  return sign * std::ldexp(1024 + fraction, exponent - 25);
}

double round_value_up(double v, int value_bits) {
  double r = round_value(v, value_bits);
  if (!(r < v)) return r;  // also NaN and infinity
  if (value_bits == 32)
    return static_cast<double>(std::nextafter(static_cast<float>(r), HUGE_VALF));
  // binary16: step to the next representable value.
  const std::uint16_t bits = to_half_bits(r);
  return from_half_bits(static_cast<std::uint16_t>(r >= 0 ? bits + 1 : bits - 1));
}

void write_elias_gamma(BitWriter& w, std::uint64_t n) {
  assert(n >= 1);
  const int len = std::bit_width(n);  // floor(log2 n) + 1
  w.write(0, len - 1);
  w.write(n, len);
}

std::uint64_t read_elias_gamma(BitReader& r) {
  int zeros = 0;
  while (r.read(1) == 0) {
    if (++zeros > 63) throw std::out_of_range("Elias gamma code longer than 64 bits");
  }
  return (std::uint64_t{1} << zeros) | (zeros > 0 ? r.read(zeros) : 0);
}

std::size_t elias_gamma_bits(std::uint64_t n) {
  return 2 * static_cast<std::size_t>(std::bit_width(n)) - 1;
}

std::size_t encoded_bits(const Compressed& c, const WireFormat& wire) {
  const auto vb = static_cast<std::size_t>(wire.value_bits);
  if (c.dense) return 1 + static_cast<std::size_t>(c.dim) * vb;
  return 1 + kCountBits + c.nnz() * (static_cast<std::size_t>(wire.index_bits_for(c.dim)) + vb);
}

void compact(Compressed& c, const WireFormat& wire) {
  const auto vb = static_cast<std::size_t>(wire.value_bits);
  const auto ib = static_cast<std::size_t>(wire.index_bits_for(c.dim));
  std::size_t nonzeros = c.nnz();
  if (c.dense)
    nonzeros = static_cast<std::size_t>(
        std::count_if(c.value.begin(), c.value.end(), [](double v) { return v != 0.0; }));
  const std::size_t dense_bits = 1 + static_cast<std::size_t>(c.dim) * vb;
  const std::size_t sparse_bits = 1 + kCountBits + nonzeros * (ib + vb);
  if (c.dense && sparse_bits < dense_bits) {
    Compressed s;
    s.clear_sparse(c.dim);
    for (int j = 0; j < c.dim; ++j) {
      if (c.value[j] != 0.0) {
        s.index.push_back(j);
        s.value.push_back(c.value[j]);
      }
    }
    c = std::move(s);
  } else if (!c.dense && dense_bits <= sparse_bits) {
    c.set_dense(c.to_dense());
  }
}

void encode(BitWriter& w, const Compressed& c, const WireFormat& wire) {
  w.reserve_bits(encoded_bits(c, wire));
  w.write(c.dense ? 0 : 1, 1);
  if (c.dense) {
    for (double v : c.value) write_value(w, v, wire.value_bits);
    return;
  }
  const int ib = wire.index_bits_for(c.dim);
  w.write(c.nnz(), kCountBits);
  for (std::int32_t j : c.index) w.write(static_cast<std::uint64_t>(j), ib);
  for (double v : c.value) write_value(w, v, wire.value_bits);
}

void decode(BitReader& r, int dim, const WireFormat& wire, Compressed& out) {
  const bool sparse = r.read(1) != 0;
  if (!sparse) {
    out.dim = dim;
    out.dense = true;
    out.index.clear();
    out.value.resize(dim);
    for (int j = 0; j < dim; ++j) out.value[j] = read_value(r, wire.value_bits);
    return;
  }
  const auto count = static_cast<std::size_t>(r.read(kCountBits));
  if (count > static_cast<std::size_t>(dim)) throw std::out_of_range("decode: count exceeds dim");
  const int ib = wire.index_bits_for(dim);
  out.resize_sparse(dim, count);
  for (auto& j : out.index) j = read_index(r, ib, dim);
  for (auto& v : out.value) v = read_value(r, wire.value_bits);
}

void throw_bad_index(std::uint64_t j, int dim) {
  throw std::out_of_range("decode: index " + std::to_string(j) + " >= dimension " +
                          std::to_string(dim));
}

std::size_t dense_message_bytes(Eigen::Index dim, const WireFormat& wire) {
  Compressed c;
  c.set_dense(Vector::Zero(dim));
  BitWriter w;
  encode(w, c, wire);
  return w.finish().size_bytes();
}

}  // namespace efsim::alg
