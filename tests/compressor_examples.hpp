// A valid specification of every compressor kind for dimension d (shared by the benchmarks and
// the fuzz targets): sparsifiers keep max(1, d * keep) coordinates, quantizers use s levels,
// the induced compressor is Top-K/2 + Wangni-K/2.
#pragma once

#include <algorithm>
#include <memory>
#include <string>

#include "algorithms/compressors/compressor.hpp"

namespace efsim::test {

inline alg::CompressorSpec example_spec(const std::string& kind, int d, double keep = 0.01,
                                        int s = 16) {
  alg::CompressorSpec spec(kind);
  const int k = std::max(1, static_cast<int>(d * keep));
  if (kind == "top_k" || kind == "rand_k" || kind == "rand_k_unbiased" || kind == "wangni" ||
      kind == "nu_rand_k")
    spec.k = k;
  if (kind == "qsgd" || kind == "natural_dithering") spec.s = s;
  if (kind == "induced") {
    spec.c1 = std::make_shared<alg::CompressorSpec>("top_k", std::max(1, k / 2));
    spec.c2 = std::make_shared<alg::CompressorSpec>("wangni", std::max(1, k / 2));
  }
  return spec;
}

}  // namespace efsim::test
