// Shared by the method tests: a method run in-process (SyncRunner) for a number of rounds, with
// its observed trace and the master's final iterate, and a bit-for-bit comparison of iterates.
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "algorithms/methods/method.hpp"
#include "algorithms/runner/sync_runner.hpp"

namespace efsim::alg {

struct Outcome {
  std::vector<TraceRow> trace;
  Vector x;
};

// `rounds` rounds of the method from x0 (0 when null), the workers' streams seeded from `seed`.
inline Outcome run(const MethodSpec& s, const Problem& p, const Compressor& C, long rounds,
                   const Vector* x0 = nullptr, std::uint64_t seed = 7) {
  const Vector start = x0 != nullptr ? *x0 : Vector::Zero(p.dim());
  MethodInstance m = find_method(s.name).make(s, p, C, start);
  StopRule rule;
  rule.max_rounds = rounds;
  Monitor mon(p, rule);
  run_sync(m, mon, seed);
  return {mon.trace(), m.master->x()};
}

// The same for methods whose messages are dense (the identity compressor).
inline Outcome run(const MethodSpec& s, const Problem& p, long rounds, std::uint64_t seed = 7) {
  const Identity id;
  return run(s, p, id, rounds, nullptr, seed);
}

// The same doubles, bit for bit (+0 and -0 differ).
inline bool same_bits(const Vector& a, const Vector& b) {
  if (a.size() != b.size()) return false;
  for (Eigen::Index j = 0; j < a.size(); ++j)
    if (std::bit_cast<std::uint64_t>(a[j]) != std::bit_cast<std::uint64_t>(b[j])) return false;
  return true;
}

}  // namespace efsim::alg
