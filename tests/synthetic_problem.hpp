// The tests' small GLM problems on synthetic data (algorithms/problems/dataset.hpp's generator),
// written once: a test names only the spec fields it cares about.
#pragma once

#include <cmath>
#include <memory>
#include <vector>

#include "algorithms/problems/dataset.hpp"
#include "algorithms/problems/glm.hpp"
#include "algorithms/problems/quadratic.hpp"

namespace efsim::test {

// The spec most method tests use: 240 rows of 6 features in dimension 30 over 4 workers,
// heterogeneity 0.5, seed 5 (the other fields are SyntheticSpec's defaults).
inline alg::SyntheticSpec method_spec(int workers = 4, int dim = 30) {
  return {.samples = 240,
          .dim = dim,
          .nnz_per_row = 6,
          .workers = workers,
          .heterogeneity = 0.5,
          .seed = 5};
}

// A GLM problem on the data generated from `spec`, split over spec.workers workers.
inline std::shared_ptr<alg::GlmProblem> synthetic_glm(const alg::SyntheticSpec& spec,
                                                      alg::Loss loss = alg::Loss::kLogistic,
                                                      double lambda = 0.1) {
  return std::make_shared<alg::GlmProblem>(
      std::make_shared<alg::Dataset>(alg::make_synthetic(spec)), spec.workers, loss, lambda);
}

// n heterogeneous quadratics f_i = 0.5 x^T Q_i x - b_i^T x in dimension d: Q_i = B_i B_i^T + I/2
// with deterministic, worker-dependent B_i and b_i (different minimisers Q_i^-1 b_i).
inline std::unique_ptr<alg::QuadraticProblem> heterogeneous_quadratic(int n, int d) {
  std::vector<std::unique_ptr<alg::QuadraticObjective>> locals;
  for (int i = 0; i < n; ++i) {
    alg::Matrix B(d, d);
    alg::Vector b(d);
    for (int r = 0; r < d; ++r) {
      b[r] = 3.0 * std::sin(1.7 * (i + 1) + 2.3 * r);
      for (int c = 0; c < d; ++c) B(r, c) = std::cos(0.9 * (i + 1) * (r + 1) + 0.4 * c) / d;
    }
    alg::Matrix Q = B * B.transpose() * (1.0 + i) + 0.5 * alg::Matrix::Identity(d, d);
    locals.push_back(std::make_unique<alg::QuadraticObjective>(Q, b));
  }
  return std::make_unique<alg::QuadraticProblem>(std::move(locals));
}

}  // namespace efsim::test
