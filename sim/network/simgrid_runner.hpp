// Runs one method on a SimGrid platform: a master actor and one actor per worker host drive the
// method's Master and Nodes; messages are the real encoded bytes, their simulated size is the
// buffer size; compute is charged as counted flops / host speed. One engine per process: call
// this in a fresh process (the CLI forks one per run; tests fork too).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "algorithms/methods/method.hpp"
#include "algorithms/runner/monitor.hpp"
#include "platforms/topology.hpp"
#include "sim/network/pattern.hpp"

namespace efsim::sim {

struct NetworkSetup {
  std::string model = "simgrid";  // simgrid (LV08, TCP-calibrated) | textbook
  Pattern pattern = Pattern::kParameterServer;
  alg::WireFormat wire;       // ring_allreduce: the format of the dense chunks
  std::string platform_file;  // SimGrid XML
  std::string master;         // host names; "" = "master", or else the one non-worker host
  // How the user names the master, for the message when it is missing.
  std::string master_option = "the scenario key platform.master";
  std::vector<std::string> workers;
  std::string workers_glob;  // if `workers` is empty: hosts matching this '*' pattern, sorted
};

// The SimGrid options for a network model (see README, "Network models").
std::vector<std::string> simgrid_options(const std::string& model);

// Loads the platform file (in this process's SimGrid engine: call once per process) and returns
// its master <-> worker routes, for the analysis of `efsim topology`. Throws InputError for a
// platform SimGrid rejects, missing hosts, or a missing route.
platforms::RoutedPlatform load_routes(const NetworkSetup& net);

// Runs until the monitor's stop rule fires. Throws InputError for platform problems (missing
// hosts, wrong worker count) and std::runtime_error if the simulation deadlocks.
alg::StopReason run_simgrid(const NetworkSetup& net, alg::MethodInstance& method,
                            alg::Monitor& monitor, std::uint64_t seed);

}  // namespace efsim::sim
