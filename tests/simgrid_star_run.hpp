// Shared by the method tests that check invariant 2 (SimGrid changes time, never the math): a
// method run on a generated 4-worker star in SimGrid, returning its trace CSV. Call it inside
// test::run_in_child (one SimGrid engine per process).
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include "algorithms/methods/method.hpp"
#include "platforms/star.hpp"
#include "sim/network/simgrid_runner.hpp"
#include "sim/sweep/recorder.hpp"
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

}  // namespace efsim::test
