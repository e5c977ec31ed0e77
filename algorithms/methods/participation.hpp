// Partial participation with an arbitrary sampling (Horváth & Richtárik, ICLR 2021, §4.2):
// in round k the workers in S^k take part; worker i is in S^k with probability p_i. The master
// reweights the aggregate to stay unbiased: Δ^k = sum_{i in S^k} Δ_i^k / (n p_i).
// Samplings: independent (each i joins with its own p_i), or tau-nice (exactly tau of the n
// workers, uniformly: p_i = tau/n). The sampling of round k is drawn from its own seeded stream,
// so every runner (and every worker) sees the same S^k.
#pragma once

#include <cstdint>
#include <vector>

#include "algorithms/core/types.hpp"

namespace efsim::alg {

struct ParticipationSpec {
  std::vector<double> p;  // independent sampling: one probability per worker, or one for all
  int tau = 0;            // tau-nice sampling when > 0
  // Only the clients of a round exist (a population of clients): the method builds no node up
  // front, only MethodInstance::make_node (tau-nice sampling; methods whose nodes carry from one
  // of their rounds to the next only their random stream and at most a vector kept compactly,
  // see MethodInfo::population and ClientStates).
  bool sampled_only = false;
  bool full() const { return tau == 0 && (p.empty() || (p.size() == 1 && p[0] == 1.0)); }
};

class Sampling {
 public:
  Sampling(const ParticipationSpec& spec, int n, std::uint64_t seed);
  // 1 for the workers of round k.
  std::vector<char> participants(long round) const;
  // The workers of round k in ascending order (tau-nice sampling only): the same set as
  // participants(k), in O(tau) instead of O(n).
  std::vector<std::int32_t> sampled(long round) const;
  double probability(int i) const { return p_[i]; }
  bool full() const { return full_; }
  int population() const { return n_; }

 private:
  ParticipationSpec spec_;
  int n_;
  std::uint64_t seed_;
  std::vector<double> p_;
  bool full_;
};

}  // namespace efsim::alg
