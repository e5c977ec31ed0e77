// SimGrid profiles for the scenario's `dynamics` (sim/scenario/dynamics.hpp): each worker's link
// bandwidth and latency, host speed and availability over time, written into a generated
// platform. SimGrid 3.32 reads a profile from a file named by the
// platform XML (`bandwidth_file`, `latency_file` on a <link>; `speed_file`, `state_file` on a
// <host>; paths relative to the platform file); profiles cannot be attached through the S4U API
// once the XML loader has sealed its zone (measured: Link::set_bandwidth_profile from
// Link::on_creation aborts). Link bandwidth and latency profiles hold absolute values (B/s, s);
// speed profiles hold factors of the host's peak speed; state profiles 1 (on) / 0 (off).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/scenario/dynamics.hpp"
#include "sim/scenario/scenario.hpp"

namespace efsim::sim {

// The (time, factor) points of a profile from time 0, and the period after which they repeat
// (0: the last value holds forever). `stream`: the worker's seeded stream (markov draws).
struct ProfilePoints {
  std::vector<std::pair<double, double>> points;
  double period_s = 0;
};
ProfilePoints profile_points(const ProfileSpec& p, std::uint64_t seed, std::uint64_t stream);

// SimGrid's profile text for the points scaled by `nominal` (LOOPAFTER for a period).
std::string simgrid_profile(const ProfilePoints& p, double nominal);

// The class of each worker of a generated platform (-1 for every worker when the kind has no
// classes) and its nominal link bandwidth (B/s), latency (s) and speed (flop/s).
struct WorkerNominal {
  int worker_class = -1;
  double bandwidth_Bps = 0, latency_s = 0, speed_flops = 0;
};
std::vector<WorkerNominal> worker_nominals(const PlatformSpec& p);

// Each worker's network-interface watts while its link carries a transfer (0: none given).
std::vector<double> worker_transfer_watts(const PlatformSpec& p);

// The platform XML with the dynamics' profile files attached to the worker hosts and links, and
// the hosts' power figures as properties (wattage_per_state, wattage_off); the profile files are
// written into `dir` (the platform file's folder) under profiles/. The XML as given when the
// platform has no dynamics.
std::string apply_dynamics(const std::string& xml, const PlatformSpec& p, std::uint64_t seed,
                           const std::string& dir);

}  // namespace efsim::sim
