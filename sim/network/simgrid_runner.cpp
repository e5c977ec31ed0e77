#include "sim/network/simgrid_runner.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <simgrid/s4u.hpp>
#include <stdexcept>
#include <tuple>

#include "algorithms/core/error.hpp"
#include "algorithms/runner/sync_runner.hpp"
#include "platforms/topology.hpp"
#include "sim/network/ns3_setup.hpp"

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

// One synchronous round under SimGrid. The master actor publishes the round (its number and
// the downlink message) and releases go[i] for each worker i taking part; the last worker to
// finish its part of the round releases `done`; the master actor then does the master's math.
// Transfers are blocking host-to-host Comm::sendto (a pull from the master's host is the same
// transfer as a send by the master), synchronised by semaphores: no actor ever has more than
// one pending communication, because SimGrid 3.32's cost per communication grows with the
// pending communications of one actor (a master with 2n asynchronous ones took 31 s for 1000
// workers x 1000 rounds; see README, Performance). Messages travel by pointer, with their real
// encoded size as the simulated size. The communication pattern decides who sends what where:
//   parameter_server  worker i pulls the downlink from the master, pushes its upload to it;
//   tree              a binary tree in heap order over (master, worker 0, ..., worker n-1):
//                     the downlink flows from the master down the tree (each worker pulls it
//                     from its parent), uploads flow up (each worker forwards its subtree's
//                     messages: compressed messages do not add up in place);
//   ring_allgather    n-1 steps: worker i passes the message it got last (its own first) to
//                     worker i+1; afterwards everybody holds every message and aggregates;
//   ring_allreduce    reduce-scatter then all-gather of the dense aggregate in n chunks:
//                     2(n-1) steps of one chunk each.
// The math is the parameter server's in every pattern (the same iterates): the aggregate every
// worker forms is the master's; only the traffic, and so the time, differs. In the ring
// patterns the aggregation runs on the workers (timed on the slowest worker host).
struct Shared {
  alg::MethodInstance* method;
  alg::Monitor* monitor;
  Pattern pattern = Pattern::kParameterServer;
  sg4::Host* master_host = nullptr;
  std::vector<sg4::Host*> worker_hosts;
  std::vector<alg::Rng> rngs;
  std::vector<alg::Message> up;  // worker i's upload, alive until absorbed
  std::vector<sg4::SemaphorePtr> go;
  sg4::SemaphorePtr done;
  int busy = 0;  // workers of the round not yet finished
  long round = 0;
  const alg::Message* down = nullptr;
  // tree: have_down[i] once worker i's parent holds the downlink; have_up[i] once per child
  // that has pushed its subtree to worker i; subtree_bytes[i]: what worker i pushes up.
  // ring: got[i] once per block worker i has received.
  std::vector<sg4::SemaphorePtr> have_down, have_up, got;
  std::vector<std::size_t> subtree_bytes;
  std::size_t chunk_bytes = 0;  // ring_allreduce: one chunk of the dense aggregate
  // Event times of the current round, for the time breakdown (written by the workers).
  std::vector<double> received_at, compute_s, arrived_at;
  alg::StopReason reason = alg::StopReason::kRunning;
  std::size_t min_bytes = 0;  // ns-3: a 0-byte transfer never completes, so at least 1
};

// A blocking host-to-host transfer of `bytes` (the pattern's actors call nothing else).
void send(const Shared* sh, sg4::Host* from, sg4::Host* to, std::size_t bytes) {
  sg4::Comm::sendto(from, to, std::max(bytes, sh->min_bytes));
}

void downlink(Shared* sh, int i, sg4::Host* self) {
  const std::size_t bytes = sh->down->size_bytes();
  if (sh->pattern == Pattern::kParameterServer) {
    send(sh, sh->master_host, self, bytes);
  } else if (sh->pattern == Pattern::kTree) {
    sh->have_down[i]->acquire();
    const int p = tree_parent(i);
    send(sh, p < 0 ? sh->master_host : sh->worker_hosts[p], self, bytes);
    for (int c : tree_children(i, static_cast<int>(sh->worker_hosts.size())))
      sh->have_down[c]->release();
  }  // ring patterns: every worker formed the aggregate itself at the end of the last round
}

void uplink(Shared* sh, int i, sg4::Host* self) {
  const int n = static_cast<int>(sh->worker_hosts.size());
  if (sh->pattern == Pattern::kParameterServer) {
    send(sh, self, sh->master_host, sh->up[i].size_bytes());
  } else if (sh->pattern == Pattern::kTree) {
    const std::vector<int> children = tree_children(i, n);
    for (std::size_t c = 0; c < children.size(); ++c) sh->have_up[i]->acquire();  // all arrived
    std::size_t bytes = sh->up[i].size_bytes();
    for (int c : children) bytes += sh->subtree_bytes[c];
    sh->subtree_bytes[i] = bytes;
    const int p = tree_parent(i);
    send(sh, self, p < 0 ? sh->master_host : sh->worker_hosts[p], bytes);
    if (p >= 0) sh->have_up[p]->release();
  } else if (n > 1) {
    const int next = (i + 1) % n;
    const bool gather = sh->pattern == Pattern::kRingAllGather;
    const int steps = gather ? n - 1 : 2 * (n - 1);
    for (int s = 0; s < steps; ++s) {
      if (s > 0) sh->got[i]->acquire();  // the block to pass on has arrived
      const std::size_t bytes =
          gather ? sh->up[((i - s) % n + n) % n].size_bytes() : sh->chunk_bytes;
      send(sh, self, sh->worker_hosts[next], bytes);
      sh->got[next]->release();
    }
    sh->got[i]->acquire();  // the last block
  }
}

void worker_actor(Shared* sh, int i) {
  sg4::Actor::self()->daemonize();  // ends when the master ends
  alg::Node& node = *sh->method->nodes[i];
  sg4::Host* self = sg4::this_actor::get_host();
  const bool model = alg::receives_model(*sh->method);
  for (;;) {
    sh->go[i]->acquire();  // a round this worker takes part in
    const long round = sh->round;
    if (round > 0) {
      downlink(sh, i, self);
      if (model)
        node.receive_model(*sh->down);
      else
        node.receive(*sh->down);
    }
    sh->received_at[i] = sg4::Engine::get_clock();
    sh->up[i] = node.run_step(sh->rngs[i]);
    const double flops = node.take_flops() * alg::compute_factor(*sh->method, round, i);
    if (flops > 0) sg4::this_actor::execute(flops);
    sh->compute_s[i] = sg4::Engine::get_clock() - sh->received_at[i];
    uplink(sh, i, self);
    sh->arrived_at[i] = sg4::Engine::get_clock();
    if (--sh->busy == 0) sh->done->release();
  }
}

// Bits of a round: all workers' sends, and what one worker receives on average.
void round_bits(const Shared& sh, const std::vector<char>& in, long round, double* up_bits,
                double* down_bits_per_worker) {
  const int n = static_cast<int>(in.size());
  double sent = 0.0, received = 0.0;
  std::size_t all = 0;
  for (int i = 0; i < n; ++i)
    if (in[i]) all += sh.up[i].size_bytes();
  for (int i = 0; i < n; ++i) {
    if (!in[i]) continue;
    const double down = round > 0 ? static_cast<double>(sh.down->size_bytes()) : 0.0;
    switch (sh.pattern) {
      case Pattern::kParameterServer:
        sent += static_cast<double>(sh.up[i].size_bytes());
        received += down;
        break;
      case Pattern::kTree:
        sent += static_cast<double>(sh.subtree_bytes[i]);
        received += down;
        break;
      case Pattern::kRingAllGather:  // every message but its own passes through each worker
        sent += static_cast<double>(all - sh.up[(i + 1) % n].size_bytes());
        received += static_cast<double>(all - sh.up[i].size_bytes());
        break;
      case Pattern::kRingAllReduce:
        sent += 2.0 * (n - 1) * static_cast<double>(sh.chunk_bytes);
        received += 2.0 * (n - 1) * static_cast<double>(sh.chunk_bytes);
        break;
    }
  }
  *up_bits = 8.0 * sent;
  *down_bits_per_worker = 8.0 * received / n;
}

void master_actor(Shared* sh) {
  alg::Master& master = *sh->method->master;
  const int n = static_cast<int>(sh->method->nodes.size());
  const bool defer = alg::metrics_deferrable(*sh->method);
  const bool ring =
      sh->pattern == Pattern::kRingAllGather || sh->pattern == Pattern::kRingAllReduce;
  // Ring patterns aggregate on the workers: the round waits for the slowest worker host.
  sg4::Host* aggregator = ring ? *std::min_element(sh->worker_hosts.begin(), sh->worker_hosts.end(),
                                                   [](sg4::Host* a, sg4::Host* b) {
                                                     return a->get_speed() < b->get_speed();
                                                   })
                               : sh->master_host;
  sh->reason = sh->monitor->observe(0, sg4::Engine::get_clock(), alg::RoundTiming{}, master.x(),
                                    0.0, 0.0, defer);
  for (long round = 0; sh->reason == alg::StopReason::kRunning; ++round) {
    const std::vector<char> in = alg::round_participants(*sh->method, round);
    const double t0 = sg4::Engine::get_clock();
    const alg::Message& down = alg::round_downlink(*sh->method);
    sh->down = &down;
    sh->round = round;
    sh->busy = static_cast<int>(std::count(in.begin(), in.end(), 1));
    if (sh->pattern == Pattern::kTree && round > 0)  // the master holds the downlink
      for (int c : {0, 1})
        if (c < n) sh->have_down[c]->release();
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
    round_bits(*sh, in, round, &up_bits, &down_bits);
    std::vector<double> received_at, compute_s, arrived_at;  // of the workers taking part
    for (int i = 0; i < n; ++i) {
      if (!in[i]) continue;
      master.absorb(i, sh->up[i]);
      received_at.push_back(sh->received_at[i]);
      compute_s.push_back(sh->compute_s[i]);
      arrived_at.push_back(sh->arrived_at[i]);
    }
    master.finish_round();
    const double flops = master.take_flops();
    if (flops > 0) aggregator->execute(flops);
    const double end = sg4::Engine::get_clock();
    const alg::RoundTiming timing =
        alg::round_breakdown(t0, received_at, compute_s, arrived_at, end - gathered);
    sh->reason =
        sh->monitor->observe(round + 1, end, timing, master.x(), up_bits, down_bits, defer);
  }
}

// Every pair of hosts the pattern sends between must have a route: checked before the run, so
// a platform file without one fails with a clear message instead of a SimGrid abort.
void check_routes(const NetworkSetup& net, sg4::Host* master, const std::vector<sg4::Host*>& w) {
  const int n = static_cast<int>(w.size());
  std::vector<std::pair<sg4::Host*, sg4::Host*>> pairs;
  for (int i = 0; i < n; ++i) {
    switch (net.pattern) {
      case Pattern::kParameterServer:
        pairs.emplace_back(master, w[i]);
        pairs.emplace_back(w[i], master);
        break;
      case Pattern::kTree: {
        const int p = tree_parent(i);
        pairs.emplace_back(p < 0 ? master : w[p], w[i]);
        pairs.emplace_back(w[i], p < 0 ? master : w[p]);
        break;
      }
      case Pattern::kRingAllGather:
      case Pattern::kRingAllReduce:
        if (n > 1) pairs.emplace_back(w[i], w[(i + 1) % n]);
        break;
    }
  }
  for (const auto& [a, b] : pairs) {
    std::vector<sg4::Link*> links;
    double latency = 0.0;
    bool ok = true;
    try {
      a->route_to(b, links, &latency);
      ok = !links.empty() || a == b;
    } catch (const std::exception&) {
      ok = false;
    }
    if (!ok)
      throw InputError(net.platform_file + ": no route from " + a->get_name() + " to " +
                       b->get_name() + " (pattern " + to_string(net.pattern) + " sends there)");
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
  } else if (model == "cm02") {
    opts.push_back("--cfg=network/model:CM02");  // flow model without LV08's TCP calibration
  } else if (model == "ns3") {
    opts.push_back("--cfg=network/model:ns-3");  // packet-level TCP (ns3_setup.hpp)
  }
  return opts;
}

namespace {

// The SimGrid engine of this process, with the platform loaded (one engine per process).
std::unique_ptr<sg4::Engine> make_engine(const NetworkSetup& net,
                                         std::optional<Ns3LinkedHosts>* ns3_links = nullptr) {
  std::vector<std::string> args = {"efsim"};
  for (const auto& o : simgrid_options(net.model)) args.push_back(o);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(args.size());
  auto engine = std::make_unique<sg4::Engine>(&argc, argv.data());
  if (net.model == "ns3") {
    configure_ns3();
    if (ns3_links != nullptr) ns3_links->emplace();
  }
  try {
    engine->load_platform(net.platform_file);
    engine->seal_platform();
  } catch (const std::exception& e) {
    throw InputError(net.platform_file + ": cannot load SimGrid platform: " + e.what());
  }
  return engine;
}

// The master host and the worker hosts, in worker order (explicit names, or the hosts matching
// the glob in natural name order).
std::pair<sg4::Host*, std::vector<sg4::Host*>> resolve_hosts(const sg4::Engine& engine,
                                                             const NetworkSetup& net) {
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
  if (worker_hosts.empty())
    throw InputError(net.platform_file + ": no worker host matches '" + net.workers_glob + "'");
  return {master_host, worker_hosts};
}

// The engine with the platform loaded, and the master and worker hosts.
struct OpenPlatform {
  std::unique_ptr<sg4::Engine> engine;
  sg4::Host* master = nullptr;
  std::vector<sg4::Host*> workers;
};

OpenPlatform open_platform(const NetworkSetup& net) {
  std::optional<Ns3LinkedHosts> ns3_links;
  OpenPlatform p;
  p.engine = make_engine(net, &ns3_links);
  std::tie(p.master, p.workers) = resolve_hosts(*p.engine, net);
  if (ns3_links) {
    std::vector<std::string> names = {p.master->get_name()};
    for (const sg4::Host* w : p.workers) names.push_back(w->get_name());
    ns3_links->check(net.platform_file, names);
  }
  return p;
}

}  // namespace

platforms::RoutedPlatform load_routes(const NetworkSetup& net) {
  const auto [engine, master, workers] = open_platform(net);
  platforms::RoutedPlatform p;
  p.source = net.platform_file;
  p.hosts = engine->get_host_count();
  std::set<std::string> base_names;  // a SPLITDUPLEX link is two link objects, _UP and _DOWN
  for (const sg4::Link* l : engine->get_all_links()) {
    std::string name = l->get_name();
    if (name.rfind("__", 0) == 0) continue;  // SimGrid's own (the loopback)
    for (const char* suffix : {"_UP", "_DOWN"})
      if (name.size() > std::strlen(suffix) &&
          name.compare(name.size() - std::strlen(suffix), std::string::npos, suffix) == 0)
        name.resize(name.size() - std::strlen(suffix));
    base_names.insert(name);
  }
  p.links = base_names.size();
  auto route = [&](sg4::Host* a, sg4::Host* b) {
    std::vector<sg4::Link*> links;
    double latency = 0.0;
    a->route_to(b, links, &latency);
    if (links.empty())
      throw InputError(net.platform_file + ": no route from " + a->get_name() + " to " +
                       b->get_name());
    platforms::RoutedPlatform::Route r;
    r.latency_s = latency;
    for (const sg4::Link* l : links) {
      r.links.push_back(l->get_name());
      p.bandwidth_Bps[l->get_name()] = l->get_bandwidth();
    }
    return r;
  };
  for (sg4::Host* w : workers) {
    p.workers.push_back(w->get_name());
    p.down.push_back(route(master, w));
    p.up.push_back(route(w, master));
  }
  p.master = master->get_name();
  return p;
}

alg::StopReason run_simgrid(const NetworkSetup& net, alg::MethodInstance& method,
                            alg::Monitor& monitor, std::uint64_t seed) {
  const auto [engine, master_host, worker_hosts] = open_platform(net);
  const int n = static_cast<int>(method.nodes.size());
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
  sh.worker_hosts = worker_hosts;
  sh.pattern = net.pattern;
  if (net.model == "ns3") sh.min_bytes = 1;
  if (net.pattern != Pattern::kParameterServer && alg::partial(method))
    throw InputError("pattern " + to_string(net.pattern) +
                     ": needs every worker in every round (no partial participation)");
  check_routes(net, master_host, worker_hosts);
  sh.done = sg4::Semaphore::create(0);
  sh.subtree_bytes.assign(n, 0);
  for (int i = 0; i < n; ++i) {
    sh.go.push_back(sg4::Semaphore::create(0));
    sh.have_down.push_back(sg4::Semaphore::create(0));
    sh.have_up.push_back(sg4::Semaphore::create(0));
    sh.got.push_back(sg4::Semaphore::create(0));
  }
  if (net.pattern == Pattern::kRingAllReduce) {  // one n-th of the dense aggregate, on the wire
    const std::size_t dense = alg::dense_message_bytes(method.master->x().size(), net.wire);
    sh.chunk_bytes = (dense + static_cast<std::size_t>(n) - 1) / static_cast<std::size_t>(n);
  }
  bool deadlock = false;
  sg4::Engine::on_deadlock_cb([&deadlock] { deadlock = true; });
  sg4::Actor::create("master", master_host, master_actor, &sh);
  for (int i = 0; i < n; ++i)
    sg4::Actor::create("worker-" + std::to_string(i), worker_hosts[i], worker_actor, &sh, i);
  engine->run();
  if (deadlock || sh.reason == alg::StopReason::kRunning)
    throw std::runtime_error("the simulation deadlocked before the run finished");
  return sh.reason;
}

}  // namespace efsim::sim
