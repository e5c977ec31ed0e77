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

// The run's random stream for one worker. std::mt19937_64 is specified bit-for-bit by the
// standard, so a seed gives the same stream everywhere.
using Rng = std::mt19937_64;

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
