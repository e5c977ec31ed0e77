#include "algorithms/core/types.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

namespace efsim::alg {

std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream, std::uint64_t purpose) {
  std::uint64_t z =
      seed ^ (0x9E3779B97F4A7C15ULL * (stream + 1)) ^ (0xBF58476D1CE4E5B9ULL * (purpose + 1));
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

double uniform01(Rng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

std::uint64_t uniform_below(Rng& rng, std::uint64_t n) {
  // Reject the 2^64 mod n smallest draws so that r % n is exactly uniform.
  const std::uint64_t threshold = (0 - n) % n;
  std::uint64_t r = rng();
  while (r < threshold) r = rng();
  return r % n;
}

std::vector<std::int32_t> sample_without_replacement(Rng& rng, int n, int k) {
  // Floyd's algorithm; the chosen set is a per-thread bitmap that is all zero between calls (the
  // picks are cleared again at the end), so a call costs O(k) and allocates only its result.
  thread_local std::vector<std::uint64_t> taken;
  const auto words = (static_cast<std::size_t>(n) + 63) / 64;
  if (taken.size() < words) taken.resize(words, 0);
  const auto take = [](std::int32_t i) {  // marks i, returns whether it was marked already
    std::uint64_t& w = taken[static_cast<std::size_t>(i) >> 6];
    const std::uint64_t bit = std::uint64_t{1} << (i & 63);
    const bool was = (w & bit) != 0;
    w |= bit;
    return was;
  };
  std::vector<std::int32_t> out;
  out.reserve(k);
  for (int j = n - k; j < n; ++j) {
    const auto t = static_cast<std::int32_t>(uniform_below(rng, static_cast<std::uint64_t>(j) + 1));
    const std::int32_t pick = take(t) ? static_cast<std::int32_t>(j) : t;
    if (pick == j) take(j);
    out.push_back(pick);
  }
  for (const std::int32_t p : out) taken[static_cast<std::size_t>(p) >> 6] = 0;
  std::sort(out.begin(), out.end());
  return out;
}

double standard_normal(Rng& rng) {
  double u1 = uniform01(rng);
  while (u1 <= 0.0) u1 = uniform01(rng);
  const double u2 = uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

}  // namespace efsim::alg
