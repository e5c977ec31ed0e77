// Quantizers: scaled sign, natural compression, natural dithering, QSGD, TernGrad. Each sends
// one scale (a norm, rounded to the wire; norms are rounded up so |x_j| / scale <= 1) and a few
// bits per coordinate. The value of coordinate j is always computed as scale * level, in the
// same expression on both ends, so compress() equals decode(encode()) bit for bit.
#include <cassert>
#include <cmath>
#include <limits>

#include "algorithms/compressors/compressor.hpp"
#include "algorithms/compressors/detail.hpp"

namespace efsim::alg {

namespace {

// A scale that is NaN/inf (poisoned input) makes every decoded value NaN (scale * level with
// level >= 0): the run is recorded as diverged instead of crashing.
bool usable(double scale) { return std::isfinite(scale); }

// Unbiased random rounding of y in [lo, hi] to lo or hi.
bool round_up(double y, double lo, double hi, Rng& rng) {
  return hi > lo && uniform01(rng) < (y - lo) / (hi - lo);
}

}  // namespace

// ---- Scaled sign (Karimireddy, Rebjock, Stich, Jaggi 2019, "Error feedback fixes SignSGD") ----

void ScaledSign::compress(const Vector& x, Rng&, const WireFormat& wire, Compressed& out) const {
  const int d = static_cast<int>(x.size());
  out.clear_sparse(d);
  out.dense = true;
  out.scale = round_value(x.lpNorm<1>() / d, wire.value_bits);
  out.value.resize(d);
  for (int j = 0; j < d; ++j) out.value[j] = std::signbit(x[j]) ? -out.scale : out.scale;
}

void ScaledSign::encode(const Compressed& c, const WireFormat& wire, BitWriter& w) const {
  write_value(w, c.scale, wire.value_bits);
  for (double v : c.value) w.write(std::signbit(v) ? 1 : 0, 1);
}

void ScaledSign::decode(BitReader& r, int d, const WireFormat& wire, Compressed& out) const {
  out.clear_sparse(d);
  out.dense = true;
  out.scale = read_value(r, wire.value_bits);
  out.value.resize(d);
  for (auto& v : out.value) v = r.read(1) ? -out.scale : out.scale;
}

// ---- Natural compression (Horváth, Ho, Horváth, Sahu, Canini, Richtárik 2019) ----

void Natural::compress(const Vector& x, Rng& rng, const WireFormat&, Compressed& out) const {
  const int d = static_cast<int>(x.size());
  out.clear_sparse(d);
  out.dense = true;
  out.value.resize(d);
  for (int j = 0; j < d; ++j) out.value[j] = detail::natural_round(x[j], rng);
}

void Natural::encode(const Compressed& c, const WireFormat&, BitWriter& w) const {
  for (double v : c.value) w.write(detail::natural_code(v), detail::kNaturalBits);
}

void Natural::decode(BitReader& r, int d, const WireFormat&, Compressed& out) const {
  out.clear_sparse(d);
  out.dense = true;
  out.value.resize(d);
  for (auto& v : out.value)
    v = detail::natural_from_code(static_cast<std::uint32_t>(r.read(detail::kNaturalBits)));
}

// ---- Natural dithering (same paper): levels 0 and 2^(t-s), t = 1..s, of ||x||_2 ----

namespace {
double dithering_level(int t, int s) { return t == 0 ? 0.0 : std::ldexp(1.0, t - s); }

// The skeleton both norm-scaled quantizers share: scale = ||x||_2 (rounded up to the wire's
// value width), then each y = |x_j| / scale in [0, 1] goes through `magnitude(y, scale, rng)`,
// which returns the quantized |C(x)_j|, computed exactly as the decoder computes it (0 keeps +0).
template <class Magnitude>
void quantize_by_norm(const Vector& x, Rng& rng, const WireFormat& wire, Compressed& out,
                      Magnitude magnitude) {
  const int d = static_cast<int>(x.size());
  out.clear_sparse(d);
  out.dense = true;
  out.scale = round_value_up(x.norm(), wire.value_bits);
  out.value.resize(d);
  const bool live = usable(out.scale) && out.scale > 0;
  for (int j = 0; j < d; ++j) {
    const double v = live ? magnitude(std::abs(x[j]) / out.scale, out.scale, rng)
                          : out.scale * 0.0;  // a NaN/Inf scale stays NaN: divergence shows
    out.value[j] = v > 0 && std::signbit(x[j]) ? -v : v;  // zero is +0 on both ends
  }
}
}  // namespace

void NaturalDithering::compress(const Vector& x, Rng& rng, const WireFormat& wire,
                                Compressed& out) const {
  quantize_by_norm(x, rng, wire, out, [this](double y, double scale, Rng& g) {
    int t = 0;
    if (y >= dithering_level(1, s_)) {
      int q = 0;
      std::frexp(y, &q);  // y in [2^(q-1), 2^q)
      t = std::min(s_, q - 1 + s_);
      if (t < s_ && round_up(y, dithering_level(t, s_), dithering_level(t + 1, s_), g)) ++t;
    } else if (round_up(y, 0.0, dithering_level(1, s_), g)) {
      t = 1;
    }
    return scale * dithering_level(t, s_);
  });
}

void NaturalDithering::encode(const Compressed& c, const WireFormat& wire, BitWriter& w) const {
  write_value(w, c.scale, wire.value_bits);
  const int lb = detail::level_bits(s_);
  for (double v : c.value) {
    int t = 0;
    if (usable(c.scale) && c.scale > 0 && v != 0.0) {
      int q = 0;
      std::frexp(std::abs(v) / c.scale, &q);  // exactly 2^(t-s)
      t = q - 1 + s_;
    }
    w.write(std::signbit(v) ? 1 : 0, 1);
    w.write(static_cast<std::uint64_t>(t), lb);
  }
}

void NaturalDithering::decode(BitReader& r, int d, const WireFormat& wire, Compressed& out) const {
  out.clear_sparse(d);
  out.dense = true;
  out.scale = read_value(r, wire.value_bits);
  const int lb = detail::level_bits(s_);
  out.value.resize(d);
  for (auto& v : out.value) {
    const bool negative = r.read(1) != 0;
    const auto t = static_cast<int>(r.read(lb));
    if (t > s_) throw std::out_of_range("natural_dithering: level index exceeds s");
    const double m = out.scale * dithering_level(t, s_);
    v = negative ? -m : m;
  }
}

double NaturalDithering::delta(int d) const {
  const double a = std::sqrt(static_cast<double>(d)) / std::ldexp(1.0, s_ - 1);
  return 1.0 + 1.0 / 8.0 + std::min(a, a * a);
}

// ---- QSGD (Alistarh, Grubic, Li, Tomioka, Vojnovic, NeurIPS 2017) ----

void Qsgd::compress(const Vector& x, Rng& rng, const WireFormat& wire, Compressed& out) const {
  quantize_by_norm(x, rng, wire, out, [this](double y, double scale, Rng& g) {
    const double ys = y * s_;  // in [0, s]
    int l = std::min(s_, static_cast<int>(std::floor(ys)));
    if (l < s_ && uniform01(g) < ys - l) ++l;
    return scale * l / s_;
  });
}

namespace {
int qsgd_level(double v, double scale, int s) {
  return usable(scale) && scale > 0 ? static_cast<int>(std::llround(std::abs(v) / scale * s)) : 0;
}
}  // namespace

void Qsgd::encode(const Compressed& c, const WireFormat& wire, BitWriter& w) const {
  write_value(w, c.scale, wire.value_bits);
  if (!elias_) {
    const int lb = detail::level_bits(s_);
    for (double v : c.value) {
      w.write(std::signbit(v) ? 1 : 0, 1);
      w.write(static_cast<std::uint64_t>(qsgd_level(v, c.scale, s_)), lb);
    }
    return;
  }
  std::size_t nonzeros = 0;
  for (double v : c.value) nonzeros += qsgd_level(v, c.scale, s_) > 0;
  write_elias_gamma(w, nonzeros + 1);
  long previous = -1;
  for (int j = 0; j < c.dim; ++j) {
    const int l = qsgd_level(c.value[j], c.scale, s_);
    if (l == 0) continue;
    write_elias_gamma(w, static_cast<std::uint64_t>(j - previous));
    w.write(std::signbit(c.value[j]) ? 1 : 0, 1);
    write_elias_gamma(w, static_cast<std::uint64_t>(l));
    previous = j;
  }
}

void Qsgd::decode(BitReader& r, int d, const WireFormat& wire, Compressed& out) const {
  out.clear_sparse(d);
  out.dense = true;
  out.scale = read_value(r, wire.value_bits);
  out.value.assign(d, 0.0);
  auto value_of = [&](int l, bool negative) {
    if (l > s_) throw std::out_of_range("qsgd: level exceeds s");
    const double v = out.scale * l / s_;
    return negative ? -v : v;
  };
  if (!elias_) {
    const int lb = detail::level_bits(s_);
    for (auto& v : out.value) {
      const bool negative = r.read(1) != 0;
      v = value_of(static_cast<int>(r.read(lb)), negative);
    }
    return;
  }
  for (auto& v : out.value) v = value_of(0, false);  // scale * 0 (NaN for a poisoned scale)
  const std::uint64_t nonzeros = read_elias_gamma(r) - 1;
  if (nonzeros > static_cast<std::uint64_t>(d)) throw std::out_of_range("qsgd: too many non-zeros");
  long j = -1;
  for (std::uint64_t t = 0; t < nonzeros; ++t) {
    j += static_cast<long>(read_elias_gamma(r));
    if (j >= d) throw std::out_of_range("qsgd: index exceeds d");
    const bool negative = r.read(1) != 0;
    const std::uint64_t l = read_elias_gamma(r);
    if (l > static_cast<std::uint64_t>(s_)) throw std::out_of_range("qsgd: level exceeds s");
    out.value[j] = value_of(static_cast<int>(l), negative);
  }
}

double Qsgd::delta(int d) const {
  const double dd = d, s = s_;
  return 1.0 + std::min(dd / (s * s), std::sqrt(dd) / s);
}

// ---- TernGrad (Wen, Xu, Yan, Wu, Wang, Chen, Li, NeurIPS 2017) ----

void TernGrad::compress(const Vector& x, Rng& rng, const WireFormat& wire, Compressed& out) const {
  const int d = static_cast<int>(x.size());
  out.clear_sparse(d);
  out.dense = true;
  const double inf_norm = x.size() ? x.cwiseAbs().maxCoeff() : 0.0;
  out.scale = x.allFinite() ? round_value_up(inf_norm, wire.value_bits)
                            : std::numeric_limits<double>::quiet_NaN();
  out.value.resize(d);
  for (int j = 0; j < d; ++j) {
    int b = 0;
    if (usable(out.scale) && out.scale > 0) b = uniform01(rng) < std::abs(x[j]) / out.scale;
    const double v = out.scale * b;
    out.value[j] = b > 0 && std::signbit(x[j]) ? -v : v;  // zero is +0 on both ends
  }
}

void TernGrad::encode(const Compressed& c, const WireFormat& wire, BitWriter& w) const {
  write_value(w, c.scale, wire.value_bits);
  for (double v : c.value) {
    const bool nonzero = usable(c.scale) && c.scale > 0 && v != 0.0;
    w.write(nonzero ? (std::signbit(v) ? 3u : 1u) : 0u, 2);
  }
}

void TernGrad::decode(BitReader& r, int d, const WireFormat& wire, Compressed& out) const {
  out.clear_sparse(d);
  out.dense = true;
  out.scale = read_value(r, wire.value_bits);
  out.value.resize(d);
  for (auto& v : out.value) {
    const auto code = r.read(2);
    if (code == 2) throw std::out_of_range("terngrad: invalid code");
    const double m = out.scale * (code == 0 ? 0 : 1);
    v = code == 3 ? -m : m;
  }
}

double TernGrad::delta(int d) const { return (1.0 + std::sqrt(static_cast<double>(d))) / 2.0; }

}  // namespace efsim::alg
