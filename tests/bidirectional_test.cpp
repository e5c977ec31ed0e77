// EF21-BC (Fatkhullin et al., "EF21 with Bells & Whistles", 2021) and EF21-P + DCGD / + DIANA
// (Gruntkowska, Tyurin, Richtárik, "EF21-P and Friends", ICML 2023) against what they reduce to:
// with the identity as downlink compressor they are EF21, DCGD and DIANA (to 1e-12: one rounding
// per round, a + (b - a) != b); the downlink's bytes are C_down's encoded message (a closed form
// for Top-K's codec); SimGrid gives the SyncRunner's iterates; the scenario layer validates
// downlink_compressor like `compressor` and refuses it where it has no meaning.
#include <gtest/gtest.h>

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

std::shared_ptr<GlmProblem> logistic(int workers = 4, int dim = 40) {
  return test::synthetic_glm(test::method_spec(workers, dim));
}

MethodSpec spec(const std::string& name, double gamma, const Compressor* down, int bits = 64) {
  MethodSpec s;
  s.name = name;
  s.gamma = gamma;
  s.seed = 3;
  s.wire.value_bits = bits;
  if (down != nullptr) s.params.set_compressor("downlink_compressor", down);
  return s;
}

void expect_close(const Outcome& a, const Outcome& b, double tol) {
  ASSERT_EQ(a.trace.size(), b.trace.size());
  for (std::size_t k = 0; k < a.trace.size(); ++k) {
    EXPECT_NEAR(a.trace[k].f, b.trace[k].f, tol * std::abs(b.trace[k].f)) << k;
    EXPECT_NEAR(a.trace[k].grad_norm_sq, b.trace[k].grad_norm_sq,
                1e-9 * b.trace[k].grad_norm_sq + 1e-30)
        << k;
    EXPECT_EQ(a.trace[k].bits_up_per_worker, b.trace[k].bits_up_per_worker) << k;
  }
  EXPECT_LT((a.x - b.x).norm(), tol * b.x.norm());
}

// With C_down = identity, EF21-BC's broadcast estimator g^{t+1} = g^t + (g̃^{t+1} - g^t) is EF21's
// g̃^{t+1} up to rounding; the iterates agree to 1e-12 over 200 rounds (64-bit wire: at 32 bits
// EF21-BC rounds g̃ - g to float32, EF21 rounds the mean of the c_i, which differ).
TEST(Ef21Bc, IdentityDownlinkIsEf21) {
  auto p = logistic();
  TopK top4(4);
  Identity id;
  const double gamma = theory_gamma("ef21", top4, *p);
  const Outcome ef21 = run(spec("ef21", gamma, nullptr), *p, top4, 200);
  const Outcome bc = run(spec("ef21_bc", gamma, &id), *p, top4, 200);
  expect_close(bc, ef21, 1e-12);
}

// EF21-P with C^P = identity: w^{t+1} = w^t + (x^{t+1} - w^t) is x^{t+1} up to one rounding, so
// EF21-P + DCGD is DCGD and EF21-P + DIANA is DIANA (to 1e-12).
TEST(Ef21P, IdentityDownlinkIsDcgdAndDiana) {
  auto p = logistic();
  Identity id;
  RandK rand8(8, true);
  const double gamma = 0.5 / p->smoothness();
  for (const Compressor* C :
       {static_cast<const Compressor*>(&id), static_cast<const Compressor*>(&rand8)}) {
    SCOPED_TRACE(C->label());
    expect_close(run(spec("ef21_p_dcgd", gamma, &id), *p, *C, 150),
                 run(spec("dcgd", gamma, nullptr), *p, *C, 150), 1e-12);
  }
  expect_close(run(spec("ef21_p_diana", 0.2 / p->smoothness(), &id), *p, rand8, 150),
               run(spec("diana", 0.2 / p->smoothness(), nullptr), *p, rand8, 150), 1e-12);
}

// The downlink is C_down's encoded message: Top-K's generic sparse codec sends a layout bit, a
// 32-bit count, K indices of ceil(log2 d) bits and K values, padded to whole bytes. Every round
// after the first each worker receives exactly that many bytes, for both methods and both wire
// precisions; EF21's downlink (the union of the workers' supports) is larger.
TEST(Bidirectional, DownlinkBytesAreCdownsEncodedMessage) {
  auto p = logistic(4, 40);  // d = 40: 6-bit indices
  TopK top4(4), top2(2);
  for (int bits : {64, 32}) {
    const double per_round = 8.0 * std::ceil((1 + 32 + 2 * (6 + bits)) / 8.0);
    for (const std::string method : {"ef21_bc", "ef21_p_dcgd"}) {
      SCOPED_TRACE(method + " " + std::to_string(bits));
      const double gamma = 0.5 / p->smoothness();
      const Outcome r = run(spec(method, gamma, &top2, bits), *p, top4, 30);
      EXPECT_EQ(r.trace[1].bits_down_per_worker, 0.0);  // round 0: x^0 is known
      for (std::size_t k = 2; k < r.trace.size(); ++k)
        EXPECT_EQ(r.trace[k].bits_down_per_worker - r.trace[k - 1].bits_down_per_worker, per_round)
            << k;
      const Outcome ef21 = run(spec("ef21", gamma, nullptr, bits), *p, top4, 30);
      EXPECT_LT(r.trace.back().bits_down_per_worker, ef21.trace.back().bits_down_per_worker);
    }
  }
}

// Bidirectional compression still converges: EF21-BC with Top-K both ways and EF21-P + DIANA with
// Top-K down, Rand-K up, on logistic regression (a strongly convex problem).
TEST(Bidirectional, Converge) {
  auto p = logistic();
  TopK top8(8), top10(10);
  const Outcome bc =
      run(spec("ef21_bc", 0.5 * theory_gamma("ef21", top8, *p), &top10), *p, top8, 3000);
  EXPECT_LT(bc.trace.back().grad_norm_sq, 1e-8 * bc.trace.front().grad_norm_sq);
  RandK rand8(8, true);
  const Outcome pd = run(spec("ef21_p_diana", 0.1 / p->smoothness(), &top10), *p, rand8, 3000);
  EXPECT_LT(pd.trace.back().grad_norm_sq, 1e-8 * pd.trace.front().grad_norm_sq);
  EXPECT_THROW(run(spec("ef21_bc", 1.0, nullptr), *p, top8, 2), InputError);
}

// invariant 2: SimGrid changes time, never the math, with a randomized C_down (the master's own
// stream) and the tree pattern forwarding the compressed downlink.
// EF21-P + DIANA's theory stepsize, the EF21-P paper's Theorem F.2 (convex f_i, beta =
// 1/(omega + 1)): gamma = min{n / (160 omega L_max), alpha / (100 L)}. By hand on least squares
// (n = 4, d = 40): Rand-10 unbiased up (omega = 40/10 - 1 = 3), Top-8 down (alpha = 8/40 = 0.2):
// min{4 / (480 L_max), 0.002 / L}. At that stepsize the theorem's bound holds:
//   f(mean of x^1..x^T) - f* <= ||x^0 - x*||^2 / (gamma T) + (f(x^0) - f*) / T
//                               + 16 gamma omega (omega + 1) / (T n^2) sum_i ||h_i^0 - ∇f_i(x*)||^2
// with h_i^0 = 0 and x* from GD run to machine precision. Refused where it does not apply.
TEST(Ef21P, DianaTheoryStepsizeIsTheoremF2) {
  SyntheticSpec syn;
  syn.samples = 240;
  syn.dim = 40;
  syn.nnz_per_row = 6;
  syn.workers = 4;
  syn.seed = 5;
  GlmProblem ls(std::make_shared<Dataset>(make_synthetic(syn)), 4, Loss::kSquares, 0.0);
  ASSERT_TRUE(ls.convex());
  RandK rand10(10, true);
  TopK top8(8);
  double L_max = 0;
  for (int i = 0; i < 4; ++i) L_max = std::max(L_max, ls.local(i).smoothness());
  MethodParams params;
  params.set_compressor("downlink_compressor", &top8);
  const double gamma = theory_gamma("ef21_p_diana", rand10, ls, params);
  EXPECT_DOUBLE_EQ(gamma, std::min(4.0 / (480.0 * L_max), 0.002 / ls.smoothness()));

  // x* by GD at 1/L to machine precision.
  Vector x_star = Vector::Zero(40), g(40);
  for (int k = 0; k < 200000; ++k) {
    ls.value_and_gradient(x_star, g);
    if (g.squaredNorm() < 1e-28) break;
    x_star -= g / ls.smoothness();
  }
  const double f_star = ls.value_and_gradient(x_star, g);
  ASSERT_LT(g.squaredNorm(), 1e-20);
  double shifts = 0;
  for (int i = 0; i < 4; ++i) {
    Vector gi(40);
    ls.local(i).value_and_gradient(x_star, gi);
    shifts += gi.squaredNorm();
  }
  const long T = 4000;
  MethodInstance m = find_method("ef21_p_diana")
                         .make(spec("ef21_p_diana", gamma, &top8), ls, rand10, Vector::Zero(40));
  auto rngs = worker_rngs(7, 4);
  Vector mean = Vector::Zero(40);
  for (long round = 0; round < T; ++round) {
    for (int i = 0; i < 4; ++i) {
      if (round > 0) m.nodes[i]->receive(m.master->broadcast());
      m.master->absorb(i, m.nodes[i]->run_step(rngs[i]));
    }
    m.master->finish_round();
    mean += m.master->x() / static_cast<double>(T);
  }
  const Vector x0 = Vector::Zero(40);
  const double omega = 3.0;
  const double bound = x_star.squaredNorm() / (gamma * T) +
                       (ls.value_and_gradient(x0, g) - f_star) / T +
                       16.0 * gamma * omega * (omega + 1.0) / (T * 16.0) * shifts;
  const double gap = ls.value_and_gradient(mean, g) - f_star;
  EXPECT_GE(gap, 0.0);
  EXPECT_LE(gap, bound) << "gap " << gap << " bound " << bound;

  // Where it does not apply: a nonconvex problem, another shift stepsize, no downlink compressor.
  auto nonconvex = logistic();  // lambda = 0.1: the nonconvex regulariser
  EXPECT_FALSE(nonconvex->convex());
  EXPECT_THROW(theory_gamma("ef21_p_diana", rand10, *nonconvex, params), InputError);
  MethodParams other = params;
  other.set("alpha", 0.5);
  EXPECT_THROW(theory_gamma("ef21_p_diana", rand10, ls, other), InputError);
  EXPECT_THROW(theory_gamma("ef21_p_diana", rand10, ls, MethodParams()), InputError);
  // EF21-P + DCGD and EF21-BC still have none (their theorems need T and epsilon, or are not
  // reproduced here).
  EXPECT_THROW(theory_gamma("ef21_p_dcgd", rand10, ls, params), InputError);
  EXPECT_THROW(theory_gamma("ef21_bc", top8, ls, params), InputError);
}

TEST(Bidirectional, SimGridSameIteratesAsSyncRunner) {
  for (const std::string method : {"ef21_bc", "ef21_p_dcgd"}) {
    for (sim::Pattern pattern : {sim::Pattern::kParameterServer, sim::Pattern::kTree}) {
      SCOPED_TRACE(method + " " + sim::to_string(pattern));
      auto make = [&](const Problem& p, const Compressor& up, const Compressor& down) {
        return find_method(method).make(spec(method, 0.5 / p.smoothness(), &down, 32), p, up,
                                        Vector::Zero(p.dim()));
      };
      const long rounds = 25;
      const std::string sg = test::run_in_child([&] {
        auto p = logistic();
        TopK top4(4);
        RandK rand6(6, false);
        MethodInstance m = make(*p, top4, rand6);
        return test::simgrid_star_trace(m, *p, rounds, test::wire32(), pattern);
      });
      ASSERT_EQ(sg.rfind("round,", 0), 0u) << sg;
      auto p = logistic();
      TopK top4(4);
      RandK rand6(6, false);
      MethodInstance m = make(*p, top4, rand6);
      // Under the tree the uplink bits are the pattern's: each worker forwards its subtree's
      // uploads.
      test::expect_same_math(test::parse_trace(sg), test::sync_trace(m, *p, rounds),
                             pattern == sim::Pattern::kParameterServer);
    }
  }
}

class BidirectionalScenario : public test::TempDirTest {};

// downlink_compressor reads like `compressor` (a compressor entry, lists expand the grid, its
// label in the run id) and is validated the same way, with file, line and key; a method without a
// compressed downlink refuses it; ring patterns and `downlink: model` are refused; the efsim
// binary exits with status 2 on each.
TEST_F(BidirectionalScenario, ParserValidatesDownlinkCompressor) {
  const std::string head =
      "problem: {dataset: synthetic, workers: 2, synthetic: {samples: 100, dim: 30}}\n";
  const sim::Scenario s = sim::load_scenario(
      write("ok.yaml", head + "runs:\n"
                              "  - method: ef21_bc\n"
                              "    compressor: {kind: top_k, k: 3}\n"
                              "    downlink_compressor: {kind: top_k, k: [5, 10]}\n"
                              "    stepsize: {gamma: 0.1}\n"
                              "  - method: ef21_p_diana\n"
                              "    compressor: {kind: rand_k_unbiased, k: 3}\n"
                              "    downlink_compressor: {kind: scaled_sign}\n"
                              "    stepsize: {gamma: 0.1}\n"));
  ASSERT_EQ(s.runs.size(), 3u);
  EXPECT_EQ(s.runs[0].id, "ef21_bc-top_k3-g0.1-dctop_k5");
  EXPECT_EQ(s.runs[1].id, "ef21_bc-top_k3-g0.1-dctop_k10");
  EXPECT_EQ(s.runs[2].compressor_params.at("downlink_compressor").kind, "scaled_sign");

  struct Bad {
    std::string name, runs, where, why;
  };
  const std::vector<Bad> bad = {
      {"on_ef21.yaml",
       "  - {method: ef21, compressor: {kind: top_k, k: 3}, downlink_compressor: {kind: top_k, k: "
       "3}}\n",
       "on_ef21.yaml:4: key 'runs.0.downlink_compressor'", "takes no downlink_compressor"},
      {"missing.yaml", "  - {method: ef21_bc, compressor: {kind: top_k, k: 3}}\n",
       "missing.yaml:4: key 'runs.0.downlink_compressor'", "required"},
      {"typo.yaml",
       "  - {method: ef21_bc, compressor: {kind: top_k, k: 3}, downlink_compressor: {kind: top_k, "
       "kk: 3}}\n",
       "key 'runs.0.downlink_compressor.kk'", ""},
      {"nokind.yaml",
       "  - {method: ef21_bc, compressor: {kind: top_k, k: 3}, downlink_compressor: {k: 3}}\n",
       "key 'runs.0.downlink_compressor.kind'", "required"},
      {"ring.yaml",
       "  - {method: ef21_p_dcgd, downlink_compressor: {kind: top_k, k: 3}, pattern: "
       "ring_allgather}\n",
       "ring.yaml:4: key 'runs.0.pattern'", "has none"},
      {"model.yaml",
       "  - {method: ef21_p_dcgd, downlink_compressor: {kind: top_k, k: 3}, downlink: model}\n",
       "model.yaml:4: key 'runs.0.downlink'", "compresses its own downlink"},
  };
  for (const auto& b : bad) {
    SCOPED_TRACE(b.name);
    const std::string path = write(b.name, head + "stop: {max_rounds: 2}\nruns:\n" + b.runs);
    std::string msg;
    try {
      sim::load_scenario(path);
    } catch (const InputError& e) {
      msg = e.what();
    }
    EXPECT_NE(msg.find(b.where), std::string::npos) << msg;
    EXPECT_NE(msg.find(b.why), std::string::npos) << msg;
    const auto r = test::run_efsim("run " + path + " --out " + (dir_ / "o").string() + " --quiet");
    EXPECT_EQ(r.status, 2) << r.output;
  }
  // Not contractive (unbiased Rand-K with delta = d/K >= 2): refused when the run is resolved,
  // naming the runs entry's file and line.
  const std::string path = write(
      "unbiased.yaml",
      head +
          "stop: {max_rounds: 2}\nruns:\n"
          "  - {method: ef21_bc, compressor: {kind: top_k, k: 3}, downlink_compressor: {kind: "
          "rand_k_unbiased, k: 3}, stepsize: {gamma: 0.1}}\n");
  const auto r = test::run_efsim("run " + path + " --out " + (dir_ / "u").string() + " --quiet");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("unbiased.yaml:4"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("downlink_compressor needs a contractive"), std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace efsim::alg
