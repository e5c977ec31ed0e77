// SyncRunner: the same Node/Master objects as under SimGrid, driven by a plain loop. Its clock
// is pluggable (zero time by default): the math is identical to the simulated run's
// (algorithms/README.md, invariant 2), only time is not modelled unless a RoundClock is given.
#pragma once

#include <cstdint>
#include <vector>

#include "algorithms/methods/method.hpp"
#include "algorithms/runner/monitor.hpp"

namespace efsim::alg {

// What one round cost: the inputs of a time model.
struct RoundCost {
  std::vector<char> active;  // the workers taking part in the round (empty: all)
  // A population's round (population_runner.hpp): entry k of up_bytes and worker_flops is
  // worker workers[k]'s, every one of them takes part, and `active` is empty. Empty otherwise.
  std::vector<int> workers;
  std::size_t down_bytes = 0;         // one downlink message (0 in round 0)
  std::vector<std::size_t> up_bytes;  // per worker
  std::vector<double> worker_flops;   // per worker
  double master_flops = 0;
};

class RoundClock {
 public:
  virtual ~RoundClock() = default;
  // The round's duration and where it went (RoundTiming::total() is the duration).
  virtual RoundTiming round_time(const RoundCost& cost) = 0;
};

// Worker i's random stream for a run: every runner uses these.
std::vector<Rng> worker_rngs(std::uint64_t seed, int n);
// Worker i's stream alone (worker_rngs(seed, n)[i]).
Rng worker_rng(std::uint64_t seed, int i);

// The protocol's partial-participation rules, shared by every runner: who takes part in a round
// (everybody without a sampling), and what they receive (the model under partial
// participation, the broadcast aggregate otherwise).
bool partial(const MethodInstance& method);
std::vector<char> round_participants(const MethodInstance& method, long round);
const Message& round_downlink(const MethodInstance& method);
// The workers receive the dense model (receive_model), not the aggregate (receive): under
// partial participation and with the model downlink.
bool receives_model(const MethodInstance& method);
// Worker i's compute-time factor in a round (stragglers); the flops charged are multiplied by it.
double compute_factor(const MethodInstance& method, long round, int i);

// The observer's reuse of the workers' gradients (Monitor::observe, deferrable): possible
// when every worker takes part in every round. evaluations(): each node's last evaluation, in
// worker order, for Monitor::supply.
bool metrics_deferrable(const MethodInstance& method);
std::vector<LocalEvaluation> evaluations(const MethodInstance& method);

// Runs until the stop rule fires; returns the monitor's reason. The trace is in `monitor`.
StopReason run_sync(MethodInstance& method, Monitor& monitor, std::uint64_t seed,
                    RoundClock* clock = nullptr);

}  // namespace efsim::alg
