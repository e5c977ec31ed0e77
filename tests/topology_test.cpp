// Generated topologies: their structure and routes against hand counts, the edge fleet's
// classes, and simulated round times against the textbook alpha-beta formula on a tree.
#include "platforms/topology.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>

#include "algorithms/core/error.hpp"
#include "algorithms/methods/method.hpp"
#include "algorithms/problems/glm.hpp"
#include "algorithms/runner/sync_runner.hpp"
#include "sim/network/simgrid_runner.hpp"
#include "sim/sweep/recorder.hpp"
#include "sim/text.hpp"
#include "test_util.hpp"

namespace efsim::platforms {
namespace {

TopologySpec spec(const std::string& kind, int workers) {
  TopologySpec s;
  s.kind = kind;
  s.workers = workers;
  return s;
}

std::size_t hosts(const Topology& t) {
  std::size_t h = 0;
  for (auto v : boost::make_iterator_range(boost::vertices(t.graph))) h += t.graph[v].host;
  return h;
}

// Links crossed from the master to worker i.
std::size_t hops(const Topology& t, int i) { return route(t, t.master, t.workers[i]).size() - 1; }

// The trace of `method` run under SimGrid (textbook model, in a child process) on the platform
// `xml` with hosts master, worker-0, ..., worker-(n-1).
std::vector<alg::TraceRow> simulate(const std::string& xml, const alg::Problem& problem,
                                    const std::function<alg::MethodInstance()>& make, long rounds,
                                    sim::Pattern pattern) {
  const std::string out = test::run_in_child([&] {
    auto method = make();
    const std::string dir = test::make_temp_dir("sim");
    sim::NetworkSetup net;
    net.model = "textbook";
    net.pattern = pattern;
    net.platform_file = dir + "/p.xml";
    std::ofstream(net.platform_file) << xml;
    net.master = "master";
    for (int i = 0; i < problem.num_workers(); ++i)
      net.workers.push_back("worker-" + std::to_string(i));
    alg::StopRule rule;
    rule.max_rounds = rounds;
    alg::Monitor mon(problem, rule);
    sim::run_simgrid(net, method, mon, 1);
    std::filesystem::remove_all(dir);
    return sim::trace_csv(mon.trace());
  });
  EXPECT_EQ(out.rfind("round,", 0), 0u) << out;
  const std::string dir = test::make_temp_dir("trace");
  std::ofstream(dir + "/t.csv") << out;
  auto rows = sim::read_trace_csv(dir + "/t.csv");
  std::filesystem::remove_all(dir);
  return rows;
}

TEST(Topology, FatTreeShapeAndRoutes) {
  TopologySpec s = spec("fat_tree", 15);
  s.k = 4;  // 16 host slots: the master and 15 workers
  const Topology t = make_topology(s);
  EXPECT_EQ(hosts(t), 16u);
  EXPECT_EQ(boost::num_vertices(t.graph), 16u + 4 + 8 + 8);  // hosts, cores, aggregation, edge
  // k^3/4 host links + k^2/2 edge-agg + k^2/2 agg-core links = 16 + 8 + 8... per pod (k/2)^2
  EXPECT_EQ(boost::num_edges(t.graph), 16u + 4 * 4 + 4 * 4);
  EXPECT_EQ(hops(t, 0), 2u);  // worker-0 shares the master's edge switch
  EXPECT_EQ(hops(t, 1), 4u);  // same pod, the other edge switch
  EXPECT_EQ(hops(t, 4), 6u);  // another pod: through a core switch
  s.workers = 16;
  EXPECT_THROW(make_topology(s), InputError);
}

TEST(Topology, RingAndTorusRoutesTakeTheShortWay) {
  const Topology ring = make_topology(spec("ring", 8));
  for (int i = 0; i < 8; ++i) EXPECT_EQ(hops(ring, i), 2u + std::min(i, 8 - i)) << i;
  const Topology torus = make_topology(spec("torus", 16));  // 4 x 4
  for (int i = 0; i < 16; ++i) {
    const int r = i / 4, c = i % 4;
    EXPECT_EQ(hops(torus, i), 2u + std::min(r, 4 - r) + std::min(c, 4 - c)) << i;
  }
}

TEST(Topology, DragonflyAndTreeConnectEveryWorker) {
  TopologySpec d = spec("dragonfly", 11);
  d.groups = 3;
  d.routers = 2;
  d.hosts_per_router = 2;
  const Topology t = make_topology(d);
  EXPECT_EQ(boost::num_edges(t.graph), 12u + 3 * 1 + 3);  // host links, local, global
  for (int i = 0; i < 11; ++i)
    EXPECT_LE(hops(t, i), 5u) << i;  // host-router-(local)-global-(local)-host
  TopologySpec tr = spec("tree", 6);
  tr.racks = 3;
  const Topology tree = make_topology(tr);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(hops(tree, i), 3u) << i;  // master-core-rack-worker
}

TEST(Topology, EdgeFleetDrawsClassesByShare) {
  TopologySpec s = spec("edge", 10);
  s.classes = {{1.25e6, 0.05, 3.0},
               {12.5e6, 0.01, 2.0}};  // 10 Mbps / 50 ms (60 %), 100 Mbps / 10 ms
  const Topology t = make_topology(s);
  int slow = 0;
  for (auto e : boost::make_iterator_range(boost::edges(t.graph)))
    if (t.graph[e].name != "master-link") slow += t.graph[e].bandwidth_Bps == 1.25e6;
  EXPECT_EQ(slow, 6);
  EXPECT_EQ(topology_xml(t), topology_xml(make_topology(s)));  // deterministic
  // A class's compute speed goes with its link: the 10 Mbps devices are the 1 Gf ones.
  s.classes[0].speed_flops = 1e9;
  s.classes[1].speed_flops = 8e9;
  const Topology h = make_topology(s);
  for (VertexId w : h.workers) {
    const auto e = *boost::out_edges(w, h.graph).first;
    EXPECT_EQ(h.graph[w].speed_flops, h.graph[e].bandwidth_Bps == 1.25e6 ? 1e9 : 8e9);
  }
  EXPECT_NE(topology_xml(h).find("speed=\"8000000000f\""), std::string::npos);
  s.seed = 2;
  EXPECT_NE(topology_xml(t), topology_xml(make_topology(s)));  // the draw follows the seed
}

// Under the textbook model a tree round takes, per transfer, the path latency plus the bytes
// over the narrowest link (here the worker links; the master link and uplinks are wide).
TEST(Topology, TreeRoundTimeIsTheTextbookFormula) {
  TopologySpec s = spec("tree", 4);
  s.racks = 2;
  s.bandwidth_Bps = 1e5;
  s.latency_s = 1e-3;
  s.uplink_Bps = 1e9;
  s.uplink_latency_s = 2e-4;
  s.master_bandwidth_Bps = 1e9;
  s.master_latency_s = 3e-4;
  const double path_latency = 3e-4 + 2e-4 + 1e-3;
  alg::SyntheticSpec data;
  data.samples = 400;
  data.dim = 50;
  data.nnz_per_row = 5;
  data.workers = 4;
  auto problem = std::make_shared<alg::GlmProblem>(
      std::make_shared<alg::Dataset>(alg::make_synthetic(data)), 4, alg::Loss::kLogistic, 0.1);
  alg::TopK top(3);
  alg::MethodSpec m;
  m.name = "ef21";
  m.gamma = 1.0;
  alg::StopRule rule;
  rule.max_rounds = 8;
  const auto sg = simulate(
      topology_xml(make_topology(s)), *problem,
      [&] { return alg::find_method("ef21").make(m, *problem, top, alg::Vector::Zero(50)); },
      rule.max_rounds, sim::Pattern::kParameterServer);
  ASSERT_FALSE(sg.empty());
  // The message sizes and flops of each round, from the same math without a network.
  struct Recorder final : alg::RoundClock {
    std::vector<alg::RoundCost> costs;
    alg::RoundTiming round_time(const alg::RoundCost& c) override {
      costs.push_back(c);
      return {};
    }
  } clock;
  auto method = alg::find_method("ef21").make(m, *problem, top, alg::Vector::Zero(50));
  alg::Monitor mon(*problem, rule);
  alg::run_sync(method, mon, 1, &clock);
  double t = 0;
  for (std::size_t k = 0; k < clock.costs.size(); ++k) {
    const auto& c = clock.costs[k];
    double slowest = 0;  // the round ends with the last upload
    for (int i = 0; i < 4; ++i) {
      const double down = k > 0 ? path_latency + static_cast<double>(c.down_bytes) / 1e5 : 0.0;
      slowest = std::max(slowest, down + c.worker_flops[i] / 1e9 + path_latency +
                                      static_cast<double>(c.up_bytes[i]) / 1e5);
    }
    t += slowest + c.master_flops / 1e10;
    EXPECT_NEAR(sg[k + 1].sim_time_s, t, 1e-9 * t) << "round " << k + 1;
  }
}

// On every generated topology, the graph's lower bound (slowest route, and volume over the max
// flow) never exceeds the simulated round time (textbook model), and the max flow equals the
// min cut a human can read off the graph where it is obvious.
TEST(Topology, MaxFlowLowerBoundHoldsOnEveryKind) {
  alg::SyntheticSpec data;
  data.samples = 600;
  data.dim = 2000;
  data.nnz_per_row = 5;
  data.workers = 6;
  auto problem = std::make_shared<alg::GlmProblem>(
      std::make_shared<alg::Dataset>(alg::make_synthetic(data)), 6, alg::Loss::kLogistic, 0.1);
  alg::Identity id;
  alg::MethodSpec m;
  m.name = "gd";
  m.gamma = 1.0;
  alg::StopRule rule;
  rule.max_rounds = 3;
  for (const char* kind : {"star", "tree", "ring", "torus", "fat_tree", "dragonfly", "edge"}) {
    SCOPED_TRACE(kind);
    TopologySpec s = spec(kind, 6);
    s.bandwidth_Bps = 1e6;
    s.uplink_Bps = 2e6;  // thin switch links: sharing happens
    s.master_bandwidth_Bps = 3e6;
    s.classes = {{1e5, 0.02, 1.0}, {1e6, 0.005, 1.0}};
    s.groups = 2;
    s.routers = 2;
    const Topology t = make_topology(s);
    const Analysis a = analyse(t);
    if (std::string(kind) == "star") {
      EXPECT_DOUBLE_EQ(a.max_flow_Bps, 3e6);  // the master link
    }
    const auto sg = simulate(
        topology_xml(t), *problem,
        [&] { return alg::find_method("gd").make(m, *problem, id, alg::Vector::Zero(2000)); },
        rule.max_rounds, sim::Pattern::kParameterServer);
    ASSERT_FALSE(sg.empty());
    // GD's messages: 1 layout bit + 2000 float32 values = 64001 bits -> 8001 bytes each way.
    for (std::size_t k = 1; k < sg.size(); ++k) {
      const double round = sg[k].sim_time_s - sg[k - 1].sim_time_s;
      const double bound = round_lower_bound_s(a, k > 1 ? 8001.0 : 0.0, 8001.0);
      EXPECT_LE(bound, round * (1 + 1e-9)) << "round " << k;
      EXPECT_GT(bound, 0.3 * round) << "round " << k << ": the bound should not be trivially loose";
    }
  }
}

// Every pattern runs on every generated kind (the XML has the worker-to-worker routes the tree
// and ring patterns need) and gives the parameter server's iterates.
TEST(Topology, EveryPatternRunsOnEveryKindWithTheSameIterates) {
  alg::SyntheticSpec data;
  data.samples = 300;
  data.dim = 40;
  data.nnz_per_row = 5;
  data.workers = 5;
  auto problem = std::make_shared<alg::GlmProblem>(
      std::make_shared<alg::Dataset>(alg::make_synthetic(data)), 5, alg::Loss::kLogistic, 0.1);
  alg::TopK top(4);
  alg::MethodSpec m;
  m.name = "ef21";
  m.gamma = 0.5;
  alg::StopRule rule;
  rule.max_rounds = 6;
  for (const char* kind : {"star", "tree", "ring", "torus", "fat_tree", "dragonfly", "edge"}) {
    SCOPED_TRACE(kind);
    TopologySpec s = spec(kind, 5);
    s.classes = {{1e5, 0.02, 1.0}, {1e6, 0.005, 1.0}};
    s.groups = 2;
    s.routers = 2;
    const std::string xml = topology_xml(make_topology(s), sim::peer_pairs(5));
    std::string ps_math;
    for (sim::Pattern p : {sim::Pattern::kParameterServer, sim::Pattern::kTree,
                           sim::Pattern::kRingAllGather, sim::Pattern::kRingAllReduce}) {
      SCOPED_TRACE(sim::to_string(p));
      const auto rows = simulate(
          xml, *problem,
          [&] { return alg::find_method("ef21").make(m, *problem, top, alg::Vector::Zero(40)); },
          rule.max_rounds, p);
      ASSERT_EQ(rows.size(), static_cast<std::size_t>(rule.max_rounds) + 1);
      std::string math;  // f and ||grad f||^2 of every row, exactly
      for (const auto& r : rows) math += sim::exact(r.f) + " " + sim::exact(r.grad_norm_sq) + "\n";
      if (p == sim::Pattern::kParameterServer)
        ps_math = math;
      else
        EXPECT_EQ(math, ps_math);
    }
  }
}

// The generated XML loads in SimGrid and round-trips through the analysis: the routes SimGrid
// reports have the graph's hosts, links, hops, latencies and bottlenecks; the max flow through
// the routes' links is at most the graph's (flows may use any path there) and equal on a star.
TEST(Topology, GeneratedXmlRoundTripsThroughSimGridRoutes) {
  for (const char* kind : {"star", "tree", "ring", "torus", "fat_tree", "dragonfly", "edge"}) {
    SCOPED_TRACE(kind);
    TopologySpec s = spec(kind, 6);
    s.classes = {{1e5, 0.02, 1.0}, {1e6, 0.005, 1.0}};
    s.groups = 2;
    s.routers = 2;
    const Topology t = make_topology(s);
    const Analysis g = analyse(t);
    const std::string out = test::run_in_child([&] {
      const std::string dir = test::make_temp_dir("rt");
      sim::NetworkSetup net;
      net.platform_file = dir + "/p.xml";
      std::ofstream(net.platform_file)
          << topology_xml(t, sim::peer_pairs(static_cast<int>(t.workers.size())));
      net.master = "master";
      net.workers_glob = "worker-*";
      const Analysis r = analyse(sim::load_routes(net));
      std::filesystem::remove_all(dir);
      std::ostringstream os;
      os << r.hosts << ' ' << r.links << ' ' << r.max_hops << ' ' << sim::exact(r.max_flow_Bps);
      for (std::size_t i = 0; i < r.latency_s.size(); ++i)
        os << ' ' << sim::exact(r.latency_s[i]) << ' ' << sim::exact(r.bottleneck_Bps[i]);
      return os.str();
    });
    std::istringstream in(out);
    std::size_t hosts = 0, links = 0, hops = 0;
    std::string flow;
    in >> hosts >> links >> hops >> flow;
    ASSERT_TRUE(in) << out;
    EXPECT_EQ(hosts, g.hosts);
    EXPECT_EQ(links, g.links);
    EXPECT_EQ(hops, g.max_hops);
    EXPECT_LE(std::stod(flow), g.max_flow_Bps * (1 + 1e-12));
    if (std::string(kind) == "star") {
      EXPECT_DOUBLE_EQ(std::stod(flow), g.max_flow_Bps);
    }
    for (std::size_t i = 0; i < g.latency_s.size(); ++i) {
      std::string lat, bw;
      in >> lat >> bw;
      EXPECT_NEAR(std::stod(lat), g.latency_s[i], 1e-15) << "worker " << i;
      EXPECT_DOUBLE_EQ(std::stod(bw), g.bottleneck_Bps[i]) << "worker " << i;
    }
  }
}

}  // namespace
}  // namespace efsim::platforms
