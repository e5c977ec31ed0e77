#include "sim/network/slot_runner.hpp"

#include <cassert>
#include <memory>
#include <simgrid/s4u.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "algorithms/core/error.hpp"
#include "algorithms/runner/sync_runner.hpp"
#include "platforms/star.hpp"
#include "sim/network/traffic.hpp"

namespace sg4 = simgrid::s4u;

namespace efsim::sim {

namespace {

// What the actors share. A place is one of the round's `slots` positions; host h = place *
// classes + class.
struct Pool {
  alg::MethodInstance* method = nullptr;
  alg::Monitor* monitor = nullptr;
  const platforms::ClientClasses* classes = nullptr;
  std::uint64_t seed = 0;
  int population = 0;
  sg4::Host* master_host = nullptr;
  std::unique_ptr<Traffic> traffic;
  RoundMessages messages;  // up[h]: the upload of the client on host h
  // Per place, for the current round: the client, its host, its node and its stream.
  std::vector<int> client, host;
  std::vector<std::unique_ptr<alg::Node>> node;
  std::vector<alg::Rng> rng;
  std::vector<double> received_at, compute_s, arrived_at;  // per place
  // Per client, between its rounds: the numbers its stream has drawn, and whether it has taken
  // part before (its node resumes past the first step).
  std::vector<std::uint64_t> draws;
  std::vector<char> stepped;
  std::vector<sg4::SemaphorePtr> go;  // per host
  std::vector<int> place_of_host;     // the place a released host serves this round
  sg4::SemaphorePtr done;
  int busy = 0;
  alg::StopReason reason = alg::StopReason::kRunning;
};

// The actor of slot host h: for each round it is given a client, the worker of run_simgrid
// (simgrid_runner.cpp) for that client.
class SlotActor {
 public:
  SlotActor(Pool* pool, int h) : pool_(pool), h_(h) {}
  void operator()() const {
    sg4::Actor::self()->daemonize();  // ends when the master ends
    Pool& P = *pool_;
    RoundMessages& m = P.messages;
    for (;;) {
      P.go[h_]->acquire();
      const int p = P.place_of_host[h_];
      alg::Node& node = *P.node[p];
      const long round = m.round;
      if (round > 0) {
        P.traffic->downlink(h_, m);
        node.receive_model(*m.down);  // partial participation: the model
      }
      P.received_at[p] = sg4::Engine::get_clock();
      m.up[h_] = node.run_step(P.rng[p]);
      const double flops = node.take_flops() * alg::compute_factor(*P.method, round, P.client[p]);
      if (flops > 0) sg4::this_actor::execute(flops);
      P.compute_s[p] = sg4::Engine::get_clock() - P.received_at[p];
      P.traffic->uplink(h_, m);
      P.arrived_at[p] = sg4::Engine::get_clock();
      if (--P.busy == 0) P.done->release();
    }
  }

 private:
  Pool* pool_;
  int h_;
};

class PoolMaster {
 public:
  explicit PoolMaster(Pool* pool) : pool_(pool) {}
  void operator()() const {
    Pool& P = *pool_;
    alg::MethodInstance& method = *P.method;
    alg::Master& master = *method.master;
    RoundMessages& m = P.messages;
    const int classes = P.classes->classes();
    P.reason = P.monitor->observe(0, sg4::Engine::get_clock(), alg::RoundTiming{}, master.x(), 0.0,
                                  0.0, /*deferrable=*/false);
    for (long round = 0; P.reason == alg::StopReason::kRunning; ++round) {
      const std::vector<std::int32_t> ids = method.sampling->sampled(round);
      const int k = static_cast<int>(ids.size());
      for (int p = 0; p < k; ++p) {  // the round's clients take their places
        const int i = ids[p];
        P.client[p] = i;
        P.host[p] = p * classes + P.classes->class_of(i);
        P.place_of_host[P.host[p]] = p;
        P.node[p] = method.make_node(i, P.stepped[i] != 0);
        P.rng[p] = alg::worker_rng(P.seed, i);
        P.rng[p].discard(P.draws[i]);
      }
      const double t0 = sg4::Engine::get_clock();
      m.down = &alg::round_downlink(method);
      m.round = round;
      P.busy = k;
      P.traffic->begin_round(m);
      for (int p = 0; p < k; ++p) P.go[P.host[p]]->release();
      if (P.busy > 0) P.done->acquire();
      const double gathered = sg4::Engine::get_clock();
      assert(!P.monitor->waiting());      // partial participation: metrics are never deferred
      double sent = 0.0, received = 0.0;  // as ParameterServer::bits, over the population
      long skipped = 0;
      for (int p = 0; p < k; ++p) {
        const alg::Message& up = m.up[P.host[p]];
        sent += static_cast<double>(up.size_bytes());
        received += round > 0 ? static_cast<double>(m.down->size_bytes()) : 0.0;
        if (up.empty()) ++skipped;
        master.absorb(P.client[p], up);
      }
      const double up_bits = 8.0 * sent, down_bits = 8.0 * received / P.population;
      for (int p = 0; p < k; ++p) {  // the clients leave: their streams are parked
        const int i = P.client[p];
        P.draws[i] = P.rng[p].draws();  // resumed: counts the earlier draws too
        P.stepped[i] = 1;
        if (method.park_node) method.park_node(i, *P.node[p]);
        P.node[p].reset();
        m.up[P.host[p]] = alg::Message();
      }
      master.finish_round();
      const double flops = master.take_flops();
      if (flops > 0) P.master_host->execute(flops);
      const double end = sg4::Engine::get_clock();
      const alg::RoundTiming timing = alg::round_breakdown(
          t0, std::vector<double>(P.received_at.begin(), P.received_at.begin() + k),
          std::vector<double>(P.compute_s.begin(), P.compute_s.begin() + k),
          std::vector<double>(P.arrived_at.begin(), P.arrived_at.begin() + k), end - gathered);
      P.reason = P.monitor->observe(round + 1, end, timing, master.x(), up_bits, down_bits,
                                    /*deferrable=*/false, skipped);
    }
  }

 private:
  Pool* pool_;
};

}  // namespace

alg::StopReason run_simgrid_slots(const NetworkSetup& net, const platforms::ClientClasses& classes,
                                  int slots, alg::MethodInstance& method, alg::Monitor& monitor,
                                  std::uint64_t seed) {
  if (!method.make_node || !method.sampling || !method.nodes.empty())
    throw std::logic_error("run_simgrid_slots: the method was not made for a population");
  std::vector<std::string> args = {"efsim"};
  for (const auto& o : simgrid_options(net.model)) args.push_back(o);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(args.size());
  sg4::Engine engine(&argc, argv.data());
  try {
    engine.load_platform(net.platform_file);
    engine.seal_platform();
  } catch (const std::exception& e) {
    throw InputError(net.platform_file + ": cannot load SimGrid platform: " + e.what());
  }
  sg4::Host* master_host = engine.host_by_name(platforms::master_host_name());
  std::vector<sg4::Host*> hosts;
  for (int p = 0; p < slots; ++p)
    for (int c = 0; c < classes.classes(); ++c)
      hosts.push_back(engine.host_by_name(platforms::slot_host_name(p, c)));
  Pool P;
  P.method = &method;
  P.monitor = &monitor;
  P.classes = &classes;
  P.seed = seed;
  P.master_host = master_host;
  P.population = method.sampling->population();
  P.traffic = make_traffic(Pattern::kParameterServer, master_host, hosts, 0, 0);
  P.messages.up.resize(hosts.size());
  P.client.assign(slots, 0);
  P.host.assign(slots, 0);
  P.node.resize(slots);
  P.rng.resize(slots);
  P.received_at.assign(slots, 0.0);
  P.compute_s.assign(slots, 0.0);
  P.arrived_at.assign(slots, 0.0);
  P.draws.assign(P.population, 0);
  P.stepped.assign(P.population, 0);
  P.place_of_host.assign(hosts.size(), 0);
  P.done = sg4::Semaphore::create(0);
  for (std::size_t h = 0; h < hosts.size(); ++h) P.go.push_back(sg4::Semaphore::create(0));
  bool deadlock = false;
  sg4::Engine::on_deadlock_cb([&deadlock] { deadlock = true; });
  sg4::Actor::create("master", master_host, PoolMaster(&P));
  for (std::size_t h = 0; h < hosts.size(); ++h)
    sg4::Actor::create(hosts[h]->get_name(), hosts[h], SlotActor(&P, static_cast<int>(h)));
  engine.run();
  if (deadlock || P.reason == alg::StopReason::kRunning)
    throw std::runtime_error("the simulation deadlocked before the run finished");
  return P.reason;
}

}  // namespace efsim::sim
