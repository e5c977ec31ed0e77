#include "algorithms/methods/stragglers.hpp"

#include <cmath>

namespace efsim::alg {

Stragglers::Stragglers(const StragglerSpec& spec, int n, std::uint64_t seed)
    : spec_(spec), seed_(seed), fixed_(n, 0) {
  if (!spec.random && spec.fraction > 0) {
    Rng rng(derive_seed(seed, 0, 29));
    const int count = static_cast<int>(std::ceil(spec.fraction * n - 1e-9));
    for (std::int32_t i : sample_without_replacement(rng, n, std::min(count, n))) fixed_[i] = 1;
  }
}

double Stragglers::factor(long round, int i) const {
  if (spec_.fraction <= 0) return 1.0;
  if (!spec_.random) return fixed_[i] ? spec_.slowdown : 1.0;
  // One draw per (round, worker), independent of the order in which runners ask.
  Rng rng(derive_seed(
      seed_, static_cast<std::uint64_t>(round) * 1000003u + static_cast<std::uint64_t>(i), 31));
  return uniform01(rng) < spec_.fraction ? spec_.slowdown : 1.0;
}

}  // namespace efsim::alg
