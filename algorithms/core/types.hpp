// Basic types shared by the math layer. Eigen only; never SimGrid (algorithms/README.md, invariant
// 1).
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <random>
#include <vector>

namespace efsim::alg {

using Vector = Eigen::VectorXd;
using VecRef = Eigen::Ref<const Vector>;

// The run's random stream for one worker: std::mt19937_64 (specified bit-for-bit by the
// standard, so a seed gives the same stream everywhere) that also counts its draws. The count
// lets a stream be parked in 8 bytes instead of the engine's 2.5 KB and resumed exactly
// (Rng(seed) then discard(draws)): a population of a million clients keeps only the counts.
class Rng {
 public:
  using result_type = std::mt19937_64::result_type;
  Rng() = default;
  explicit Rng(result_type seed) : engine_(seed) {}
  static constexpr result_type min() { return std::mt19937_64::min(); }
  static constexpr result_type max() { return std::mt19937_64::max(); }
  result_type operator()() {
    ++draws_;
    return engine_();
  }
  void discard(unsigned long long z) {
    engine_.discard(z);
    draws_ += z;
  }
  // Numbers drawn since construction.
  std::uint64_t draws() const { return draws_; }
  bool operator==(const Rng& o) const { return engine_ == o.engine_; }

 private:
  std::mt19937_64 engine_;
  std::uint64_t draws_ = 0;
};

// Derive an independent-looking seed for a sub-stream (worker i, purpose p) from the run seed
// (SplitMix64 finaliser).
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream, std::uint64_t purpose = 0);

// Uniform double in [0, 1) from 53 random bits (portable, unlike std::uniform_real_distribution).
double uniform01(Rng& rng);
// Uniform integer in [0, n), n >= 1, exactly unbiased (rejection; portable).
std::uint64_t uniform_below(Rng& rng, std::uint64_t n);
// k distinct indices of [0, n), uniformly, in ascending order (Floyd's algorithm).
std::vector<std::int32_t> sample_without_replacement(Rng& rng, int n, int k);
// Standard normal by Box-Muller on uniform01 (portable across standard libraries).
double standard_normal(Rng& rng);

}  // namespace efsim::alg
