// Shared by the method tests that check invariant 2 (SimGrid changes time, never the math): a
// method run on a generated 4-worker star in SimGrid, returning its trace CSV. Call it inside
// test::run_in_child (one SimGrid engine per process).
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "algorithms/methods/method.hpp"
#include "algorithms/runner/sync_runner.hpp"
#include "platforms/star.hpp"
#include "sim/network/simgrid_runner.hpp"
#include "sim/sweep/recorder.hpp"
#include "sim/text.hpp"
#include "test_util.hpp"

namespace efsim::test {

// The tests' wire: 32-bit values.
inline alg::WireFormat wire32() {
  alg::WireFormat w;
  w.value_bits = 32;
  return w;
}

inline std::string simgrid_star_trace(alg::MethodInstance& m, const alg::Problem& p, long rounds,
                                      const alg::WireFormat& wire,
                                      sim::Pattern pattern = sim::Pattern::kParameterServer,
                                      bool with_skips = false) {
  const std::string dir = make_temp_dir("method-platform");
  sim::NetworkSetup net;
  net.model = "simgrid";
  net.wire = wire;
  net.pattern = pattern;
  net.platform_file = dir + "/platform.xml";
  platforms::TopologySpec star;
  star.workers = 4;
  std::ofstream(net.platform_file) << platforms::star_platform_xml(star);
  net.master = platforms::master_host_name();
  for (int i = 0; i < 4; ++i) net.workers.push_back(platforms::worker_host_name(i));
  alg::StopRule rule;
  rule.max_rounds = rounds;
  alg::Monitor mon(p, rule);
  sim::run_simgrid(net, m, mon, 7);
  std::filesystem::remove_all(dir);
  return sim::trace_csv(mon.trace(), with_skips);
}

// A trace CSV (as simgrid_star_trace returns it) read back into rows.
inline std::vector<alg::TraceRow> parse_trace(const std::string& csv) {
  const std::string dir = make_temp_dir("method-trace");
  std::ofstream(dir + "/trace.csv") << csv;
  auto rows = sim::read_trace_csv(dir + "/trace.csv");
  std::filesystem::remove_all(dir);
  return rows;
}

// The method's trace without a network (SyncRunner, the same seed 7 as simgrid_star_trace).
inline std::vector<alg::TraceRow> sync_trace(alg::MethodInstance& m, const alg::Problem& p,
                                             long rounds) {
  alg::StopRule rule;
  rule.max_rounds = rounds;
  alg::Monitor mon(p, rule);
  alg::run_sync(m, mon, 7);
  return mon.trace();
}

// Invariant 2 on the columns the math decides: f and |grad f|^2 bit for bit, the bits each
// worker sent and received, the skipped uploads. `uplink`: false where the pattern's traffic,
// not the method, decides the uplink bits (a tree forwards its subtrees' uploads).
inline void expect_same_math(const std::vector<alg::TraceRow>& simgrid,
                             const std::vector<alg::TraceRow>& sync, bool uplink = true) {
  ASSERT_EQ(simgrid.size(), sync.size());
  for (std::size_t k = 0; k < sync.size(); ++k) {
    EXPECT_EQ(sim::exact(simgrid[k].f), sim::exact(sync[k].f)) << k;
    EXPECT_EQ(sim::exact(simgrid[k].grad_norm_sq), sim::exact(sync[k].grad_norm_sq)) << k;
    if (uplink) {
      EXPECT_EQ(simgrid[k].bits_up_per_worker, sync[k].bits_up_per_worker) << k;
    }
    EXPECT_EQ(simgrid[k].bits_down_per_worker, sync[k].bits_down_per_worker) << k;
    EXPECT_EQ(simgrid[k].uploads_skipped, sync[k].uploads_skipped) << k;
  }
  if (!simgrid.empty()) {
    EXPECT_GT(simgrid.back().sim_time_s, 0.0);
  }
}

}  // namespace efsim::test
