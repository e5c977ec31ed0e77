// `efsim validate`: how far each network model's time is from packet-level TCP (ns-3) on the
// transfers efsim makes. One cell is one parameter-server round's traffic on a star: the master
// sends `bytes` to each of n workers, and each worker, once it has its message, sends `bytes`
// back; the cell's time is the end of the last upload. Each (cell, model) runs in its own child
// process (one SimGrid engine per process).
#pragma once

#include <string>
#include <vector>

namespace efsim::sim {

struct ValidationCell {
  double bytes = 1e3;          // message size, each way
  double bandwidth_bps = 1e8;  // worker links, bits per second
  double latency_s = 1e-3;     // every link
  int workers = 4;
  double master_factor = 10;  // the master link's bandwidth / a worker link's (1: contention)
};

struct ValidationRow {
  ValidationCell cell;
  std::vector<double> time_s;  // per model, in the order of ValidationOptions::models
  double host_s_ns3 = 0;       // host time of the ns-3 run
};

struct ValidationOptions {
  bool quick = false;  // a small grid (the tests; about a second)
  std::vector<std::string> models = {"ns3", "simgrid", "cm02", "textbook"};  // ns3 first
};

// The grid: message sizes 100 B to 100 MB x bandwidths 1 Mbps to 10 Gbps x latencies 0.1 ms to
// 100 ms at n = 4 (100 MB at n = 1 and at most 100 Mbps), then n = 1, 16, 64 and a thin master
// link.
std::vector<ValidationCell> validation_grid(bool quick);

// The round time of `cell` under `model` (forks a child). Throws std::runtime_error if it fails.
double validation_round_time(const ValidationCell& cell, const std::string& model,
                             double* host_s = nullptr);

std::vector<ValidationRow> run_validation(const ValidationOptions& options, bool progress);

// CSV (one row per cell, a time column per model) and a Markdown table with each model's
// relative error against ns-3, then the worst cells per model.
std::string validation_csv(const std::vector<ValidationRow>& rows,
                           const std::vector<std::string>& models);
std::string validation_markdown(const std::vector<ValidationRow>& rows,
                                const std::vector<std::string>& models);

}  // namespace efsim::sim
