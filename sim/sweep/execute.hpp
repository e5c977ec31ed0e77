// One run, in the process it is called in (it creates that process's SimGrid engine).
#pragma once

#include <string>

#include "sim/scenario/scenario.hpp"
#include "sim/sweep/build.hpp"
#include "sim/sweep/recorder.hpp"

namespace efsim::sim {

// Runs one resolved run in the current process and writes DIR/runs/<id>/ atomically (written
// under a temporary name, then renamed).
// threads: host threads for the workers' math of a round (NetworkSetup::threads; the same
// results for any count).
void execute_run(const Scenario& s, const ProblemSetup& setup, const ResolvedRun& run,
                 const std::string& fingerprint, const std::string& out_dir, int threads = 1);

// What the run is, before it has a result (run.json's description fields): the one place a
// RunRecord is filled from a resolved run.
RunRecord run_record(const Scenario& s, const ProblemSetup& setup, const ResolvedRun& run);

}  // namespace efsim::sim
