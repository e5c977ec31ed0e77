// Linear models over sparse data, f_i(x) = (1/N_i) sum_{j in rows of i} phi(a_j^T x, y_j) + lambda
// R(x):
//   logistic: phi(z, y) = log(1 + exp(-y z)) with R(x) = sum_k x_k^2 / (1 + x_k^2), the nonconvex
//             regulariser of the EF21 experiments (Richtárik, Sokolov, Fatkhullin, NeurIPS 2021,
//             eq. (19));
//   least squares: phi(z, y) = (z - y)^2, f_i = (1/N_i) ||A_i x - y_i||^2 (EF21 paper, eq. (9);
//             PL with mu = lambda_min of the Hessian), plus lambda R(x) if lambda > 0.
// The data is held once; worker i views its block of rows (worker_rows), no copies.
// The gradient is one fused pass over the rows (glm.cpp): margin, loss and slope of row j, then
// row j scattered into the gradient while it is in L1. When every stored value is the same number
// (0/1 features: a9a, w8a, mushrooms; phishing's 0.18257) the pass reads a pattern-only copy of
// the rows (32-bit column indices, no values), for values that are floats exactly a float copy;
// either gives the same bits as the two-pass textbook formula.
#pragma once

#include <memory>
#include <vector>

#include "algorithms/problems/dataset.hpp"
#include "algorithms/problems/problem.hpp"

namespace efsim::alg {

enum class Loss { kLogistic, kSquares };

// The rows of a data set in the layout of the fused gradient pass (glm.cpp), built once per data
// set and shared by the workers' objectives.
struct FusedRows;
std::shared_ptr<const FusedRows> make_fused_rows(std::shared_ptr<const Dataset> data);
// Its layout: "pattern" (every value 1: indices only), "constant" (every value one number, e.g.
// phishing's 0.18257: indices only), "float" or "double" values.
const char* fused_rows_layout(const FusedRows& rows);

class GlmObjective final : public Objective {
 public:
  // rows: the fused layout of data (make_fused_rows(data); built here if null).
  GlmObjective(std::shared_ptr<const Dataset> data, int first_row, int rows, Loss loss,
               double lambda, std::shared_ptr<const FusedRows> fused = nullptr);
  int dim() const override { return data_->dim(); }
  double value_and_gradient(const Vector& x, Vector& grad) const override;
  // Correct: sign(a_j^T x) = y_j (sign 0 counts as +1).
  double evaluate(const Vector& x, Vector& grad, long* correct) const override;
  double value(const Vector& x) const override;
  double gradient_flops() const override { return flops_; }
  // L_i = c lambda_max(A_i^T A_i) / N_i + 2 lambda, c = 1/4 (logistic) or 2 (squares).
  double smoothness() const override { return L_; }
  double stochastic_gradient(const Vector& x, int batch, Rng& rng, Vector& grad) const override;
  int num_samples() const override { return rows_; }
  // v -> c A_i^T A_i v / N_i, the Hessian bound of the loss part.
  void hessian_bound_apply(const Vector& v, Vector& out) const;

 private:
  auto block() const { return data_->A.middleRows(first_, rows_); }
  // phi and d phi / dz at margin z for label y.
  double loss(double z, double y, double* slope) const;
  double regulariser(const Vector& x, Vector* grad) const;
  std::shared_ptr<const Dataset> data_;
  std::shared_ptr<const FusedRows> fused_;
  int first_;
  int rows_;
  Loss loss_;
  double lambda_;
  double flops_;
  double L_;
};

class GlmProblem : public Problem {
 public:
  GlmProblem(std::shared_ptr<const Dataset> data, int workers, Loss loss, double lambda);
  int num_workers() const override { return static_cast<int>(locals_.size()); }
  int dim() const override { return data_->dim(); }
  const Objective& local(int i) const override { return *locals_[i]; }
  double smoothness() const override { return L_; }
  std::string describe() const override;
  // Least squares with lambda = 0 and d <= 2000: f* from the normal equations; else NaN.
  double optimal_value() const override { return f_star_; }
  double pl_constant() const override { return mu_; }
  // The losses are convex; the nonconvex regulariser makes f_i nonconvex unless lambda = 0.
  bool convex() const override { return lambda_ == 0.0; }
  // The fewest rows a worker holds (the largest usable minibatch).
  int min_rows() const;
  // A held-out set (e.g. a9a.t): metrics() then reports its mean loss and accuracy.
  void set_test(std::shared_ptr<const Dataset> test);
  // The test set's mean loss (without the regulariser) and accuracy of sign(a^T x).
  Metrics test_metrics(const Vector& x) const override;

 private:
  std::shared_ptr<const Dataset> data_;
  std::shared_ptr<const Dataset> test_;
  Loss loss_;
  double lambda_;
  std::vector<std::unique_ptr<GlmObjective>> locals_;
  double L_;
  double f_star_;
  double mu_;
};

class LogisticProblem final : public GlmProblem {
 public:
  LogisticProblem(std::shared_ptr<const Dataset> data, int workers, double lambda)
      : GlmProblem(std::move(data), workers, Loss::kLogistic, lambda) {}
};

}  // namespace efsim::alg
