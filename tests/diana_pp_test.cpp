// DIANA, EC-SGD-DIANA, EC-LSVRG-DIANA and partial participation, against what their papers
// prove: exact (linear) convergence with shifts where EF14 stalls, variance reduction, and an
// unbiased reweighted aggregate.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>

#include "algorithms/methods/method.hpp"
#include "algorithms/problems/glm.hpp"
#include "algorithms/runner/sync_runner.hpp"
#include "platforms/star.hpp"
#include "sim/network/analytic_star.hpp"
#include "sim/network/simgrid_runner.hpp"
#include "sim/sweep/recorder.hpp"
#include "synthetic_problem.hpp"
#include "test_util.hpp"

namespace efsim::alg {
namespace {

// Strongly convex least squares with heterogeneous workers (each sees its own features).
std::shared_ptr<GlmProblem> least_squares(int workers = 4) {
  return test::synthetic_glm({.samples = 400,
                              .dim = 20,
                              .nnz_per_row = 6,
                              .workers = workers,
                              .heterogeneity = 1.0,
                              .feature_decay = 0.0,
                              .seed = 4},
                             Loss::kSquares, 0.0);
}

MethodSpec spec(const std::string& name, double gamma, int batch = 0,
                const Compressor* q = nullptr) {
  MethodSpec s;
  s.name = name;
  s.gamma = gamma;
  s.wire.value_bits = 64;
  s.params.set("batch", batch);
  if (q != nullptr) s.params.set_compressor("quantizer", q);
  return s;
}

std::vector<TraceRow> run(const MethodSpec& s, const Problem& p, const Compressor& C, long rounds,
                          std::uint64_t seed = 2) {
  MethodInstance m = find_method(s.name).make(s, p, C, Vector::Zero(p.dim()));
  StopRule rule;
  rule.max_rounds = rounds;
  Monitor mon(p, rule);
  run_sync(m, mon, seed);
  return mon.trace();
}

double gap(const std::vector<TraceRow>& t, std::size_t k, double f_star) { return t[k].f - f_star; }

// Gorbunov et al. (2020): with full gradients EC-SGD-DIANA converges linearly to the exact
// optimum, like DIANA; EF14 (EC-SGD) with the same Top-2 and stepsize stalls.
TEST(DianaFamily, ShiftsConvergeExactlyWhereEf14Stalls) {
  auto p = least_squares();
  const double f_star = p->optimal_value();
  TopK top2(2);
  Natural nat;
  const auto ef = run(spec("ef", 0.05), *p, top2, 3000);
  const auto ec = run(spec("ec_sgd_diana", 0.05, 0, &nat), *p, top2, 3000);
  const auto diana = run(spec("diana", 0.05), *p, nat, 3000);
  EXPECT_GT(gap(ef, 3000, f_star), 1e-6) << "EF14 should stall";
  EXPECT_GT(gap(ef, 3000, f_star), 0.3 * gap(ef, 1500, f_star)) << "EF14 should stall";
  for (const auto* t : {&ec, &diana}) {
    EXPECT_LT(gap(*t, 3000, f_star), 1e-14);
    // Linear: the gap falls by orders of magnitude between rounds 300 and 900.
    EXPECT_LT(gap(*t, 900, f_star), 1e-4 * gap(*t, 300, f_star));
  }
}

// EC-LSVRG-DIANA removes the minibatch noise that stalls EC-SGD-DIANA.
TEST(DianaFamily, LsvrgConvergesExactlyWithMinibatches) {
  auto p = least_squares();
  const double f_star = p->optimal_value();
  TopK top2(2);
  Natural nat;
  const auto sgd = run(spec("ec_sgd_diana", 0.05, 10, &nat), *p, top2, 3000);
  const auto svrg = run(spec("ec_lsvrg_diana", 0.05, 10, &nat), *p, top2, 3000);
  EXPECT_GT(gap(sgd, 3000, f_star), 1e-5);
  EXPECT_LT(gap(svrg, 3000, f_star), 1e-14);
}

// With h = 0 forever (alpha tiny) and Q = identity, DIANA is GD: x <- x - gamma (0 + mean ∇f_i).
TEST(DianaFamily, DianaWithoutShiftsIsGd) {
  auto p = least_squares();
  Identity id;
  MethodSpec d = spec("diana", 0.05);
  d.params.set("alpha", 1e-300);
  const auto diana = run(d, *p, id, 50);
  const auto gd = run(spec("gd", 0.05), *p, id, 50);
  for (std::size_t k = 0; k < gd.size(); ++k)
    EXPECT_NEAR(diana[k].f, gd[k].f, 1e-12 * std::abs(gd[k].f)) << k;
}

// Horváth & Richtárik §4.2: the aggregate sum_{i in S} Δ_i / (n p_i) is unbiased. With x0 = 0,
// gamma = 1 and identity compression, x^1 = -aggregate, so E[x^1] = -∇f(0): checked by Monte
// Carlo over independent samplings (seeds), for p_i differing per worker and for tau-nice.
TEST(PartialParticipation, ReweightedAggregateIsUnbiased) {
  auto p = least_squares(4);
  Identity id;
  Vector grad(p->dim());
  p->value_and_gradient(Vector::Zero(p->dim()), grad);
  for (int variant = 0; variant < 2; ++variant) {
    MethodSpec s = spec("dcgd", 1.0);
    if (variant == 0)
      s.participation.p = {0.9, 0.5, 0.3, 0.7};
    else
      s.participation.tau = 2;
    Vector mean = Vector::Zero(p->dim()), sq = Vector::Zero(p->dim());
    const int draws = 4000;
    for (int t = 0; t < draws; ++t) {
      s.seed = 1000 + static_cast<std::uint64_t>(t);
      MethodInstance m = find_method("dcgd").make(s, *p, id, Vector::Zero(p->dim()));
      ASSERT_TRUE(partial(m));
      const auto in = round_participants(m, 0);
      for (int i = 0; i < 4; ++i) {
        if (!in[i]) continue;
        Rng rng(1);
        m.master->absorb(i, m.nodes[i]->step(rng));
      }
      m.master->finish_round();
      const Vector x1 = m.master->x();
      mean += x1;
      sq += (x1 + grad).cwiseAbs2();
    }
    mean /= draws;
    for (int j = 0; j < p->dim(); ++j)
      EXPECT_NEAR(mean[j], -grad[j], 5 * std::sqrt(sq[j] / draws / draws) + 1e-12)
          << "variant " << variant << " j=" << j;
  }
}

TEST(PartialParticipation, ProbabilityOneIsFullParticipationBitForBit) {
  auto p = least_squares(4);
  Natural nat;
  MethodSpec full = spec("dcgd", 0.05);
  MethodSpec ones = spec("dcgd", 0.05);
  ones.participation.p = {1.0, 1.0, 1.0, 1.0};
  // p_i = 1 takes the partial-participation code path (the model goes down, weights 1/p_i = 1)...
  {
    MethodInstance m = find_method("dcgd").make(ones, *p, nat, Vector::Zero(p->dim()));
    ASSERT_TRUE(partial(m));
  }
  // ... and gives the same iterates (64-bit wire: the dense model is exact).
  const auto a = run(full, *p, nat, 60), b = run(ones, *p, nat, 60);
  for (std::size_t k = 0; k < a.size(); ++k) ASSERT_EQ(sim::exact(a[k].f), sim::exact(b[k].f)) << k;
}

TEST(PartialParticipation, TauNiceTakesExactlyTauAndAbsentWorkersSendNothing) {
  auto p = least_squares(8);
  Natural nat;
  MethodSpec s = spec("dcgd", 0.05);
  s.participation.tau = 3;
  MethodInstance m = find_method("dcgd").make(s, *p, nat, Vector::Zero(p->dim()));
  for (long k = 0; k < 50; ++k) {
    const auto in = round_participants(m, k);
    EXPECT_EQ(std::count(in.begin(), in.end(), 1), 3) << k;
  }
  // Natural compression sends 9 bits a value: 20 values -> 180 bits -> 23 bytes per participant.
  const auto t = run(s, *p, nat, 10);
  for (std::size_t k = 1; k < t.size(); ++k)
    EXPECT_DOUBLE_EQ(t[k].bits_up_per_worker - t[k - 1].bits_up_per_worker, 3.0 * 23 * 8 / 8) << k;
}

// algorithms/README.md invariant 2 for the new protocols: SimGrid and the SyncRunner agree bit for
// bit on the math, and under the textbook model on the time (incl. rounds with absent workers).
TEST(SimGridVsSync, DianaEcDianaAndPartialParticipation) {
  auto p = least_squares(4);
  TopK top2(2);
  Natural nat;
  std::vector<std::pair<MethodSpec, const Compressor*>> cases = {
      {spec("diana", 0.05), &nat},
      {spec("ec_sgd_diana", 0.05, 0, &nat), &top2},
      {spec("ec_lsvrg_diana", 0.05, 10, &nat), &top2}};
  MethodSpec pp = spec("dcgd", 0.05);
  pp.participation.p = {0.5, 0.6, 0.7, 0.8};
  cases.push_back({pp, &nat});
  for (const auto& [s, C] : cases) {
    SCOPED_TRACE(s.name);
    platforms::TopologySpec star;
    star.workers = 4;
    star.bandwidth_Bps = 1e5;
    StopRule rule;
    rule.max_rounds = 30;
    const std::string out = test::run_in_child([&] {
      MethodInstance m = find_method(s.name).make(s, *p, *C, Vector::Zero(p->dim()));
      const std::string dir = test::make_temp_dir("pf");
      sim::NetworkSetup net;
      net.model = "textbook";
      net.platform_file = dir + "/p.xml";
      std::ofstream(net.platform_file) << platforms::star_platform_xml(star);
      net.master = platforms::master_host_name();
      for (int i = 0; i < 4; ++i) net.workers.push_back(platforms::worker_host_name(i));
      Monitor mon(*p, rule);
      sim::run_simgrid(net, m, mon, 7);
      std::filesystem::remove_all(dir);
      return sim::trace_csv(mon.trace());
    });
    MethodInstance m = find_method(s.name).make(s, *p, *C, Vector::Zero(p->dim()));
    Monitor mon(*p, rule);
    sim::AnalyticStarClock clock(star);
    run_sync(m, mon, 7, &clock);
    ASSERT_EQ(out.rfind("round,", 0), 0u) << out;
    const std::string dir = test::make_temp_dir("tr");
    std::ofstream(dir + "/t.csv") << out;
    const auto sg = sim::read_trace_csv(dir + "/t.csv");
    std::filesystem::remove_all(dir);
    const auto& sync = mon.trace();
    ASSERT_EQ(sg.size(), sync.size());
    for (std::size_t k = 0; k < sg.size(); ++k) {
      EXPECT_EQ(sim::exact(sg[k].f), sim::exact(sync[k].f)) << k;
      EXPECT_EQ(sg[k].bits_up_per_worker, sync[k].bits_up_per_worker) << k;
      EXPECT_EQ(sg[k].bits_down_per_worker, sync[k].bits_down_per_worker) << k;
      EXPECT_NEAR(sg[k].sim_time_s, sync[k].sim_time_s, 1e-9 * std::max(1.0, sync[k].sim_time_s))
          << k << " sg down/comp/up/idle/master " << sg[k].time.down_s << " "
          << sg[k].time.compute_s << " " << sg[k].time.up_s << " " << sg[k].time.idle_s << " "
          << sg[k].time.master_s << " | sync " << sync[k].time.down_s << " "
          << sync[k].time.compute_s << " " << sync[k].time.up_s << " " << sync[k].time.idle_s << " "
          << sync[k].time.master_s;
    }
  }
}

}  // namespace
}  // namespace efsim::alg
