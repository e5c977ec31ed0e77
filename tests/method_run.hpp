// Shared by the method tests: a method run in-process (SyncRunner, seed 7) for a number of
// rounds, with its observed trace and the master's final iterate.
#pragma once

#include <string>
#include <vector>

#include "algorithms/methods/method.hpp"
#include "algorithms/runner/sync_runner.hpp"

namespace efsim::alg {

struct Outcome {
  std::vector<TraceRow> trace;
  Vector x;
};

inline Outcome run(const MethodSpec& s, const Problem& p, const Compressor& C, long rounds) {
  MethodInstance m = find_method(s.name).make(s, p, C, Vector::Zero(p.dim()));
  StopRule rule;
  rule.max_rounds = rounds;
  Monitor mon(p, rule);
  run_sync(m, mon, 7);
  return {mon.trace(), m.master->x()};
}

}  // namespace efsim::alg
