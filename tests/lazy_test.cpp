// CLAG and LAG (Richtárik et al., "3PC: Three Point Compressors", ICML 2022; Chen et al., "LAG",
// NeurIPS 2018) against what they reduce to and a hand computation: CLAG with zeta = 0 is EF21 bit
// for bit; LAG's skip decisions and iterates on a quadratic match an independent plain loop; a
// skipped upload is no message (no bytes, no time) under every pattern and network model, so a
// round in which nobody uploads costs compute time only; SimGrid gives the SyncRunner's iterates;
// the scenario layer refuses what cannot skip.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
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

MethodSpec spec(const std::string& name, double gamma, double zeta = -1, int bits = 64) {
  MethodSpec s;
  s.name = name;
  s.gamma = gamma;
  s.seed = 3;
  s.wire.value_bits = bits;
  if (zeta >= 0) s.params.set("zeta", zeta);
  return s;
}

// zeta = 0: the trigger ||∇f_i - g_i||^2 > 0 fires whenever anything changed, so CLAG is EF21:
// the same iterates, the same uplink bits, no skipped upload (3PC paper: CLAG with zeta = 0 is
// EF21). Also for a randomized compressor (the same random stream is consumed).
TEST(Clag, ZetaZeroIsEf21BitForBit) {
  auto p = logistic();
  TopK top3(3);
  RandK rand3(3, false);
  const double gamma = theory_gamma("ef21", top3, *p);
  EXPECT_EQ(gamma, theory_gamma("clag", top3, *p, [] {
              MethodParams z;
              z.set("zeta", 0.0);
              return z;
            }()));
  for (const Compressor* C :
       {static_cast<const Compressor*>(&top3), static_cast<const Compressor*>(&rand3)}) {
    for (int bits : {64, 32}) {
      SCOPED_TRACE(C->label() + " " + std::to_string(bits));
      const Outcome ef21 = run(spec("ef21", gamma, -1, bits), *p, *C, 80);
      const Outcome clag = run(spec("clag", gamma, 0.0, bits), *p, *C, 80);
      ASSERT_EQ(ef21.trace.size(), clag.trace.size());
      for (std::size_t k = 0; k < ef21.trace.size(); ++k) {
        EXPECT_EQ(sim::exact(ef21.trace[k].f), sim::exact(clag.trace[k].f)) << k;
        EXPECT_EQ(ef21.trace[k].bits_up_per_worker, clag.trace[k].bits_up_per_worker) << k;
        EXPECT_EQ(ef21.trace[k].bits_down_per_worker, clag.trace[k].bits_down_per_worker) << k;
        EXPECT_EQ(clag.trace[k].uploads_skipped, 0) << k;
      }
      EXPECT_TRUE(same_bits(ef21.x, clag.x));
    }
  }
}

// LAG's skip condition on a hand-built case: a plain loop over the workers' exact gradients
// (the objectives' oracle; no efsim method code) decides, round by round, who uploads: round 0
// everybody; then worker i iff ||∇f_i(x^{t+1}) - g_i||^2 > zeta ||∇f_i(x^{t+1}) - ∇f_i(x^t)||^2,
// and an upload sets g_i = ∇f_i(x^{t+1}); x <- x - gamma mean g_i. LAG's skipped uploads and its
// iterates must follow it. (On a quadratic every worker decides alike: ∇f_i is linear, so after a
// common skip both sides scale by the same (t - s)^2; logistic gradients are not linear.) The case
// is checked to contain rounds in which some, all and none of the workers skip.
TEST(Lag, SkipConditionMatchesHandComputation) {
  auto p = logistic(4, 30);
  const double gamma = 4.0 / p->smoothness(), zeta = 5.0;
  const int n = 4, rounds = 60;
  Vector x = Vector::Zero(p->dim()), grad(p->dim());
  std::vector<Vector> g(n), prev(n);
  std::vector<long> skipped_cum = {0};
  bool some = false, all = false, none_after0 = false;
  for (int t = 0; t < rounds; ++t) {
    int skipped = 0;
    for (int i = 0; i < n; ++i) {
      p->local(i).value_and_gradient(x, grad);
      const bool upload =
          t == 0 || (grad - g[i]).squaredNorm() > zeta * (grad - prev[i]).squaredNorm();
      if (upload)
        g[i] = grad;
      else
        ++skipped;
      prev[i] = grad;
    }
    if (t > 0) {
      some |= skipped > 0 && skipped < n;
      all |= skipped == n;
      none_after0 |= skipped == 0;
    }
    skipped_cum.push_back(skipped_cum.back() + skipped);
    Vector mean = Vector::Zero(p->dim());
    for (const auto& gi : g) mean += gi;
    x -= gamma * mean / n;
  }
  EXPECT_TRUE(some && all && none_after0)
      << "the case must exercise every kind of round: " << some << all << none_after0;
  Identity id;
  const Outcome lag = run(spec("lag", gamma, zeta), *p, id, rounds);
  ASSERT_EQ(lag.trace.size(), skipped_cum.size());
  for (std::size_t k = 0; k < skipped_cum.size(); ++k)
    EXPECT_EQ(lag.trace[k].uploads_skipped, skipped_cum[k]) << "round " << k;
  // LAG keeps g as a running sum of the broadcast aggregates (one rounding per round, amplified
  // by the large steps): the same iterates to 1e-8, not bit for bit.
  EXPECT_LT((lag.x - x).norm(), 1e-8 * x.norm());
  // zeta = 0 never skips (nothing is ever exactly unchanged here).
  EXPECT_EQ(run(spec("lag", gamma, 0.0), *p, id, rounds).trace.back().uploads_skipped, 0);
}

// 3PC paper, Theorem 5.3 constants: LAG (A, B) = (1, zeta); CLAG (theta, max{beta, zeta}).
// LAG-WK (Chen et al., NeurIPS 2018, the worker-side trigger) against the rule written out here:
// worker i uploads ∇f_i(x^t) when ||∇f_i(x^t) - ĝ_i||^2 > xi / (D gamma^2) times the sum of the
// last D squared model moves (moves before x^0 count 0), ĝ_i its last upload; the master steps
// with the mean of the ĝ_i. The uploads (which messages are empty) and the iterates match, and
// the trigger both fires and holds back.
TEST(LagWk, TriggerMatchesTheRuleWrittenOut) {
  auto p = logistic(4, 30);
  Identity id;
  const double gamma = 1.0 / p->smoothness(), xi = 0.3;
  const int D = 3, n = 4;
  MethodSpec s = spec("lag_wk", gamma);
  s.params.set("lag_window", D);
  s.params.set("lag_xi", xi);
  MethodInstance m = find_method("lag_wk").make(s, *p, id, Vector::Zero(p->dim()));
  auto rngs = worker_rngs(7, n);
  Vector x = Vector::Zero(p->dim());
  std::vector<Vector> last(n, Vector::Zero(p->dim()));
  std::vector<double> moves;
  int uploads = 0, skips = 0, borderline = 0;
  for (long round = 0; round < 300; ++round) {
    double moved = 0;
    for (std::size_t k = moves.size() > static_cast<std::size_t>(D) ? moves.size() - D : 0;
         k < moves.size(); ++k)
      moved += moves[k];
    for (int i = 0; i < n; ++i) {
      if (round > 0) m.nodes[i]->receive(m.master->broadcast());
      const Message up = m.nodes[i]->run_step(rngs[i]);
      Vector g(p->dim());
      p->local(i).value_and_gradient(x, g);
      const double lhs = (g - last[i]).squaredNorm(), rhs = xi / (D * gamma * gamma) * moved;
      bool want = round == 0 || lhs > rhs;
      // Near convergence both sides reach rounding level (1e-29 here): where they agree to 1e-3
      // the decision is rounding's, and the reference follows the method's.
      if (round > 0 && std::abs(lhs - rhs) <= 1e-3 * std::max(lhs, rhs)) {
        want = !up.empty();
        ++borderline;
      }
      ASSERT_EQ(!up.empty(), want)
          << "round " << round << " worker " << i << ": " << lhs << " against " << rhs;
      if (want) last[i] = g;
      (want ? uploads : skips)++;
      m.master->absorb(i, up);
    }
    m.master->finish_round();
    Vector mean = Vector::Zero(p->dim());
    for (const auto& v : last) mean += v / n;
    const Vector next = x - gamma * mean;
    moves.push_back((next - x).squaredNorm());
    x = next;
    ASSERT_LT((m.master->x() - x).norm(), 1e-10 * std::max(1.0, x.norm())) << "round " << round;
    if (mean.squaredNorm() < 1e-20) break;  // converged: both sides of the trigger are rounding
  }
  EXPECT_GT(skips, 40) << uploads << " uploads, " << borderline << " borderline";
  EXPECT_GT(uploads, 40) << skips << " skips";
  EXPECT_LT(borderline, 5);
}

TEST(Lag, TheoryStepsizeFollowsZeta) {
  auto p = logistic();
  Identity id;
  TopK top10(10);
  MethodParams z;
  z.set("zeta", 9.0);
  EXPECT_DOUBLE_EQ(theory_gamma("lag", id, *p, z),
                   1.0 / (p->smoothness() + 3.0 * p->smoothness_tilde()));
  const double alpha = 10.0 / 30.0, theta = 1.0 - std::sqrt(1.0 - alpha),
               beta = (1.0 - alpha) / theta;
  ASSERT_LT(beta, 9.0);  // B = zeta
  EXPECT_DOUBLE_EQ(theory_gamma("clag", top10, *p, z),
                   1.0 / (p->smoothness() + p->smoothness_tilde() * std::sqrt(9.0 / theta)));
  z.set("zeta", 1.0);  // B = beta: EF21's stepsize
  EXPECT_DOUBLE_EQ(theory_gamma("clag", top10, *p, z), theory_gamma("ef21", top10, *p));
  z.set("zeta", 0.0);
  EXPECT_DOUBLE_EQ(theory_gamma("lag", id, *p, z), 1.0 / p->smoothness());
}

// CLAG at its theory stepsize with a real trigger converges on logistic regression and skips a
// good share of the uploads, sending fewer bits than EF21 over the same rounds.
TEST(Clag, ConvergesAndSkips) {
  auto p = logistic();
  TopK top3(3);
  MethodParams z;
  z.set("zeta", 2.0);
  const double gamma = theory_gamma("clag", top3, *p, z);
  const Outcome clag = run(spec("clag", gamma, 2.0), *p, top3, 3000);
  EXPECT_LT(clag.trace.back().grad_norm_sq, 1e-8 * clag.trace.front().grad_norm_sq);
  EXPECT_GT(clag.trace.back().uploads_skipped, 4 * 3000 / 10);
  const Outcome ef21 = run(spec("ef21", gamma), *p, top3, 3000);
  EXPECT_LT(clag.trace.back().bits_up_per_worker, ef21.trace.back().bits_up_per_worker);
}

// One run under SimGrid on a star, returned as its trace text.
std::string simgrid_trace(const std::string& method, double gamma, double zeta,
                          sim::Pattern pattern) {
  auto p = logistic(4, 30);
  Identity id;
  TopK top3(3);
  const Compressor& C = method == "lag" ? static_cast<const Compressor&>(id) : top3;
  MethodInstance m =
      find_method(method).make(spec(method, gamma, zeta, 32), *p, C, Vector::Zero(p->dim()));
  return test::simgrid_star_trace(m, *p, 25, test::wire32(), pattern, true);
}

// invariant 2 (SimGrid changes time, never math) for LAG and CLAG under the parameter server, the
// tree and the all-gather ring; and in rounds where every worker skipped (and so the master has
// nothing to broadcast in the next round) no time goes to the network: the round costs the
// workers' computation (and the wait for the slowest one) and the master's work only.
TEST(Lazy, SimGridSameIteratesAndSkippedRoundsCostComputeOnly) {
  auto p = logistic(4, 30);
  Identity id;
  TopK top3(3);
  for (const std::string method : {"lag", "clag"}) {
    const Compressor& C = method == "lag" ? static_cast<const Compressor&>(id) : top3;
    const double gamma = 1.0 / p->smoothness();
    const double zeta = 100.0;  // skip for many rounds after round 0
    const Outcome sync = run(spec(method, gamma, zeta, 32), *p, C, 25);
    for (sim::Pattern pattern :
         {sim::Pattern::kParameterServer, sim::Pattern::kTree, sim::Pattern::kRingAllGather}) {
      SCOPED_TRACE(method + " " + sim::to_string(pattern));
      const std::string csv =
          test::run_in_child([&] { return simgrid_trace(method, gamma, zeta, pattern); });
      ASSERT_EQ(csv.rfind("round,", 0), 0u) << csv;
      const auto sg = test::parse_trace(csv);
      ASSERT_EQ(sg.size(), sync.trace.size());
      int quiet_rounds = 0;
      for (std::size_t k = 0; k < sg.size(); ++k) {
        EXPECT_EQ(sim::exact(sg[k].f), sim::exact(sync.trace[k].f)) << k;
        EXPECT_EQ(sg[k].uploads_skipped, sync.trace[k].uploads_skipped) << k;
        if (pattern == sim::Pattern::kParameterServer) {  // tree and ring forward messages
          EXPECT_EQ(sg[k].bits_up_per_worker, sync.trace[k].bits_up_per_worker) << k;
        }
        if (k < 2) continue;
        // Round k: all four skipped in round k and in round k - 1 (nothing to broadcast).
        if (sg[k].uploads_skipped - sg[k - 1].uploads_skipped == 4 &&
            sg[k - 1].uploads_skipped - sg[k - 2].uploads_skipped == 4) {
          ++quiet_rounds;
          const double dt = sg[k].sim_time_s - sg[k - 1].sim_time_s;
          const double compute = sg[k].time.compute_s - sg[k - 1].time.compute_s;
          const double master = sg[k].time.master_s - sg[k - 1].time.master_s;
          const double idle = sg[k].time.idle_s - sg[k - 1].time.idle_s;  // the slowest compute
          EXPECT_EQ(sg[k].time.down_s, sg[k - 1].time.down_s) << k;
          EXPECT_EQ(sg[k].time.up_s, sg[k - 1].time.up_s) << k;
          EXPECT_EQ(sg[k].bits_down_per_worker, sg[k - 1].bits_down_per_worker) << k;
          EXPECT_GT(compute, 0.0);
          EXPECT_NEAR(dt, compute + idle + master, 1e-12 * dt) << k;
        }
      }
      EXPECT_GE(quiet_rounds, 3);
      EXPECT_GT(sg.back().sim_time_s, 0.0);
    }
  }
}

class LazyScenario : public test::TempDirTest {};

std::string error_of(const std::string& path) {
  try {
    sim::load_scenario(path);
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "loaded " << path;
  return "";
}

// The scenario layer: zeta is required and in the run id; lag replaces the compressor by the
// identity; a pattern that cannot skip is refused with file, line and key; zeta on another method
// is refused; and under ns-3 and every pattern that can skip, the efsim binary writes the
// uploads_skipped column and spends no network time in all-skip rounds.
TEST_F(LazyScenario, ParserAndEveryPatternAndModel) {
  const std::string head =
      "problem: {dataset: synthetic, workers: 4, synthetic: {samples: 200, dim: 30}}\n";
  const sim::Scenario s = sim::load_scenario(write(
      "ok.yaml", head + "runs:\n"
                        "  - {method: clag, compressor: {kind: top_k, k: 3}, zeta: [0, 2.5]}\n"
                        "  - {method: lag, compressor: {kind: top_k, k: 3}, zeta: 4}\n"));
  ASSERT_EQ(s.runs.size(), 3u);
  EXPECT_EQ(s.runs[0].id, "clag-top_k3-x1-z0");
  EXPECT_EQ(s.runs[1].id, "clag-top_k3-x1-z2.5");
  EXPECT_EQ(s.runs[2].id, "lag-identity-x1-z4");

  const std::string missing = error_of(write("missing.yaml", head + "runs:\n  - {method: lag}\n"));
  EXPECT_NE(missing.find("missing.yaml:3: key 'runs.0.zeta'"), std::string::npos) << missing;
  EXPECT_NE(missing.find("required"), std::string::npos) << missing;
  const std::string allreduce = error_of(
      write("ar.yaml", head + "runs:\n  - {method: lag, zeta: 1, pattern: ring_allreduce}\n"));
  EXPECT_NE(allreduce.find("ar.yaml:3: key 'runs.0.pattern'"), std::string::npos) << allreduce;
  EXPECT_NE(allreduce.find("skips uploads"), std::string::npos) << allreduce;
  const std::string on_ef21 = error_of(write(
      "ef21.yaml", head + "runs:\n  - {method: ef21, compressor: {kind: top_k, k: 3}, zeta: 1}\n"));
  EXPECT_NE(on_ef21.find("key 'runs.0.zeta'"), std::string::npos) << on_ef21;
  EXPECT_NE(on_ef21.find("takes no zeta"), std::string::npos) << on_ef21;
  const std::string negative =
      error_of(write("neg.yaml", head + "runs:\n  - {method: lag, zeta: -1}\n"));
  EXPECT_NE(negative.find("key 'runs.0.zeta'"), std::string::npos) << negative;

  const std::string scenario = write("runs.yaml", std::string(R"(seed: 5
network_model: [simgrid, ns3]
platform: {kind: star, bandwidth: 10Mbps, latency: 1ms}
problem:
  kind: logistic
  dataset: synthetic
  synthetic: {samples: 200, dim: 30, nnz_per_row: 6}
  workers: 4
stop: {max_rounds: 12}
runs:
  - method: lag
    zeta: 100
    pattern: [parameter_server, tree, ring_allgather]
  - method: ef21
    compressor: {kind: top_k, k: 3}
)"));
  const auto out = dir_ / "out";
  const auto r = test::run_efsim("run " + scenario + " --out " + out.string() +
                                 " --no-report --quiet --jobs 2");
  ASSERT_EQ(r.status, 0) << r.output;
  int checked = 0;
  for (const auto& e : std::filesystem::directory_iterator(out / "runs")) {
    const std::string id = e.path().filename().string();
    const std::string text = test::slurp(e.path() / "trace.csv");
    if (id.rfind("ef21", 0) == 0) {  // a method that never skips: the trace has no new column
      EXPECT_EQ(text.find("uploads_skipped"), std::string::npos) << id;
      continue;
    }
    SCOPED_TRACE(id);
    const auto rows = sim::read_trace_csv((e.path() / "trace.csv").string());
    ASSERT_EQ(rows.size(), 13u);
    // LAG with zeta = 100: round 1 on, nobody uploads for a while; rounds 2.. send nothing.
    EXPECT_EQ(rows[2].uploads_skipped, 4);
    for (int k = 3; k <= 5; ++k) {
      EXPECT_EQ(rows[k].uploads_skipped - rows[k - 1].uploads_skipped, 4) << k;
      EXPECT_EQ(rows[k].time.down_s, rows[k - 1].time.down_s) << k;
      EXPECT_EQ(rows[k].time.up_s, rows[k - 1].time.up_s) << k;
      const double dt = rows[k].sim_time_s - rows[k - 1].sim_time_s;
      const auto& a = rows[k].time;
      const auto& b = rows[k - 1].time;
      EXPECT_NEAR(dt,
                  (a.compute_s - b.compute_s) + (a.idle_s - b.idle_s) + (a.master_s - b.master_s),
                  1e-12 * dt)
          << k;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 6);
}

}  // namespace
}  // namespace efsim::alg
