// The run grid of a scenario: each `runs` entry, with any value given as a list, expands to the
// cartesian product of its lists (methods x compressors x stepsizes x the methods' own
// settings x patterns x downlinks x platforms). Which settings exist, their types, ranges and
// how they appear in run ids come from the method and compressor tables (algorithms/), so no
// method or compressor is named here.
#pragma once

#include <string>
#include <vector>

#include "sim/scenario/scenario.hpp"
#include "sim/scenario/yaml_reader.hpp"

namespace efsim::sim {

// Expands s's `runs` node into s.runs (ids unique; GD's duplicates dropped). Needs s.problem and
// s.platforms. Throws InputError naming file, line and key.
void expand_runs(const Reader& r, const YAML::Node& runs, Scenario& s);

// A compressor entry, with any parameter given as a list, expands to the product of its lists.
std::vector<alg::CompressorSpec> expand_compressor(const Reader& r, const YAML::Node& c,
                                                   const std::string& key);

// A stable, readable id: method-compressor-(x<multiplier>|g<gamma>), then each method setting
// as its table says (e.g. -b<batch>, -eta<eta>), then participation, pattern, downlink and
// @platform. Without the stepsize it names the run's tuning group.
std::string run_label(const RunSpec& run, bool with_stepsize);
std::string run_id(const RunSpec& run);

}  // namespace efsim::sim
