// Result files (a contract, see README "Outputs"):
//   DIR/runs/<run-id>/trace.csv     one row per round, row 0 = x^0
//   DIR/runs/<run-id>/run.json      the resolved run, constants and stop reason
//   DIR/runs/<run-id>/platform.xml  the SimGrid platform the run used (generated platforms)
//   DIR/summary.csv                 one row per run
// Every file is written to a temporary name and renamed, so a file that exists is complete.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "algorithms/runner/monitor.hpp"
#include "sim/text.hpp"

namespace efsim::sim {

struct RunRecord {
  std::string id;
  std::string fingerprint;  // hash of everything that determines the result (resume key)
  std::string tune_group;   // stepsize tuning group ("" = not tuned)
  std::string scenario;
  std::string method;
  std::string compressor;  // label, e.g. top_k10, qsgd4e
  int k = 0;
  double delta = 0;      // second-moment bound of an unbiased compressor (0: none)
  std::string stepsize;  // "theory_multiplier" | "gamma"
  double stepsize_value = 0;
  double gamma = 0;
  int batch = 0;  // 0: full gradients
  int batch_init = 0;
  double eta = 1.0;
  double beta = 0.0;
  double f_star = 0;  // NaN when unknown
  double alpha = 0;
  double L = 0;
  double L_tilde = 0;
  std::uint64_t seed = 0;
  std::string network_model;
  std::string platform;       // description
  std::string platform_name;  // with a `platforms` list ("" otherwise)
  std::string problem;
  int workers = 0;
  int dim = 0;
  int value_bits = 0;
  int index_bits = 0;
  alg::StopRule stop;
  std::string stop_reason;
  long rounds = 0;
  double sim_time_s = 0;
  double final_f = 0;
  double final_grad_norm_sq = 0;
  // Energy (platforms with power figures): Joules of the run, of the master, of the workers
  // (hosts and their links), and per worker class (edge fleet).
  bool has_energy = false;
  double energy_J = 0, energy_master_J = 0, energy_workers_J = 0;
  std::vector<double> energy_by_class_J;
};

struct SummaryRow {
  RunRecord run;
  std::optional<long> rounds_to_target;
  std::optional<double> time_to_target_s;
  std::optional<double> bits_up_to_target;
  std::optional<double> bits_down_to_target;
  std::optional<double> speedup_vs_gd;  // GD's time to target / this run's
  std::optional<double> energy_to_target_J;
  bool best_in_group = false;  // the winner of its stepsize-tuning group
};

// The trace columns: cumulative simulated time and its breakdown (means over workers: waiting
// for the broadcast, computing, uploading, waiting for the slowest upload, master's work), then
// accuracy and test metrics ("nan" when the problem has none).
inline constexpr const char* kTraceHeader =
    "round,sim_time_s,f,grad_norm_sq,bits_up_per_worker,bits_down_per_worker,"
    "time_down_s,time_compute_s,time_up_s,time_idle_s,time_master_s,"
    "train_accuracy,test_loss,test_accuracy";

void write_file_atomic(const std::string& path, const std::string& content);

// The methods that may skip uploads (MethodInfo::skips_uploads: lag, clag) add one last column,
// the cumulative count of skipped uploads over all workers; other traces do not have it.
inline constexpr const char* kSkipsColumn = "uploads_skipped";
// Runs with a round deadline or worker availability (alg::Participation, cumulative).
inline constexpr const char* kParticipationColumns =
    "uploads_used,uploads_dropped,workers_off,time_lost_s";
// Runs on platforms with power figures: cumulative Joules of every host and worker link.
inline constexpr const char* kEnergyColumn = "energy_J";

std::string trace_csv(const std::vector<alg::TraceRow>& trace, bool with_skips = false,
                      bool with_participation = false, bool with_energy = false);
// Reads either form (with or without the uploads_skipped column).
std::vector<alg::TraceRow> read_trace_csv(const std::string& path);

std::string run_json(const RunRecord& r);
RunRecord read_run_json(const std::string& path);

// Time to target from a run's record and trace: the first recorded round whose iterate meets
// ||∇f||^2 <= target (no interpolation between rounds).
SummaryRow summarize(const RunRecord& run, const std::vector<alg::TraceRow>& trace);
// A row for a run without results: stop_reason "failed" or "pending".
SummaryRow missing_row(const std::string& id, const std::string& why);
// Across rows: the winner of each tuning group (the fastest to target, else the lowest final
// ||∇f||^2 among runs that did not diverge), and speedups over the fastest GD run (tuned GD:
// its group's winner).
void annotate(std::vector<SummaryRow>& rows);
std::string summary_csv(const std::vector<SummaryRow>& rows);
// A fixed-width table for the terminal.
std::string summary_table(const std::vector<SummaryRow>& rows, double target);
// The same runs across platforms (a `platforms` sweep): one row per run without its platform,
// one column per platform, cells "time to target (speedup over GD on that platform)" or the stop
// reason.
std::string compare_table(const std::vector<SummaryRow>& rows);

// `efsim compare DIR1 DIR2 ...`: several sweeps side by side. Runs are matched by id (without
// their platform tag); one column per sweep (and platform), in the order given; each sweep's
// speedups are over its own GD runs. A run a sweep lacks shows "-". With two sweeps of one
// platform each, a last column gives the second sweep's time to the target over the first's.
struct SweepResults {
  std::string label;  // the column heading (the folder)
  std::string scenario;
  double target = 0;  // its ||grad f||^2 target
  std::vector<SummaryRow> rows;
};
std::string compare_sweeps(const std::vector<SweepResults>& sweeps);

}  // namespace efsim::sim
