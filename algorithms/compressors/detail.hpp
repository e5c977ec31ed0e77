// Helpers shared by the compressor implementations. Internal to algorithms/.
#pragma once

#include <cstdint>
#include <vector>

#include "algorithms/core/types.hpp"
#include "algorithms/wire/codec.hpp"

namespace efsim::alg::detail {

// Natural compression of one value (Horváth et al. 2019): an unbiased random rounding of |t|
// to one of the two nearest powers of two 2^e, e in [-126, 127], keeping the sign; values below
// 2^-126 round to 0 or 2^-126; overflow and non-finite input give +-infinity.
double natural_round(double t, Rng& rng);
// Its 9-bit code: sign bit, then the binary32 exponent field (0 = zero, 255 = infinity).
std::uint32_t natural_code(double v);
double natural_from_code(std::uint32_t code);
inline constexpr int kNaturalBits = 9;

// Bits for a level index in 0..s.
int level_bits(int s);

// Top-K's candidate scan over x[begin..end): the indices j (ascending) whose |x_j| bits (NaN
// above +inf) are >= L, and their values, written to index[0..returned) and value[0..returned);
// both need end - begin + 16 entries. Two implementations with one result: the AVX-512 one runs
// where the CPU has it (has_avx512f()); tests compare them.
int collect_candidates_scalar(const double* x, int begin, int end, std::uint64_t L,
                              std::int32_t* index, double* value);
int collect_candidates_avx512(const double* x, int begin, int end, std::uint64_t L,
                              std::int32_t* index, double* value);
bool has_avx512f();

}  // namespace efsim::alg::detail
