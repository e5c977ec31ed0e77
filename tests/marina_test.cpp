// MARINA (Gorbunov, Burlachenko, Li, Richtárik, ICML 2021, Algorithm 1) against what it reduces
// to and what its theorem promises: p = 1 is GD bit for bit; an exact Q is GD up to rounding;
// Rand-K at the Theorem 2.1 stepsize converges; the scenario layer learns marina_p from the
// settings table alone; SimGrid changes time, never its math.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "algorithms/core/error.hpp"
#include "algorithms/methods/method.hpp"
#include "algorithms/problems/glm.hpp"
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

std::shared_ptr<GlmProblem> logistic(int workers = 4, int dim = 30) {
  return test::synthetic_glm(test::method_spec(workers, dim));
}

MethodSpec spec(const std::string& name, double gamma, double marina_p = 0, int bits = 64) {
  MethodSpec s;
  s.name = name;
  s.gamma = gamma;
  s.seed = 3;
  s.wire.value_bits = bits;
  if (marina_p > 0) s.params.set("marina_p", marina_p);
  return s;
}

// With p = 1 every round sends full gradients and the master steps with their mean: GD's
// iterates bit for bit, at both wire precisions (float32 rounds GD's messages the same way).
TEST(Marina, ProbabilityOneIsGdBitForBit) {
  auto p = logistic();
  Identity id;
  RandK rand3(3, true);
  const double gamma = 1.0 / p->smoothness();
  for (int bits : {64, 32}) {
    SCOPED_TRACE(bits);
    const Outcome gd = run(spec("gd", gamma, 0, bits), *p, id, 60);
    const Outcome marina = run(spec("marina", gamma, 1.0, bits), *p, rand3, 60);
    ASSERT_EQ(gd.trace.size(), marina.trace.size());
    for (std::size_t k = 0; k < gd.trace.size(); ++k) {
      EXPECT_EQ(std::bit_cast<std::uint64_t>(gd.trace[k].f),
                std::bit_cast<std::uint64_t>(marina.trace[k].f))
          << k;
      EXPECT_EQ(gd.trace[k].bits_up_per_worker, marina.trace[k].bits_up_per_worker) << k;
    }
    EXPECT_TRUE(same_bits(gd.x, marina.x));
  }
}

// With an exact Q the differences add back up to the mean gradient, so MARINA is GD for any p;
// not bit for bit in floating point (g^k + mean(∇f_i(x^{k+1}) - ∇f_i(x^k)) rounds differently
// from mean ∇f_i(x^{k+1})), but to 1e-12.
TEST(Marina, IdentityQIsGdForAnyP) {
  auto p = logistic();
  Identity id;
  const double gamma = 1.0 / p->smoothness();
  const Outcome gd = run(spec("gd", gamma), *p, id, 80);
  for (double prob : {0.5, 0.1}) {
    SCOPED_TRACE(prob);
    const Outcome marina = run(spec("marina", gamma, prob), *p, id, 80);
    ASSERT_EQ(gd.trace.size(), marina.trace.size());
    for (std::size_t k = 0; k < gd.trace.size(); ++k)
      EXPECT_NEAR(marina.trace[k].f, gd.trace[k].f, 1e-12 * std::abs(gd.trace[k].f)) << k;
    EXPECT_LT((marina.x - gd.x).norm(), 1e-12 * gd.x.norm());
  }
}

// Theorem 2.1: Rand-K (unbiased) at gamma = 1/(L + L̃ omega / sqrt(n)) with p = K/d converges;
// on this strongly convex problem ||∇f||^2 falls by many orders of magnitude, and each worker
// sends on average about p d + (1 - p) K = 2K values a round instead of d.
TEST(Marina, RandKConvergesAtTheoryStepsize) {
  auto p = logistic(4, 30);
  RandK rand3(3, true);
  const double gamma = theory_gamma("marina", rand3, *p);
  const double omega = rand3.delta(30) - 1.0;  // 9
  EXPECT_DOUBLE_EQ(gamma, 1.0 / (p->smoothness() + p->smoothness_tilde() * omega / 2.0));
  const Outcome marina = run(spec("marina", gamma), *p, rand3, 3000);
  const double g0 = marina.trace.front().grad_norm_sq, g_end = marina.trace.back().grad_norm_sq;
  EXPECT_LT(g_end, 1e-10 * g0) << "from " << g0 << " to " << g_end;
  EXPECT_LT(marina.trace[1500].grad_norm_sq, 1e-4 * g0);
  // Fewer bits than GD over the same rounds.
  Identity id;
  const Outcome gd = run(spec("gd", gamma), *p, id, 3000);
  EXPECT_LT(marina.trace.back().bits_up_per_worker, 0.5 * gd.trace.back().bits_up_per_worker);
  // The default p, given explicitly, is the same run.
  const Outcome explicit_p = run(spec("marina", gamma, 0.1), *p, rand3, 3000);
  EXPECT_TRUE(same_bits(explicit_p.x, marina.x));
}

// VR-MARINA (batch > 0): the same minibatch at both points; still converges (to a neighbourhood
// at most: here full rounds keep it close).
TEST(Marina, MinibatchVariantConverges) {
  auto p = logistic(4, 30);
  RandK rand3(3, true);
  MethodSpec s = spec("marina", 0.5 * theory_gamma("marina", rand3, *p));
  s.params.set("batch", 10);
  const Outcome r = run(s, *p, rand3, 3000);
  EXPECT_LT(r.trace.back().grad_norm_sq, 1e-6 * r.trace.front().grad_norm_sq);
  MethodSpec bad = s;
  bad.params.set("batch_init", 5);
  EXPECT_THROW(find_method("marina").make(bad, *p, rand3, Vector::Zero(p->dim())), InputError);
}

// The downlink model carries x itself; the workers never need g then. Same iterates up to the
// float32 rounding of x (64-bit wire: exactly the same).
TEST(Marina, ModelDownlinkSameIterates) {
  auto p = logistic();
  RandK rand3(3, true);
  const MethodSpec s = spec("marina", theory_gamma("marina", rand3, *p));
  const Outcome agg = run(s, *p, rand3, 200);
  MethodInstance m = find_method("marina").make(s, *p, rand3, Vector::Zero(p->dim()));
  ASSERT_TRUE(m.master->send_model());
  m.model_downlink = true;
  StopRule rule;
  rule.max_rounds = 200;
  Monitor mon(*p, rule);
  run_sync(m, mon, 7);
  EXPECT_TRUE(same_bits(m.master->x(), agg.x));
}

class MarinaScenario : public test::TempDirTest {};

// The settings table alone teaches the parser marina_p: its id tag in the run id, its range, and
// the refusal of it on a method that does not take it.
TEST_F(MarinaScenario, ParserLearnsMarinaPFromTheTable) {
  const std::string ok =
      "problem: {dataset: synthetic, workers: 2}\n"
      "runs:\n"
      "  - method: marina\n"
      "    compressor: {kind: rand_k_unbiased, k: 2}\n"
      "    marina_p: [0.25, 1]\n"
      "  - method: marina\n"
      "    compressor: {kind: rand_k_unbiased, k: 2}\n";
  const sim::Scenario s = sim::load_scenario(write("ok.yaml", ok));
  ASSERT_EQ(s.runs.size(), 3u);
  EXPECT_NE(s.runs[0].id.find("-mp0.25"), std::string::npos) << s.runs[0].id;
  EXPECT_NE(s.runs[1].id.find("-mp1"), std::string::npos) << s.runs[1].id;
  EXPECT_EQ(s.runs[2].id.find("-mp"), std::string::npos) << s.runs[2].id;  // the default
  EXPECT_EQ(s.runs[0].params.at("marina_p"), 0.25);

  auto error_of = [this](const std::string& name, const std::string& text) -> std::string {
    try {
      sim::load_scenario(write(name, text));
    } catch (const InputError& e) {
      return e.what();
    }
    ADD_FAILURE() << "loaded: " << text;
    return "";
  };
  const std::string on_ef21 =
      error_of("ef21.yaml",
               "problem: {dataset: synthetic, workers: 2}\n"
               "runs: [{method: ef21, compressor: {kind: top_k, k: 2}, marina_p: 0.5}]\n");
  EXPECT_NE(on_ef21.find("marina_p"), std::string::npos) << on_ef21;
  EXPECT_NE(on_ef21.find("takes no marina_p"), std::string::npos) << on_ef21;
  EXPECT_NE(on_ef21.find("marina do"), std::string::npos) << on_ef21;
  const std::string zero = error_of(
      "zero.yaml",
      "problem: {dataset: synthetic, workers: 2}\n"
      "runs: [{method: marina, compressor: {kind: rand_k_unbiased, k: 2}, marina_p: 0}]\n");
  EXPECT_NE(zero.find("marina_p"), std::string::npos) << zero;
}

// algorithms/README.md invariant 2: SimGrid changes time, never MARINA's math.
TEST(Marina, SimGridSameIteratesAsSyncRunner) {
  auto make = [](const Problem& p, const Compressor& C) {
    MethodSpec s = spec("marina", theory_gamma("marina", C, p), 0.3, 32);
    return find_method("marina").make(s, p, C, Vector::Zero(p.dim()));
  };
  const long rounds = 30;
  const std::string sg = test::run_in_child([&] {
    auto p = logistic(4, 30);
    RandK rand3(3, true);
    MethodInstance m = make(*p, rand3);
    return test::simgrid_star_trace(m, *p, rounds, test::wire32());
  });
  ASSERT_EQ(sg.rfind("round,", 0), 0u) << sg;
  auto p = logistic(4, 30);
  RandK rand3(3, true);
  MethodInstance m = make(*p, rand3);
  const auto sync = test::sync_trace(m, *p, rounds);
  test::expect_same_math(test::parse_trace(sg), sync);
}

}  // namespace
}  // namespace efsim::alg
