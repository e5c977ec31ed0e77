// What a missing upload means, per method (MethodInfo::missing_upload), against hand-rolled
// references: EF21-PP (Fatkhullin et al., "EF21 with Bells & Whistles", 2021) and DIANA with
// unchanged shifts under tau-nice sampling, written out from their update rules; and a worker
// whose upload was dropped at a deadline (Node::drop_last_upload) behaves as if it had never
// stepped.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "algorithms/compressors/compressor.hpp"
#include "algorithms/methods/method.hpp"
#include "algorithms/problems/glm.hpp"
#include "algorithms/runner/sync_runner.hpp"
#include "synthetic_problem.hpp"

namespace efsim::alg {
namespace {

std::shared_ptr<GlmProblem> problem(int workers) {
  return test::synthetic_glm({.samples = 300,
                              .dim = 20,
                              .nnz_per_row = 6,
                              .workers = workers,
                              .heterogeneity = 1.0,
                              .seed = 5},
                             Loss::kLogistic, 0.01);
}

MethodSpec spec(const std::string& name, double gamma, int tau) {
  MethodSpec s;
  s.name = name;
  s.gamma = gamma;
  s.wire.value_bits = 64;  // no float32 rounding: the references below are exact
  s.participation.tau = tau;
  s.seed = 11;
  return s;
}

Vector run_method(const MethodSpec& s, const Problem& p, const Compressor& C, long rounds) {
  MethodInstance m = find_method(s.name).make(s, p, C, Vector::Zero(p.dim()));
  StopRule rule;
  rule.max_rounds = rounds;
  Monitor mon(p, rule);
  run_sync(m, mon, 3);
  return m.master->x();
}

void expect_same(const Vector& a, const Vector& b) {
  ASSERT_EQ(a.size(), b.size());
  for (int j = 0; j < a.size(); ++j) EXPECT_NEAR(a[j], b[j], 1e-12 * (1 + std::abs(b[j]))) << j;
}

// EF21-PP: c_i = C(∇f_i(x) - g_i) and g_i += c_i for i in S^t only; g += (1/n) sum_S c_i;
// x -= gamma g.
TEST(MissingUpload, Ef21WithSamplingIsEf21Pp) {
  const int n = 6, tau = 2, rounds = 25;
  auto p = problem(n);
  const int d = p->dim();
  auto C = make_compressor(CompressorSpec("top_k", 3), d);
  const MethodSpec s = spec("ef21", 0.5, tau);
  const Sampling sampling(s.participation, n, s.seed);
  Vector x = Vector::Zero(d), g = Vector::Zero(d), grad(d);
  std::vector<Vector> g_i(n, Vector::Zero(d));
  Rng unused(1);
  Compressed c;
  for (long t = 0; t < rounds; ++t) {
    const std::vector<char> in = sampling.participants(t);
    Vector delta = Vector::Zero(d);
    for (int i = 0; i < n; ++i) {
      if (!in[i]) continue;
      p->local(i).value_and_gradient(x, grad);
      C->compress(grad - g_i[i], unused, s.wire, c);
      const Vector ci = c.to_dense();
      g_i[i] += ci;
      delta += ci;
    }
    g += delta / n;
    x -= s.gamma * g;
  }
  expect_same(run_method(s, *p, *C, rounds), x);
}

// DIANA with the shifts of workers outside S^k unchanged: Δ_i = Q(∇f_i - h_i), h_i += alpha Δ_i
// for i in S^k; x -= gamma (h + (1/n) sum_S Δ_i); h += alpha (1/n) sum_S Δ_i.
TEST(MissingUpload, DianaWithSamplingKeepsTheShiftsOfMissingWorkers) {
  const int n = 5, tau = 3, rounds = 20;
  auto p = problem(n);
  const int d = p->dim();
  Identity Q;
  MethodSpec s = spec("diana", 0.5, tau);
  const double alpha = 0.3;
  s.params.set("alpha", alpha);
  const Sampling sampling(s.participation, n, s.seed);
  Vector x = Vector::Zero(d), h = Vector::Zero(d), grad(d);
  std::vector<Vector> h_i(n, Vector::Zero(d));
  for (long k = 0; k < rounds; ++k) {
    const std::vector<char> in = sampling.participants(k);
    Vector delta = Vector::Zero(d);
    for (int i = 0; i < n; ++i) {
      if (!in[i]) continue;
      p->local(i).value_and_gradient(x, grad);
      const Vector di = grad - h_i[i];
      h_i[i] += alpha * di;
      delta += di;
    }
    delta /= n;
    x -= s.gamma * (h + delta);
    h += alpha * delta;
  }
  expect_same(run_method(s, *p, Q, rounds), x);
}

// A worker whose upload was dropped keeps its state: its next upload is the one it would have
// sent had it never stepped (EF21's stale g_i, DIANA's unchanged h_i; DCGD keeps nothing).
TEST(MissingUpload, DroppedUploadLeavesTheWorkerAsBefore) {
  auto p = problem(2);
  const int d = p->dim();
  auto top = make_compressor(CompressorSpec("top_k", 3), d);
  Identity id;
  struct Case {
    const char* method;
    const Compressor* C;
  };
  for (const Case& c : {Case{"ef21", top.get()}, Case{"diana", &id}, Case{"dcgd", top.get()}}) {
    MethodSpec s = spec(c.method, 0.5, 0);
    const MethodInfo& info = find_method(c.method);
    EXPECT_FALSE(info.missing_upload.empty()) << c.method;
    MethodInstance dropped = info.make(s, *p, *c.C, Vector::Zero(d));
    MethodInstance fresh = info.make(s, *p, *c.C, Vector::Zero(d));
    Rng r1(4), r2(4), r3(4);
    const Message first = dropped.nodes[0]->step(r1);
    dropped.nodes[0]->drop_last_upload();
    const Message again = dropped.nodes[0]->step(r2);
    const Message once = fresh.nodes[0]->step(r3);
    EXPECT_EQ(again.bytes, once.bytes) << c.method;
    EXPECT_EQ(first.bytes, once.bytes) << c.method;  // the same model, the same state
    // Without the drop the state moves on (EF21 and DIANA): the second upload differs.
    MethodInstance kept = info.make(s, *p, *c.C, Vector::Zero(d));
    Rng r4(4), r5(4);
    (void)kept.nodes[0]->step(r4);
    const Message second = kept.nodes[0]->step(r5);
    if (std::string(c.method) != "dcgd") {
      EXPECT_NE(second.bytes, once.bytes) << c.method;
    }
  }
}

}  // namespace
}  // namespace efsim::alg
