// Real environments (scenario keys `platform.round_deadline`, `platform.dynamics` and
// `platform.master_power`): links and hosts whose bandwidth and speed change over time, workers
// that come and go, rounds that close at a deadline, and device power for the energy report.
// Plain structs and their
// parsing; sim/sweep/profiles turns them into SimGrid profiles, sim/network/dynamic_runner
// runs the rounds.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "sim/scenario/yaml_reader.hpp"

namespace efsim::sim {

// A value over time, as factors of a nominal value (bandwidth, speed) or as on (1) / off (0)
// (availability). One of:
//   trace    (time, factor) points read from a file; the value holds until the next point;
//            `loop`: the trace repeats with that period (0: it holds its last value forever)
//   step     the nominal value until `at`, then `factor`
//   diurnal  factor(t) = min + (max - min) (1 + cos(2 pi (t - peak) / period)) / 2, held
//            piecewise constant over `steps` equal intervals per period (its midpoint's value)
//   markov   a two-state (on / off) Markov chain with exponential sojourn times of means
//            mean_on and mean_off, starting from its stationary law; `low`: the factor while off
//            (availability: off); drawn per worker from the scenario's seed up to `horizon`,
//            after which the drawn stretch repeats
struct ProfileSpec {
  std::string kind;                               // "" = none | trace | step | diurnal | markov
  std::vector<std::pair<double, double>> points;  // trace: (time s, value)
  double loop_s = 0;                              // trace: period (0: no repetition)
  double at_s = 0, factor = 1;                    // step
  double period_s = 86400, min = 0.2, max = 1, peak_s = 0;            // diurnal
  int steps = 24;                                                     // diurnal
  double mean_on_s = 60, mean_off_s = 60, low = 0, horizon_s = 3600;  // markov
  bool active() const { return !kind.empty(); }
};

// Device power for SimGrid's energy plugins: the host's watts idle, computing, and switched off
// (host energy plugin), and the extra watts of its network interface while its own link carries
// a transfer (link energy plugin on the host's link, both directions).
struct PowerSpec {
  double idle_W = -1, busy_W = -1, off_W = 0, transfer_W = 0;  // idle_W < 0: not given
  bool given() const { return idle_W >= 0; }
};

// One `dynamics` entry: the workers it applies to and what changes for them.
struct DynamicsEntry {
  int worker_class = -1;     // -1: every worker; else an edge class (its index in `classes`)
  ProfileSpec bandwidth;     // of the worker's own link (factor of its nominal bandwidth)
  ProfileSpec latency;       // of the worker's own link (factor of its nominal latency)
  ProfileSpec speed;         // of the worker's host (factor of its nominal speed)
  ProfileSpec availability;  // the worker's host on (1) / off (0)
  PowerSpec power;           // the worker's host and network interface
  std::string origin;        // "file:line" of the entry, for messages
};

struct DynamicsSpec {
  // The round's time limit (`round_deadline: 2s`, or the `at_most` cap of a quantile rule;
  // inf: none) and the quantile rule (`round_deadline: {quantile: q}`; 0: none): the round
  // closes when ceil(q * m) of its m participants' uploads have arrived.
  double round_deadline_s = std::numeric_limits<double>::infinity();
  double round_quantile = 0;
  std::vector<DynamicsEntry> entries;
  PowerSpec master_power;       // the master host (energy report)
  std::string deadline_origin;  // "file:line: key ..." of round_deadline, for messages
  bool has_deadline() const {
    return round_quantile > 0 || round_deadline_s < std::numeric_limits<double>::infinity();
  }
  bool has_availability() const;
  bool has_profiles() const;
  bool has_power() const;
  // Anything that needs the dynamic runner (deadlines, availability).
  bool active() const { return has_deadline() || has_availability(); }
  bool any() const { return active() || has_profiles() || has_power(); }
};

// Parses `round_deadline`, `dynamics` and `master_power` of a platform entry at `key` (relative
// trace files resolved against dir). `classes`: the edge kind's class count (0: no classes).
void parse_dynamics(const Reader& r, const YAML::Node& n, const std::string& key,
                    const std::string& dir, int classes, DynamicsSpec& out);

// The (time, value) points of a trace file: one point per line, "time value" separated by
// blanks or a comma; '#' starts a comment; times in seconds, >= 0, strictly increasing; values
// > 0 (0 or 1 for availability). Throws InputError starting with `origin` (the scenario's
// "file:line: key '...'" that named the trace) followed by the trace file's file:line.
std::vector<std::pair<double, double>> read_trace_file(const std::string& path,
                                                       const std::string& origin, bool on_off);

}  // namespace efsim::sim
