// Stragglers: some workers compute slower by a factor. `fixed`: the same ceil(fraction n)
// workers (a seeded choice) in every round; `random`: every worker independently in every round
// with probability `fraction`. Only simulated compute time changes -- never the math.
#pragma once

#include <cstdint>
#include <vector>

#include "algorithms/core/types.hpp"

namespace efsim::alg {

struct StragglerSpec {
  double fraction = 0.0;  // 0: none
  double slowdown = 1.0;  // compute time multiplier, >= 1
  bool random = false;    // per round (true) or a fixed set (false)
};

class Stragglers {
 public:
  Stragglers(const StragglerSpec& spec, int n, std::uint64_t seed);
  // The compute-time factor of worker i in round k (1 or the slowdown).
  double factor(long round, int i) const;

 private:
  StragglerSpec spec_;
  std::uint64_t seed_;
  std::vector<char> fixed_;
};

}  // namespace efsim::alg
