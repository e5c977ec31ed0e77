#include "algorithms/problems/problem.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace efsim::alg {

double Problem::smoothness_tilde() const {
  double sum = 0.0;
  for (int i = 0; i < num_workers(); ++i) {
    const double li = local(i).smoothness();
    sum += li * li;
  }
  return std::sqrt(sum / num_workers());
}

double Problem::value_and_gradient(const Vector& x, Vector& grad) const {
  return evaluate(x, grad, nullptr);
}

namespace {
// The mean over the workers of f_i, ∇f_i and the accuracy, added up in worker order.
class MeanOverWorkers {
 public:
  MeanOverWorkers(const Problem& p, Vector& grad) : p_(p), grad_(grad) { grad_.setZero(p.dim()); }
  void add(int i, double f, const Vector& g, long correct) {
    f_ += f;
    grad_ += g;
    if (correct_ >= 0 && correct >= 0 && p_.local(i).num_samples() > 0) {
      correct_ += correct;
      samples_ += p_.local(i).num_samples();
    } else {
      correct_ = -1;
    }
  }
  double finish(double* train_accuracy) {
    grad_ /= p_.num_workers();
    if (train_accuracy != nullptr)
      *train_accuracy = correct_ >= 0 && samples_ > 0
                            ? static_cast<double>(correct_) / static_cast<double>(samples_)
                            : std::numeric_limits<double>::quiet_NaN();
    return f_ / p_.num_workers();
  }

 private:
  const Problem& p_;
  Vector& grad_;
  double f_ = 0.0;
  long correct_ = 0, samples_ = 0;
};
}  // namespace

double Problem::evaluate(const Vector& x, Vector& grad, double* train_accuracy) const {
  MeanOverWorkers sum(*this, grad);
  Vector gi(dim());
  for (int i = 0; i < num_workers(); ++i) {
    long correct = -1;
    const double fi = local(i).evaluate(x, gi, &correct);
    sum.add(i, fi, gi, correct);
  }
  return sum.finish(train_accuracy);
}

double combine(const Problem& p, const std::vector<LocalEvaluation>& parts, Vector& grad,
               double* train_accuracy) {
  MeanOverWorkers sum(p, grad);
  for (int i = 0; i < p.num_workers(); ++i)
    sum.add(i, parts[i].f, *parts[i].grad, parts[i].correct);
  return sum.finish(train_accuracy);
}

double Objective::evaluate(const Vector& x, Vector& grad, long* correct) const {
  if (correct != nullptr) *correct = -1;
  return value_and_gradient(x, grad);
}

Metrics Problem::metrics(const Vector& x) const {
  Metrics m = test_metrics(x);
  Vector g(dim());
  evaluate(x, g, &m.train_accuracy);
  return m;
}

double Objective::stochastic_gradient(const Vector& x, int, Rng&, Vector& grad) const {
  value_and_gradient(x, grad);
  return gradient_flops();
}

double Objective::stochastic_gradient_minus(const Vector& x, int batch, Rng& rng,
                                            const Vector& shift, Vector& out) const {
  const double flops = stochastic_gradient(x, batch, rng, out);
  out -= shift;
  return flops;
}

double Problem::optimal_value() const { return std::numeric_limits<double>::quiet_NaN(); }

Metrics Problem::test_metrics(const Vector&) const { return {}; }

double Problem::pl_constant() const { return std::numeric_limits<double>::quiet_NaN(); }

double largest_eigenvalue(int dim, const std::function<void(const Vector&, Vector&)>& op,
                          int max_iterations) {
  // A fixed pseudo-random start: the all-ones vector is an eigenvector of symmetric problems
  // (e.g. the Beznosikov example) and would miss the top of the spectrum.
  Rng rng(0x5EEDULL);
  Vector v(dim);
  for (int j = 0; j < dim; ++j) v[j] = standard_normal(rng);
  v /= v.norm();
  Vector w(dim);
  double lambda = 0.0;
  for (int it = 0; it < max_iterations; ++it) {
    op(v, w);
    const double next = v.dot(w);  // Rayleigh quotient, v normalised
    const double norm = w.norm();
    if (norm == 0.0) return 0.0;
    v = w / norm;
    if (it > 0 && std::abs(next - lambda) <= 1e-10 * std::abs(next)) return std::max(next, norm);
    lambda = next;
  }
  return lambda;
}

}  // namespace efsim::alg
