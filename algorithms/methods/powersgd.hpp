// PowerSGD's pieces, internal to algorithms/ (methods/powersgd.cpp; tests/powersgd_test.cpp):
// how the model vector is cut into matrices, and one step of subspace iteration.
#pragma once

#include <Eigen/Dense>
#include <vector>

#include "algorithms/problems/problem.hpp"

namespace efsim::alg::powersgd {

// One block of the model x as PowerSGD treats it.
struct Block {
  int offset = 0;          // its first coordinate in x
  int size = 0;            // the coordinates of x it covers
  int rows = 1, cols = 1;  // its matrix shape: rows * cols >= size, the rest is zero padding
  int rank = 0;            // 0: a vector, all-reduced dense; else min(rank, rows, cols)
};

// The blocks of problem p for PowerSGD of rank r:
//   the softmax regression and the MLP (algorithms/problems/softmax.hpp): their matrices (X, W1,
//   W2) with rank min(r, rows, cols); their biases are vectors, sent dense (as in the paper,
//   which compresses the weight matrices and all-reduces the 1-D tensors uncompressed);
//   any other problem (a vector x of dimension d): one matrix of rows = ceil(sqrt(d)) and
//   cols = ceil(d / rows), x laid out row-major and padded with rows * cols - d zeros.
std::vector<Block> layout(const Problem& p, int rank);

// Orthonormalises the columns of P in place by Gram-Schmidt, left to right; a column that is
// (numerically) in the span of the previous ones becomes 0.
void orthogonalize(Eigen::MatrixXd& P);

// The block of x as a rows x cols matrix (row-major, zero padded).
Eigen::MatrixXd gather(const Vector& x, const Block& b);
// x[block] = M's first b.size entries (row-major), or += scale * them when add.
void scatter(const Eigen::MatrixXd& M, const Block& b, Vector& x, double scale = 1.0,
             bool add = false);

// Values of one upload: the P round (sum of rows * rank, plus the vectors' sizes) and the Q
// round (sum of cols * rank).
long p_values(const std::vector<Block>& blocks);
long q_values(const std::vector<Block>& blocks);

}  // namespace efsim::alg::powersgd
