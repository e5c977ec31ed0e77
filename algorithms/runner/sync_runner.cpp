#include "algorithms/runner/sync_runner.hpp"

namespace efsim::alg {

Rng worker_rng(std::uint64_t seed, int i) {
  return Rng(derive_seed(seed, static_cast<std::uint64_t>(i), 7));
}

std::vector<Rng> worker_rngs(std::uint64_t seed, int n) {
  std::vector<Rng> rngs;
  rngs.reserve(n);
  for (int i = 0; i < n; ++i) rngs.push_back(worker_rng(seed, i));
  return rngs;
}

bool partial(const MethodInstance& method) { return method.sampling && !method.sampling->full(); }

std::vector<char> round_participants(const MethodInstance& method, long round) {
  if (!partial(method)) return std::vector<char>(method.nodes.size(), 1);
  return method.sampling->participants(round);
}

double compute_factor(const MethodInstance& method, long round, int i) {
  return method.stragglers ? method.stragglers->factor(round, i) : 1.0;
}

bool receives_model(const MethodInstance& method) {
  return partial(method) || method.model_downlink;
}

const Message& round_downlink(const MethodInstance& method) {
  return receives_model(method) ? method.master->model() : method.master->broadcast();
}

bool metrics_deferrable(const MethodInstance& method) { return !partial(method); }

std::vector<LocalEvaluation> evaluations(const MethodInstance& method) {
  std::vector<LocalEvaluation> parts;
  parts.reserve(method.nodes.size());
  for (const auto& node : method.nodes) parts.push_back(node->last_evaluation());
  return parts;
}

StopReason run_sync(MethodInstance& method, Monitor& monitor, std::uint64_t seed,
                    RoundClock* clock) {
  const int n = static_cast<int>(method.nodes.size());
  const bool pp = receives_model(method);
  auto rngs = worker_rngs(seed, n);
  std::vector<Message> up(n);
  RoundCost cost;
  cost.up_bytes.resize(n);
  cost.worker_flops.resize(n);
  double time = 0.0;
  const bool defer = metrics_deferrable(method);
  StopReason reason = monitor.observe(0, 0.0, RoundTiming{}, method.master->x(), 0.0, 0.0, defer);
  for (long round = 0; reason == StopReason::kRunning; ++round) {
    cost.active = round_participants(method, round);
    const Message& down = round_downlink(method);
    cost.down_bytes = round > 0 ? down.size_bytes() : 0;
    double up_bits = 0.0, down_bits = 0.0;
    long skipped = 0;
    for (int i = 0; i < n; ++i) {
      cost.up_bytes[i] = 0;
      cost.worker_flops[i] = 0;
      if (!cost.active[i]) continue;  // sends nothing, spends no time
      if (round > 0) {
        if (pp)
          method.nodes[i]->receive_model(down);
        else
          method.nodes[i]->receive(down);
        down_bits += 8.0 * static_cast<double>(down.size_bytes());
      }
      up[i] = method.nodes[i]->run_step(rngs[i]);
      cost.up_bytes[i] = up[i].size_bytes();
      cost.worker_flops[i] = method.nodes[i]->take_flops() * compute_factor(method, round, i);
      up_bits += 8.0 * static_cast<double>(up[i].size_bytes());
      if (up[i].empty()) ++skipped;  // a lazy worker sent nothing
    }
    if (monitor.waiting()) {  // the workers have just evaluated at the waiting row's x
      reason = monitor.supply(evaluations(method));
      if (reason != StopReason::kRunning) break;
    }
    for (int i = 0; i < n; ++i)
      if (cost.active[i]) method.master->absorb(i, up[i]);
    method.master->finish_round();
    cost.master_flops = method.master->take_flops();
    RoundTiming timing;
    if (clock != nullptr) timing = clock->round_time(cost);
    time += timing.total();
    reason = monitor.observe(round + 1, time, timing, method.master->x(), up_bits, down_bits / n,
                             defer, skipped);
  }
  return reason;
}

}  // namespace efsim::alg
