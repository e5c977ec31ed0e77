// Local SGD / FedAvg (algorithms/methods/local_sgd.cpp) against its reductions: one local step
// is distributed GD, and with one worker tau local steps are tau GD steps; it converges on a
// heterogeneous problem; its setting `local_steps` reaches run ids and is rejected elsewhere.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "algorithms/compressors/compressor.hpp"
#include "algorithms/core/error.hpp"
#include "algorithms/methods/method.hpp"
#include "algorithms/problems/glm.hpp"
#include "algorithms/runner/sync_runner.hpp"
#include "sim/scenario/scenario.hpp"
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

// Runs `rounds` rounds; returns the master's model and fills the trace.
Vector run(const std::string& method, const Problem& p, double gamma, int local_steps, long rounds,
           std::vector<TraceRow>* trace = nullptr) {
  MethodSpec s;
  s.name = method;
  s.gamma = gamma;
  s.wire.value_bits = 64;
  if (method == "local_sgd") s.params.set("local_steps", local_steps);
  const Identity id;
  MethodInstance m = find_method(method).make(s, p, id, Vector::Zero(p.dim()));
  StopRule rule;
  rule.max_rounds = rounds;
  Monitor mon(p, rule);
  run_sync(m, mon, 3);
  if (trace) *trace = mon.trace();
  return m.master->x();
}

TEST(LocalSgd, OneLocalStepIsDistributedGd) {
  const auto p = logistic(4);
  const double gamma = 1.0 / p->smoothness();
  const Vector gd = run("gd", *p, gamma, 1, 40);
  const Vector local = run("local_sgd", *p, gamma, 1, 40);
  // The same steps; only the rounding differs (mean of gamma g_i against gamma times the mean).
  EXPECT_LE((gd - local).norm(), 1e-12 * gd.norm());
}

TEST(LocalSgd, OneWorkerTakesTauGdStepsPerRound) {
  const auto p = logistic(1);
  const double gamma = 1.0 / p->smoothness();
  for (int tau : {2, 5}) {
    SCOPED_TRACE(tau);
    const Vector gd = run("gd", *p, gamma, 1, 10L * tau);
    const Vector local = run("local_sgd", *p, gamma, tau, 10);
    EXPECT_LE((gd - local).norm(), 1e-10 * gd.norm());
  }
}

// Client drift (Khaled, Mishchenko, Richtárik 2020; Karimireddy et al. 2020): on heterogeneous
// workers, local steps converge to a point that is not stationary, whose distance shrinks with
// the stepsize; one local step (GD) converges exactly. Printed numbers are the plateaus.
TEST(LocalSgd, HeterogeneousWorkersDriftByAnAmountThatShrinksWithGamma) {
  const auto p = logistic(4);
  const double gamma = 0.25 / p->smoothness();
  std::vector<TraceRow> gd, big, small;
  run("local_sgd", *p, gamma, 1, 400, &gd);
  run("local_sgd", *p, gamma, 4, 400, &big);
  run("local_sgd", *p, gamma / 2, 4, 800, &small);
  std::printf("plateaus: tau 1: %g; tau 4: %g; tau 4, gamma/2: %g\n", gd.back().grad_norm_sq,
              big.back().grad_norm_sq, small.back().grad_norm_sq);
  EXPECT_LT(gd.back().grad_norm_sq, 1e-12);
  EXPECT_GT(big.back().grad_norm_sq, 1e-8);  // stalls: the drift
  EXPECT_LT(small.back().grad_norm_sq, big.back().grad_norm_sq / 2);
  // It has converged to its plateau (the last 100 rounds change it by under 1 %).
  EXPECT_NEAR(big[big.size() - 100].grad_norm_sq, big.back().grad_norm_sq,
              0.01 * big.back().grad_norm_sq);
}

class LocalSgdScenario : public test::TempDirTest {};

TEST_F(LocalSgdScenario, LocalStepsIsASweepAxisOfItsMethodOnly) {
  const std::string head = "problem: {kind: logistic, dataset: synthetic, workers: 2}\nruns:\n";
  const auto s = sim::load_scenario(write(
      "ok.yaml", head + "  - {method: local_sgd, local_steps: [1, 4], stepsize: {gamma: 0.1}}\n"));
  ASSERT_EQ(s.runs.size(), 2u);
  EXPECT_EQ(s.runs[0].id, "local_sgd-identity-g0.1");
  EXPECT_EQ(s.runs[1].id, "local_sgd-identity-g0.1-ls4");
  try {
    sim::load_scenario(write("bad.yaml", head + "  - {method: ef21, local_steps: 4}\n"));
    ADD_FAILURE() << "local_steps on ef21 accepted";
  } catch (const efsim::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.yaml:3: key 'runs.0.local_steps': method 'ef21' "
                                         "takes no local_steps (local_sgd and scaffold do"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace efsim::alg
