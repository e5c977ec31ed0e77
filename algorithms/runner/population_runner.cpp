#include "algorithms/runner/population_runner.hpp"

#include <memory>
#include <stdexcept>

namespace efsim::alg {

StopReason run_sync_population(MethodInstance& method, Monitor& monitor, std::uint64_t seed,
                               RoundClock* clock) {
  if (!method.make_node || !method.sampling || !method.nodes.empty())
    throw std::logic_error("run_sync_population: the method was not made for a population");
  const int n = method.sampling->population();
  std::vector<std::uint64_t> draws(static_cast<std::size_t>(n), 0);  // per client, parked
  std::vector<char> stepped(static_cast<std::size_t>(n), 0);
  std::vector<std::unique_ptr<Node>> nodes;
  std::vector<Message> up;
  RoundCost cost;
  double time = 0.0;
  StopReason reason = monitor.observe(0, 0.0, RoundTiming{}, method.master->x(), 0.0, 0.0, false);
  for (long round = 0; reason == StopReason::kRunning; ++round) {
    const std::vector<std::int32_t> ids = method.sampling->sampled(round);
    const std::size_t k = ids.size();
    const Message& down = round_downlink(method);  // the model: partial participation
    cost.workers.assign(ids.begin(), ids.end());
    cost.down_bytes = round > 0 ? down.size_bytes() : 0;
    cost.up_bytes.assign(k, 0);
    cost.worker_flops.assign(k, 0.0);
    nodes.resize(k);
    up.resize(k);
    double up_bits = 0.0, down_bits = 0.0;
    long skipped = 0;
    for (std::size_t a = 0; a < k; ++a) {  // ascending ids: run_sync's order
      const int i = ids[a];
      nodes[a] = method.make_node(i, stepped[i] != 0);
      Rng rng = worker_rng(seed, i);
      rng.discard(draws[i]);
      if (round > 0) {
        nodes[a]->receive_model(down);
        down_bits += 8.0 * static_cast<double>(down.size_bytes());
      }
      up[a] = nodes[a]->run_step(rng);
      draws[i] = rng.draws();
      stepped[i] = 1;
      cost.up_bytes[a] = up[a].size_bytes();
      cost.worker_flops[a] = nodes[a]->take_flops() * compute_factor(method, round, i);
      up_bits += 8.0 * static_cast<double>(up[a].size_bytes());
      if (up[a].empty()) ++skipped;
    }
    for (std::size_t a = 0; a < k; ++a) {
      method.master->absorb(ids[a], up[a]);
      if (method.park_node) method.park_node(ids[a], *nodes[a]);
      nodes[a].reset();
    }
    method.master->finish_round();
    cost.master_flops = method.master->take_flops();
    RoundTiming timing;
    if (clock != nullptr) timing = clock->round_time(cost);
    time += timing.total();
    reason = monitor.observe(round + 1, time, timing, method.master->x(), up_bits, down_bits / n,
                             false, skipped);
  }
  return reason;
}

}  // namespace efsim::alg
