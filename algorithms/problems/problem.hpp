// The optimization problem  min_x f(x) = (1/n) sum_i f_i(x)  split over n workers.
// A worker sees only its local objective f_i; the observer sees f.
#pragma once

#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "algorithms/core/types.hpp"

namespace efsim::alg {

// One worker's local objective f_i.
class Objective {
 public:
  virtual ~Objective() = default;
  virtual int dim() const = 0;
  // Returns f_i(x) and writes grad = ∇f_i(x), in one pass over the data.
  virtual double value_and_gradient(const Vector& x, Vector& grad) const = 0;
  // value_and_gradient, and in the same pass the number of the worker's samples x classifies
  // correctly (*correct = -1 when the objective is not a classifier).
  virtual double evaluate(const Vector& x, Vector& grad, long* correct) const;
  virtual double value(const Vector& x) const = 0;
  // Floating-point operations of one value_and_gradient call (cost model, see cost.hpp).
  virtual double gradient_flops() const = 0;
  // L_i: a Lipschitz constant of ∇f_i.
  virtual double smoothness() const = 0;
  // N_i for a finite sum (0: not a finite sum).
  virtual int num_samples() const { return 0; }
  // A minibatch stochastic gradient ∇f_i(x, ξ) from `batch` samples drawn with rng (for a
  // finite sum: uniformly without replacement from the worker's rows; batch >= N_i gives the
  // full gradient). Returns the flops spent. Default: the full gradient.
  virtual double stochastic_gradient(const Vector& x, int batch, Rng& rng, Vector& grad) const;
  // out = stochastic_gradient(x, batch, ...) - shift: the difference error feedback compresses
  // (EF21's ∇f_i - g_i, DIANA's ∇f_i - h_i). Objectives that accumulate their gradient in place
  // start from -shift and save a pass over d. Returns the flops of the gradient. out and shift
  // must not alias.
  virtual double stochastic_gradient_minus(const Vector& x, int batch, Rng& rng,
                                           const Vector& shift, Vector& out) const;
};

// Metrics beyond f and ||∇f||^2, when the problem has them (NaN otherwise).
struct Metrics {
  double train_accuracy = std::numeric_limits<double>::quiet_NaN();
  double test_loss = std::numeric_limits<double>::quiet_NaN();
  double test_accuracy = std::numeric_limits<double>::quiet_NaN();
};

class Problem {
 public:
  virtual ~Problem() = default;
  virtual int num_workers() const = 0;
  virtual int dim() const = 0;
  virtual const Objective& local(int i) const = 0;
  // L: a Lipschitz constant of ∇f, f = mean f_i.
  virtual double smoothness() const = 0;
  virtual std::string describe() const = 0;

  // L̃ = sqrt((1/n) sum_i L_i²)  (EF21 paper, Assumption 1 / Theorem 2).
  double smoothness_tilde() const;
  // f(x) = mean f_i(x), grad = ∇f(x). Used by the observer only: costs no simulated time.
  double value_and_gradient(const Vector& x, Vector& grad) const;
  // The same in one pass over the data, with the train accuracy when the problem is a
  // classifier (NaN otherwise). The sums run over the workers in order, as combine() does.
  double evaluate(const Vector& x, Vector& grad, double* train_accuracy) const;
  // f* = inf f when the problem knows it (least squares, quadratics); NaN otherwise.
  virtual double optimal_value() const;
  // Classification accuracy (train) and test-set loss/accuracy (an extra pass over the data).
  Metrics metrics(const Vector& x) const;
  // The test-set loss and accuracy of x (train_accuracy left NaN), for the observer.
  virtual Metrics test_metrics(const Vector& x) const;
  // mu of the PL condition f - f* <= ||∇f||^2 / (2 mu) when known (least squares, quadratics:
  // the smallest eigenvalue of the Hessian); NaN otherwise.
  virtual double pl_constant() const;
  // Every f_i is convex (theorems for convex problems: the EF21-P paper's Theorem F.2).
  virtual bool convex() const { return false; }
};

// One worker's exact evaluation at the common iterate x: f_i(x), ∇f_i(x) and its count of
// correctly classified samples (-1: not a classifier).
struct LocalEvaluation {
  bool valid = false;
  double f = 0;
  const Vector* grad = nullptr;
  long correct = -1;
};

// f(x), ∇f(x) and the train accuracy from every worker's exact local evaluation at x, summed
// over the workers in order (bit-identical to Problem::evaluate). parts[i] must be valid.
double combine(const Problem& p, const std::vector<LocalEvaluation>& parts, Vector& grad,
               double* train_accuracy);

// Largest eigenvalue of a symmetric positive semi-definite operator v -> op(v), by power
// iteration from a fixed pseudo-random vector (deterministic). Relative tolerance 1e-10.
double largest_eigenvalue(int dim, const std::function<void(const Vector&, Vector&)>& op,
                          int max_iterations = 5000);

}  // namespace efsim::alg
