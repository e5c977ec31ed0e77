// Classification models on image data (pixels / 255), trained with the cross entropy:
//   linear (hidden = 0): multiclass logistic regression with the nonconvex regulariser of
//     poster 000 (Fatkhullin, Tyurin, Richtárik 2023): x = vec(X), X in R^{c x l} (row-major),
//     f_i(x) = (1/N_i) sum_j -log softmax(X a_j)_{y_j} + lambda sum_k x_k^2 / (1 + x_k^2);
//   MLP (hidden = h > 0): the two-layer network l-h-c with ReLU of Horváth & Richtárik's MNIST
//     runs (784-512-10: d = 407,050), backpropagation in Eigen; x = [W1 (h x l), b1 (h),
//     W2 (c x h), b2 (c)], row-major; the same optional regulariser. No smoothness constant is
//     known for it (L = NaN): give absolute stepsizes. Workers hold index lists into one shared
//     ImageSet: an iid split
// (a seeded shuffle, then blocks) or a split by label (sorted by label, then blocks: each worker
// sees few classes).
#pragma once

#include <memory>
#include <vector>

#include "algorithms/problems/images.hpp"
#include "algorithms/problems/problem.hpp"

namespace efsim::alg {

// A block of the model x that is a matrix: x[offset, offset + rows * cols) holds a rows x cols
// matrix, row-major. rows == 1 or cols == 1: a vector (a bias).
struct MatrixBlock {
  int offset = 0;
  int rows = 0;
  int cols = 0;
};

class SoftmaxObjective final : public Objective {
 public:
  SoftmaxObjective(std::shared_ptr<const ImageSet> data, std::vector<int> rows, double lambda,
                   int hidden = 0);
  int dim() const override;
  double value_and_gradient(const Vector& x, Vector& grad) const override;
  double evaluate(const Vector& x, Vector& grad, long* correct) const override;
  double value(const Vector& x) const override;
  double gradient_flops() const override { return row_flops_ * rows_.size() + coord_flops_; }
  // A minibatch's flops: drawing the rows, their share of the per-row work, the parameters.
  double minibatch_flops(int batch) const;
  // L_i = lambda_max(A_i^T A_i) / (2 N_i) + 2 lambda (the softmax Hessian is at most I/2).
  double smoothness() const override { return L_; }
  double stochastic_gradient(const Vector& x, int batch, Rng& rng, Vector& grad) const override;
  double stochastic_gradient_minus(const Vector& x, int batch, Rng& rng, const Vector& shift,
                                   Vector& out) const override;
  int num_samples() const override { return static_cast<int>(rows_.size()); }
  void gram_apply(const Vector& v, Vector& out) const;  // A_i^T A_i v / N_i (l-dimensional)

 private:
  // `batch` of the worker's rows, uniformly without replacement.
  std::vector<int> pick(int batch, Rng& rng) const;
  std::shared_ptr<const ImageSet> data_;
  std::vector<int> rows_;
  double lambda_;
  int hidden_;
  double row_flops_, coord_flops_;  // per image; per gradient (the parameters' d terms)
  double L_;
};

struct SoftmaxSpec {
  bool split_by_label = false;
  double lambda = 0.001;
  std::uint64_t seed = 1;  // the iid shuffle
  int hidden = 0;          // 0: multiclass logistic regression; h > 0: the l-h-c MLP
};

// Dimension of the model: c l (linear) or h l + h + c h + c (MLP).
int model_dim(int features, int classes, int hidden);
// He initialisation of the MLP (W ~ N(0, 2 / fan_in), b = 0) from `seed`; zeros when linear.
Vector initial_model(int features, int classes, int hidden, std::uint64_t seed);

// The loss (mean cross entropy, without the regulariser) and accuracy of x on a data set.
struct Evaluation {
  double loss = 0;
  double accuracy = 0;
};
Evaluation evaluate_softmax(const ImageSet& data, const Vector& x, int hidden = 0);

class SoftmaxProblem final : public Problem {
 public:
  SoftmaxProblem(std::shared_ptr<const ImageSet> train, std::shared_ptr<const ImageSet> test,
                 int workers, const SoftmaxSpec& spec);
  int num_workers() const override { return static_cast<int>(locals_.size()); }
  int dim() const override { return model_dim(train_->features(), train_->classes, spec_.hidden); }
  const Objective& local(int i) const override { return *locals_[i]; }
  double smoothness() const override { return L_; }
  std::string describe() const override;
  Metrics test_metrics(const Vector& x) const override;
  // The model's matrix shapes, blocks covering x in order (PowerSGD compresses the matrices):
  // linear: X (c x l); MLP: W1 (h x l), b1 (h x 1), W2 (c x h), b2 (c x 1).
  std::vector<MatrixBlock> matrix_blocks() const;
  int min_rows() const;

 private:
  std::shared_ptr<const ImageSet> train_, test_;
  SoftmaxSpec spec_;
  std::vector<std::unique_ptr<SoftmaxObjective>> locals_;
  double L_;
};

}  // namespace efsim::alg
