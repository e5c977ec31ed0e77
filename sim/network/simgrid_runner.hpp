// Runs one method on a SimGrid platform: a master actor and one actor per worker host drive the
// method's Master and Nodes; messages are the real encoded bytes, their simulated size is the
// buffer size; compute is charged as counted flops / host speed. One engine per process: call
// this in a fresh process (the CLI forks one per run; tests fork too).
#pragma once

#include <cstdint>
#include <limits>
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
  // Rounds with a deadline and/or workers that go off (dynamic_runner.hpp): the round's limit
  // (inf: none), its quantile rule (0: none) and whether worker hosts have availability profiles.
  double round_deadline_s = std::numeric_limits<double>::infinity();
  double round_quantile = 0;
  bool availability = false;
  // Energy (SimGrid's host and link energy plugins; the hosts' watts are properties of the
  // platform file): each worker's network-interface watts while its own link carries a transfer
  // (link energy on worker-i-link), and each worker's class for the report (-1: none).
  bool energy = false;
  bool speed_profiles = false;  // some worker host's speed changes over time
  std::vector<double> transfer_W;
  std::vector<int> worker_class;
  // Host threads for the workers' math of a round (efsim run --threads): 1 = the actors do it
  // one after another; more = the master runs the round's steps on a pool of this many threads
  // before the transfers (same bits, same simulated times). Synchronous rounds only: the
  // dynamic runner (deadlines, availability) steps sequentially.
  int threads = 1;
  bool dynamic_rounds() const {
    return availability || round_quantile > 0 ||
           round_deadline_s < std::numeric_limits<double>::infinity();
  }
};

// The SimGrid options for a network model (see README, "Network models").
// lazy_cpu: keep SimGrid's Lazy CPU optimisation instead of trace integration (cpu/optim:TI, the
// default here), which the energy plugins cannot read (they crash on its actions) and which
// takes only repeating speed profiles (it asserts so): both measured in SimGrid 3.32.
std::vector<std::string> simgrid_options(const std::string& model, bool lazy_cpu = false);

// Loads the platform file (in this process's SimGrid engine: call once per process) and returns
// its master <-> worker routes, for the analysis of `efsim topology`. Throws InputError for a
// platform SimGrid rejects, missing hosts, or a missing route.
platforms::RoutedPlatform load_routes(const NetworkSetup& net);

// Joules consumed in a run (NetworkSetup::energy): every host, and each worker's link.
struct EnergyReport {
  double total_J = 0, master_J = 0, workers_J = 0;
  std::vector<double> by_class_J;  // per worker class (edge fleet); empty without classes
};

// Runs until the monitor's stop rule fires. Throws InputError for platform problems (missing
// hosts, wrong worker count) and std::runtime_error if the simulation deadlocks.
// With net.energy, the Joules go to *energy (and the monitor's rows carry the cumulative Joules).
alg::StopReason run_simgrid(const NetworkSetup& net, alg::MethodInstance& method,
                            alg::Monitor& monitor, std::uint64_t seed,
                            EnergyReport* energy = nullptr);

}  // namespace efsim::sim
