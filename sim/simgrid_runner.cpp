#include "sim/simgrid_runner.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <simgrid/s4u.hpp>
#include <stdexcept>

#include "algorithms/error.hpp"
#include "algorithms/sync_runner.hpp"

namespace sg4 = simgrid::s4u;

namespace efsim::sim {

namespace {

bool glob_match(const char* pattern, const char* text) {
  if (*pattern == '\0') return *text == '\0';
  if (*pattern == '*')
    return glob_match(pattern + 1, text) || (*text != '\0' && glob_match(pattern, text + 1));
  return *pattern == *text && glob_match(pattern + 1, text + 1);
}

// Name order that sorts node-2 before node-10.
bool natural_less(const std::string& a, const std::string& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) &&
        std::isdigit(static_cast<unsigned char>(b[j]))) {
      std::size_t i2 = i, j2 = j;
      while (i2 < a.size() && std::isdigit(static_cast<unsigned char>(a[i2]))) ++i2;
      while (j2 < b.size() && std::isdigit(static_cast<unsigned char>(b[j2]))) ++j2;
      const std::string na = a.substr(i, i2 - i), nb = b.substr(j, j2 - j);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = i2;
      j = j2;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

// One synchronous round under SimGrid. The master publishes the round (its number and the
// downlink message) and releases go[i] for each worker i taking part. Worker i then pulls
// the downlink over the network (Comm::sendto from the master's host to its own: the same
// transfer as a send by the master), computes, and pushes its upload to the master's host.
// The last worker to finish releases `done`. Only blocking host-to-host transfers and
// semaphores: no actor ever has more than one pending communication, because SimGrid 3.32's
// cost per communication grows with the pending communications of one actor (a master with
// 2n asynchronous ones took 31 s for 1000 workers x 1000 rounds; see README, Performance).
// Messages travel by pointer, with their real encoded size as the simulated size.
struct Shared {
  alg::MethodInstance* method;
  alg::Monitor* monitor;
  sg4::Host* master_host = nullptr;
  std::vector<alg::Rng> rngs;
  std::vector<alg::Message> up;  // worker i's upload, alive until absorbed
  std::vector<sg4::SemaphorePtr> go;
  sg4::SemaphorePtr done;
  int busy = 0;  // workers of the round not yet finished
  long round = 0;
  const alg::Message* down = nullptr;
  // Event times of the current round, for the time breakdown (written by the workers).
  std::vector<double> received_at, compute_s, arrived_at;
  alg::StopReason reason = alg::StopReason::kRunning;
};

void worker_actor(Shared* sh, int i) {
  sg4::Actor::self()->daemonize();  // ends when the master ends
  alg::Node& node = *sh->method->nodes[i];
  sg4::Host* self = sg4::this_actor::get_host();
  const bool pp = alg::partial(*sh->method);
  for (;;) {
    sh->go[i]->acquire();  // a round this worker takes part in
    const long round = sh->round;
    if (round > 0) {
      sg4::Comm::sendto(sh->master_host, self, sh->down->size_bytes());
      if (pp)
        node.receive_model(*sh->down);
      else
        node.receive(*sh->down);
    }
    sh->received_at[i] = sg4::Engine::get_clock();
    sh->up[i] = node.run_step(sh->rngs[i]);
    const double flops = node.take_flops() * alg::compute_factor(*sh->method, round, i);
    if (flops > 0) sg4::this_actor::execute(flops);
    sh->compute_s[i] = sg4::Engine::get_clock() - sh->received_at[i];
    sg4::Comm::sendto(self, sh->master_host, sh->up[i].size_bytes());
    sh->arrived_at[i] = sg4::Engine::get_clock();
    if (--sh->busy == 0) sh->done->release();
  }
}

void master_actor(Shared* sh) {
  alg::Master& master = *sh->method->master;
  const int n = static_cast<int>(sh->method->nodes.size());
  const bool defer = alg::metrics_deferrable(*sh->method);
  sh->reason = sh->monitor->observe(0, sg4::Engine::get_clock(), alg::RoundTiming{}, master.x(),
                                    0.0, 0.0, defer);
  for (long round = 0; sh->reason == alg::StopReason::kRunning; ++round) {
    const std::vector<char> in = alg::round_participants(*sh->method, round);
    const double t0 = sg4::Engine::get_clock();
    const alg::Message& down = alg::round_downlink(*sh->method);
    sh->down = &down;
    sh->round = round;
    sh->busy = static_cast<int>(std::count(in.begin(), in.end(), 1));
    for (int i = 0; i < n; ++i)
      if (in[i]) sh->go[i]->release();
    if (sh->busy > 0) sh->done->acquire();
    const double gathered = sg4::Engine::get_clock();
    if (sh->monitor->waiting()) {
      // The workers evaluated at the waiting row's x in this round; they are now blocked on
      // their next go, so their evaluations are intact. Observer only: no simulated time.
      sh->reason = sh->monitor->supply(alg::evaluations(*sh->method));
      if (sh->reason != alg::StopReason::kRunning) break;
    }

    double up_bits = 0.0, down_bits = 0.0;
    std::vector<double> received_at, compute_s, arrived_at;  // of the workers taking part
    for (int i = 0; i < n; ++i) {
      if (!in[i]) continue;
      if (round > 0) down_bits += 8.0 * static_cast<double>(down.size_bytes());
      master.absorb(i, sh->up[i]);
      up_bits += 8.0 * static_cast<double>(sh->up[i].size_bytes());
      received_at.push_back(sh->received_at[i]);
      compute_s.push_back(sh->compute_s[i]);
      arrived_at.push_back(sh->arrived_at[i]);
    }
    master.finish_round();
    const double flops = master.take_flops();
    if (flops > 0) sg4::this_actor::execute(flops);
    const double end = sg4::Engine::get_clock();
    const alg::RoundTiming timing =
        alg::round_breakdown(t0, received_at, compute_s, arrived_at, end - gathered);
    sh->reason =
        sh->monitor->observe(round + 1, end, timing, master.x(), up_bits, down_bits / n, defer);
  }
}

}  // namespace

std::vector<std::string> simgrid_options(const std::string& model) {
  // cpu/optim:TI: the CPU model's trace-integration update, exact for hosts of constant speed
  // (all of ours) and about 4 % faster per round than the default lazy one on a9a.
  std::vector<std::string> opts = {"--log=root.thres:critical", "--cfg=cpu/optim:TI"};
  if (model == "textbook") {
    // latency + bytes / bandwidth exactly: no TCP calibration factors, no cross-traffic, no TCP
    // window cap. The cap is lifted with a huge gamma, not with 0: in SimGrid 3.32,
    // TCP-gamma:0 lets all but one of several concurrent flows through a shared link escape
    // their own links' bandwidth (seen on a star: 3 of 4 broadcasts took latency only).
    opts.insert(opts.end(), {"--cfg=network/model:CM02", "--cfg=network/crosstraffic:0",
                             "--cfg=network/TCP-gamma:1e30"});
  }
  return opts;
}

alg::StopReason run_simgrid(const NetworkSetup& net, alg::MethodInstance& method,
                            alg::Monitor& monitor, std::uint64_t seed) {
  std::vector<std::string> args = {"efsim"};
  for (const auto& o : simgrid_options(net.model)) args.push_back(o);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(args.size());
  sg4::Engine engine(&argc, argv.data());
  try {
    engine.load_platform(net.platform_file);
  } catch (const std::exception& e) {
    throw InputError(net.platform_file + ": cannot load SimGrid platform: " + e.what());
  }

  const int n = static_cast<int>(method.nodes.size());
  sg4::Host* master_host = engine.host_by_name_or_null(net.master);
  if (master_host == nullptr)
    throw InputError(net.platform_file + ": no host named '" + net.master + "' (the master)");
  std::vector<sg4::Host*> worker_hosts;
  if (!net.workers.empty()) {
    for (const auto& name : net.workers) {
      sg4::Host* h = engine.host_by_name_or_null(name);
      if (h == nullptr)
        throw InputError(net.platform_file + ": no host named '" + name + "' (a worker)");
      worker_hosts.push_back(h);
    }
  } else {
    std::vector<std::string> names;
    for (const sg4::Host* h : engine.get_all_hosts())
      if (h != master_host && glob_match(net.workers_glob.c_str(), h->get_cname()))
        names.push_back(h->get_name());
    std::sort(names.begin(), names.end(), natural_less);
    for (const auto& name : names) worker_hosts.push_back(engine.host_by_name(name));
  }
  if (static_cast<int>(worker_hosts.size()) != n)
    throw InputError(net.platform_file + ": " + std::to_string(worker_hosts.size()) +
                     " worker hosts found but the problem has " + std::to_string(n) + " workers");

  Shared sh;
  sh.method = &method;
  sh.monitor = &monitor;
  sh.rngs = alg::worker_rngs(seed, n);
  sh.up.resize(n);
  sh.received_at.assign(n, 0.0);
  sh.compute_s.assign(n, 0.0);
  sh.arrived_at.assign(n, 0.0);
  sh.master_host = master_host;
  sh.done = sg4::Semaphore::create(0);
  for (int i = 0; i < n; ++i) sh.go.push_back(sg4::Semaphore::create(0));
  bool deadlock = false;
  sg4::Engine::on_deadlock_cb([&deadlock] { deadlock = true; });
  sg4::Actor::create("master", master_host, master_actor, &sh);
  for (int i = 0; i < n; ++i)
    sg4::Actor::create("worker-" + std::to_string(i), worker_hosts[i], worker_actor, &sh, i);
  engine.run();
  if (deadlock || sh.reason == alg::StopReason::kRunning)
    throw std::runtime_error("the simulation deadlocked before the run finished");
  return sh.reason;
}

}  // namespace efsim::sim
