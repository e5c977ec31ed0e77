// Helpers shared by the benchmarks.
#pragma once

#include <cstddef>

#include "algorithms/compressors/compressor.hpp"
#include "algorithms/core/types.hpp"

namespace efsim::alg::bench {

// A standard-normal vector of dimension d (seeded): the input of the compressor benchmarks.
inline Vector gaussian_vector(int d, std::uint64_t seed = 1) {
  Rng data(seed);
  Vector x(d);
  for (int j = 0; j < d; ++j) x[j] = standard_normal(data);
  return x;
}

// One compress + encode + decode of x (what a worker and the master do with a message); `back`
// holds the decoded value. Returns the message's bytes.
inline std::size_t compress_roundtrip(const Compressor& C, const Vector& x, Rng& rng,
                                      const WireFormat& wire, Compressed& c, Compressed& back) {
  C.compress(x, rng, wire, c);
  BitWriter w;
  C.encode(c, wire, w);
  const Message m = w.finish();
  BitReader r(m);
  C.decode(r, static_cast<int>(x.size()), wire, back);
  return m.size_bytes();
}

}  // namespace efsim::alg::bench
