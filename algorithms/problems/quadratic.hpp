// Dense quadratic local objectives f_i(x) = 0.5 x^T Q_i x - b_i^T x with symmetric PSD Q_i.
// Small-d test problems with closed forms, e.g. the example of Beznosikov et al. (2020) used in
// §5.5 of Horváth & Richtárik (ICLR 2021): n = d = 3,
//   f_i(x) = <a_i, x>^2 + 0.25 ||x||^2,  a_1 = (-3,2,2), a_2 = (2,-3,2), a_3 = (2,2,-3),
// i.e. Q_i = 2 a_i a_i^T + 0.5 I, b_i = 0. DCGD with Top-1 diverges on it from x0 = (t,t,t).
#pragma once

#include <Eigen/Dense>
#include <memory>
#include <vector>

#include "algorithms/problems/problem.hpp"

namespace efsim::alg {

using Matrix = Eigen::MatrixXd;

class QuadraticObjective final : public Objective {
 public:
  // Gradient noise of stochastic gradients (batch B): ∇f_i(x) + ξ with
  //   gaussian: ξ ~ N(0, sigma^2 I / B);
  //   skewed:   ξ = sigma * (mean of B draws of s), s_1 = +2 w.p. 1/3 or -1 w.p. 2/3 and
  //             s_j = +-1.5 (j >= 2): zero mean, but Top-1 keeps s_1 only when it is +2, so the
  //             compressed noise has a nonzero mean -- the same on every worker, so averaging
  //             over workers does not remove it (cf. Theorem 1 of Fatkhullin et al. 2023).
  enum class Noise { kGaussian, kSkewed };
  QuadraticObjective(Matrix Q, Vector b, double noise_sigma = 0.0, Noise noise = Noise::kGaussian);
  int dim() const override { return static_cast<int>(b_.size()); }
  double value_and_gradient(const Vector& x, Vector& grad) const override;
  double value(const Vector& x) const override;
  double gradient_flops() const override;
  double smoothness() const override { return L_; }
  double stochastic_gradient(const Vector& x, int batch, Rng& rng, Vector& grad) const override;
  const Matrix& Q() const { return Q_; }
  const Vector& b() const { return b_; }

 private:
  Matrix Q_;
  Vector b_;
  double sigma_;
  Noise noise_;
  double L_;
};

class QuadraticProblem final : public Problem {
 public:
  explicit QuadraticProblem(std::vector<std::unique_ptr<QuadraticObjective>> locals);
  int num_workers() const override { return static_cast<int>(locals_.size()); }
  int dim() const override { return locals_.front()->dim(); }
  const Objective& local(int i) const override { return *locals_[i]; }
  double smoothness() const override { return L_; }
  std::string describe() const override;
  // f* from the normal equations (mean Q) x = mean b.
  double optimal_value() const override { return f_star_; }
  double pl_constant() const override { return mu_; }
  bool convex() const override { return true; }  // every Q_i is PSD

 private:
  std::vector<std::unique_ptr<QuadraticObjective>> locals_;
  double L_;
  double f_star_;
  double mu_;
  std::string name_ = "quadratic";

  friend std::unique_ptr<QuadraticProblem> make_noisy_quadratic_problem(int, int, double,
                                                                        QuadraticObjective::Noise);
};

// The n = d = 3 example of Beznosikov et al. (2020).
std::unique_ptr<QuadraticProblem> make_beznosikov_problem();

// The example of Fatkhullin, Tyurin, Richtárik (2023; poster 000): f_i(x) = 0.5 ||x||^2 for every
// worker, stochastic gradients x + ξ with ξ ~ N(0, sigma^2 I / B). EF21-SGD stalls at a noise
// floor that does not shrink with n; EF21-SGDM with small eta goes below it.
std::unique_ptr<QuadraticProblem> make_noisy_quadratic_problem(
    int dim, int workers, double sigma,
    QuadraticObjective::Noise noise = QuadraticObjective::Noise::kGaussian);

}  // namespace efsim::alg
