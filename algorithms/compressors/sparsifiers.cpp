// Sparsifiers: Identity, Top-K, Rand-K (seeded), Wangni et al.'s gradient sparsification,
// non-uniform Rand-K, the fixed diagonal/mask operator; plus the Compressor defaults and the
// shared helpers of compressor_detail.hpp.
#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "algorithms/compressors/compressor.hpp"
#include "algorithms/compressors/detail.hpp"
#include "algorithms/core/cost.hpp"
#include "algorithms/core/error.hpp"

namespace efsim::alg {

namespace detail {

double natural_round(double t, Rng& rng) {
  if (t == 0.0) return t;
  const double sign = std::signbit(t) ? -1.0 : 1.0;
  const double a = std::abs(t);
  if (!std::isfinite(a)) return sign * HUGE_VAL;
  constexpr double kMin = 0x1p-126;
  double lo, hi;
  if (a < kMin) {
    lo = 0.0;
    hi = kMin;
  } else {
    int q = 0;
    std::frexp(a, &q);  // a = m 2^q, m in [0.5, 1)
    lo = std::ldexp(1.0, q - 1);
    hi = 2.0 * lo;
  }
  if (a == lo) return t;
  const double r = uniform01(rng) < (a - lo) / (hi - lo) ? hi : lo;
  return sign * (r > 0x1p127 ? HUGE_VAL : r);
}

std::uint32_t natural_code(double v) {
  const std::uint32_t sign = std::signbit(v) ? 1u : 0u;
  const double a = std::abs(v);
  std::uint32_t exponent = 0;
  if (!(a < HUGE_VAL)) {
    exponent = 255;  // infinity (also NaN)
  } else if (a != 0.0) {
    int q = 0;
    std::frexp(a, &q);
    exponent = static_cast<std::uint32_t>(q - 1 + 127);
    assert(exponent >= 1 && exponent <= 254);
  }
  return (sign << 8) | exponent;
}

double natural_from_code(std::uint32_t code) {
  const double sign = (code >> 8) & 1u ? -1.0 : 1.0;
  const std::uint32_t exponent = code & 0xFFu;
  if (exponent == 0) return sign * 0.0;
  if (exponent == 255) return sign * HUGE_VAL;
  return sign * std::ldexp(1.0, static_cast<int>(exponent) - 127);
}

int level_bits(int s) {
  return std::max(1, static_cast<int>(std::bit_width(static_cast<unsigned>(s))));
}

}  // namespace detail

// ---- Compressor defaults ----

void Compressor::encode(const Compressed& c, const WireFormat& wire, BitWriter& w) const {
  alg::encode(w, c, wire);
}

void Compressor::decode(BitReader& r, int d, const WireFormat& wire, Compressed& out) const {
  alg::decode(r, d, wire, out);
}

double Compressor::alpha(int d) const {
  return klass() == CompressorClass::kUnbiased ? std::max(0.0, 2.0 - delta(d)) : 0.0;
}

double Compressor::delta(int) const { return 0.0; }

double Compressor::decode_flops(int, std::int64_t values) const { return cost::codec(values); }

void roundtrip(const Compressor& C, const WireFormat& wire, Compressed& c) {
  BitWriter w;
  C.encode(c, wire, w);
  const Message m = w.finish();
  BitReader r(m);
  const int d = c.dim;
  C.decode(r, d, wire, c);
}

// ---- Identity ----

void Identity::compress(const Vector& x, Rng&, const WireFormat& wire, Compressed& out) const {
  out.set_dense(x);
  for (auto& v : out.value) v = round_value(v, wire.value_bits);
}

// ---- Top-K (e.g. Alistarh et al. 2018; EF21 paper §2) ----

namespace {

// |v| as an ordered integer: IEEE 754 orders non-negative doubles like their bit patterns, so
// comparing these compares magnitudes; NaN is ranked with +inf, above every finite value (a
// diverging run keeps its NaNs visible).
constexpr std::uint64_t kAbsMask = 0x7fffffffffffffffULL;
constexpr std::uint64_t kInfBits = 0x7ff0000000000000ULL;
std::uint64_t magnitude(double v) {
  const std::uint64_t a = std::bit_cast<std::uint64_t>(v) & kAbsMask;
  return a > kInfBits ? kInfBits : a;
}

// A lower bound L on the k-th largest magnitude of x that at least k coordinates reach, from a
// strided sample (long x, small k only; otherwise 0: every coordinate is a candidate).
std::uint64_t candidate_bound(const Vector& x, int k) {
  const auto d = static_cast<std::size_t>(x.size());
  constexpr std::size_t kSample = 4096;
  if (!cost::top_k_sampled_bound(x.size(), k)) return 0;
  thread_local std::vector<std::uint64_t> sample(kSample);  // scratch: no allocation per call
  for (std::size_t s = 0; s < kSample; ++s)
    sample[s] = magnitude(x[static_cast<Eigen::Index>(s * d / kSample)]);
  // Rank of L in the sample: the expected rank e of the k-th largest plus 4 sqrt(e) + 16 (the
  // rank is binomial, standard deviation below sqrt(e)): fewer than k candidates is then very
  // unlikely, and only costs a second scan.
  const double e = static_cast<double>(k) * kSample / static_cast<double>(d);
  const std::size_t rank =
      std::min(kSample - 1, static_cast<std::size_t>(e + 4.0 * std::sqrt(e)) + 16);
  std::nth_element(sample.begin(), sample.begin() + static_cast<std::ptrdiff_t>(rank), sample.end(),
                   std::greater<>());
  return sample[rank];
}

// The k-th largest of m (1 <= k <= m.size(); lo and hi: its least and greatest), by one radix
// step: a 4096-bin histogram of the values' offsets from lo finds the bin holding it, and
// nth_element ranks only that bin's members (copied into scratch).
std::uint64_t kth_largest(const std::vector<std::uint64_t>& m, std::uint64_t lo, std::uint64_t hi,
                          int k, std::vector<std::uint64_t>& scratch) {
  constexpr int kBins = 4096;
  if (m.size() <= kBins) {  // short: ranking them all beats clearing the histogram
    scratch.assign(m.begin(), m.end());
    std::nth_element(scratch.begin(), scratch.begin() + (k - 1), scratch.end(), std::greater<>());
    return scratch[static_cast<std::size_t>(k - 1)];
  }
  const std::uint64_t span = hi - lo;
  int shift = 0;
  while ((span >> shift) >= kBins) ++shift;
  thread_local std::vector<int> bins(kBins);
  std::fill(bins.begin(), bins.end(), 0);
  for (std::uint64_t v : m) ++bins[(v - lo) >> shift];
  int bin = static_cast<int>(span >> shift), need = k;  // need: rank within the bin
  while (bins[bin] < need) need -= bins[bin--];
  scratch.clear();
  for (std::uint64_t v : m)
    if (static_cast<int>((v - lo) >> shift) == bin) scratch.push_back(v);
  std::nth_element(scratch.begin(), scratch.begin() + (need - 1), scratch.end(), std::greater<>());
  return scratch[static_cast<std::size_t>(need - 1)];
}

}  // namespace

namespace detail {

int collect_candidates_scalar(const double* x, int begin, int end, std::uint64_t L,
                              std::int32_t* index, double* value) {
  int n = 0;
  for (int j = begin; j < end; ++j) {  // branch-free: store every j, count the candidates
    index[n] = j;
    value[n] = x[j];
    n += (std::bit_cast<std::uint64_t>(x[j]) & kAbsMask) >= L ? 1 : 0;
  }
  return n;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// 16 coordinates per step: two 8-lane unsigned compares of the |x| bits against L give the
// masks, and the matching indices and values are packed (vpcompress) and stored whole (the
// outputs have 16 entries of slack). Integer logic only: the result equals the scalar scan's.
__attribute__((target("avx512f"))) int collect_candidates_avx512(const double* x, int begin,
                                                                 int end, std::uint64_t L,
                                                                 std::int32_t* index,
                                                                 double* value) {
  const __m512i abs_mask = _mm512_set1_epi64(static_cast<long long>(kAbsMask));
  const __m512i bound = _mm512_set1_epi64(static_cast<long long>(L));
  const __m512i step = _mm512_set1_epi32(16);
  __m512i idx =
      _mm512_add_epi32(_mm512_set1_epi32(begin),
                       _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  int n = 0, j = begin;
  for (; j + 16 <= end; j += 16) {
    const __m512d lo = _mm512_loadu_pd(x + j), hi = _mm512_loadu_pd(x + j + 8);
    const __mmask8 mlo =
        _mm512_cmpge_epu64_mask(_mm512_and_si512(_mm512_castpd_si512(lo), abs_mask), bound);
    const __mmask8 mhi =
        _mm512_cmpge_epu64_mask(_mm512_and_si512(_mm512_castpd_si512(hi), abs_mask), bound);
    _mm512_storeu_si512(index + n, _mm512_maskz_compress_epi32(_mm512_kunpackb(mhi, mlo), idx));
    const int nlo = __builtin_popcount(mlo);
    _mm512_storeu_pd(value + n, _mm512_maskz_compress_pd(mlo, lo));
    _mm512_storeu_pd(value + n + nlo, _mm512_maskz_compress_pd(mhi, hi));
    n += nlo + __builtin_popcount(mhi);
    idx = _mm512_add_epi32(idx, step);
  }
  return n + collect_candidates_scalar(x, j, end, L, index + n, value + n);
}

bool has_avx512f() { return __builtin_cpu_supports("avx512f"); }
#else
int collect_candidates_avx512(const double* x, int begin, int end, std::uint64_t L,
                              std::int32_t* index, double* value) {
  return collect_candidates_scalar(x, begin, end, L, index, value);
}
bool has_avx512f() { return false; }
#endif

}  // namespace detail

void TopK::compress(const Vector& x, Rng& rng, const WireFormat& wire, Compressed& out) const {
  const int d = static_cast<int>(x.size());
  const int k = std::min(k_, d);
  if (k <= 0) return out.clear_sparse(d);
  if (k == d) {
    out.clear_sparse(d);
    out.index.resize(d);
    std::iota(out.index.begin(), out.index.end(), 0);
    out.value.assign(x.data(), x.data() + d);
  } else if (k == 1) {
    // The same order for K = 1: the first coordinate of the largest magnitude, in one scan.
    int best = 0;
    std::uint64_t top = magnitude(x[0]);
    for (int j = 1; j < d; ++j) {
      const std::uint64_t m = magnitude(x[j]);
      if (m > top) {
        top = m;
        best = j;
      }
    }
    out.resize_sparse(d, 1);
    out.index[0] = best;
    out.value[0] = x[best];
  } else {
    // The K largest in the strict total order "larger magnitude first, then smaller index",
    // never sorting x. Candidates: the coordinates whose magnitude reaches a bound L (all of
    // them without a sampled bound), with their values, in ascending index order (one pass
    // over x; AVX-512 where the CPU has it); when at least K do, the K-th largest magnitude t
    // is the K-th largest among them, and the answer is every candidate above t plus the first
    // ties at t.
    static const bool simd = detail::has_avx512f();
    thread_local std::vector<std::int32_t> cand;  // per-thread scratch: no allocation per call
    thread_local std::vector<double> cand_value;
    thread_local std::vector<std::uint64_t> cand_mag, ranked;
    if (cand.size() < static_cast<std::size_t>(d) + 16) {
      cand.resize(static_cast<std::size_t>(d) + 16);
      cand_value.resize(static_cast<std::size_t>(d) + 16);
    }
    int count = 0;
    for (std::uint64_t L = candidate_bound(x, k);; L = 0) {
      count = (simd ? detail::collect_candidates_avx512 : detail::collect_candidates_scalar)(
          x.data(), 0, d, L, cand.data(), cand_value.data());
      if (count >= k) break;  // else an unlucky sample: take all
    }
    cand_mag.resize(static_cast<std::size_t>(count));
    std::uint64_t lo = ~std::uint64_t{0}, hi = 0;
    for (int c = 0; c < count; ++c) {
      const std::uint64_t m = magnitude(cand_value[c]);
      cand_mag[c] = m;
      lo = std::min(lo, m);
      hi = std::max(hi, m);
    }
    const std::uint64_t t = kth_largest(cand_mag, lo, hi, k, ranked);
    int ties = k - static_cast<int>(std::count_if(cand_mag.begin(), cand_mag.end(),
                                                  [t](std::uint64_t m) { return m > t; }));
    out.resize_sparse(d, static_cast<std::size_t>(k));
    for (int c = 0, o = 0; c < count; ++c) {
      if (cand_mag[c] > t || (cand_mag[c] == t && ties-- > 0)) {
        out.index[o] = cand[c];
        out.value[o++] = cand_value[c];
      }
    }
  }
  for (auto& v : out.value)
    v = natural_ ? detail::natural_round(v, rng) : round_value(v, wire.value_bits);
}

void TopK::encode(const Compressed& c, const WireFormat& wire, BitWriter& w) const {
  if (!natural_) return Compressor::encode(c, wire, w);
  // count, indices, then 9-bit natural values
  const int ib = wire.index_bits_for(c.dim);
  w.write(c.nnz(), 32);
  for (std::int32_t j : c.index) w.write(static_cast<std::uint64_t>(j), ib);
  for (double v : c.value) w.write(detail::natural_code(v), detail::kNaturalBits);
}

void TopK::decode(BitReader& r, int d, const WireFormat& wire, Compressed& out) const {
  if (!natural_) return Compressor::decode(r, d, wire, out);
  out.clear_sparse(d);
  const auto count = static_cast<std::size_t>(r.read(32));
  if (count > static_cast<std::size_t>(d)) throw std::out_of_range("top_k: count exceeds d");
  const int ib = wire.index_bits_for(d);
  out.index.resize(count);
  for (auto& j : out.index) j = read_index(r, ib, d);
  out.value.resize(count);
  for (auto& v : out.value)
    v = detail::natural_from_code(static_cast<std::uint32_t>(r.read(detail::kNaturalBits)));
}

double TopK::alpha(int d) const {
  const double a = static_cast<double>(std::min(k_, d)) / d;
  return natural_ ? 7.0 / 8.0 * a : a;
}

double TopK::flops(int d) const {
  return cost::top_k(d, std::min(k_, d)) +
         (natural_ ? cost::per_coordinate(std::min(k_, d), cost::kNaturalFlops) : 0.0);
}

std::string TopK::label() const {
  return "top_k" + std::to_string(k_) + (natural_ ? "_natural" : "");
}

// ---- Rand-K (Stich et al. 2018; Horváth & Richtárik 2021 use the d/K-scaled, unbiased one) ----

void RandK::compress(const Vector& x, Rng& rng, const WireFormat& wire, Compressed& out) const {
  const int d = static_cast<int>(x.size());
  out.clear_sparse(d);
  out.seed = rng();  // the receiver regenerates the support from this seed
  Rng support_rng(out.seed);
  out.index = sample_without_replacement(support_rng, d, std::min(k_, d));
  const double scale = unbiased_ ? static_cast<double>(d) / std::min(k_, d) : 1.0;
  out.value.reserve(out.index.size());
  for (std::int32_t j : out.index) out.value.push_back(unbiased_ ? scale * x[j] : x[j]);
  for (auto& v : out.value)
    v = natural_ ? detail::natural_round(v, rng) : round_value(v, wire.value_bits);
  if (!x.allFinite() && !out.value.empty()) out.value[0] = std::numeric_limits<double>::quiet_NaN();
}

void RandK::encode(const Compressed& c, const WireFormat& wire, BitWriter& w) const {
  w.write(c.seed, 64);
  for (double v : c.value) {
    if (natural_)
      w.write(detail::natural_code(v), detail::kNaturalBits);
    else
      write_value(w, v, wire.value_bits);
  }
}

void RandK::decode(BitReader& r, int d, const WireFormat& wire, Compressed& out) const {
  out.clear_sparse(d);
  out.seed = r.read(64);
  Rng support_rng(out.seed);
  out.index = sample_without_replacement(support_rng, d, std::min(k_, d));
  out.value.resize(out.index.size());
  for (auto& v : out.value)
    v = natural_
            ? detail::natural_from_code(static_cast<std::uint32_t>(r.read(detail::kNaturalBits)))
            : read_value(r, wire.value_bits);
}

CompressorClass RandK::klass() const {
  return unbiased_ ? CompressorClass::kUnbiased : CompressorClass::kContractive;
}

double RandK::alpha(int d) const {
  if (unbiased_) return Compressor::alpha(d);
  const double a = static_cast<double>(std::min(k_, d)) / d;
  return natural_ ? 7.0 / 8.0 * a : a;
}

double RandK::delta(int d) const {
  if (!unbiased_) return 0.0;
  const double dk = static_cast<double>(d) / std::min(k_, d);
  return natural_ ? 9.0 / 8.0 * dk : dk;
}

double RandK::flops(int d) const {
  // The support, the gather and scaling of the kept values, the finite check of x.
  const int k = std::min(k_, d);
  return cost::sample_indices(k) + 2.0 * k + cost::vector_op(d, 1.0) +
         (natural_ ? cost::per_coordinate(k, cost::kNaturalFlops) : 0.0);
}

double RandK::decode_flops(int d, std::int64_t values) const {
  return cost::sample_indices(std::min(k_, d)) + cost::codec(values);  // the support again
}

std::string RandK::label() const {
  return (unbiased_ ? "rand_k_unbiased" : "rand_k") + std::to_string(k_) +
         (natural_ ? "_natural" : "");
}

// ---- Gradient sparsification (Wangni, Wang, Liu, Zhang, NeurIPS 2018) ----

void Wangni::compress(const Vector& x, Rng& rng, const WireFormat& wire, Compressed& out) const {
  const int d = static_cast<int>(x.size());
  out.clear_sparse(d);
  if (!x.allFinite()) {
    out.index = {0};
    out.value = {std::numeric_limits<double>::quiet_NaN()};
    return;
  }
  // p_j = min(1, lambda |x_j|) with sum p_j = K: clip the largest to 1 and re-solve for lambda
  // on the rest until nothing exceeds 1.
  std::vector<double> p(d, 0.0);
  std::vector<char> clipped(d, 0);
  int budget = std::min(k_, d);
  while (true) {
    double rest = 0.0;
    for (int j = 0; j < d; ++j)
      if (!clipped[j]) rest += std::abs(x[j]);
    if (rest == 0.0 || budget <= 0) break;
    const double lambda = budget / rest;
    bool changed = false;
    for (int j = 0; j < d; ++j) {
      if (clipped[j]) continue;
      p[j] = lambda * std::abs(x[j]);
      if (p[j] >= 1.0) {
        p[j] = 1.0;
        clipped[j] = 1;
        --budget;
        changed = true;
      }
    }
    if (!changed) break;
  }
  for (int j = 0; j < d; ++j) {
    if (p[j] <= 0.0) continue;
    if (p[j] >= 1.0 || uniform01(rng) < p[j]) {
      out.index.push_back(j);
      out.value.push_back(round_value(x[j] / p[j], wire.value_bits));
    }
  }
}

double Wangni::delta(int d) const { return 1.0 + static_cast<double>(d) / std::min(k_, d); }

double Wangni::flops(int d) const { return cost::per_coordinate(d, cost::kWangniFlops); }

// ---- Non-uniform Rand-K (Horváth & Richtárik 2021, §5.5: NU Rand-1) ----

void NuRandK::compress(const Vector& x, Rng& rng, const WireFormat& wire, Compressed& out) const {
  const int d = static_cast<int>(x.size());
  out.clear_sparse(d);
  const double norm1 = x.lpNorm<1>();
  out.scale = round_value(norm1, wire.value_bits);
  if (norm1 == 0.0) return;
  std::vector<std::int32_t> draws;
  draws.reserve(k_);
  if (!std::isfinite(out.scale)) {
    draws.assign(k_, 0);  // poisoned (or overflowing) input: what the encoder sends
  } else {
    std::vector<double> cdf(d);
    double acc = 0.0;
    for (int j = 0; j < d; ++j) cdf[j] = acc += std::abs(x[j]);
    for (int t = 0; t < k_; ++t) {
      const double u = uniform01(rng) * acc;
      auto it = std::upper_bound(cdf.begin(), cdf.end(), u);
      // Skip zero-probability entries (equal cdf values) and guard the end.
      if (it == cdf.end()) it = std::prev(cdf.end());
      draws.push_back(static_cast<std::int32_t>(it - cdf.begin()));
    }
    std::sort(draws.begin(), draws.end());
  }
  const double unit = out.scale / k_;
  for (std::size_t t = 0; t < draws.size();) {
    std::size_t u = t;
    while (u < draws.size() && draws[u] == draws[t]) ++u;
    const std::int32_t j = draws[t];
    out.index.push_back(j);
    const bool negative = std::isfinite(out.scale) && std::signbit(x[j]);  // poison: +inf/NaN
    out.value.push_back((negative ? -unit : unit) * static_cast<double>(u - t));
    t = u;
  }
}

void NuRandK::encode(const Compressed& c, const WireFormat& wire, BitWriter& w) const {
  write_value(w, c.scale, wire.value_bits);
  const int ib = wire.index_bits_for(c.dim);
  const double unit = c.scale / k_;
  std::size_t written = 0;
  // A non-finite scale (poisoned input) sends K draws of index 0: the receiver decodes NaN.
  const std::size_t entries = std::isfinite(unit) && unit > 0 ? c.index.size() : 0;
  for (std::size_t t = 0; t < entries; ++t) {
    const auto count = static_cast<std::size_t>(std::llround(std::abs(c.value[t]) / unit));
    for (std::size_t r = 0; r < count && written < static_cast<std::size_t>(k_); ++r, ++written) {
      w.write(static_cast<std::uint64_t>(c.index[t]), ib);
      w.write(std::signbit(c.value[t]) ? 1 : 0, 1);
    }
  }
  // A zero vector (scale 0) or a poisoned one still sends K slots.
  for (; written < static_cast<std::size_t>(k_); ++written) {
    w.write(0, ib);
    w.write(0, 1);
  }
}

void NuRandK::decode(BitReader& r, int d, const WireFormat& wire, Compressed& out) const {
  out.clear_sparse(d);
  out.scale = read_value(r, wire.value_bits);
  const int ib = wire.index_bits_for(d);
  std::vector<std::pair<std::int32_t, bool>> draws(k_);
  for (auto& [j, negative] : draws) {
    j = read_index(r, ib, d);
    negative = r.read(1) != 0;
  }
  if (out.scale == 0.0) return;
  const double unit = out.scale / k_;
  for (std::size_t t = 0; t < draws.size();) {
    std::size_t u = t;
    while (u < draws.size() && draws[u].first == draws[t].first) ++u;
    out.index.push_back(draws[t].first);
    out.value.push_back((draws[t].second ? -unit : unit) * static_cast<double>(u - t));
    t = u;
  }
}

double NuRandK::delta(int d) const { return 1.0 + static_cast<double>(d - 1) / k_; }

double NuRandK::flops(int d) const {  // the cdf, k binary searches, sorting the draws
  const double k = k_;
  return cost::per_coordinate(d, cost::kCdfFlops) +
         cost::kSearchStepFlops * k * std::log2(d + 1.0) + k * std::log2(k + 1.0);
}

// ---- Diagonal / fixed mask ----

Diagonal::Diagonal(Vector weights) : w_(std::move(weights)) {
  for (Eigen::Index j = 0; j < w_.size(); ++j)
    if (!(w_[j] >= 0.0 && w_[j] <= 1.0))
      throw InputError("diagonal compressor: weights must be in [0, 1]");
}

void Diagonal::compress(const Vector& x, Rng&, const WireFormat& wire, Compressed& out) const {
  out.clear_sparse(static_cast<int>(x.size()));
  for (Eigen::Index j = 0; j < x.size(); ++j) {
    if (w_[j] != 0.0) {
      out.index.push_back(static_cast<std::int32_t>(j));
      out.value.push_back(round_value(w_[j] * x[j], wire.value_bits));
    }
  }
}

double Diagonal::alpha(int) const { return 1.0 - (1.0 - w_.array()).square().maxCoeff(); }

}  // namespace efsim::alg
