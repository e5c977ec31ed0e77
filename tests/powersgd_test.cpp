// PowerSGD (Vogels, Karimireddy, Jaggi, NeurIPS 2019, Algorithms 1 and 2;
// algorithms/methods/powersgd.cpp) against closed forms and the network: full rank is exact
// (GD, two rounds per step); a rank-1 gradient is sent exactly, and a rank-2 one is projected on
// the power-iteration direction P^ = M Q0 / |M Q0| in closed form; the vector reshape rule; the
// uploads are the factors, and under ring_allreduce they travel at their own size; the scenario
// parser refuses a compressor entry and ring_allgather; SimGrid changes time, not iterates.
#include "algorithms/methods/powersgd.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <tuple>
#include <vector>

#include "algorithms/compressors/compressor.hpp"
#include "algorithms/core/error.hpp"
#include "algorithms/methods/method.hpp"
#include "algorithms/problems/glm.hpp"
#include "algorithms/problems/quadratic.hpp"
#include "algorithms/runner/sync_runner.hpp"
#include "method_run.hpp"
#include "platforms/star.hpp"
#include "sim/network/pattern.hpp"
#include "sim/network/simgrid_runner.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/sweep/recorder.hpp"
#include "sim/text.hpp"
#include "simgrid_star_run.hpp"
#include "synthetic_problem.hpp"
#include "test_util.hpp"

namespace efsim::alg {
namespace {

std::shared_ptr<GlmProblem> logistic(int workers = 4) {
  return test::synthetic_glm(test::method_spec(workers));
}

// One worker with f(x) = 0.5 ||x||^2 - b^T x: ∇f(0) = -b.
std::unique_ptr<QuadraticProblem> shifted_square(const Vector& b) {
  std::vector<std::unique_ptr<QuadraticObjective>> locals;
  locals.push_back(std::make_unique<QuadraticObjective>(Matrix::Identity(b.size(), b.size()), b));
  return std::make_unique<QuadraticProblem>(std::move(locals));
}

MethodSpec spec(const std::string& name, double gamma, int rank = 2, int bits = 64) {
  MethodSpec s;
  s.name = name;
  s.gamma = gamma;
  s.seed = 11;
  s.wire.value_bits = bits;
  if (name == "powersgd") s.params.set("rank", rank);
  return s;
}

TEST(PowerSgd, VectorsAreReshapedNearTheSquare) {
  const std::vector<std::tuple<int, int, int>> cases = {
      {30, 6, 5}, {10, 4, 3}, {400, 20, 20}, {2, 2, 1}};
  for (const auto& [d, rows, cols] : cases) {
    SCOPED_TRACE(d);
    const auto p = shifted_square(Vector::Ones(d));
    const auto blocks = powersgd::layout(*p, 3);
    ASSERT_EQ(blocks.size(), 1u);
    EXPECT_EQ(blocks[0].rows, rows);
    EXPECT_EQ(blocks[0].cols, cols);
    EXPECT_EQ(blocks[0].size, d);
    EXPECT_EQ(blocks[0].rank, cols > 1 ? std::min(3, cols) : 0);  // 2 x 1: a vector, sent dense
  }
}

// Rank = min(rows, cols): P^ spans M's columns, so P^ Q^T = mean M_w exactly (up to rounding)
// and the errors stay 0: every PowerSGD step (two rounds) is a GD step.
TEST(PowerSgd, FullRankIsGd) {
  const auto p = logistic();
  const double gamma = 1.0 / p->smoothness();
  const Outcome gd = run(spec("gd", gamma), *p, 30);
  const Outcome ps = run(spec("powersgd", gamma, 5), *p, 60);  // d = 30: 6 x 5, rank 5
  ASSERT_EQ(ps.trace.size(), 2 * gd.trace.size() - 1);
  for (std::size_t k = 0; k < gd.trace.size(); ++k)
    EXPECT_NEAR(ps.trace[2 * k].f, gd.trace[k].f, 1e-10 * std::abs(gd.trace[k].f)) << k;
  EXPECT_LT((ps.x - gd.x).norm(), 1e-10 * gd.x.norm());
}

// Algorithm 2's momentum (nesterov = lambda): at full rank Δ' is the mean gradient, so every
// step is Nesterov-type GD written out here: m <- lambda m + ∇f(x), x <- x - gamma (∇f(x) + m),
// m^0 = 0 (to rounding); the trace's f after each Q round matches it. Without the setting the
// step is plain GD's (the test above), which lambda -> 0 does not give (2 gamma ∇f).
TEST(PowerSgd, NesterovMomentumIsAlgorithm2) {
  const auto p = logistic();
  const double gamma = 0.5 / p->smoothness(), lambda = 0.8;
  MethodSpec s = spec("powersgd", gamma, 5);
  s.params.set("nesterov", lambda);
  const Outcome ps = run(s, *p, 80);
  Vector x = Vector::Zero(p->dim()), m = Vector::Zero(p->dim()), g(p->dim());
  for (std::size_t k = 0; 2 * k < ps.trace.size(); ++k) {
    const double f = p->value_and_gradient(x, g);
    EXPECT_NEAR(ps.trace[2 * k].f, f, 1e-10 * std::abs(f)) << "step " << k;
    m = lambda * m + g;
    x = x - gamma * (g + m);
  }
  // 40 steps: x is the recurrence's after 40 updates; the loop above made 41.
  Vector y = Vector::Zero(p->dim()), mm = Vector::Zero(p->dim());
  for (int k = 0; k < 40; ++k) {
    p->value_and_gradient(y, g);
    mm = lambda * mm + g;
    y = y - gamma * (g + mm);
  }
  EXPECT_LT((ps.x - y).norm(), 1e-10 * y.norm());
  // Momentum moves the iterates: not the plain run's (both end at the minimiser, so compare
  // the first steps).
  const Outcome plain = run(spec("powersgd", gamma, 5), *p, 80);
  for (std::size_t k : {2u, 4u})
    EXPECT_GT(std::abs(plain.trace[k].f - ps.trace[k].f), 1e-6 * std::abs(ps.trace[k].f)) << k;
}

// A rank-1 gradient M = -u v^T is sent exactly with rank 1: after one step (two rounds) with
// gamma = 1, x = b, the minimiser.
TEST(PowerSgd, RankOneGradientIsExact) {
  Vector b(6);
  b << 1, -1, 2, -2, 3, -3;  // 3 x 2, row-major: u v^T with u = (1, 2, 3), v = (1, -1)
  const auto p = shifted_square(b);
  const Outcome ps = run(spec("powersgd", 1.0, 1), *p, 2);
  EXPECT_LT((ps.x - b).norm(), 1e-14);
  EXPECT_LT(ps.trace.back().grad_norm_sq, 1e-28);
}

// A rank-2 gradient with rank 1: one power iteration from Q0 (i.i.d. N(0, 1) from the seed, as
// documented) gives P = M Q0, P^ = P / |P|, Q = M^T P^, and the step x1 = -gamma P^ P^^T M. The
// next step compresses M + e with e = M - P^ P^^T M (error feedback).
TEST(PowerSgd, RankOneOfRankTwoInClosedForm) {
  Vector b(6);
  b << 3, 0, 0, 1, 0, 0;  // 3 x 2: [[3, 0], [0, 1], [0, 0]]
  const auto p = shifted_square(b);
  const double gamma = 0.5;
  Rng rng(derive_seed(11, 0, 43));
  Eigen::MatrixXd Q0(2, 1);
  Q0(0, 0) = standard_normal(rng);
  Q0(1, 0) = standard_normal(rng);
  Eigen::MatrixXd M(3, 2);
  M << -3, 0, 0, -1, 0, 0;  // ∇f(0) = -b
  Eigen::MatrixXd P = M * Q0;
  P /= P.norm();
  const Eigen::MatrixXd step = P * (M.transpose() * P).transpose();
  const Outcome ps = run(spec("powersgd", gamma, 1), *p, 2);
  for (int t = 0; t < 6; ++t) EXPECT_NEAR(ps.x[t], -gamma * step(t / 2, t % 2), 1e-14) << t;
  // It is not M itself (rank 1 < 2), but error feedback drives x to b over the steps.
  EXPECT_GT((ps.x - gamma * b).norm(), 1e-3);
  const Outcome many = run(spec("powersgd", gamma, 1), *p, 400);
  EXPECT_LT((many.x - b).norm(), 1e-8);
}

// The uploads are the factors: P round rows x r values, Q round cols x r values (no header).
TEST(PowerSgd, UploadsAreTheFactors) {
  const auto p = logistic();
  for (int bits : {64, 32}) {
    SCOPED_TRACE(bits);
    const Outcome ps = run(spec("powersgd", 0.5 / p->smoothness(), 2, bits), *p, 6);
    const double p_bits = 8.0 * std::ceil(6 * 2 * bits / 8.0);  // 6 x 5: P is 6 x 2, Q 5 x 2
    const double q_bits = 8.0 * std::ceil(5 * 2 * bits / 8.0);
    double up = 0.0;
    for (std::size_t k = 1; k < ps.trace.size(); ++k) {
      up += k % 2 == 1 ? p_bits : q_bits;
      EXPECT_EQ(ps.trace[k].bits_up_per_worker, up) << k;
    }
  }
}

// Runs a method on the 4-worker star under `pattern` in SimGrid (in a child process); returns
// the trace CSV.
std::string simgrid_trace(const MethodSpec& s, const std::string& pattern, long rounds) {
  return test::run_in_child([&] {
    auto p = logistic(4);
    Identity id;
    MethodInstance m = find_method(s.name).make(s, *p, id, Vector::Zero(p->dim()));
    return test::simgrid_star_trace(m, *p, rounds, s.wire, sim::parse_pattern(pattern));
  });
}

// Under ring_allreduce each of the n = 4 workers sends 2(n - 1) chunks of ceil(upload / n) bytes
// per round: the factors' size, where GD's all-reduce moves chunks of the dense vector. The
// iterates are the parameter server's (and the SyncRunner's) bit for bit.
TEST(PowerSgd, AllReduceMovesTheFactors) {
  const auto p = logistic();
  const MethodSpec s = spec("powersgd", 0.5 / p->smoothness(), 2, 32);
  const long rounds = 8;
  const std::string csv = simgrid_trace(s, "ring_allreduce", rounds);
  ASSERT_EQ(csv.rfind("round,", 0), 0u) << csv;
  const auto ring = test::parse_trace(csv);
  const std::string gd_csv =
      simgrid_trace(spec("gd", 0.5 / p->smoothness(), 2, 32), "ring_allreduce", rounds);
  ASSERT_EQ(gd_csv.rfind("round,", 0), 0u) << gd_csv;
  const auto gd = test::parse_trace(gd_csv);
  const double p_chunk = std::ceil(std::ceil(6 * 2 * 32 / 8.0) / 4.0);  // bytes
  const double q_chunk = std::ceil(std::ceil(5 * 2 * 32 / 8.0) / 4.0);
  const double dense_chunk = std::ceil(dense_message_bytes(30, s.wire) / 4.0);
  double up = 0.0;
  for (std::size_t k = 1; k < ring.size(); ++k) {
    up += 8.0 * 2 * 3 * (k % 2 == 1 ? p_chunk : q_chunk);
    EXPECT_EQ(ring[k].bits_up_per_worker, up) << k;
    EXPECT_EQ(gd[k].bits_up_per_worker, 8.0 * 2 * 3 * dense_chunk * k) << k;
  }
  // The same iterates as without a network.
  const Outcome sync = run(s, *p, rounds);
  ASSERT_EQ(sync.trace.size(), ring.size());
  for (std::size_t k = 0; k < ring.size(); ++k)
    EXPECT_EQ(sim::exact(ring[k].f), sim::exact(sync.trace[k].f)) << k;
  EXPECT_GT(ring.back().sim_time_s, 0.0);
  // ring_allgather forwards uploads whole: refused for summable factors.
  const std::string gather = simgrid_trace(s, "ring_allgather", rounds);
  EXPECT_NE(gather.find("ring_allgather"), std::string::npos) << gather;
}

class PowerSgdScenario : public test::TempDirTest {};

TEST_F(PowerSgdScenario, ParserRefusesCompressorsAndAllGather) {
  const std::string head = "problem: {kind: logistic, dataset: synthetic, workers: 2}\nruns:\n";
  const auto s = sim::load_scenario(
      write("ok.yaml", head + "  - {method: powersgd, rank: [1, 2], pattern: [parameter_server, "
                              "ring_allreduce], stepsize: {gamma: 0.1}}\n"));
  ASSERT_EQ(s.runs.size(), 4u);
  EXPECT_EQ(s.runs[0].id, "powersgd-identity-g0.1-r1");
  EXPECT_EQ(s.runs[1].id, "powersgd-identity-g0.1-r1-ring_allreduce");
  auto error_of = [this](const std::string& text) -> std::string {
    try {
      sim::load_scenario(write("bad.yaml", text));
    } catch (const InputError& e) {
      return e.what();
    }
    ADD_FAILURE() << "loaded: " << text;
    return "";
  };
  const std::string gather =
      error_of(head + "  - {method: powersgd, pattern: ring_allgather, stepsize: {gamma: 0.1}}\n");
  EXPECT_NE(gather.find("bad.yaml:3: key 'runs.0.pattern': method 'powersgd' sends factors"),
            std::string::npos)
      << gather;
  const std::string compressor = error_of(
      head + "  - {method: powersgd, compressor: {kind: top_k, k: 2}, stepsize: {gamma: 0.1}}\n");
  EXPECT_NE(compressor.find("bad.yaml:3: key 'runs.0.compressor': method 'powersgd' compresses"),
            std::string::npos)
      << compressor;
  const std::string rank = error_of(head + "  - {method: powersgd, rank: 0}\n");
  EXPECT_NE(rank.find("runs.0.rank"), std::string::npos) << rank;
  const std::string model = error_of(
      "problem: {kind: logistic, dataset: synthetic, workers: 2}\n"
      "runs:\n  - {method: powersgd, downlink: model, stepsize: {gamma: 0.1}}\n");
  EXPECT_NE(model.find("runs.0.downlink"), std::string::npos) << model;
}

}  // namespace
}  // namespace efsim::alg
