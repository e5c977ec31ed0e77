// Runs a population of clients under SimGrid (participation `materialize: sampled`, tau-nice
// sampling): only the clients sampled in a round exist. The platform is a pool of slot hosts
// (platforms/slots.hpp): the i-th smallest client id of a round takes place i, on the host of
// its link class; its node is built for the round (MethodInstance::make_node) and its random
// stream is resumed from the count of numbers it has drawn (8 bytes per client, not an engine);
// when it leaves, the method parks what else it carries (MethodInstance::park_node).
// Everything a round computes -- the sampled set, the order in which the master absorbs the
// uploads (ascending client id), the transfers and compute each client's own host and link
// would see -- is what run_simgrid computes on the full platform, so the trace is the same; a
// test holds this. Parameter-server pattern only (partial participation is).
#pragma once

#include <cstdint>

#include "algorithms/methods/method.hpp"
#include "algorithms/runner/monitor.hpp"
#include "platforms/slots.hpp"
#include "sim/network/simgrid_runner.hpp"

namespace efsim::sim {

// net: the model and the slot platform file (platforms::slots_platform_xml with `slots` places
// and the same classes). Throws std::runtime_error if the simulation deadlocks.
alg::StopReason run_simgrid_slots(const NetworkSetup& net, const platforms::ClientClasses& classes,
                                  int slots, alg::MethodInstance& method, alg::Monitor& monitor,
                                  std::uint64_t seed);

}  // namespace efsim::sim
