// The cost model: floating-point operations charged for each operation that takes simulated
// time. Simulated compute time = flops / host speed (flop/s, from the platform). All formulas
// live here so they can be read, tuned and documented in one place.
//
// Units. Every charge is in flop-equivalents of the reference host: the time the operation
// takes there, times kReferenceRate (2.8e9/s, the rate at which that host runs the sparse
// product A x when it is counted as 4 flops per stored entry). So `worker_speed: 2.8Gf` is the
// reference host itself, for every operation: a 2-vCPU AMD EPYC cloud VM (CPU family 26: Zen 5)
// reporting 2.1 GHz, measured idle with tests/bench/cost_model_bench.cpp. Dense matrix products are
// counted in true flops and converted by the rate the reference host runs them at (dense() below);
// work that is not arithmetic (a sparse row's exp/log, a gather, a random index, a selection, bit
// packing) is charged its measured time directly. The README's "The compute model, checked"
// has the measurements and what a linear formula cannot follow (cache effects, up to ~2x).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace efsim::alg::cost {

// Drawing k distinct indices (Floyd's algorithm on a bitmap, then sorting the k picks into
// index order): measured ~20 ns per index at k = 100 growing to ~70 ns at k = 10^5, the sort's
// k log k, whatever the range.
inline double sample_indices(std::int64_t k) {
  const auto kk = static_cast<double>(k);
  return 30.0 * kk + 10.0 * kk * std::log2(kk + 1.0);
}

// GLM gradient (logistic loss or least squares) over `rows` rows with nnz stored entries in d
// dimensions: the margins A x and the scatter A^T s (2 flops per entry each), the loss and its
// slope per row, and per coordinate clearing the gradient plus, when regularised, the
// non-convex regulariser's value and gradient (a division per coordinate). Measured: ~1.4 ns
// per entry, ~20 ns per logistic row (one exp, one log1p, a division), ~3 ns per squares row,
// ~1 ns per regularised coordinate.
inline constexpr double kNnzFlops = 4.0;
inline constexpr double kLogisticRowFlops = 50.0;
inline constexpr double kSquaresRowFlops = 8.0;
inline constexpr double kCoordFlops = 1.0;
inline constexpr double kRegulariserCoordFlops = 2.0;
inline double glm_gradient(std::int64_t nnz, std::int64_t rows, std::int64_t d, bool logistic,
                           bool regularised) {
  return kNnzFlops * static_cast<double>(nnz) +
         (logistic ? kLogisticRowFlops : kSquaresRowFlops) * static_cast<double>(rows) +
         (kCoordFlops + (regularised ? kRegulariserCoordFlops : 0.0)) * static_cast<double>(d);
}

// A minibatch GLM gradient: the rows are drawn first (sample_indices), then as above.
inline double glm_minibatch_gradient(std::int64_t nnz, std::int64_t batch, std::int64_t d,
                                     bool logistic, bool regularised) {
  return sample_indices(batch) + glm_gradient(nnz, batch, d, logistic, regularised);
}

// Dense arithmetic counted in true flops, converted to flop-equivalents by the rate the
// reference host runs it at: the softmax's products with 10 classes at ~12.5 Gflop/s, the MLP's
// 784-512-10 layers at ~20.7 Gflop/s (both from full gradients; a minibatch of fewer than ~8
// images runs at a third of that, which the formula does not follow).
inline constexpr double kReferenceRate = 2.8e9;  // flop-equivalents per second of the reference
inline constexpr double kSoftmaxRate = 12.5e9;
inline constexpr double kMlpRate = 20.7e9;
inline double dense(double rate, double true_flops) { return true_flops * kReferenceRate / rate; }

// Dense quadratic 0.5 x^T Q x - b^T x: Q x (2 d^2) plus the dot products (4 d).
inline double quadratic_gradient(std::int64_t d) {
  const auto dd = static_cast<double>(d);
  return 2.0 * dd * dd + 4.0 * dd;
}

// A vector operation touching n entries with c flops each (axpy: c = 2).
inline double vector_op(std::int64_t n, double c = 2.0) { return c * static_cast<double>(n); }

// Top-K selection as the library does it. On a long vector with a small K a strided sample
// gives a bound that few coordinates reach, and one vectorised pass over the d magnitudes
// collects only those candidates (~0.5 ns per coordinate measured); otherwise every coordinate
// is a candidate and a histogram step plus nth_element ranks them (~1.4 ns per coordinate).
// Either way the K winners come out in index order: no sort.
inline bool top_k_sampled_bound(std::int64_t d, std::int64_t k) {
  constexpr std::int64_t kSample = 4096;
  return d >= 4 * kSample && 8 * k <= d;
}
inline double top_k(std::int64_t d, std::int64_t k) {
  return (top_k_sampled_bound(d, k) ? 1.5 : 4.0) * static_cast<double>(d) +
         2.0 * static_cast<double>(k);
}

// Encoding or decoding a message: bit-packing a value (and its index) takes ~1.4 ns measured.
inline constexpr double kCodecFlops = 4.0;
inline double codec(std::int64_t values) { return kCodecFlops * static_cast<double>(values); }

// Compressors that visit every coordinate, per coordinate (measured at d = 10^4 .. 10^6; all
// but scaled sign draw a random number per coordinate, or per kept value for natural rounding).
inline constexpr double kRoundFlops = 1.0;        // identity: copy, round to the wire
inline constexpr double kScaledSignFlops = 15.0;  // ‖x‖_1 / d · sign(x)
inline constexpr double kNaturalFlops = 50.0;     // stochastic rounding to a power of two
inline constexpr double kNaturalDitheringFlops = 100.0;
inline constexpr double kQsgdFlops = 30.0;
inline constexpr double kTernGradFlops = 33.0;
inline constexpr double kWangniFlops = 23.0;      // the probabilities and a coin per coordinate
inline constexpr double kCdfFlops = 10.0;         // NU-Rand-K: |x| and its prefix sums
inline constexpr double kSearchStepFlops = 28.0;  // one step of a binary search in the cdf
inline double per_coordinate(std::int64_t d, double flops) {
  return flops * static_cast<double>(d);
}

}  // namespace efsim::alg::cost
