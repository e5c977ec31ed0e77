// run_sync for a population of clients (MethodInstance::make_node, participation `materialize:
// sampled`): in each round only the sampled workers exist -- built for the round, stepping with
// their random streams resumed from the count of numbers drawn (8 bytes per client instead of an
// engine), then gone, handing what else they carry to the method (MethodInstance::park_node:
// EF21's g_i, DIANA's h_i). The math and the bits are run_sync's; the clock prices only the round's
// workers (RoundCost::workers names them). With the same clock the trace is run_sync's on the
// same population built whole (a test holds this).
#pragma once

#include <cstdint>

#include "algorithms/runner/sync_runner.hpp"

namespace efsim::alg {

StopReason run_sync_population(MethodInstance& method, Monitor& monitor, std::uint64_t seed,
                               RoundClock* clock = nullptr);

}  // namespace efsim::alg
