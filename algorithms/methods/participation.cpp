#include "algorithms/methods/participation.hpp"

#include <cassert>

namespace efsim::alg {

Sampling::Sampling(const ParticipationSpec& spec, int n, std::uint64_t seed)
    : spec_(spec), n_(n), seed_(seed), p_(n, 1.0), full_(spec.full()) {
  if (spec.tau > 0) {
    for (auto& p : p_) p = static_cast<double>(spec.tau) / n;
  } else if (spec.p.size() == 1) {
    for (auto& p : p_) p = spec.p[0];
  } else if (!spec.p.empty()) {
    assert(static_cast<int>(spec.p.size()) == n);
    p_ = spec.p;
  }
}

std::vector<char> Sampling::participants(long round) const {
  std::vector<char> in(n_, 1);
  if (full_) return in;
  Rng rng(derive_seed(seed_, static_cast<std::uint64_t>(round), 11));
  if (spec_.tau > 0) {
    std::fill(in.begin(), in.end(), 0);
    for (std::int32_t i : sample_without_replacement(rng, n_, spec_.tau)) in[i] = 1;
  } else {
    for (int i = 0; i < n_; ++i) in[i] = uniform01(rng) < p_[i];
  }
  return in;
}

std::vector<std::int32_t> Sampling::sampled(long round) const {
  assert(spec_.tau > 0);
  Rng rng(derive_seed(seed_, static_cast<std::uint64_t>(round), 11));
  return sample_without_replacement(rng, n_, spec_.tau);
}

}  // namespace efsim::alg
