// SCAFFOLD (Karimireddy et al., ICML 2020, Algorithm 1, option II; algorithms/methods/scaffold.cpp)
// against what it reduces to and what the paper proves: one local step with every client is
// distributed GD with stepsize eta_g eta_l; on heterogeneous quadratics local SGD converges to
// the closed-form fixed point of the averaged local maps (client drift) while SCAFFOLD converges
// to the minimiser x* = (sum Q_i)^-1 sum b_i; uploads carry Δy_i and Δc_i (twice local SGD's
// bytes); the settings reach the scenario layer; SimGrid changes time, never its math.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>

#include "algorithms/compressors/compressor.hpp"
#include "algorithms/core/error.hpp"
#include "algorithms/methods/method.hpp"
#include "algorithms/problems/glm.hpp"
#include "algorithms/problems/quadratic.hpp"
#include "algorithms/runner/sync_runner.hpp"
#include "method_run.hpp"
#include "platforms/star.hpp"
#include "sim/network/simgrid_runner.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/sweep/recorder.hpp"
#include "sim/text.hpp"
#include "simgrid_star_run.hpp"
#include "synthetic_problem.hpp"
#include "test_util.hpp"

namespace efsim::alg {
namespace {

std::shared_ptr<GlmProblem> logistic(int workers) {
  return test::synthetic_glm({.samples = 400,
                              .dim = 30,
                              .nnz_per_row = 8,
                              .workers = workers,
                              .heterogeneity = 1.0,
                              .seed = 9});
}

MethodSpec spec(const std::string& method, double gamma, int local_steps = 1, double eta_g = 1.0) {
  MethodSpec s;
  s.name = method;
  s.gamma = gamma;
  s.wire.value_bits = 64;
  if (method != "gd") s.params.set("local_steps", local_steps);
  if (method == "scaffold") s.params.set("eta_g", eta_g);
  return s;
}

// c = mean c_i holds (both start at 0 and move by the same decoded Δc_i), so with K = 1 the
// correction averages out: x <- x - eta_g eta_l mean ∇f_i(x), GD with stepsize eta_g eta_l.
TEST(Scaffold, OneLocalStepIsDistributedGd) {
  const auto p = logistic(4);
  const double gamma = 1.0 / p->smoothness();
  const Outcome gd = run(spec("gd", gamma), *p, 40, 3);
  for (double eta_g : {1.0, 2.0}) {
    SCOPED_TRACE(eta_g);
    const Outcome sc = run(spec("scaffold", gamma / eta_g, 1, eta_g), *p, 40, 3);
    ASSERT_EQ(sc.trace.size(), gd.trace.size());
    for (std::size_t k = 0; k < gd.trace.size(); ++k)
      EXPECT_NEAR(sc.trace[k].f, gd.trace[k].f, 1e-12 * std::abs(gd.trace[k].f)) << k;
    EXPECT_LE((sc.x - gd.x).norm(), 1e-12 * gd.x.norm());
  }
}

// Client drift, in closed form. With full local gradients on quadratics, worker i's K local
// steps map x to x_i* + M_i (x - x_i*), M_i = (I - eta Q_i)^K, x_i* = Q_i^-1 b_i; local SGD
// averages them, so its fixed point solves (I - mean M_i) x = mean (I - M_i) x_i*, which is not
// the minimiser x* = (sum Q_i)^-1 sum b_i. SCAFFOLD's fixed point is x* (with c_i = ∇f_i(x*)):
// the paper's drift correction.
TEST(Scaffold, CorrectsTheClientDriftOfLocalSgdInClosedForm) {
  const int n = 4, d = 6, K = 5;
  const auto p = test::heterogeneous_quadratic(n, d);
  const double gamma = 0.5 / p->smoothness();
  Matrix Qsum = Matrix::Zero(d, d), Msum = Matrix::Zero(d, d);
  Vector bsum = Vector::Zero(d), rhs = Vector::Zero(d);
  for (int i = 0; i < n; ++i) {
    const auto& fi = dynamic_cast<const QuadraticObjective&>(p->local(i));
    Qsum += fi.Q();
    bsum += fi.b();
    Matrix M = Matrix::Identity(d, d);
    for (int k = 0; k < K; ++k) M = (Matrix::Identity(d, d) - gamma * fi.Q()) * M;
    Msum += M;
    rhs += (Matrix::Identity(d, d) - M) * fi.Q().ldlt().solve(fi.b());
  }
  const Vector x_star = Qsum.ldlt().solve(bsum);
  const Vector x_drift = (n * Matrix::Identity(d, d) - Msum).lu().solve(rhs);
  std::printf("||x_drift - x*|| = %g, ||x*|| = %g\n", (x_drift - x_star).norm(), x_star.norm());
  ASSERT_GT((x_drift - x_star).norm(), 1e-2 * x_star.norm());  // the drift is real here

  const Outcome local = run(spec("local_sgd", gamma, K), *p, 3000, 3);
  const Outcome scaffold = run(spec("scaffold", gamma, K), *p, 3000, 3);
  EXPECT_LT((local.x - x_drift).norm(), 1e-10 * x_drift.norm());
  EXPECT_LT((scaffold.x - x_star).norm(), 1e-10 * x_star.norm());
  EXPECT_LT(scaffold.trace.back().grad_norm_sq, 1e-20);
  EXPECT_GT(local.trace.back().grad_norm_sq, 1e-6);
  // The global stepsize eta_g = 2 keeps the fixed point.
  const Outcome scaffold2 = run(spec("scaffold", gamma / 2, K, 2.0), *p, 6000, 3);
  EXPECT_LT((scaffold2.x - x_star).norm(), 1e-10 * x_star.norm());
}

// Every round each worker sends Δy_i and Δc_i, two dense vectors (local SGD: one), and receives
// (Δx, Δc). K local steps cost K gradients: compute grows with K, the bytes do not.
TEST(Scaffold, UploadsCarryBothDifferences) {
  const auto p = logistic(4);
  const double gamma = 0.5 / p->smoothness();
  for (int bits : {64, 32}) {
    SCOPED_TRACE(bits);
    MethodSpec s = spec("scaffold", gamma, 3);
    s.wire.value_bits = bits;
    MethodSpec l = spec("local_sgd", gamma, 3);
    l.wire.value_bits = bits;
    const Outcome sc = run(s, *p, 5, 3), ls = run(l, *p, 5, 3);
    const double dense = 8.0 * static_cast<double>(dense_message_bytes(p->dim(), s.wire));
    // Two vectors of d values at `bits` each, plus one layout bit each, padded to whole bytes.
    const double two = 8.0 * std::ceil((2.0 * (1 + bits * p->dim())) / 8.0);
    for (std::size_t k = 1; k < sc.trace.size(); ++k) {
      EXPECT_EQ(sc.trace[k].bits_up_per_worker, k * two) << k;
      EXPECT_EQ(ls.trace[k].bits_up_per_worker, k * dense) << k;
      if (k >= 2) {
        EXPECT_EQ(sc.trace[k].bits_down_per_worker, (k - 1) * two) << k;
      }
    }
  }
  // A compressor compresses both: Rand-5 sends a 64-bit seed and 5 values for each.
  RandK rand5(5, false);
  MethodSpec s5 = spec("scaffold", gamma, 3);
  MethodInstance c5 = find_method("scaffold").make(s5, *p, rand5, Vector::Zero(p->dim()));
  Rng r5(2);
  const Message up = c5.nodes[0]->run_step(r5);
  EXPECT_EQ(up.size_bytes(), static_cast<std::size_t>(std::ceil(2.0 * (64 + 5 * 64) / 8.0)));
  // K = 3 local steps: three local gradients per worker per round.
  MethodSpec s = spec("scaffold", gamma, 3);
  const Identity id;
  MethodInstance m = find_method("scaffold").make(s, *p, id, Vector::Zero(p->dim()));
  MethodSpec s1 = spec("scaffold", gamma, 1);
  MethodInstance m1 = find_method("scaffold").make(s1, *p, id, Vector::Zero(p->dim()));
  Rng r1(1), r3(1);
  m.nodes[0]->run_step(r3);
  m1.nodes[0]->run_step(r1);
  const double g = p->local(0).gradient_flops();
  EXPECT_NEAR(m.nodes[0]->take_flops() - m1.nodes[0]->take_flops(), 2.0 * g + 2.0 * 5.0 * p->dim(),
              1e-9 * g);
}

class ScaffoldScenario : public test::TempDirTest {};

TEST_F(ScaffoldScenario, SettingsReachTheRunsAndAreCheckedByTheParser) {
  const std::string head = "problem: {kind: logistic, dataset: synthetic, workers: 2}\nruns:\n";
  const auto s = sim::load_scenario(write(
      "ok.yaml", head + "  - {method: scaffold, local_steps: 4, eta_g: [1, 2], stepsize: {gamma: "
                        "0.1}}\n"));
  ASSERT_EQ(s.runs.size(), 2u);
  EXPECT_EQ(s.runs[0].id, "scaffold-identity-g0.1-ls4");
  EXPECT_EQ(s.runs[1].id, "scaffold-identity-g0.1-ls4-eg2");
  auto error_of = [this](const std::string& text) -> std::string {
    try {
      sim::load_scenario(write("bad.yaml", text));
    } catch (const InputError& e) {
      return e.what();
    }
    ADD_FAILURE() << "loaded: " << text;
    return "";
  };
  const std::string on_ef21 = error_of(head + "  - {method: ef21, eta_g: 2}\n");
  EXPECT_NE(on_ef21.find("bad.yaml:3: key 'runs.0.eta_g': method 'ef21' takes no eta_g"),
            std::string::npos)
      << on_ef21;
  const std::string zero = error_of(head + "  - {method: scaffold, eta_g: 0}\n");
  EXPECT_NE(zero.find("runs.0.eta_g"), std::string::npos) << zero;
  const std::string model =
      error_of(head + "  - {method: scaffold, downlink: model, stepsize: {gamma: 0.1}}\n");
  EXPECT_NE(model.find("runs.0.downlink"), std::string::npos) << model;
}

// algorithms/README.md invariant 2: SimGrid changes time, never SCAFFOLD's math.
TEST(Scaffold, SimGridSameIteratesAsSyncRunner) {
  const long rounds = 20;
  auto make = [](const Problem& p, const Compressor& C) {
    MethodSpec s = spec("scaffold", 0.5 / p.smoothness(), 3, 1.5);
    s.wire.value_bits = 32;
    return find_method("scaffold").make(s, p, C, Vector::Zero(p.dim()));
  };
  const std::string sg = test::run_in_child([&] {
    auto p = logistic(4);
    Identity id;
    MethodInstance m = make(*p, id);
    return test::simgrid_star_trace(m, *p, rounds, test::wire32());
  });
  ASSERT_EQ(sg.rfind("round,", 0), 0u) << sg;
  auto p = logistic(4);
  Identity id;
  MethodInstance m = make(*p, id);
  const auto sync = test::sync_trace(m, *p, rounds);
  test::expect_same_math(test::parse_trace(sg), sync);
}

}  // namespace
}  // namespace efsim::alg
