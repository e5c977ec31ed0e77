#include "sim/network/simgrid_runner.hpp"

#include <simgrid/plugins/energy.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
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
#include "platforms/star.hpp"
#include "platforms/topology.hpp"
#include "sim/network/dynamic_runner.hpp"
#include "sim/network/ns3_setup.hpp"
#include "sim/network/step_pool.hpp"
#include "sim/network/traffic.hpp"

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
// What the actors of one run share: the method, the observer, the pattern's traffic, the round
// and its synchronisation, and the event times of the round (for the time breakdown).
struct Shared {
  alg::MethodInstance* method;
  alg::Monitor* monitor;
  std::unique_ptr<Traffic> traffic;
  RoundMessages messages;
  std::vector<alg::Rng> rngs;
  std::vector<sg4::SemaphorePtr> go;  // worker i takes part in the published round
  sg4::SemaphorePtr done;             // the last worker of the round has finished its part
  int busy = 0;                       // workers of the round not yet finished
  std::vector<double> received_at, compute_s, arrived_at;  // written by the workers
  alg::StopReason reason = alg::StopReason::kRunning;
  // --threads N > 1: the master runs the round's receives and starts its steps on the pool
  // before the transfers (start_steps); each worker waits for its own step after its downlink
  // and picks up its upload and flops.
  std::vector<int> stepping;         // the round's workers, in worker order
  std::vector<int> task_of;          // worker i's task in the pool's batch
  std::vector<alg::Message> pre_up;  // worker i's upload of the round
  std::vector<double> pre_flops;     // and the flops it counted (receive and step)
  std::function<void(int)> step_task;
  std::unique_ptr<StepPool> pool;  // last: destroyed first, while its tasks' data still lives
};

// The math of a round's workers, started ahead of its simulated transfers on the thread pool
// (the helpers compute while this thread simulates): the same calls as the worker actors make,
// so the same bits. Every worker of a round receives the same downlink message (the aggregate,
// or the model under partial participation or `downlink: model`), and Node::step touches only
// its own node's state, the read-only shared data and per-thread scratch (algorithms/README.md,
// invariant 8). The receives run first, on this thread and in worker order, because replicas
// of x share their updates (ModelReplica); then the steps run in parallel. Simulated time is
// untouched: the actors still charge each worker's flops after its own downlink, and the
// uploads travel as before.
void start_steps(Shared* sh, const std::vector<char>& in, long round) {
  const bool model = alg::receives_model(*sh->method);
  auto& nodes = sh->method->nodes;
  const auto& down = *sh->messages.down;
  sh->stepping.clear();
  for (int i = 0; i < static_cast<int>(in.size()); ++i) {
    if (!in[i]) continue;
    sh->task_of[i] = static_cast<int>(sh->stepping.size());
    sh->stepping.push_back(i);
    if (round > 0) {
      if (model)
        nodes[i]->receive_model(down);
      else
        nodes[i]->receive(down);
    }
  }
  sh->pool->start(static_cast<int>(sh->stepping.size()), sh->step_task);
}

// Worker i: for each round it takes part in, receive the downlink, run the method's step
// (compute charged as counted flops / host speed), and upload.
class WorkerActor {
 public:
  WorkerActor(Shared* sh, int i) : sh_(sh), i_(i) {}
  void operator()() const {
    sg4::Actor::self()->daemonize();  // ends when the master ends
    alg::Node& node = *sh_->method->nodes[i_];
    const bool model = alg::receives_model(*sh_->method);
    RoundMessages& m = sh_->messages;
    for (;;) {
      sh_->go[i_]->acquire();  // a round this worker takes part in
      const long round = m.round;
      const bool ready = sh_->pool != nullptr;  // start_steps has this worker's math under way
      if (round > 0) {
        sh_->traffic->downlink(i_, m);
        if (!ready && model)
          node.receive_model(*m.down);
        else if (!ready)
          node.receive(*m.down);
      }
      sh_->received_at[i_] = sg4::Engine::get_clock();
      double flops = 0.0;
      if (ready) {
        sh_->pool->wait(sh_->task_of[i_]);
        m.up[i_] = std::move(sh_->pre_up[i_]);
        flops = sh_->pre_flops[i_];
      } else {
        m.up[i_] = node.run_step(sh_->rngs[i_]);
        flops = node.take_flops();
      }
      flops *= alg::compute_factor(*sh_->method, round, i_);
      if (flops > 0) sg4::this_actor::execute(flops);
      sh_->compute_s[i_] = sg4::Engine::get_clock() - sh_->received_at[i_];
      sh_->traffic->uplink(i_, m);
      sh_->arrived_at[i_] = sg4::Engine::get_clock();
      if (--sh_->busy == 0) sh_->done->release();
    }
  }

 private:
  Shared* sh_;
  int i_;
};

// The master: publishes each round, waits for the workers, does the master's math (on the
// slowest worker host when the workers aggregate themselves), and hands the round to the
// observer until its stop rule fires.
class MasterActor {
 public:
  MasterActor(Shared* sh, sg4::Host* aggregator) : sh_(sh), aggregator_(aggregator) {}
  void operator()() const {
    alg::Master& master = *sh_->method->master;
    const int n = static_cast<int>(sh_->method->nodes.size());
    const bool defer = alg::metrics_deferrable(*sh_->method);
    RoundMessages& m = sh_->messages;
    sh_->reason = sh_->monitor->observe(0, sg4::Engine::get_clock(), alg::RoundTiming{}, master.x(),
                                        0.0, 0.0, defer);
    for (long round = 0; sh_->reason == alg::StopReason::kRunning; ++round) {
      const std::vector<char> in = alg::round_participants(*sh_->method, round);
      const double t0 = sg4::Engine::get_clock();
      m.down = &alg::round_downlink(*sh_->method);
      m.round = round;
      sh_->busy = static_cast<int>(std::count(in.begin(), in.end(), 1));
      sh_->traffic->begin_round(m);
      if (sh_->pool) start_steps(sh_, in, round);
      for (int i = 0; i < n; ++i)
        if (in[i]) sh_->go[i]->release();
      if (sh_->busy > 0) sh_->done->acquire();
      if (sh_->pool) sh_->pool->wake();  // the next round's steps start after the master's work
      const double gathered = sg4::Engine::get_clock();
      if (sh_->monitor->waiting()) {
        // The workers evaluated at the waiting row's x in this round; they are now blocked on
        // their next go, so their evaluations are intact. Observer only: no simulated time.
        sh_->reason = sh_->monitor->supply(alg::evaluations(*sh_->method));
        if (sh_->reason != alg::StopReason::kRunning) break;
      }
      double up_bits = 0.0, down_bits = 0.0;
      sh_->traffic->bits(m, in, &up_bits, &down_bits);
      std::vector<double> received_at, compute_s, arrived_at;  // of the workers taking part
      long skipped = 0;
      for (int i = 0; i < n; ++i) {
        if (!in[i]) continue;
        if (m.up[i].empty()) ++skipped;  // a lazy worker sent nothing
        master.absorb(i, m.up[i]);
        received_at.push_back(sh_->received_at[i]);
        compute_s.push_back(sh_->compute_s[i]);
        arrived_at.push_back(sh_->arrived_at[i]);
      }
      master.finish_round();
      const double flops = master.take_flops();
      if (flops > 0) aggregator_->execute(flops);
      const double end = sg4::Engine::get_clock();
      const alg::RoundTiming timing =
          alg::round_breakdown(t0, received_at, compute_s, arrived_at, end - gathered);
      sh_->reason = sh_->monitor->observe(round + 1, end, timing, master.x(), up_bits, down_bits,
                                          defer, skipped);
    }
  }

 private:
  Shared* sh_;
  sg4::Host* aggregator_;
};

// Every pair of hosts the pattern sends between must have a route: checked before the run, so
// a platform file without one fails with a clear message instead of a SimGrid abort.
void check_routes(const NetworkSetup& net, const Traffic& traffic, sg4::Host* master,
                  const std::vector<sg4::Host*>& w) {
  std::vector<std::pair<sg4::Host*, sg4::Host*>> pairs;
  for (const auto& [from, to] : traffic.routes())
    pairs.emplace_back(from < 0 ? master : w[from], to < 0 ? master : w[to]);
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

std::vector<std::string> simgrid_options(const std::string& model, bool lazy_cpu) {
  // cpu/optim:TI: the CPU model's trace-integration update, exact for hosts of constant speed
  // (all of ours) and about 4 % faster per round than the default lazy one on a9a.
  std::vector<std::string> opts = {"--log=root.thres:critical"};
  if (!lazy_cpu) opts.push_back("--cfg=cpu/optim:TI");
#ifdef __SANITIZE_ADDRESS__
  // AddressSanitizer builds (./run.sh sanitize): every actor on a thread of its own. On SimGrid's
  // swapped stacks ASan cannot unpoison a frame an exception unwinds (deadlines, hosts going off
  // throw inside actors: "ASan is ignoring requested __asan_handle_no_return"), and the stale
  // poison later reads as a stack-buffer-overflow. Thread stacks are ones ASan knows. The
  // simulation is the same (actors still run one at a time, in the same order).
  opts.push_back("--cfg=contexts/factory:thread");
#endif
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
  for (const auto& o : simgrid_options(net.model, net.energy || net.speed_profiles))
    args.push_back(o);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(args.size());
  auto engine = std::make_unique<sg4::Engine>(&argc, argv.data());
  if (net.energy) {  // before the platform: the plugins read the hosts' power properties
    sg_host_energy_plugin_init();
    sg_link_energy_plugin_init();
  }
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
  std::vector<std::string> all;
  for (const sg4::Host* h : engine.get_all_hosts()) all.push_back(h->get_name());
  std::sort(all.begin(), all.end(), natural_less);
  auto hosts_list = [](const std::vector<std::string>& names) {
    std::string list;
    for (std::size_t i = 0; i < names.size() && i < 12; ++i) list += (i ? ", " : "") + names[i];
    if (names.size() > 12) list += ", ... (" + std::to_string(names.size()) + " hosts)";
    return list;
  };
  auto is_worker = [&net](const std::string& name) {
    if (!net.workers.empty())
      return std::find(net.workers.begin(), net.workers.end(), name) != net.workers.end();
    return glob_match(net.workers_glob.c_str(), name.c_str());
  };
  std::string master = net.master;
  if (master.empty()) {  // "master", or else the one host that is not a worker
    std::vector<std::string> others;
    for (const auto& name : all)
      if (!is_worker(name)) others.push_back(name);
    if (engine.host_by_name_or_null("master") != nullptr)
      master = "master";
    else if (others.size() == 1)
      master = others.front();
    else
      throw InputError(net.platform_file + ": no host named 'master', and " +
                       (others.empty()
                            ? std::string("every host is a worker")
                            : std::to_string(others.size()) + " hosts are not workers (" +
                                  hosts_list(others) + ")") +
                       ": name the master with " + net.master_option);
  }
  sg4::Host* master_host = engine.host_by_name_or_null(master);
  if (master_host == nullptr)
    throw InputError(net.platform_file + ": no host named '" + master +
                     "' (the master); the hosts are " + hosts_list(all) +
                     ": name the master with " + net.master_option);
  std::vector<sg4::Host*> worker_hosts;
  if (!net.workers.empty()) {
    for (const auto& name : net.workers) {
      sg4::Host* h = engine.host_by_name_or_null(name);
      if (h == nullptr)
        throw InputError(net.platform_file + ": no host named '" + name +
                         "' (a worker); the hosts are " + hosts_list(all));
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
    throw InputError(net.platform_file + ": no worker host matches '" + net.workers_glob +
                     "'; the hosts are " + hosts_list(all));
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

namespace {

// Reads SimGrid's energy plugins: every host's Joules, and each worker's own link (both
// directions) with its network-interface watts while it carries a transfer.
class EnergyMeter {
 public:
  EnergyMeter(const sg4::Engine& engine, const NetworkSetup& net, sg4::Host* master,
              const std::vector<sg4::Host*>& workers)
      : master_(master), workers_(workers), links_(workers.size()) {
    for (std::size_t i = 0; i < workers.size(); ++i) {
      const double watts = i < net.transfer_W.size() ? net.transfer_W[i] : 0.0;
      for (const char* side : {"_UP", "_DOWN"}) {
        sg4::Link* l = engine.link_by_name_or_null(workers[i]->get_name() + "-link" + side);
        if (l == nullptr) continue;  // no link of that name (platform files)
        // SimGrid's link energy plugin: "idle:busy" watts, busy scaled by the link's usage.
        l->set_property("wattage_range", "0:" + platforms::xml_number(watts));
        links_[i].push_back(l);
      }
    }
  }
  double worker_J(std::size_t i) const {
    double j = sg_host_get_consumed_energy(workers_[i]);
    for (const sg4::Link* l : links_[i]) j += sg_link_get_consumed_energy(l);
    return j;
  }
  double total_J() const {
    double j = sg_host_get_consumed_energy(master_);
    for (std::size_t i = 0; i < workers_.size(); ++i) j += worker_J(i);
    return j;
  }
  EnergyReport report(const NetworkSetup& net) const {
    EnergyReport r;
    r.master_J = sg_host_get_consumed_energy(master_);
    int classes = 0;
    for (int c : net.worker_class) classes = std::max(classes, c + 1);
    r.by_class_J.assign(classes, 0.0);
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      const double j = worker_J(i);
      r.workers_J += j;
      if (i < net.worker_class.size() && net.worker_class[i] >= 0)
        r.by_class_J[net.worker_class[i]] += j;
    }
    r.total_J = total_J();  // summed as the trace's energy_J is: the same bits
    return r;
  }

 private:
  sg4::Host* master_;
  std::vector<sg4::Host*> workers_;
  std::vector<std::vector<sg4::Link*>> links_;
};

alg::StopReason run_on_platform(const NetworkSetup& net, alg::MethodInstance& method,
                                alg::Monitor& monitor, std::uint64_t seed, sg4::Engine& engine,
                                sg4::Host* master_host,
                                const std::vector<sg4::Host*>& worker_hosts);

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
                            alg::Monitor& monitor, std::uint64_t seed, EnergyReport* energy) {
  const auto [engine, master_host, worker_hosts] = open_platform(net);
  const int n = static_cast<int>(method.nodes.size());
  if (static_cast<int>(worker_hosts.size()) != n)
    throw InputError(net.platform_file + ": " + std::to_string(worker_hosts.size()) +
                     " worker hosts found but the problem has " + std::to_string(n) + " workers");
  std::optional<EnergyMeter> meter;
  if (net.energy) {
    meter.emplace(*engine, net, master_host, worker_hosts);
    monitor.set_energy_probe([&meter] { return meter->total_J(); });
  }
  const alg::StopReason reason =
      run_on_platform(net, method, monitor, seed, *engine, master_host, worker_hosts);
  if (meter) {
    monitor.set_energy_probe(nullptr);
    if (energy != nullptr) *energy = meter->report(net);
  }
  return reason;
}

namespace {

alg::StopReason run_on_platform(const NetworkSetup& net, alg::MethodInstance& method,
                                alg::Monitor& monitor, std::uint64_t seed, sg4::Engine& engine_ref,
                                sg4::Host* master_host,
                                const std::vector<sg4::Host*>& worker_hosts) {
  sg4::Engine* engine = &engine_ref;
  const int n = static_cast<int>(method.nodes.size());

  if (net.dynamic_rounds()) {
    if (net.pattern != Pattern::kParameterServer)
      throw InputError("round deadlines and availability need pattern parameter_server");
    if (net.model == "ns3")
      throw InputError("round deadlines and availability need a flow model (not ns3)");
    return run_dynamic(net.round_deadline_s, net.round_quantile, method, monitor, seed, *engine,
                       master_host, worker_hosts);
  }
  if (net.pattern != Pattern::kParameterServer && alg::partial(method))
    throw InputError("pattern " + to_string(net.pattern) +
                     ": needs every worker in every round (no partial participation)");
  std::size_t chunk_bytes = 0;
  if (net.pattern == Pattern::kRingAllGather && method.summable_uploads)
    throw InputError("pattern ring_allgather: the method's uploads add up; use ring_allreduce");
  if (net.pattern == Pattern::kRingAllReduce) {  // one n-th of the dense aggregate, on the wire
    const std::size_t dense = alg::dense_message_bytes(method.master->x().size(), net.wire);
    chunk_bytes = (dense + static_cast<std::size_t>(n) - 1) / static_cast<std::size_t>(n);
  }
  Shared sh;
  sh.method = &method;
  sh.monitor = &monitor;
  // ns-3: a 0-byte transfer never completes (ns3_setup.hpp), so every transfer is >= 1 byte.
  sh.traffic = make_traffic(net.pattern, master_host, worker_hosts, net.model == "ns3" ? 1 : 0,
                            chunk_bytes, method.summable_uploads);
  check_routes(net, *sh.traffic, master_host, worker_hosts);
  sh.rngs = alg::worker_rngs(seed, n);
  sh.messages.up.resize(n);
  sh.received_at.assign(n, 0.0);
  sh.compute_s.assign(n, 0.0);
  sh.arrived_at.assign(n, 0.0);
  if (net.threads > 1 && n > 1) {
    sh.task_of.assign(n, -1);
    sh.pre_up.resize(n);
    sh.pre_flops.assign(n, 0.0);
    Shared* shp = &sh;
    sh.step_task = [shp](int k) {
      const int i = shp->stepping[static_cast<std::size_t>(k)];
      alg::Node& node = *shp->method->nodes[i];
      shp->pre_up[i] = node.run_step(shp->rngs[i]);
      shp->pre_flops[i] = node.take_flops();
    };
    sh.pool = std::make_unique<StepPool>(std::min(net.threads, n));
  }
  sh.done = sg4::Semaphore::create(0);
  for (int i = 0; i < n; ++i) sh.go.push_back(sg4::Semaphore::create(0));
  // Ring patterns aggregate on the workers: the round waits for the slowest worker host.
  sg4::Host* aggregator = sh.traffic->aggregates_on_workers()
                              ? *std::min_element(worker_hosts.begin(), worker_hosts.end(),
                                                  [](sg4::Host* a, sg4::Host* b) {
                                                    return a->get_speed() < b->get_speed();
                                                  })
                              : master_host;
  bool deadlock = false;
  sg4::Engine::on_deadlock_cb([&deadlock] { deadlock = true; });
  sg4::Actor::create("master", master_host, MasterActor(&sh, aggregator));
  for (int i = 0; i < n; ++i)
    sg4::Actor::create("worker-" + std::to_string(i), worker_hosts[i], WorkerActor(&sh, i));
  engine->run();
  if (deadlock || sh.reason == alg::StopReason::kRunning)
    throw std::runtime_error("the simulation deadlocked before the run finished");
  return sh.reason;
}

}  // namespace

}  // namespace efsim::sim
