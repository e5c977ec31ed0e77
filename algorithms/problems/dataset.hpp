// Labelled sparse data: LIBSVM files, the deterministic synthetic generator, and the split of
// rows over workers used by the EF21 experiments.
#pragma once

#include <Eigen/SparseCore>
#include <optional>
#include <string>
#include <utility>

#include "algorithms/core/types.hpp"

namespace efsim::alg {

using SparseMatrix = Eigen::SparseMatrix<double, Eigen::RowMajor, std::int64_t>;

struct Dataset {
  Dataset() = default;
  Dataset(const Dataset&) = default;
  Dataset& operator=(const Dataset&) = default;
  // Moves swap the matrix: Eigen 3.4's SparseMatrix has no move constructor, and a copy would
  // hold the data twice while the problem is built.
  Dataset(Dataset&& o) noexcept : y(std::move(o.y)), source(std::move(o.source)) { A.swap(o.A); }
  Dataset& operator=(Dataset&& o) noexcept {
    A.swap(o.A);
    y.swap(o.y);
    source.swap(o.source);
    return *this;
  }

  SparseMatrix A;  // N x d, one sample per row
  Vector y;        // N labels in {-1, +1}
  std::string source;
  int rows() const { return static_cast<int>(A.rows()); }
  int dim() const { return static_cast<int>(A.cols()); }
};

// Reads a LIBSVM (svmlight) text file: "label idx:value ..." with 1-based indices. Blank lines
// are skipped. Exactly two distinct labels are required; the smaller maps to -1, the larger to
// +1. `dim` fixes d (it must be >= the largest index present); otherwise d = largest index.
// Throws InputError naming the file and line on malformed input.
Dataset load_libsvm(const std::string& path, std::optional<int> dim = std::nullopt);

// Rows of worker i out of n, as in the EF21 experiments: [i*floor(N/n), (i+1)*floor(N/n)), and
// the last worker also takes the remainder. Returns {first row, row count}.
std::pair<int, int> worker_rows(int rows, int workers, int i);

// Parameters of the synthetic, heterogeneous binary classification data (all have defaults).
struct SyntheticSpec {
  int samples = 2000;          // N, total rows
  int dim = 1000;              // d, features
  int nnz_per_row = 20;        // stored features per row (<= dim)
  int workers = 10;            // n: rows are generated in the workers' blocks (worker_rows)
  double heterogeneity = 0.5;  // in [0,1]: share of a row's features drawn from the worker's own
                               // slice of the feature space, and the spread of the worker's
                               // labelling model around the common one
  double label_noise = 0.1;    // std of Gaussian noise added to the margin before taking sign
  double feature_decay = 0.5;  // feature k is scaled by (1 + k)^(-feature_decay): an
                               // ill-conditioned problem, as real data (0: isotropic)
  std::uint64_t seed = 1;
};

// Deterministic: the same spec gives the same bytes. Row j of worker i has nnz_per_row distinct
// features with N(0, 1) (1+k)^(-feature_decay) values; its label is sign(a_j . (w* + heterogeneity
// * v_i) + noise).
Dataset make_synthetic(const SyntheticSpec& spec);

}  // namespace efsim::alg
