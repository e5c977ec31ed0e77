// The cost model: floating-point operations charged for each operation that takes simulated
// time. Simulated compute time = flops / host speed (flop/s, from the platform). All formulas
// live here so they can be read, tuned and documented in one place.
#pragma once

#include <cmath>
#include <cstdint>

namespace efsim::alg::cost {

// Logistic loss and gradient over N rows with nnz stored entries in d dimensions:
// z = A x (2 nnz), per-row sigmoid/log terms (kSampleFlops each), A^T s (2 nnz), regulariser and
// its gradient (kCoordFlops per coordinate).
inline constexpr double kSampleFlops = 20.0;
inline constexpr double kCoordFlops = 8.0;
inline double logistic_gradient(std::int64_t nnz, std::int64_t rows, std::int64_t d) {
  return 4.0 * static_cast<double>(nnz) + kSampleFlops * static_cast<double>(rows) +
         kCoordFlops * static_cast<double>(d);
}

// Dense quadratic 0.5 x^T Q x - b^T x: Q x (2 d^2) plus the dot products (4 d).
inline double quadratic_gradient(std::int64_t d) {
  const auto dd = static_cast<double>(d);
  return 2.0 * dd * dd + 4.0 * dd;
}

// A vector operation touching n entries with c flops each (axpy: c = 2).
inline double vector_op(std::int64_t n, double c = 2.0) { return c * static_cast<double>(n); }

// Top-K selection: a linear-time selection over d magnitudes (~2 d comparisons) plus sorting the
// K kept indices (K log2 K).
inline double top_k(std::int64_t d, std::int64_t k) {
  const auto kk = static_cast<double>(k);
  return 2.0 * static_cast<double>(d) + kk * std::log2(kk + 1.0);
}

// Encoding or decoding a message: one operation per packed value.
inline double codec(std::int64_t values) { return static_cast<double>(values); }

}  // namespace efsim::alg::cost
