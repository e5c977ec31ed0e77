#include "algorithms/problems/quadratic.hpp"

#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "algorithms/core/cost.hpp"

namespace efsim::alg {

namespace {
double top_eigenvalue(const Matrix& Q) {
  Eigen::SelfAdjointEigenSolver<Matrix> solver(Q, Eigen::EigenvaluesOnly);
  return solver.eigenvalues().maxCoeff();
}
}  // namespace

QuadraticObjective::QuadraticObjective(Matrix Q, Vector b, double noise_sigma, Noise noise)
    : Q_(std::move(Q)),
      b_(std::move(b)),
      sigma_(noise_sigma),
      noise_(noise),
      L_(top_eigenvalue(Q_)) {}

double QuadraticObjective::stochastic_gradient(const Vector& x, int batch, Rng& rng,
                                               Vector& grad) const {
  value_and_gradient(x, grad);
  if (sigma_ > 0.0 && noise_ == Noise::kGaussian) {
    const double scale = sigma_ / std::sqrt(static_cast<double>(std::max(batch, 1)));
    for (Eigen::Index j = 0; j < grad.size(); ++j) grad[j] += scale * standard_normal(rng);
  } else if (sigma_ > 0.0) {
    const int draws = std::max(batch, 1);
    for (Eigen::Index j = 0; j < grad.size(); ++j) {
      double sum = 0.0;
      for (int t = 0; t < draws; ++t) {
        const double u = uniform01(rng);
        sum += j == 0 ? (u < 1.0 / 3.0 ? 2.0 : -1.0) : (u < 0.5 ? 1.5 : -1.5);
      }
      grad[j] += sigma_ * sum / draws;
    }
  }
  return gradient_flops() + 10.0 * static_cast<double>(grad.size());
}

double QuadraticObjective::value_and_gradient(const Vector& x, Vector& grad) const {
  grad.noalias() = Q_ * x;
  const double f = 0.5 * x.dot(grad) - b_.dot(x);
  grad -= b_;
  return f;
}

double QuadraticObjective::value(const Vector& x) const { return 0.5 * x.dot(Q_ * x) - b_.dot(x); }

double QuadraticObjective::gradient_flops() const { return cost::quadratic_gradient(dim()); }

QuadraticProblem::QuadraticProblem(std::vector<std::unique_ptr<QuadraticObjective>> locals)
    : locals_(std::move(locals)) {
  Matrix mean = Matrix::Zero(dim(), dim());
  Vector mean_b = Vector::Zero(dim());
  for (const auto& l : locals_) {
    mean += l->Q();
    mean_b += l->b();
  }
  mean /= static_cast<double>(locals_.size());
  mean_b /= static_cast<double>(locals_.size());
  L_ = top_eigenvalue(mean);
  // PL with mu = the smallest positive eigenvalue of the Hessian (ascending order).
  const Vector eig =
      Eigen::SelfAdjointEigenSolver<Matrix>(mean, Eigen::EigenvaluesOnly).eigenvalues();
  mu_ = std::numeric_limits<double>::quiet_NaN();
  for (Eigen::Index k = 0; k < eig.size(); ++k)
    if (eig[k] > 1e-10 * eig.maxCoeff()) {
      mu_ = eig[k];
      break;
    }
  const Vector x_star = mean.completeOrthogonalDecomposition().solve(mean_b);
  f_star_ = 0.5 * x_star.dot(mean * x_star) - mean_b.dot(x_star);
}

std::string QuadraticProblem::describe() const {
  return name_ + ", d=" + std::to_string(dim()) + ", n=" + std::to_string(num_workers());
}

std::unique_ptr<QuadraticProblem> make_noisy_quadratic_problem(int dim, int workers, double sigma,
                                                               QuadraticObjective::Noise noise) {
  std::vector<std::unique_ptr<QuadraticObjective>> locals;
  for (int i = 0; i < workers; ++i)
    locals.push_back(std::make_unique<QuadraticObjective>(Matrix::Identity(dim, dim),
                                                          Vector::Zero(dim), sigma, noise));
  auto p = std::make_unique<QuadraticProblem>(std::move(locals));
  char buf[96];
  std::snprintf(buf, sizeof buf, "noisy quadratic 0.5||x||^2, %s noise sigma=%g",
                noise == QuadraticObjective::Noise::kSkewed ? "skewed" : "gaussian", sigma);
  p->name_ = buf;
  return p;
}

std::unique_ptr<QuadraticProblem> make_beznosikov_problem() {
  const Vector a[3] = {Vector{{-3.0, 2.0, 2.0}}, Vector{{2.0, -3.0, 2.0}},
                       Vector{{2.0, 2.0, -3.0}}};
  std::vector<std::unique_ptr<QuadraticObjective>> locals;
  for (const auto& ai : a) {
    Matrix Q = 2.0 * ai * ai.transpose() + 0.5 * Matrix::Identity(3, 3);
    locals.push_back(std::make_unique<QuadraticObjective>(std::move(Q), Vector::Zero(3)));
  }
  return std::make_unique<QuadraticProblem>(std::move(locals));
}

}  // namespace efsim::alg
