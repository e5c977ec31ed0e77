// Running a scenario: the data is loaded and every run validated up front (a typo fails in the
// first second), then the runs execute as separate processes (SimGrid allows one engine per
// process), `jobs` at a time, each writing its result files atomically. A rerun into the same
// folder skips runs whose results are complete and were made from the same inputs (same
// fingerprint). The summary is built from the result files only.
#pragma once

#include <string>
#include <vector>

#include "sim/scenario/scenario.hpp"
#include "sim/sweep/build.hpp"
#include "sim/sweep/recorder.hpp"

namespace efsim::sim {

struct SweepOptions {
  std::string out_dir;  // default: results/<scenario name>
  int jobs = 0;         // parallel runs; 0 = number of cores
  int threads = 0;      // host threads per run (NetworkSetup::threads); 0 = max(1, cores / jobs)
  int shard_index = 1, shard_count = 1;  // run only runs with index % count == index - 1
  bool fresh = false;                    // rerun even complete runs
  bool quiet = false;                    // no progress on stderr
  bool report = true;                    // write the HTML/Markdown report when done
  bool yes = false;                      // confirm a sweep larger than kLargeSweep runs
  double run_timeout_s = 0;              // kill a run after this much wall-clock time (0: never)
  bool check = false;                    // validate and list the runs; run nothing, write nothing
  std::vector<std::string> overrides;    // the --set values, recorded in sweep.json
};

// A sweep with more runs than this needs --yes (a typo in a list should not start 10,000 runs).
inline constexpr std::size_t kLargeSweep = 1000;

// Returns the process exit code: 0 all selected runs finished (whatever their stop reason),
// 1 some run failed, 2 bad input (throws InputError for problems found before any run starts).
// With options.check (`efsim run --check`) it stops after that validation: it prints the runs
// the sweep (or the shard) would run, with their resolved stepsizes, and returns 0.
int run_scenario(const Scenario& s, const SweepOptions& options);

// The summary rows of the results in `dirs` (shards of one sweep, or one folder), in the order
// of the sweep's run list (DIR/sweep.json); runs without results are "pending".
std::vector<SummaryRow> collect_results(const std::vector<std::string>& dirs, double* target);

// One sweep's results for `efsim compare`: its rows (annotated: speedups over its own GD runs),
// scenario name and target from DIR/sweep.json. Throws InputError if DIR has no runs.
SweepResults load_sweep(const std::string& dir);

// `efsim report DIR...`: writes OUT/summary.csv and, through analysis/report.py, the report.
// Returns the exit code.
int write_report(const std::vector<std::string>& dirs, const std::string& out_dir, bool quiet);

}  // namespace efsim::sim
