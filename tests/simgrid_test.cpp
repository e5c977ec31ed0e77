// The simulator against independent references: analytic alpha-beta round times under the
// `textbook` network model, and the SyncRunner (same math, no SimGrid).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <simgrid/s4u.hpp>
#include <sstream>

#include "algorithms/methods/method.hpp"
#include "algorithms/problems/glm.hpp"
#include "algorithms/runner/sync_runner.hpp"
#include "platforms/star.hpp"
#include "sim/network/analytic_star.hpp"
#include "sim/network/simgrid_runner.hpp"
#include "sim/sweep/recorder.hpp"
#include "test_util.hpp"

namespace efsim::sim {
namespace {

struct Case {
  int samples = 240;  // divisible by workers: identical workers
  int workers = 4;
  std::string method = "ef21";
  alg::CompressorSpec compressor{"top_k", 3};
  int value_bits = 32;
  platforms::TopologySpec star;
  std::string model = "textbook";
  long rounds = 12;
  alg::StragglerSpec stragglers;
  Pattern pattern = Pattern::kParameterServer;
  bool model_downlink = false;
};

std::shared_ptr<alg::LogisticProblem> problem_for(const Case& c) {
  alg::SyntheticSpec s;
  s.samples = c.samples;
  s.dim = 200;
  s.nnz_per_row = 8;
  s.workers = c.workers;
  s.seed = 3;
  return std::make_shared<alg::LogisticProblem>(
      std::make_shared<alg::Dataset>(alg::make_synthetic(s)), c.workers, 0.1);
}

alg::MethodInstance method_for(const Case& c, const alg::Problem& p, const alg::Compressor& C);
alg::MethodInstance with_stragglers(const Case& c, alg::MethodInstance m) {
  if (c.model_downlink) {
    EXPECT_TRUE(m.master->send_model());
    m.model_downlink = true;
  }
  if (c.stragglers.fraction > 0)
    m.stragglers = std::make_shared<alg::Stragglers>(c.stragglers, c.workers, 9);
  return m;
}

alg::MethodInstance method_for(const Case& c, const alg::Problem& p, const alg::Compressor& C) {
  alg::MethodSpec spec;
  spec.name = c.method;
  spec.gamma = 4.0 * alg::ef21_theory_gamma(p.smoothness(), p.smoothness_tilde(), C.alpha(p.dim()));
  spec.wire.value_bits = c.value_bits;
  return alg::find_method(c.method).make(spec, p, C, alg::Vector::Zero(p.dim()));
}

// The trace of a SimGrid run of the case (in a child process).
std::vector<alg::TraceRow> simgrid_trace(const Case& c) {
  const std::string out = test::run_in_child([&c] {
    auto p = problem_for(c);
    auto C = alg::make_compressor(c.compressor, p->dim());
    auto m = with_stragglers(c, method_for(c, *p, *C));
    const std::string dir = test::make_temp_dir("platform");
    NetworkSetup net;
    net.model = c.model;
    net.pattern = c.pattern;
    net.wire.value_bits = c.value_bits;
    net.platform_file = dir + "/platform.xml";
    platforms::TopologySpec star = c.star;
    star.workers = c.workers;
    std::ofstream(net.platform_file) << platforms::star_platform_xml(star);
    net.master = platforms::master_host_name();
    for (int i = 0; i < c.workers; ++i) net.workers.push_back(platforms::worker_host_name(i));
    alg::StopRule rule;
    rule.max_rounds = c.rounds;
    alg::Monitor mon(*p, rule);
    run_simgrid(net, m, mon, 42);
    std::filesystem::remove_all(dir);
    return trace_csv(mon.trace());
  });
  EXPECT_EQ(out.rfind("round,", 0), 0u) << out;
  const std::string dir = test::make_temp_dir("trace");
  std::ofstream(dir + "/trace.csv") << out;
  auto rows = read_trace_csv(dir + "/trace.csv");
  std::filesystem::remove_all(dir);
  return rows;
}

// Records every round's cost, and prices it with the analytic star clock.
class RecordingClock final : public alg::RoundClock {
 public:
  explicit RecordingClock(const platforms::TopologySpec& s) : analytic(s) {}
  alg::RoundTiming round_time(const alg::RoundCost& cost) override {
    costs.push_back(cost);
    return analytic.round_time(cost);
  }
  AnalyticStarClock analytic;
  std::vector<alg::RoundCost> costs;
};

std::vector<alg::TraceRow> sync_trace(const Case& c, std::vector<alg::RoundCost>* costs = nullptr) {
  auto p = problem_for(c);
  auto C = alg::make_compressor(c.compressor, p->dim());
  auto m = with_stragglers(c, method_for(c, *p, *C));
  alg::StopRule rule;
  rule.max_rounds = c.rounds;
  alg::Monitor mon(*p, rule);
  platforms::TopologySpec star = c.star;
  star.workers = c.workers;
  RecordingClock clock(star);
  alg::run_sync(m, mon, 42, &clock);
  if (costs) *costs = clock.costs;
  return mon.trace();
}

// The same iterates: f and ||grad f||^2 bit for bit (the CSV holds the shortest exact decimal of
// each double).
void expect_same_math_except_bits(const std::vector<alg::TraceRow>& a,
                                  const std::vector<alg::TraceRow>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    EXPECT_EQ(a[k].round, b[k].round);
    EXPECT_EQ(exact(a[k].f), exact(b[k].f)) << "round " << k;
    EXPECT_EQ(exact(a[k].grad_norm_sq), exact(b[k].grad_norm_sq)) << "round " << k;
  }
}

void expect_same_math(const std::vector<alg::TraceRow>& a, const std::vector<alg::TraceRow>& b) {
  expect_same_math_except_bits(a, b);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    EXPECT_EQ(a[k].bits_up_per_worker, b[k].bits_up_per_worker) << "round " << k;
    EXPECT_EQ(a[k].bits_down_per_worker, b[k].bits_down_per_worker) << "round " << k;
  }
}

void expect_same_times(const std::vector<alg::TraceRow>& a, const std::vector<alg::TraceRow>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    const double tol = 1e-9 * std::max(1.0, b[k].sim_time_s);
    EXPECT_NEAR(a[k].sim_time_s, b[k].sim_time_s, tol) << "round " << k;
    // The breakdown too, and it adds up to the clock.
    EXPECT_NEAR(a[k].time.down_s, b[k].time.down_s, tol) << "round " << k;
    EXPECT_NEAR(a[k].time.compute_s, b[k].time.compute_s, tol) << "round " << k;
    EXPECT_NEAR(a[k].time.up_s, b[k].time.up_s, tol) << "round " << k;
    EXPECT_NEAR(a[k].time.idle_s, b[k].time.idle_s, tol) << "round " << k;
    EXPECT_NEAR(a[k].time.master_s, b[k].time.master_s, tol) << "round " << k;
    EXPECT_NEAR(a[k].time.total(), a[k].sim_time_s, tol) << "round " << k;
  }
}

// Identical workers on a star whose master link is the bottleneck when shared: the closed form
//   round 0:  flops_w/speed_w + lat + up/min(B_w, B_m/n) + flops_m/speed_m
//   round k:  lat + down/min(B_w, B_m/n) + (same as round 0)
TEST(Textbook, RoundTimeEqualsClosedFormOnSymmetricStar) {
  // Two regimes: the master link is the bottleneck when shared by the 4 flows (2e6/4 < 1e6), or
  // each worker's own link is (1e5 < 1.25e9/4). The second caught SimGrid 3.32 letting flows
  // escape their links under TCP-gamma:0.
  for (const auto& [worker_bw, master_bw] : {std::pair{1e6, 2e6}, std::pair{1e5, 1.25e9}}) {
    SCOPED_TRACE("worker " + std::to_string(worker_bw) + " master " + std::to_string(master_bw));
    Case c;
    c.star.bandwidth_Bps = worker_bw;
    c.star.master_bandwidth_Bps = master_bw;
    c.star.latency_s = 2e-3;
    c.star.master_latency_s = 5e-4;
    c.star.worker_speed_flops = 2e8;
    c.star.master_speed_flops = 1e9;
    std::vector<alg::RoundCost> costs;
    const auto sync = sync_trace(c, &costs);
    const auto sg = simgrid_trace(c);
    ASSERT_EQ(costs.size(), static_cast<std::size_t>(c.rounds));
    const double lat = 2.5e-3, share = std::min(worker_bw, master_bw / 4);
    double t = 0;
    for (std::size_t k = 0; k < costs.size(); ++k) {
      const auto& rc = costs[k];
      for (int i = 1; i < 4; ++i) {
        ASSERT_EQ(rc.worker_flops[i], rc.worker_flops[0]);  // symmetric case
        ASSERT_EQ(rc.up_bytes[i], rc.up_bytes[0]);
      }
      if (k > 0) t += lat + static_cast<double>(rc.down_bytes) / share;
      t += rc.worker_flops[0] / 2e8 + lat + static_cast<double>(rc.up_bytes[0]) / share +
           rc.master_flops / 1e9;
      EXPECT_NEAR(sg[k + 1].sim_time_s, t, 1e-9 * t) << "round " << k + 1;
    }
    expect_same_times(sg, sync);
  }
}

// Asymmetric worker links (downlink_bandwidth: a consumer line's faster download): the generated
// star then has one link per direction, and the closed form prices the broadcast at the downlink
// bandwidth and the uploads at the uplink bandwidth:
//   round k:  lat + down/min(B_down, B_m/n) + flops_w/speed_w + lat + up/min(B_up, B_m/n) + ...
// With downlink_bandwidth = bandwidth the two-link form gives the SPLITDUPLEX star's times.
TEST(Textbook, AsymmetricLinksPriceEachDirectionAtItsBandwidth) {
  Case c;
  c.method = "gd";
  c.compressor = {"identity", 0};
  c.star.bandwidth_Bps = 1e5;
  c.star.downlink_bandwidth_Bps = 8e5;
  c.star.master_bandwidth_Bps = 1.25e9;
  c.star.latency_s = 2e-3;
  c.star.master_latency_s = 5e-4;
  c.star.worker_speed_flops = 2e8;
  c.star.master_speed_flops = 1e9;
  std::vector<alg::RoundCost> costs;
  const auto sync = sync_trace(c, &costs);
  const auto sg = simgrid_trace(c);
  const double lat = 2.5e-3;
  double t = 0;
  for (std::size_t k = 0; k < costs.size(); ++k) {
    const auto& rc = costs[k];
    if (k > 0) t += lat + static_cast<double>(rc.down_bytes) / 8e5;
    t += rc.worker_flops[0] / 2e8 + lat + static_cast<double>(rc.up_bytes[0]) / 1e5 +
         rc.master_flops / 1e9;
    EXPECT_NEAR(sg[k + 1].sim_time_s, t, 1e-9 * t) << "round " << k + 1;
  }
  expect_same_times(sg, sync);
  // Symmetric through the two-link form: the same times as the SPLITDUPLEX star, under LV08 too.
  for (const char* model : {"textbook", "simgrid"}) {
    SCOPED_TRACE(model);
    Case split = c, two = c;
    split.model = two.model = model;
    split.star.downlink_bandwidth_Bps = 0;
    two.star.downlink_bandwidth_Bps = two.star.bandwidth_Bps;
    const auto a = simgrid_trace(split), b = simgrid_trace(two);
    expect_same_math(a, b);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t k = 0; k < a.size(); ++k)
      EXPECT_EQ(exact(a[k].sim_time_s), exact(b[k].sim_time_s)) << "round " << k;
  }
}

// Unequal workers (the last one takes the remainder rows, so it computes longer and its upload
// starts later) and a master link that is the bottleneck only while several uploads overlap:
// SimGrid's max-min sharing over time equals the independent fluid model.
TEST(Textbook, StaggeredUploadsMatchFluidModel) {
  Case c;
  c.samples = 243;  // worker 3 gets 63 rows, the others 60
  c.star.bandwidth_Bps = 4e5;
  c.star.master_bandwidth_Bps = 9e5;
  c.star.worker_speed_flops = 5e6;  // compute time comparable to transfer time
  c.method = "gd";
  c.compressor = {"identity", 0};
  const auto sync = sync_trace(c);
  const auto sg = simgrid_trace(c);
  expect_same_times(sg, sync);
  expect_same_math(sg, sync);
}

TEST(FluidModel, TwoFlowsShareThenOneSpeedsUp) {
  // One link of 10 B/s; flow A 10 bytes from t=0, flow B 30 bytes from t=0: both at 5 B/s until
  // A ends at t=2 (B has 20 left), then B alone at 10 B/s: ends at t=4.
  const auto f = fluid_finish_times({{0, 0, 10, {0}}, {0, 0, 30, {0}}}, {10.0});
  EXPECT_DOUBLE_EQ(f[0], 2.0);
  EXPECT_DOUBLE_EQ(f[1], 4.0);
  // Latency delays the start of sharing: A (20 bytes) runs alone for 1 s (10 bytes left), then
  // B (10 bytes, latency 1 s) joins: both at 5 B/s, both end at t = 3.
  const auto g = fluid_finish_times({{0, 0, 20, {0}}, {0, 1, 10, {0}}}, {10.0});
  EXPECT_DOUBLE_EQ(g[0], 3.0);
  EXPECT_DOUBLE_EQ(g[1], 3.0);
  // Max-min: flow C crosses links 0 (cap 10) and 1 (cap 2); D uses link 0 only. C is held to
  // 2 B/s by link 1, so D gets the remaining 8 B/s of link 0.
  const auto h = fluid_finish_times({{0, 0, 4, {0, 1}}, {0, 0, 8, {0}}}, {10.0, 2.0});
  EXPECT_DOUBLE_EQ(h[0], 2.0);
  EXPECT_DOUBLE_EQ(h[1], 1.0);
}

// Issue 5: every communication pattern and downlink gives the parameter server's iterates bit
// for bit (the model downlink at 64-bit values: narrower values would round x); only time and
// traffic differ.
TEST(Patterns, SameIteratesAsTheParameterServer) {
  Case base;
  base.value_bits = 64;
  base.rounds = 15;
  const auto ps = simgrid_trace(base);
  for (Pattern p : {Pattern::kTree, Pattern::kRingAllGather, Pattern::kRingAllReduce}) {
    SCOPED_TRACE(to_string(p));
    Case c = base;
    c.pattern = p;
    const auto t = simgrid_trace(c);
    expect_same_math_except_bits(t, ps);
    EXPECT_NE(t.back().sim_time_s, ps.back().sim_time_s);
  }
  for (Pattern p : {Pattern::kParameterServer, Pattern::kTree}) {
    Case c = base;
    c.pattern = p;
    c.model_downlink = true;
    const auto t = simgrid_trace(c);
    expect_same_math_except_bits(t, ps);
    // The dense model (d = 200 doubles) goes down instead of the sparse aggregate.
    EXPECT_GT(t.back().bits_down_per_worker, ps.back().bits_down_per_worker);
    EXPECT_EQ(t.back().bits_down_per_worker,
              static_cast<double>(base.rounds - 1) * 8.0 *
                  static_cast<double>(alg::dense_message_bytes(200, {64, 0})));
  }
}

// Ring patterns under the textbook model on a star of identical workers, where worker i's
// message to worker i+1 crosses two worker links (latency 2 lat, bandwidth B each way, no
// sharing): every round's communication is
//   all-gather: (n-1) (2 lat + m / B)            (all messages of m bytes: Top-K)
//   all-reduce: 2 (n-1) (2 lat + (b / n) / B)    (b: the dense aggregate on the wire)
TEST(Patterns, RingRoundTimesEqualAlphaBetaFormulas) {
  for (Pattern p : {Pattern::kRingAllGather, Pattern::kRingAllReduce}) {
    SCOPED_TRACE(to_string(p));
    Case c;
    c.workers = 5;
    c.samples = 250;
    c.pattern = p;
    c.star.bandwidth_Bps = 2e5;
    c.star.latency_s = 3e-3;
    const auto t = simgrid_trace(c);
    const double n = 5, lat = 3e-3, B = 2e5;
    for (std::size_t k = 1; k < t.size(); ++k) {
      // This round's communication: the increase of the mean upload time (the breakdown's
      // `up`), with no waiting: all workers start each step together.
      const double comm = t[k].time.up_s - t[k - 1].time.up_s;
      double expected = 0;
      if (p == Pattern::kRingAllGather) {
        // Bits sent by all workers in the round: n (n-1) m.
        const double m = (t[k].bits_up_per_worker - t[k - 1].bits_up_per_worker) / 8.0 / (n - 1);
        expected = (n - 1) * (2 * lat + m / B);
      } else {
        const double chunk =
            std::ceil(static_cast<double>(alg::dense_message_bytes(200, {32, 0})) / n);
        expected = 2 * (n - 1) * (2 * lat + chunk / B);
      }
      EXPECT_NEAR(comm, expected, 1e-9 * expected) << "round " << k;
      EXPECT_NEAR(t[k].time.idle_s, t[k - 1].time.idle_s, 1e-12) << "round " << k;
      EXPECT_NEAR(t[k].time.down_s, 0.0, 1e-12);  // no downlink: the aggregate is formed locally
    }
  }
}

// A tree of 3 workers (the master's children: workers 0 and 1; worker 2 under worker 0) on a
// textbook star: round k >= 1 takes
//   D1 + D2 + c + U2 + U0 + M,  D1 = lat_m + lat_w + b / B   (master -> worker 0)
//                               D2 = 2 lat_w + b / B         (worker 0 -> worker 2)
//                               U2 = 2 lat_w + m / B         (worker 2 -> worker 0)
//                               U0 = lat_w + lat_m + 2 m / B (worker 0 forwards both messages)
// with b the downlink, m one upload, c the compute, M the master's part (a master link fast
// enough never to be the bottleneck).
TEST(Patterns, TreeRoundTimeEqualsItsCriticalPath) {
  Case c;
  c.workers = 3;
  c.samples = 240;
  c.pattern = Pattern::kTree;
  c.star.bandwidth_Bps = 1e5;
  c.star.latency_s = 2e-3;
  c.star.master_latency_s = 5e-4;
  c.star.worker_speed_flops = 1e8;
  std::vector<alg::RoundCost> costs;
  (void)sync_trace(c, &costs);  // the same math: its per-round bytes and flops
  const auto t = simgrid_trace(c);
  const double lw = 2e-3, lm = 5e-4, B = 1e5;
  for (std::size_t k = 1; k < costs.size(); ++k) {
    const auto& rc = costs[k];
    const double b = static_cast<double>(rc.down_bytes), m = static_cast<double>(rc.up_bytes[0]);
    ASSERT_EQ(rc.up_bytes[2], rc.up_bytes[0]);
    const double expected = (lm + lw + b / B) + (2 * lw + b / B) + rc.worker_flops[0] / 1e8 +
                            (2 * lw + m / B) + (lw + lm + 2 * m / B) + rc.master_flops / 1e10;
    const double got = t[k + 1].sim_time_s - t[k].sim_time_s;
    EXPECT_NEAR(got, expected, 1e-9 * expected) << "round " << k + 1;
  }
}

// The tree's uplink traffic: every message is forwarded by its sender and each worker above it,
// so a round moves sum_j m_j * depth_j bytes. Messages of varying size (QSGD with Elias coding)
// and workers that finish out of order (the last one holds more rows) check that a worker
// forwards this round's subtree, whichever child reports first.
TEST(Patterns, TreeForwardsEachSubtreeOfTheRound) {
  Case c;
  c.workers = 7;  // worker 0: children 2, 3; worker 1: 4, 5; worker 2: 6
  c.samples = 250;
  c.method = "dcgd";
  c.compressor = {"qsgd", 0, 16};  // delta < 2: contractive, for the test's stepsize
  c.compressor.coding = "elias";
  c.pattern = Pattern::kTree;
  c.star.worker_speed_flops = 1e6;  // compute time differs between the workers
  std::vector<alg::RoundCost> costs;
  (void)sync_trace(c, &costs);
  const auto t = simgrid_trace(c);
  const std::vector<int> depth = {1, 1, 2, 2, 2, 2, 3};
  bool sizes_vary = false;
  for (std::size_t k = 0; k < costs.size(); ++k) {
    double bytes = 0;
    for (int i = 0; i < 7; ++i) bytes += static_cast<double>(costs[k].up_bytes[i]) * depth[i];
    EXPECT_DOUBLE_EQ((t[k + 1].bits_up_per_worker - t[k].bits_up_per_worker) * 7, 8 * bytes)
        << "round " << k;
    if (k > 0) sizes_vary |= costs[k].up_bytes[3] != costs[k - 1].up_bytes[3];
  }
  EXPECT_TRUE(sizes_vary);
}

// A simulation that deadlocks (here: a worker whose step blocks forever) is detected and fails
// the run with a clear error instead of hanging or returning a half trace as if complete.
class BlockingNode final : public alg::Node {
 public:
  void receive(const alg::Message&) override {}
  void receive_model(const alg::Message&) override {}
  alg::Message step(alg::Rng&) override {
    simgrid::s4u::Semaphore::create(0)->acquire();  // nobody will ever release it
    return {};
  }
};

TEST(SimGridRunner, DeadlockIsReportedAsAnErrorOfTheRun) {
  const std::string out = test::run_in_child([] {
    Case c;
    auto p = problem_for(c);
    auto C = alg::make_compressor(c.compressor, p->dim());
    auto m = method_for(c, *p, *C);
    m.nodes[2] = std::make_unique<BlockingNode>();
    const std::string dir = test::make_temp_dir("dl");
    NetworkSetup net;
    net.platform_file = dir + "/p.xml";
    platforms::TopologySpec star;
    star.workers = c.workers;
    std::ofstream(net.platform_file) << platforms::star_platform_xml(star);
    net.master = platforms::master_host_name();
    for (int i = 0; i < c.workers; ++i) net.workers.push_back(platforms::worker_host_name(i));
    alg::StopRule rule;
    rule.max_rounds = 5;
    alg::Monitor mon(*p, rule);
    std::string what = "returned";
    try {
      run_simgrid(net, m, mon, 1);
    } catch (const std::runtime_error& e) {
      what = std::string("thrown: ") + e.what();
    }
    std::filesystem::remove_all(dir);
    return what;
  });
  EXPECT_EQ(out, "thrown: the simulation deadlocked before the run finished");
}

// algorithms/README.md invariant 2: the simulator changes time, never math.
TEST(SimGridVsSync, BitIdenticalMathUnderTcpModel) {
  for (const char* method : {"ef21", "ef", "ef21_plus", "dcgd"}) {
    Case c;
    c.model = "simgrid";
    c.samples = 250;
    c.method = method;
    c.rounds = 25;
    const auto sg = simgrid_trace(c);
    const auto sync = sync_trace(c);
    SCOPED_TRACE(method);
    expect_same_math(sg, sync);
    EXPECT_GT(sg.back().sim_time_s, 0.0);
  }
}

// Stragglers change compute time only: the same math, and SimGrid's times equal the analytic
// model's with the slowed workers (random per round, and a fixed set).
TEST(Stragglers, ChangeTimeNotMath) {
  for (const bool random : {true, false}) {
    Case c;
    c.samples = 243;
    c.star.worker_speed_flops = 1e6;  // compute matters
    c.stragglers = {0.5, 8.0, random};
    const auto sg = simgrid_trace(c);
    const auto sync = sync_trace(c);
    expect_same_times(sg, sync);
    Case plain = c;
    plain.stragglers = {};
    const auto base = sync_trace(plain);
    expect_same_math(sync, base);
    EXPECT_GT(sync.back().time.compute_s, 2.0 * base.back().time.compute_s);
    EXPECT_GT(sync.back().time.idle_s, base.back().time.idle_s);
  }
  alg::Stragglers fixed({0.25, 3.0, false}, 8, 1);
  int slow = 0;
  for (int i = 0; i < 8; ++i) slow += fixed.factor(5, i) == 3.0;
  EXPECT_EQ(slow, 2);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(fixed.factor(5, i), fixed.factor(77, i));
}

}  // namespace
}  // namespace efsim::sim
