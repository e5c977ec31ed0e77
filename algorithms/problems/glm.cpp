#include "algorithms/problems/glm.hpp"

#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <cmath>
#include <limits>
#include <sstream>
#include <tuple>

#include "algorithms/core/cost.hpp"
#include "algorithms/core/error.hpp"

namespace efsim::alg {

namespace {

// log(1 + exp(t)), stable for large |t|.
double log1pexp(double t) { return t > 0 ? t + std::log1p(std::exp(-t)) : std::log1p(std::exp(t)); }

// log(1 + exp(t)) and the sigmoid 1 / (1 + exp(-t)), stable, from one exponential:
// the same values as log1pexp(t) and the textbook two-branch sigmoid.
double log1pexp_and_sigmoid(double t, double* sigmoid) {
  const double e = std::exp(-std::abs(t));  // exp(-t) for t >= 0, exp(t) otherwise
  *sigmoid = t >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
  return t > 0 ? t + std::log1p(e) : std::log1p(e);
}

double curvature(Loss loss) { return loss == Loss::kLogistic ? 0.25 : 2.0; }

}  // namespace

GlmObjective::GlmObjective(std::shared_ptr<const Dataset> data, int first_row, int rows, Loss loss,
                           double lambda)
    : data_(std::move(data)), first_(first_row), rows_(rows), loss_(loss), lambda_(lambda) {
  const auto b = block();
  flops_ = cost::glm_gradient(b.nonZeros(), rows_, data_->dim(), loss_ == Loss::kLogistic,
                              lambda_ != 0.0);
  const double top = largest_eigenvalue(
      data_->dim(), [this](const Vector& v, Vector& out) { hessian_bound_apply(v, out); });
  L_ = top + 2.0 * lambda_;
}

void GlmObjective::hessian_bound_apply(const Vector& v, Vector& out) const {
  const auto b = block();
  const Vector z = b * v;
  out = b.transpose() * z;
  out *= curvature(loss_) / rows_;
}

double GlmObjective::loss(double z, double y, double* slope) const {
  if (loss_ == Loss::kSquares) {
    *slope = 2.0 * (z - y);
    return (z - y) * (z - y);
  }
  double s = 0.0;
  const double value = log1pexp_and_sigmoid(-y * z, &s);
  *slope = -y * s;
  return value;
}

double GlmObjective::regulariser(const Vector& x, Vector* grad) const {
  if (lambda_ == 0.0) return 0.0;
  double reg = 0.0;
  for (Eigen::Index k = 0; k < x.size(); ++k) {
    const double xk = x[k];
    const double q = 1.0 + xk * xk;
    reg += xk * xk / q;
    if (grad) (*grad)[k] += lambda_ * 2.0 * xk / (q * q);
  }
  return lambda_ * reg;
}

double GlmObjective::value_and_gradient(const Vector& x, Vector& grad) const {
  return evaluate(x, grad, nullptr);
}

double GlmObjective::evaluate(const Vector& x, Vector& grad, long* correct) const {
  const auto b = block();
  const auto y = data_->y.segment(first_, rows_);
  Vector s = b * x;  // margins a_j^T x
  double total = 0.0;
  long right = 0;
  for (int j = 0; j < rows_; ++j) {
    double slope = 0.0;
    right += (s[j] >= 0 ? 1.0 : -1.0) == y[j];
    total += loss(s[j], y[j], &slope);
    s[j] = slope / rows_;
  }
  if (correct != nullptr) *correct = right;
  grad.noalias() = b.transpose() * s;
  return total / rows_ + regulariser(x, &grad);
}

double GlmObjective::value(const Vector& x) const {
  Vector g(x.size());
  return value_and_gradient(x, g);
}

double GlmObjective::stochastic_gradient(const Vector& x, int batch, Rng& rng, Vector& grad) const {
  if (batch <= 0 || batch >= rows_) {
    value_and_gradient(x, grad);
    return flops_;
  }
  // Rows drawn uniformly without replacement, visited in ascending order.
  const std::vector<std::int32_t> picked = sample_without_replacement(rng, rows_, batch);
  grad.setZero(x.size());
  std::int64_t nnz = 0;
  for (const std::int32_t r : picked) {
    const auto row = data_->A.row(first_ + r);
    double slope = 0.0;
    loss(row.dot(x), data_->y[first_ + r], &slope);
    slope /= batch;
    for (SparseMatrix::InnerIterator it(data_->A, first_ + r); it; ++it)
      grad[it.index()] += slope * it.value();
    nnz += row.nonZeros();
  }
  regulariser(x, &grad);
  return cost::glm_minibatch_gradient(nnz, batch, x.size(), loss_ == Loss::kLogistic,
                                      lambda_ != 0.0);
}

GlmProblem::GlmProblem(std::shared_ptr<const Dataset> data, int workers, Loss loss, double lambda)
    : data_(std::move(data)),
      loss_(loss),
      lambda_(lambda),
      f_star_(std::numeric_limits<double>::quiet_NaN()),
      mu_(std::numeric_limits<double>::quiet_NaN()) {
  if (workers < 1) throw InputError("number of workers must be >= 1");
  if (workers > data_->rows())
    throw InputError("more workers (" + std::to_string(workers) + ") than samples (" +
                     std::to_string(data_->rows()) + ") in " + data_->source);
  for (int i = 0; i < workers; ++i) {
    const auto [first, rows] = worker_rows(data_->rows(), workers, i);
    locals_.push_back(std::make_unique<GlmObjective>(data_, first, rows, loss_, lambda_));
  }
  const double top = largest_eigenvalue(data_->dim(), [this](const Vector& v, Vector& out) {
    out.setZero(v.size());
    Vector part(v.size());
    for (const auto& l : locals_) {
      l->hessian_bound_apply(v, part);
      out += part;
    }
    out /= static_cast<double>(locals_.size());
  });
  L_ = top + 2.0 * lambda_;
  if (loss_ == Loss::kSquares && lambda_ == 0.0 && dim() <= 2000) {
    // f = (1/n) sum_i (1/N_i) ||A_i x - y_i||^2: minimise through (sum_i A_i^T A_i / N_i) x =
    // sum_i A_i^T y_i / N_i (a least-squares solution also when the system is singular).
    Eigen::MatrixXd H = Eigen::MatrixXd::Zero(dim(), dim());
    Vector rhs = Vector::Zero(dim());
    for (int i = 0; i < workers; ++i) {
      const auto [first, rows] = worker_rows(data_->rows(), workers, i);
      const Eigen::MatrixXd Ai = Eigen::MatrixXd(data_->A.middleRows(first, rows));
      H += Ai.transpose() * Ai / rows;
      rhs += Ai.transpose() * data_->y.segment(first, rows) / rows;
    }
    const Vector x_star = H.completeOrthogonalDecomposition().solve(rhs);
    // The Hessian of f is (2/n) H. Least squares is PL with mu = its smallest *positive*
    // eigenvalue (f - f* and ∇f live in its range), even when H is singular (collinear features).
    const Vector eig =
        Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(H, Eigen::EigenvaluesOnly).eigenvalues();
    const double tol = 1e-10 * eig.maxCoeff();
    for (Eigen::Index k = 0; k < eig.size(); ++k)
      if (eig[k] > tol) {
        mu_ = 2.0 * eig[k] / workers;
        break;
      }
    Vector g(dim());
    f_star_ = value_and_gradient(x_star, g);
  }
}

void GlmProblem::set_test(std::shared_ptr<const Dataset> test) {
  if (test->dim() != dim())
    throw InputError(test->source + ": the test set has d = " + std::to_string(test->dim()) +
                     " but the training set has d = " + std::to_string(dim()) +
                     " (give problem.dim)");
  test_ = std::move(test);
}

namespace {
// Mean loss (without the regulariser) and sign accuracy of x on a whole data set.
std::pair<double, double> loss_and_accuracy(const Dataset& d, Loss loss, const Vector& x) {
  const Vector z = d.A * x;
  double total = 0.0;
  long correct = 0;
  for (Eigen::Index j = 0; j < z.size(); ++j) {
    const double y = d.y[j];
    total += loss == Loss::kSquares ? (z[j] - y) * (z[j] - y) : log1pexp(-y * z[j]);
    correct += (z[j] >= 0 ? 1.0 : -1.0) == y;
  }
  return {total / static_cast<double>(z.size()),
          static_cast<double>(correct) / static_cast<double>(z.size())};
}
}  // namespace

Metrics GlmProblem::test_metrics(const Vector& x) const {
  Metrics m;
  if (test_) std::tie(m.test_loss, m.test_accuracy) = loss_and_accuracy(*test_, loss_, x);
  return m;
}

int GlmProblem::min_rows() const {
  int m = data_->rows();
  for (int i = 0; i < num_workers(); ++i)
    m = std::min(m, worker_rows(data_->rows(), num_workers(), i).second);
  return m;
}

std::string GlmProblem::describe() const {
  std::ostringstream os;
  if (loss_ == Loss::kLogistic)
    os << "logistic regression, nonconvex regulariser lambda=" << lambda_;
  else
    os << "least squares"
       << (lambda_ > 0 ? ", nonconvex regulariser lambda=" + std::to_string(lambda_) : "");
  os << ", " << data_->source << " (N=" << data_->rows() << ", d=" << data_->dim()
     << ", nnz=" << data_->A.nonZeros() << "), n=" << num_workers();
  return os.str();
}

}  // namespace efsim::alg
