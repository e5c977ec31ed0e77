// The sweep's process pool: each run executes in a forked child (SimGrid allows one engine per
// process), `jobs` at a time, with an optional wall-clock budget per run and a progress line on
// stderr (a bar on a terminal).
#pragma once

#include <cstddef>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace efsim::sim {

struct PoolOptions {
  int jobs = 1;              // children at a time
  double run_timeout_s = 0;  // kill a child after this much wall-clock time (0: never)
  bool quiet = false;        // no progress lines
};

struct PoolOutcome {
  std::set<std::size_t> failed;     // the child exited non-zero (or died)
  std::set<std::size_t> timed_out;  // killed over its budget
  bool input_error = false;         // some child exited 2 (bad input): the rest were not started
};

// Runs work(i) in a child for each i of `queue` (the child's exit code is work's return).
// After each child, line(i, code, host_s) gives the progress line ("" for none);
// `total` and `done` are the counts the progress shows (runs in the sweep, already complete).
PoolOutcome run_pool(const std::vector<std::size_t>& queue, const PoolOptions& options,
                     std::size_t total, std::size_t done,
                     const std::function<int(std::size_t)>& work,
                     const std::function<std::string(std::size_t, int, bool, double)>& line);

}  // namespace efsim::sim
