// ModelReplica's shared state (copy on write) against the update rules written out densely:
// sharing may save memory and work, never change a replica's x, whatever order the replicas
// receive their updates in.
#include <gtest/gtest.h>

#include <cstring>

#include "algorithms/methods/base.hpp"

namespace efsim::alg {
namespace {

using Rule = ModelReplica::Rule;

Vector random_vector(int d, std::uint64_t seed) {
  Rng rng(seed);
  Vector v(d);
  for (int j = 0; j < d; ++j) v[j] = standard_normal(rng);
  return v;
}

Compressed sparse(int d, std::vector<std::int32_t> index, std::vector<double> value) {
  return Compressed::sparse(d, std::move(index), std::move(value));
}

bool bitwise_equal(const Vector& a, const Vector& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(double) * a.size()) == 0;
}

constexpr int kD = 50;
constexpr double kGamma = 0.3;

// EF21's rule (g <- g + Δ; x <- x - gamma g) on dense vectors, after each Δ in turn.
std::vector<Vector> reference(const Vector& x0, const std::vector<Compressed>& deltas) {
  Vector x = x0, g = Vector::Zero(x0.size());
  std::vector<Vector> out;
  for (const auto& c : deltas) {
    g += c.to_dense();
    x -= kGamma * g;
    out.push_back(x);
  }
  return out;
}

TEST(ModelReplica, IdenticalReplicasShareOneStateAndDifferentOnesDoNot) {
  const Vector x0 = random_vector(kD, 1);
  const ModelReplica a(x0, kGamma, Rule::kEstimate), b(x0, kGamma, Rule::kEstimate);
  EXPECT_TRUE(a.shares_with(b));
  EXPECT_EQ(a.x().data(), b.x().data());
  const ModelReplica other_gamma(x0, 2 * kGamma, Rule::kEstimate);
  EXPECT_FALSE(other_gamma.shares_with(a));
  Vector x1 = x0;
  x1[7] += 1e-300;
  const ModelReplica other_x(x1, kGamma, Rule::kEstimate);
  EXPECT_FALSE(other_x.shares_with(other_gamma));
  EXPECT_TRUE(bitwise_equal(other_x.x(), x1));
}

TEST(ModelReplica, AnyDeliveryOrderGivesTheRuleResult) {
  const Vector x0 = random_vector(kD, 2);
  const std::vector<Compressed> d = {sparse(kD, {1, 5, 49}, {0.5, -2.0, 3.0}),
                                     sparse(kD, {0, 5}, {1.5, 0.25})};
  const auto want = reference(x0, d);
  const ReplicaKey k1{101, 1}, k2{102, 1};
  ModelReplica a(x0, kGamma, Rule::kEstimate), b(x0, kGamma, Rule::kEstimate),
      c(x0, kGamma, Rule::kEstimate);
  // a runs two updates ahead while b and c still hold the first state: a's second update is
  // made in place, so b must not adopt what a made from the first.
  a.apply(d[0], k1);
  EXPECT_FALSE(a.shares_with(b));
  EXPECT_TRUE(b.shares_with(c));
  EXPECT_TRUE(bitwise_equal(a.x(), want[0]));
  a.apply(d[1], k2);
  EXPECT_TRUE(bitwise_equal(a.x(), want[1]));
  EXPECT_TRUE(bitwise_equal(b.x(), x0));  // untouched by a's updates
  b.apply(d[0], k1);
  EXPECT_TRUE(bitwise_equal(b.x(), want[0]));
  EXPECT_FALSE(b.shares_with(a));
  c.apply(d[0], k1);  // adopts b's result
  EXPECT_TRUE(c.shares_with(b));
  b.apply(d[1], k2);
  c.apply(d[1], k2);
  EXPECT_TRUE(c.shares_with(b));
  EXPECT_TRUE(bitwise_equal(b.x(), want[1]));
  EXPECT_TRUE(bitwise_equal(c.x(), want[1]));
}

TEST(ModelReplica, UnnamedOrDifferentUpdatesAreNeverAdopted) {
  const Vector x0 = random_vector(kD, 3);
  const Compressed d0 = sparse(kD, {2}, {1.0}), d1 = sparse(kD, {3}, {-1.0});
  ModelReplica a(x0, kGamma, Rule::kEstimate), b(x0, kGamma, Rule::kEstimate),
      c(x0, kGamma, Rule::kEstimate);
  a.apply(d0);  // serial 0: computed, not offered to the others
  b.apply(d1, {7, 1});
  c.apply(d1, {7, 2});  // same bytes decoded another way: its own update
  EXPECT_TRUE(bitwise_equal(a.x(), reference(x0, {d0})[0]));
  EXPECT_TRUE(bitwise_equal(b.x(), reference(x0, {d1})[0]));
  EXPECT_TRUE(bitwise_equal(c.x(), b.x()));
  EXPECT_FALSE(c.shares_with(b));
}

TEST(ModelReplica, ModelIsMadeOnceForSharingReplicas) {
  const Vector x0 = random_vector(kD, 4), x1 = random_vector(kD, 5);
  ModelReplica a(x0, 1.0, Rule::kStep), b(x0, 1.0, Rule::kStep), c(x0, 1.0, Rule::kStep);
  int made = 0;
  for (ModelReplica* r : {&a, &b, &c})
    r->set_x_from({9, 2}, [&] {
      ++made;
      return x1;
    });
  EXPECT_EQ(made, 1);
  EXPECT_TRUE(a.shares_with(c));
  EXPECT_TRUE(bitwise_equal(c.x(), x1));
  // Momentum and shift rules keep their second vector through sharing too.
  ModelReplica m(x0, kGamma, Rule::kStep, 0.5), n(x0, kGamma, Rule::kStep, 0.5);
  const Compressed d = sparse(kD, {4}, {2.0});
  m.apply(d, {11, 1});
  m.apply(d, {12, 1});
  n.apply(d, {11, 1});
  n.apply(d, {12, 1});
  Vector x = x0, mom = Vector::Zero(kD);
  for (int t = 0; t < 2; ++t) {
    mom = 0.5 * mom + d.to_dense();
    x -= kGamma * mom;
  }
  EXPECT_TRUE(bitwise_equal(m.x(), n.x()));
  EXPECT_NEAR((m.x() - x).norm(), 0.0, 1e-15);
}

}  // namespace
}  // namespace efsim::alg
