// Rounds with a deadline, on workers that come and go (scenario keys platform.round_deadline and
// the availability profiles of platform.dynamics). A parameter-server round in which the master
// uses what arrived in time: each worker taking part pulls the model x, computes and uploads;
// a worker whose upload has not arrived when the round's deadline passes abandons it (its
// transfer or computation is cancelled, MethodInfo::missing_upload says what the method does
// about it); a worker whose host is off when the round begins does not take part; one whose
// host goes off during the round loses its work and comes back when the host is on again.
#pragma once

#include <cstdint>
#include <simgrid/s4u.hpp>
#include <vector>

#include "algorithms/methods/method.hpp"
#include "algorithms/runner/monitor.hpp"

namespace efsim::sim {

// deadline_s: the round's duration limit (inf: the round waits for every available worker).
// quantile q (0: none): the round also closes as soon as ceil(q m) of its m participants' uploads
// have arrived (every upload arriving at that same instant counts); the others are cancelled
// and are missing uploads like those past the deadline.
alg::StopReason run_dynamic(double deadline_s, double quantile, alg::MethodInstance& method,
                            alg::Monitor& monitor, std::uint64_t seed, simgrid::s4u::Engine& engine,
                            simgrid::s4u::Host* master,
                            const std::vector<simgrid::s4u::Host*>& workers);

}  // namespace efsim::sim
