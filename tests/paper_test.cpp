// Claims of the source papers, checked on the real methods.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "algorithms/methods/method.hpp"
#include "algorithms/problems/glm.hpp"
#include "algorithms/problems/quadratic.hpp"
#include "algorithms/runner/sync_runner.hpp"
#include "test_util.hpp"

namespace efsim::alg {
namespace {

MethodInstance make(const std::string& name, const Problem& p, const Compressor& C, double gamma,
                    int value_bits, const Vector& x0) {
  MethodSpec spec;
  spec.name = name;
  spec.gamma = gamma;
  spec.wire.value_bits = value_bits;
  return find_method(name).make(spec, p, C, x0);
}

// EF21 paper (Richtárik, Sokolov, Fatkhullin 2021), Figure 1 on a9a: with Top-1 and large
// stepsizes EF stalls while EF21 keeps converging. n = 20, lambda = 0.1, 64-bit wire, 1000 rounds,
// 32x the theoretical stepsize: EF21's final ||∇f||^2 is at least 1e6 times below EF's.
TEST(PaperEF21, Figure1EfStallsWhileEf21ConvergesOnA9a) {
  const std::string path = test::shared_dataset("a9a");
  if (path.empty()) GTEST_SKIP() << "../shared/datasets/a9a not present";
  auto data = std::make_shared<Dataset>(load_libsvm(path));
  LogisticProblem problem(data, 20, 0.1);
  TopK top1(1);
  const double gamma = 32.0 * ef21_theory_gamma(problem.smoothness(), problem.smoothness_tilde(),
                                                top1.alpha(problem.dim()));
  const Vector x0 = Vector::Zero(problem.dim());
  StopRule rule;
  rule.max_rounds = 1000;
  double final_sq[2];
  int m = 0;
  for (const char* name : {"ef", "ef21"}) {
    MethodInstance method = make(name, problem, top1, gamma, 64, x0);
    Monitor monitor(problem, rule);
    EXPECT_EQ(run_sync(method, monitor, 1), StopReason::kMaxRounds);
    ASSERT_EQ(monitor.trace().size(), 1001u);
    final_sq[m++] = monitor.trace().back().grad_norm_sq;
  }
  RecordProperty("ef_final_grad_norm_sq", std::to_string(final_sq[0]));
  RecordProperty("ef21_final_grad_norm_sq", std::to_string(final_sq[1]));
  EXPECT_GT(final_sq[0], 1e6 * final_sq[1]) << "EF " << final_sq[0] << " vs EF21 " << final_sq[1];
}

// Horváth & Richtárik (ICLR 2021) §5.5, the example of Beznosikov et al. (2020): DCGD with Top-1
// from x0 = (t,t,t) gives x^k = (1 + 11 eta / 6)^k x0 exactly, and diverges.
TEST(PaperHorvathRichtarik, BeznosikovDcgdTop1GrowsGeometrically) {
  auto problem = make_beznosikov_problem();
  TopK top1(1);
  const double eta = 1.0 / problem->smoothness();
  const double t = 0.7;
  const Vector x0 = Vector::Constant(3, t);
  MethodInstance method = make("dcgd", *problem, top1, eta, 64, x0);
  StopRule rule;
  rule.max_rounds = 40;
  rule.divergence_factor = 1e300;
  Monitor monitor(*problem, rule);
  // Drive the rounds by hand to read x^k after every round.
  auto rngs = worker_rngs(1, 3);
  for (int k = 1; k <= 40; ++k) {
    std::vector<Message> up(3);
    for (int i = 0; i < 3; ++i) {
      if (k > 1) method.nodes[i]->receive(method.master->broadcast());
      up[i] = method.nodes[i]->step(rngs[i]);
    }
    for (int i = 0; i < 3; ++i) method.master->absorb(i, up[i]);
    method.master->finish_round();
    const double expected = std::pow(1.0 + 11.0 * eta / 6.0, k) * t;
    for (int j = 0; j < 3; ++j)
      EXPECT_NEAR(method.master->x()[j], expected, 1e-12 * expected) << "k=" << k;
  }
  EXPECT_GT(method.master->x()[0], 10 * t);
}

TEST(PaperHorvathRichtarik, BeznosikovDcgdIsReportedAsDivergedNotACrash) {
  auto problem = make_beznosikov_problem();
  TopK top1(1);
  MethodInstance method =
      make("dcgd", *problem, top1, 1.0 / problem->smoothness(), 64, Vector::Ones(3));
  StopRule rule;
  rule.max_rounds = 100000;
  Monitor monitor(*problem, rule);
  EXPECT_EQ(run_sync(method, monitor, 1), StopReason::kDiverged);
  EXPECT_LT(monitor.trace().size(), 100000u);
}

TEST(PaperHorvathRichtarik, BeznosikovEf21Converges) {
  auto problem = make_beznosikov_problem();
  TopK top1(1);
  const double gamma =
      ef21_theory_gamma(problem->smoothness(), problem->smoothness_tilde(), top1.alpha(3));
  MethodInstance method = make("ef21", *problem, top1, gamma, 64, Vector::Ones(3));
  StopRule rule;
  rule.max_rounds = 20000;
  rule.target_grad_norm_sq = 1e-20;
  Monitor monitor(*problem, rule);
  EXPECT_EQ(run_sync(method, monitor, 1), StopReason::kTarget);
  EXPECT_LT(method.master->x().norm(), 1e-9);  // x* = 0
}

// Horváth & Richtárik (ICLR 2021) §5.5, Figure 4: on the Beznosikov example, where DCGD with
// the biased Top-1 diverges, DCGD with the unbiased NU Rand-1 (no error feedback) converges,
// at the same stepsize 1/L and from the same x0, for every seed tried.
TEST(PaperHorvathRichtarik, BeznosikovNuRand1ConvergesWithoutErrorFeedback) {
  auto problem = make_beznosikov_problem();
  const double eta = 1.0 / problem->smoothness();
  StopRule rule;
  rule.max_rounds = 20000;
  rule.target_grad_norm_sq = 1e-16;
  NuRandK nu1(1);
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    MethodInstance method = make("dcgd", *problem, nu1, eta, 64, Vector::Ones(3));
    Monitor monitor(*problem, rule);
    EXPECT_EQ(run_sync(method, monitor, seed), StopReason::kTarget) << "seed " << seed;
    EXPECT_LT(method.master->x().norm(), 1e-7);
  }
}

}  // namespace
}  // namespace efsim::alg
