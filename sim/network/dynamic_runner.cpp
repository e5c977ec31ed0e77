#include "sim/network/dynamic_runner.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <simgrid/Exception.hpp>
#include <stdexcept>

#include "algorithms/runner/sync_runner.hpp"

namespace sg4 = simgrid::s4u;

namespace efsim::sim {

namespace {

// A worker in a round: selected (its go released), running (it took the go), stepped (its
// node has stepped: a lost upload must be dropped), and how its part ended.
enum class Status { kIdle, kSelected, kRunning, kStepped, kArrived, kDropped, kLost };

struct Shared {
  alg::MethodInstance* method;
  alg::Monitor* monitor;
  sg4::Host* master;
  std::vector<sg4::Host*> hosts;
  std::vector<alg::Rng> rngs;
  std::vector<sg4::SemaphorePtr> go;
  sg4::SemaphorePtr done;
  int busy = 0;
  long round = 0;
  const alg::Message* down = nullptr;
  double close_at = std::numeric_limits<double>::infinity();
  // The quantile rule: the round closes once `need` uploads have arrived (0: no such rule).
  // `woken`: done was released in the current phase of the round (see MasterActor).
  int need = 0, arrived = 0;
  bool woken = false, closed = false;
  std::vector<sg4::ActivityPtr> current;  // the activity each worker waits for (or null)
  std::vector<alg::Message> up;
  std::vector<Status> status;
  std::vector<double> received_at, compute_s, arrived_at;
  alg::StopReason reason = alg::StopReason::kRunning;
};

// The master waits for `done`, released once per phase of a round: first when every
// participant is through or (quantile rule) enough uploads have arrived, then, when the quantile
// closed the round early, when the participants it cut off are through.
bool round_can_close(const Shared* sh) {
  return sh->busy == 0 || (!sh->closed && sh->need > 0 && sh->arrived >= sh->need);
}

// Waits for an activity of worker i until the round closes; throws simgrid::TimeoutException
// (after cancelling it) when the time limit passes first, simgrid::CancelException (or another
// simgrid::Exception) when the quantile rule closed the round and the master cancelled it.
void wait_in_round(Shared* sh, int i, const sg4::ActivityPtr& a, double close_at) {
  sh->current[i] = a;
  if (!std::isfinite(close_at)) {
    a->wait();
    sh->current[i] = nullptr;
    return;
  }
  try {
    a->wait_until(close_at);
  } catch (const simgrid::TimeoutException&) {
    a->cancel();
    sh->current[i] = nullptr;
    throw;
  }
  sh->current[i] = nullptr;
}

// The worker's part of a round is over (arrived, dropped or lost).
void finish(Shared* sh) {
  --sh->busy;
  if (!sh->woken && round_can_close(sh)) {
    sh->woken = true;
    sh->done->release();
  }
}

class WorkerActor {
 public:
  WorkerActor(Shared* sh, int i) : sh_(sh), i_(i) {}
  void operator()() const {
    sg4::Actor::self()->daemonize();  // ends when the master ends
    Shared* sh = sh_;
    const int i = i_;
    alg::Node& node = *sh->method->nodes[i];
    sg4::Host* me = sh->hosts[i];
    for (;;) {
      sh->go[i]->acquire();
      // A go of a round it was lost in (its host went off before it took the go).
      if (sh->status[i] != Status::kSelected) continue;
      sh->status[i] = Status::kRunning;
      const double close_at = sh->close_at;
      // The quantile rule closed the round before this worker took its go (only when uploads
      // take no time): it takes no part.
      if (sh->closed) {
        sh->status[i] = Status::kDropped;
        finish(sh);
        continue;
      }
      try {
        if (sh->round > 0) {
          if (sh->down->size_bytes() > 0)
            wait_in_round(sh, i, sg4::Comm::sendto_async(sh->master, me, sh->down->size_bytes()),
                          close_at);
          node.receive_model(*sh->down);
        }
        sh->received_at[i] = sg4::Engine::get_clock();
        sh->up[i] = node.run_step(sh->rngs[i]);
        sh->status[i] = Status::kStepped;
        const double flops = node.take_flops() * alg::compute_factor(*sh->method, sh->round, i);
        if (flops > 0) wait_in_round(sh, i, sg4::this_actor::exec_async(flops), close_at);
        sh->compute_s[i] = sg4::Engine::get_clock() - sh->received_at[i];
        if (sh->up[i].size_bytes() > 0)
          wait_in_round(sh, i, sg4::Comm::sendto_async(me, sh->master, sh->up[i].size_bytes()),
                        close_at);
        sh->arrived_at[i] = sg4::Engine::get_clock();
        sh->status[i] = Status::kArrived;
        ++sh->arrived;
      } catch (const simgrid::Exception&) {  // the time limit passed, or the quantile closed
        sh->current[i] = nullptr;
        if (sh->status[i] == Status::kStepped) node.drop_last_upload();
        sh->status[i] = Status::kDropped;
      }
      finish(sh);
    }
  }

 private:
  Shared* sh_;
  int i_;
};

class MasterActor {
 public:
  MasterActor(Shared* sh, double deadline_s, double quantile)
      : sh_(sh), deadline_s_(deadline_s), quantile_(quantile) {}
  void operator()() const {
    Shared* sh = sh_;
    alg::Master& master = *sh->method->master;
    const int n = static_cast<int>(sh->method->nodes.size());
    sh->reason =
        sh->monitor->observe(0, sg4::Engine::get_clock(), alg::RoundTiming{}, master.x(), 0, 0);
    for (long round = 0; sh->reason == alg::StopReason::kRunning; ++round) {
      const std::vector<char> in = alg::round_participants(*sh->method, round);
      const double t0 = sg4::Engine::get_clock();
      sh->round = round;
      sh->down = &master.model();
      sh->close_at = t0 + deadline_s_;
      alg::Participation part;
      std::vector<int> selected;
      for (int i = 0; i < n; ++i) {
        if (!in[i]) continue;
        if (!sh->hosts[i]->is_on()) {
          ++part.off;
          continue;
        }
        sh->status[i] = Status::kSelected;
        selected.push_back(i);
      }
      sh->busy = static_cast<int>(selected.size());
      // The quantile rule: the fastest ceil(q m) of the m participants (the small slack keeps
      // q m that is an integer up to rounding, e.g. 0.7 * 10, from asking for one more).
      sh->need =
          quantile_ > 0
              ? static_cast<int>(std::ceil(quantile_ * static_cast<double>(selected.size()) - 1e-9))
              : 0;
      sh->arrived = 0;
      sh->woken = false;
      sh->closed = false;
      for (int i : selected) sh->go[i]->release();
      if (sh->busy > 0) {
        sh->done->acquire();
        if (sh->busy > 0) {
          // Enough uploads arrived (every upload that arrived at this same instant is in:
          // SimGrid wakes the actors whose activities end at one time before the master that
          // the last of them woke): cancel what the others wait for, and wait until they are
          // through (a worker that has not yet taken its go sees `closed`).
          sh->closed = true;
          sh->woken = false;
          for (int i : selected)
            if (sh->current[i] && sh->current[i]->get_state() != sg4::Activity::State::FINISHED)
              sh->current[i]->cancel();
          sh->done->acquire();
        }
      } else if (std::isfinite(sh->close_at)) {
        sg4::this_actor::sleep_until(sh->close_at);  // nobody to wait for: the round's time
      }
      const double gathered = sg4::Engine::get_clock();
      std::vector<double> received_at, compute_s, arrived_at;
      double up_bits = 0, last_used = t0;
      bool got_down = false;
      for (int i : selected) {
        if (sh->status[i] != Status::kArrived) continue;
        ++part.used;
        received_at.push_back(sh->received_at[i]);
        compute_s.push_back(sh->compute_s[i]);
        arrived_at.push_back(sh->arrived_at[i]);
        last_used = std::max(last_used, sh->arrived_at[i]);
        up_bits += 8.0 * static_cast<double>(sh->up[i].size_bytes());
        got_down = true;
      }
      part.dropped = static_cast<long>(selected.size()) - part.used;
      // The round waited past its last used upload only for uploads that never came (or, with
      // nobody to wait for, until its deadline).
      part.time_lost_s = gathered - last_used;
      master.realised_uploads(static_cast<int>(part.used));
      for (int i : selected)
        if (sh->status[i] == Status::kArrived) master.absorb(i, sh->up[i]);
      master.finish_round();
      const double flops = master.take_flops();
      if (flops > 0) sh->master->execute(flops);
      const double end = sg4::Engine::get_clock();
      alg::RoundTiming timing =
          alg::round_breakdown(t0, received_at, compute_s, arrived_at, end - gathered);
      const double down_bits =
          round > 0 && got_down ? 8.0 * static_cast<double>(sh->down->size_bytes()) : 0.0;
      sh->monitor->add_participation(part);
      sh->reason = sh->monitor->observe(round + 1, end, timing, master.x(), up_bits, down_bits);
    }
  }

 private:
  Shared* sh_;
  double deadline_s_, quantile_;
};

}  // namespace

alg::StopReason run_dynamic(double deadline_s, double quantile, alg::MethodInstance& method,
                            alg::Monitor& monitor, std::uint64_t seed, sg4::Engine& engine,
                            sg4::Host* master, const std::vector<sg4::Host*>& workers) {
  const int n = static_cast<int>(method.nodes.size());
  Shared sh;
  sh.method = &method;
  sh.monitor = &monitor;
  sh.master = master;
  sh.hosts = workers;
  sh.rngs = alg::worker_rngs(seed, n);
  sh.up.resize(n);
  sh.status.assign(n, Status::kIdle);
  sh.received_at.assign(n, 0.0);
  sh.compute_s.assign(n, 0.0);
  sh.arrived_at.assign(n, 0.0);
  sh.current.resize(n);
  sh.done = sg4::Semaphore::create(0);
  for (int i = 0; i < n; ++i) sh.go.push_back(sg4::Semaphore::create(0));
  bool deadlock = false;
  sg4::Engine::on_deadlock_cb([&deadlock] { deadlock = true; });
  // A worker host goes off: SimGrid kills its actor wherever it was (it restarts when the host
  // is back on: auto-restart), so its part of the round is settled here: lost, its step undone.
  // This runs in SimGrid's kernel, where no actor may block or signal: when it was the round's
  // last worker, a one-off actor on the master's host tells the master. (Measured: a semaphore
  // released from the dying actor's on_exit never wakes the master.)
  std::map<const sg4::Host*, int> index;
  for (int i = 0; i < n; ++i) index[workers[i]] = i;
  // A worker host that is off when the run starts (its profile says so at time 0) gets its
  // actor when it first comes on.
  std::vector<char> waiting(n, 0);
  auto start_worker = [&sh](int i) {
    sg4::ActorPtr a =
        sg4::Actor::create("worker-" + std::to_string(i), sh.hosts[i], WorkerActor(&sh, i));
    a->set_auto_restart(true);
  };
  sg4::Host::on_state_change_cb([&sh, &waiting, index, start_worker](const sg4::Host& h) {
    const auto it = index.find(&h);
    if (it == index.end()) return;
    const int i = it->second;
    if (h.is_on()) {
      if (waiting[i]) start_worker(i);
      waiting[i] = 0;
      return;
    }
    const Status s = sh.status[i];
    if (s != Status::kSelected && s != Status::kRunning && s != Status::kStepped) return;
    if (s == Status::kStepped) sh.method->nodes[i]->drop_last_upload();
    sh.status[i] = Status::kLost;
    sh.current[i] = nullptr;
    --sh.busy;
    if (!sh.woken && round_can_close(&sh)) {
      sh.woken = true;
      sg4::SemaphorePtr done = sh.done;
      sg4::Actor::create("round-done", sh.master, [done] { done->release(); });
    }
  });
  sg4::Actor::create("master", master, MasterActor(&sh, deadline_s, quantile));
  for (int i = 0; i < n; ++i) {
    if (workers[i]->is_on())
      start_worker(i);
    else
      waiting[i] = 1;
  }
  engine.run();
  if (deadlock || sh.reason == alg::StopReason::kRunning)
    throw std::runtime_error("the simulation deadlocked before the run finished");
  return sh.reason;
}

}  // namespace efsim::sim
