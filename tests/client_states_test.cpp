// ClientStates (a population's parked g_i / h_i): what is loaded is the vector stored, bit for
// bit, whatever its sparsity -- signed zeros, subnormals, infinities and NaN payloads included --
// and it is held sparse exactly while the (index, value) pairs are smaller than the vector.
#include "algorithms/methods/client_states.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>

namespace {

using efsim::alg::ClientStates;
using efsim::alg::Vector;

bool same_bits(const Vector& a, const Vector& b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), sizeof(double) * static_cast<std::size_t>(a.size())) == 0;
}

TEST(ClientStatesTest, NeverStoredIsZero) {
  ClientStates s(5, 7);
  Vector v = Vector::Constant(3, 1.0);
  s.load(4, v);
  EXPECT_TRUE(same_bits(v, Vector::Zero(7)));
  EXPECT_EQ(s.kept(4), 0u);
  EXPECT_EQ(s.stored_bytes(), 0u);
}

TEST(ClientStatesTest, RoundTripsEveryBitAtEverySparsity) {
  const int d = 30;  // pairs of 12 bytes beat the 240-byte vector up to 19 non-zeros
  ClientStates s(50, d);
  std::mt19937_64 gen(3);
  const double specials[] = {-0.0,
                             std::numeric_limits<double>::denorm_min(),
                             -std::numeric_limits<double>::infinity(),
                             std::numeric_limits<double>::quiet_NaN(),
                             1e308,
                             -1.5};
  std::vector<Vector> kept(50);
  for (int pass = 0; pass < 4; ++pass)
    for (int i = 0; i < 50; ++i) {
      const int nnz = static_cast<int>((i + 7 * pass) % (d + 1));
      Vector v = Vector::Zero(d);
      for (int a = 0; a < nnz; ++a) {
        const int j = static_cast<int>(gen() % d);
        v[j] = (a % 5 == 0) ? specials[gen() % 6] : std::normal_distribution<double>()(gen);
      }
      s.store(i, v);
      kept[i] = v;
      int nonzero = 0;  // bits other than +0.0
      for (int j = 0; j < d; ++j) {
        std::uint64_t b;
        std::memcpy(&b, &v[j], sizeof b);
        nonzero += b != 0;
      }
      EXPECT_EQ(s.dense(i), 12 * nonzero >= 8 * d) << nonzero;
      EXPECT_EQ(s.kept(i),
                s.dense(i) ? static_cast<std::size_t>(d) : static_cast<std::size_t>(nonzero));
    }
  std::size_t bytes = 0;
  for (int i = 0; i < 50; ++i) {
    Vector out;
    s.load(i, out);
    EXPECT_TRUE(same_bits(out, kept[i])) << i;
    bytes += s.dense(i) ? 8u * d : 12u * s.kept(i);
  }
  EXPECT_EQ(s.stored_bytes(), bytes);
}

TEST(ClientStatesTest, ANegativeZeroIsKept) {
  ClientStates s(1, 4);
  Vector v = Vector::Zero(4);
  v[2] = -0.0;
  s.store(0, v);
  EXPECT_EQ(s.kept(0), 1u);
  Vector out;
  s.load(0, out);
  EXPECT_TRUE(same_bits(out, v));
  EXPECT_TRUE(std::signbit(out[2]));
  s.store(0, Vector::Zero(4));  // back to nothing kept
  EXPECT_EQ(s.kept(0), 0u);
  EXPECT_EQ(s.stored_bytes(), 0u);
}

}  // namespace
