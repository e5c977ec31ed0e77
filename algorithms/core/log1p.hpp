// log(1 + e) for e in [0, 1], in plain IEEE double arithmetic: no branches, no libm call, so a
// loop over it vectorizes (SSE2 on the x86-64 baseline) and every x86-64 CPU computes the same
// bits, vectorized or not (the operations are +, -, *, / and compares, each correctly rounded;
// the build has no -march and ISO C++ contracts no a * b + c into an FMA). glibc's log1p, by
// contrast, is a call per value and picks an FMA variant at run time on CPUs that have FMA.
//
// The method is the classic one of fdlibm's log1p (Sun Microsystems, 1993): u = 1 + e rounded,
// c = (e - (u - 1)) / u the first-order correction for that rounding (u - 1 is exact for u in
// [1, 2]); u = 2^k m with m in [sqrt(2)/2, sqrt(2)], f = m - 1 (exact); log(1 + f) from
// s = f / (2 + f) and a degree-14 minimax polynomial in s (fdlibm's Lg1..Lg7); the result
// k ln2_hi + (f - (hf^2 - s (hf^2 + R)) + k ln2_lo + c), hf^2 = f^2 / 2. Error below 1 ulp
// (the tests compare it with std::log1p); it is not always glibc's rounding, so a logistic
// loss summed from it can differ from one summed from std::log1p in its last bits.
#pragma once

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace efsim::alg {

namespace log1p_detail {
constexpr double kLn2Hi = 6.93147180369123816490e-01;  // the leading 32 bits of ln 2
constexpr double kLn2Lo = 1.90821492927058770002e-10;  // ln 2 - kLn2Hi
constexpr double kSqrt2 = 1.41421356237309514547;
constexpr double kLg1 = 6.666666666666735130e-01, kLg2 = 3.999999999940941908e-01,
                 kLg3 = 2.857142874366239149e-01, kLg4 = 2.222219843214978396e-01,
                 kLg5 = 1.818357216161805012e-01, kLg6 = 1.531383769920937332e-01,
                 kLg7 = 1.479819860511658591e-01;
}  // namespace log1p_detail

inline double log1p_unit(double e) {
  using namespace log1p_detail;
  const double u = 1.0 + e;
  const double c = (e - (u - 1.0)) / u;
  const bool big = u > kSqrt2;
  const double k = big ? 1.0 : 0.0;
  const double m = big ? 0.5 * u : u;  // exact
  const double f = m - 1.0;            // exact (Sterbenz)
  const double s = f / (2.0 + f);
  const double z = s * s;
  const double w = z * z;
  const double t1 = w * (kLg2 + w * (kLg4 + w * kLg6));
  const double t2 = z * (kLg1 + w * (kLg3 + w * (kLg5 + w * kLg7)));
  const double r = t2 + t1;
  const double hfsq = 0.5 * f * f;
  return k * kLn2Hi - ((hfsq - (s * (hfsq + r) + (k * kLn2Lo + c))) - f);
}

#if defined(__SSE2__)
// The same for two values at once: the same operations in the same order on SSE2 lanes (the
// selects as masks), so each lane has log1p_unit's bits.
inline __m128d log1p_unit(__m128d e) {
  using namespace log1p_detail;
  const __m128d one = _mm_set1_pd(1.0);
  const __m128d u = _mm_add_pd(one, e);
  const __m128d c = _mm_div_pd(_mm_sub_pd(e, _mm_sub_pd(u, one)), u);
  const __m128d big = _mm_cmpgt_pd(u, _mm_set1_pd(kSqrt2));
  const __m128d k = _mm_and_pd(big, one);
  const __m128d m =
      _mm_or_pd(_mm_and_pd(big, _mm_mul_pd(_mm_set1_pd(0.5), u)), _mm_andnot_pd(big, u));
  const __m128d f = _mm_sub_pd(m, one);
  const __m128d s = _mm_div_pd(f, _mm_add_pd(_mm_set1_pd(2.0), f));
  const __m128d z = _mm_mul_pd(s, s);
  const __m128d w = _mm_mul_pd(z, z);
  const auto lg = [](double v) { return _mm_set1_pd(v); };
  const __m128d t1 = _mm_mul_pd(
      w, _mm_add_pd(lg(kLg2), _mm_mul_pd(w, _mm_add_pd(lg(kLg4), _mm_mul_pd(w, lg(kLg6))))));
  const __m128d t2 = _mm_mul_pd(
      z,
      _mm_add_pd(
          lg(kLg1),
          _mm_mul_pd(w, _mm_add_pd(lg(kLg3),
                                   _mm_mul_pd(w, _mm_add_pd(lg(kLg5), _mm_mul_pd(w, lg(kLg7))))))));
  const __m128d r = _mm_add_pd(t2, t1);
  const __m128d hfsq = _mm_mul_pd(_mm_mul_pd(_mm_set1_pd(0.5), f), f);
  const __m128d inner =
      _mm_add_pd(_mm_mul_pd(s, _mm_add_pd(hfsq, r)), _mm_add_pd(_mm_mul_pd(k, lg(kLn2Lo)), c));
  return _mm_sub_pd(_mm_mul_pd(k, lg(kLn2Hi)), _mm_sub_pd(_mm_sub_pd(hfsq, inner), f));
}
#endif

}  // namespace efsim::alg
