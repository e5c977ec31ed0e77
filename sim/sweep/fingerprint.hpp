// Resume keys: what determines a run's result. A rerun into the same folder skips every run whose
// run.json carries the same fingerprint.
#pragma once

#include <cstdint>
#include <string>

#include "sim/scenario/scenario.hpp"
#include "sim/sweep/build.hpp"

namespace efsim::sim {

// What determines every run's result besides the run itself: the efsim version, the scenario's
// settings, and the contents of its dataset and platform files. Read once per sweep.
std::string inputs_digest(const Scenario& s);
// The resume key of one run: 16 hex digits of a hash of the inputs digest and the resolved run.
std::string run_fingerprint(const std::string& inputs, const ResolvedRun& run);

}  // namespace efsim::sim
