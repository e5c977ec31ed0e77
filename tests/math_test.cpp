// The math layer against independent references: finite differences, dense eigen-solvers,
// closed forms, and Theorem 1 of the EF21 paper.
#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <cmath>
#include <memory>
#include <set>

#include "algorithms/core/error.hpp"
#include "algorithms/methods/method.hpp"
#include "algorithms/problems/glm.hpp"
#include "algorithms/problems/quadratic.hpp"
#include "algorithms/runner/sync_runner.hpp"
#include "test_util.hpp"

namespace efsim::alg {
namespace {

std::shared_ptr<Dataset> small_data(int workers = 4, int dim = 30, int samples = 200) {
  SyntheticSpec s;
  s.samples = samples;
  s.dim = dim;
  s.nnz_per_row = 6;
  s.workers = workers;
  s.seed = 11;
  return std::make_shared<Dataset>(make_synthetic(s));
}

Vector random_vector(int d, std::uint64_t seed, double scale = 1.0) {
  Rng rng(seed);
  Vector v(d);
  for (int j = 0; j < d; ++j) v[j] = scale * standard_normal(rng);
  return v;
}

void expect_gradient_matches_finite_differences(const Objective& f, const Vector& x) {
  Vector g(x.size());
  const double fx = f.value_and_gradient(x, g);
  EXPECT_NEAR(fx, f.value(x), 1e-14 * std::max(1.0, std::abs(fx)));
  for (Eigen::Index j = 0; j < x.size(); ++j) {
    const double h = 1e-5 * std::max(1.0, std::abs(x[j]));
    Vector xp = x, xm = x;
    xp[j] += h;
    xm[j] -= h;
    const double fd = (f.value(xp) - f.value(xm)) / (2 * h);
    EXPECT_NEAR(g[j], fd, 1e-7 * std::max(1.0, std::abs(fd))) << "coordinate " << j;
  }
}

TEST(Logistic, GradientMatchesFiniteDifferences) {
  LogisticProblem p(small_data(), 4, 0.1);
  for (int i = 0; i < 4; ++i)
    expect_gradient_matches_finite_differences(p.local(i), random_vector(30, 5 + i, 2.0));
}

TEST(Logistic, ValueAtZeroIsLog2) {
  LogisticProblem p(small_data(), 4, 0.1);
  Vector g(30);
  EXPECT_NEAR(p.value_and_gradient(Vector::Zero(30), g), std::log(2.0), 1e-15);
}

TEST(Logistic, StableForHugeMargins) {
  LogisticProblem p(small_data(), 2, 0.1);
  Vector g(30);
  const double f = p.value_and_gradient(Vector::Constant(30, 1e6), g);
  EXPECT_TRUE(std::isfinite(f));
  EXPECT_TRUE(g.allFinite());
}

TEST(Quadratic, GradientMatchesFiniteDifferences) {
  auto p = make_beznosikov_problem();
  for (int i = 0; i < 3; ++i)
    expect_gradient_matches_finite_differences(p->local(i), random_vector(3, 9 + i));
  // The paper's gradients at x0 = (t,t,t): (t/2)(-11, 9, 9) etc.
  Vector g(3);
  p->local(0).value_and_gradient(Vector::Constant(3, 2.0), g);
  EXPECT_DOUBLE_EQ(g[0], -11.0);
  EXPECT_DOUBLE_EQ(g[1], 9.0);
  EXPECT_DOUBLE_EQ(g[2], 9.0);
}

// L_i = lambda_max(A_i^T A_i)/(4 N_i) + 2 lambda and L of the mean, against a dense eigen-solver.
TEST(Logistic, SmoothnessConstantsMatchDenseEigenvalues) {
  auto data = small_data(3, 25, 150);
  const double lambda = 0.05;
  LogisticProblem p(data, 3, lambda);
  Eigen::MatrixXd mean = Eigen::MatrixXd::Zero(25, 25);
  double sum_sq = 0;
  for (int i = 0; i < 3; ++i) {
    const auto [first, rows] = worker_rows(150, 3, i);
    const Eigen::MatrixXd Ai = Eigen::MatrixXd(data->A.middleRows(first, rows));
    const Eigen::MatrixXd H = Ai.transpose() * Ai / (4.0 * rows);
    mean += H / 3.0;
    const double Li =
        Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(H).eigenvalues().maxCoeff() + 2 * lambda;
    EXPECT_NEAR(p.local(i).smoothness(), Li, 1e-8 * Li);
    sum_sq += Li * Li;
  }
  const double L =
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(mean).eigenvalues().maxCoeff() + 2 * lambda;
  EXPECT_NEAR(p.smoothness(), L, 1e-8 * L);
  EXPECT_NEAR(p.smoothness_tilde(), std::sqrt(sum_sq / 3), 1e-8 * L);
  EXPECT_LE(p.smoothness(), p.smoothness_tilde() * (1 + 1e-12));
}

TEST(Quadratic, BeznosikovSmoothness) {
  // mean Q = (2/3)(aa^T + bb^T + cc^T) + I/2, whose top eigenvalue is (2/3)*25 + 1/2.
  auto p = make_beznosikov_problem();
  EXPECT_NEAR(p->smoothness(), 2.0 / 3.0 * 25.0 + 0.5, 1e-12);
  // Q_i = 2 a a^T + I/2 with ||a||^2 = 17.
  EXPECT_NEAR(p->local(0).smoothness(), 34.5, 1e-12);
}

TEST(Stepsize, Ef21TheoryFormula) {
  EXPECT_DOUBLE_EQ(ef21_theory_gamma(2.0, 3.0, 1.0), 0.5);  // alpha = 1: 1/L
  // alpha = 0.75: sqrt(1-alpha) = 0.5, theta = 0.5, beta = 0.25/0.5 = 0.5, sqrt(beta/theta) = 1.
  EXPECT_DOUBLE_EQ(ef21_theory_gamma(2.0, 3.0, 0.75), 1.0 / 5.0);
  // Top-1 on d = 123: alpha = 1/123.
  const double a = 1.0 / 123, r = std::sqrt(1 - a);
  EXPECT_DOUBLE_EQ(ef21_theory_gamma(1.0, 1.5, a),
                   1.0 / (1.0 + 1.5 * std::sqrt(((1 - a) / (1 - r)) / (1 - r))));
  EXPECT_THROW(ef21_theory_gamma(1.0, 1.0, 0.0), efsim::InputError);
}

// Theorem 1 of the EF21 paper: for a deterministic, positively homogeneous and additive C,
// EF and EF21 produce the same iterates (in exact arithmetic; here to rounding).
void compare_ef_and_ef21(const Compressor& C, const LogisticProblem& p, double gamma,
                         bool expect_equal) {
  const Vector x0 = random_vector(p.dim(), 3, 0.5);
  MethodSpec spec;
  spec.gamma = gamma;
  spec.wire.value_bits = 64;
  spec.name = "ef";
  MethodInstance ef = find_method("ef").make(spec, p, C, x0);
  spec.name = "ef21";
  MethodInstance ef21 = find_method("ef21").make(spec, p, C, x0);
  auto r1 = worker_rngs(1, p.num_workers()), r2 = worker_rngs(1, p.num_workers());
  double max_rel = 0;
  for (int k = 1; k <= 60; ++k) {
    for (MethodInstance* m : {&ef, &ef21}) {
      auto& rngs = m == &ef ? r1 : r2;
      std::vector<Message> up(p.num_workers());
      for (int i = 0; i < p.num_workers(); ++i) {
        if (k > 1) m->nodes[i]->receive(m->master->broadcast());
        up[i] = m->nodes[i]->step(rngs[i]);
      }
      for (int i = 0; i < p.num_workers(); ++i) m->master->absorb(i, up[i]);
      m->master->finish_round();
    }
    const double rel = (ef.master->x() - ef21.master->x()).norm() / ef21.master->x().norm();
    max_rel = std::max(max_rel, rel);
  }
  if (expect_equal)
    EXPECT_LT(max_rel, 1e-12);
  else
    EXPECT_GT(max_rel, 1e-6);
}

TEST(Theorem1, EfEqualsEf21ForDiagonalCompressor) {
  LogisticProblem p(small_data(), 4, 0.1);
  Vector w = random_vector(30, 17).cwiseAbs().cwiseMin(1.0).cwiseMax(0.2);
  Diagonal C(w);
  ASSERT_GT(C.alpha(30), 0.0);
  compare_ef_and_ef21(
      C, p, 0.5 * ef21_theory_gamma(p.smoothness(), p.smoothness_tilde(), C.alpha(30)), true);
}

TEST(Theorem1, EfEqualsEf21ForFixedMask) {
  LogisticProblem p(small_data(), 4, 0.1);
  Vector mask = Vector::Zero(30);
  for (int j = 0; j < 30; j += 3) mask[j] = 1.0;
  compare_ef_and_ef21(Diagonal(mask), p, 2.0, true);
}

TEST(Theorem1, TopKIsNotAdditiveSoTheyDiffer) {
  LogisticProblem p(small_data(), 4, 0.1);
  TopK C(2);
  compare_ef_and_ef21(C, p, 2.0, false);
}

TEST(Methods, GdWithIdentityEqualsEf21WithIdentity) {
  // EF21 with C = identity is GD (g_i = ∇f_i exactly).
  LogisticProblem p(small_data(), 4, 0.1);
  Identity C;
  StopRule rule;
  rule.max_rounds = 30;
  const Vector x0 = Vector::Zero(30);
  std::vector<double> f[2];
  int m = 0;
  for (const char* name : {"gd", "ef21"}) {
    MethodSpec spec;
    spec.name = name;
    spec.gamma = 1.0 / p.smoothness();
    spec.wire.value_bits = 64;
    MethodInstance inst = find_method(name).make(spec, p, C, x0);
    Monitor mon(p, rule);
    run_sync(inst, mon, 1);
    for (const auto& row : mon.trace()) f[m].push_back(row.f);
    ++m;
  }
  ASSERT_EQ(f[0].size(), f[1].size());
  for (std::size_t k = 0; k < f[0].size(); ++k) EXPECT_NEAR(f[0][k], f[1][k], 1e-13);
}

TEST(Methods, GdDecreasesFMonotonicallyWithOneOverL) {
  LogisticProblem p(small_data(), 4, 0.1);
  Identity C;
  MethodSpec spec;
  spec.name = "gd";
  spec.gamma = 1.0 / p.smoothness();
  spec.wire.value_bits = 64;
  MethodInstance inst = find_method("gd").make(spec, p, C, Vector::Zero(30));
  StopRule rule;
  rule.max_rounds = 50;
  Monitor mon(p, rule);
  run_sync(inst, mon, 1);
  for (std::size_t k = 1; k < mon.trace().size(); ++k)
    EXPECT_LE(mon.trace()[k].f, mon.trace()[k - 1].f + 1e-15);
  // Descent lemma: f(x+) <= f(x) - ||∇f||^2 / (2L).
  for (std::size_t k = 1; k < mon.trace().size(); ++k)
    EXPECT_LE(mon.trace()[k].f, mon.trace()[k - 1].f -
                                    mon.trace()[k - 1].grad_norm_sq / (2 * p.smoothness()) + 1e-15);
}

TEST(Methods, Ef21PlusNeverWorseDistortionAndConverges) {
  LogisticProblem p(small_data(), 4, 0.1);
  TopK C(3);
  MethodSpec spec;
  spec.name = "ef21_plus";
  spec.gamma = ef21_theory_gamma(p.smoothness(), p.smoothness_tilde(), C.alpha(30));
  spec.wire.value_bits = 64;
  MethodInstance inst = find_method("ef21_plus").make(spec, p, C, Vector::Zero(30));
  StopRule rule;
  rule.max_rounds = 3000;
  rule.target_grad_norm_sq = 1e-12;
  Monitor mon(p, rule);
  EXPECT_EQ(run_sync(inst, mon, 1), StopReason::kTarget);
}

TEST(Methods, UplinkBitsAreTheEncodedMessageSizes) {
  // Top-2 on d = 30 with 32-bit values: 1 + 32 + 2*(5 + 32) = 107 bits -> 14 bytes per worker.
  LogisticProblem p(small_data(), 4, 0.1);
  TopK C(2);
  MethodSpec spec;
  spec.name = "ef21";
  spec.gamma = 0.1;
  MethodInstance inst = find_method("ef21").make(spec, p, C, Vector::Zero(30));
  StopRule rule;
  rule.max_rounds = 3;
  Monitor mon(p, rule);
  run_sync(inst, mon, 1);
  EXPECT_DOUBLE_EQ(mon.trace()[1].bits_up_per_worker, 14 * 8);
  EXPECT_DOUBLE_EQ(mon.trace()[3].bits_up_per_worker, 3 * 14 * 8);
  EXPECT_DOUBLE_EQ(mon.trace()[1].bits_down_per_worker, 0);  // x0 is known: nothing goes down
  EXPECT_GT(mon.trace()[2].bits_down_per_worker, 0);
}

}  // namespace
}  // namespace efsim::alg

namespace efsim::alg {
namespace {

// EF21+ sends a 1-bit choice before its compressed vector: 0 = EF21's Markov step, 1 = plain
// C(∇f_i). Both must occur: on the Beznosikov quadratics with a large stepsize the gradient
// swings between rounds, so plain compression is sometimes closer.
TEST(Methods, Ef21PlusChoosesPlainCompressionWhenItIsCloser) {
  auto problem = make_beznosikov_problem();
  TopK C(1);
  MethodSpec spec;
  spec.name = "ef21_plus";
  spec.gamma = 0.11;  // ~2/L: the iterate oscillates, so the old g_i points the wrong way
  spec.wire.value_bits = 64;
  MethodInstance m = find_method("ef21_plus").make(spec, *problem, C, Vector::Ones(3));
  auto rngs = worker_rngs(1, 3);
  int plain = 0, markov = 0;
  for (int k = 0; k < 40; ++k) {
    std::vector<Message> up(3);
    for (int i = 0; i < 3; ++i) {
      if (k > 0) m.nodes[i]->receive(m.master->broadcast());
      up[i] = m.nodes[i]->step(rngs[i]);
      (up[i].bytes[0] & 0x80 ? plain : markov)++;
    }
    for (int i = 0; i < 3; ++i) m.master->absorb(i, up[i]);
    m.master->finish_round();
  }
  EXPECT_GT(plain, 0);
  EXPECT_GT(markov, 0);
}

}  // namespace
}  // namespace efsim::alg

namespace efsim::alg {
namespace {

// A direct, message-free transcription of EF21 / EF21+ from the papers (dense vectors, one
// process), to check the message-passing implementation against.
Vector reference_ef21(const Problem& p, const Compressor& C, double gamma, const Vector& x0,
                      int rounds, bool plus) {
  const int n = p.num_workers();
  Rng rng(1);
  std::vector<Vector> g(n);
  Vector grad(p.dim());
  Compressed c;
  auto compress = [&](const Vector& v) {
    C.compress(v, rng, WireFormat{64, 0}, c);
    return c.to_dense();
  };
  for (int i = 0; i < n; ++i) {  // g_i^0 = C(∇f_i(x^0))
    p.local(i).value_and_gradient(x0, grad);
    g[i] = compress(grad);
  }
  Vector x = x0;
  for (int t = 0; t + 1 < rounds; ++t) {
    Vector mean = Vector::Zero(p.dim());
    for (int i = 0; i < n; ++i) mean += g[i] / n;
    x -= gamma * mean;  // x^{t+1} = x^t - gamma g^t
    for (int i = 0; i < n; ++i) {
      p.local(i).value_and_gradient(x, grad);
      const Vector m = g[i] + compress(grad - g[i]);
      if (!plus) {
        g[i] = m;
        continue;
      }
      const Vector b = compress(grad);
      g[i] = (m - grad).squaredNorm() <= (b - grad).squaredNorm() ? m : b;
    }
  }
  Vector mean = Vector::Zero(p.dim());
  for (int i = 0; i < n; ++i) mean += g[i] / n;
  return x - gamma * mean;
}

Vector run_rounds(const std::string& name, const Problem& p, const Compressor& C, double gamma,
                  const Vector& x0, int rounds) {
  MethodSpec spec;
  spec.name = name;
  spec.gamma = gamma;
  spec.wire.value_bits = 64;
  MethodInstance m = find_method(name).make(spec, p, C, x0);
  auto rngs = worker_rngs(1, p.num_workers());
  for (int k = 0; k < rounds; ++k) {
    std::vector<Message> up(p.num_workers());
    for (int i = 0; i < p.num_workers(); ++i) {
      if (k > 0) m.nodes[i]->receive(m.master->broadcast());
      up[i] = m.nodes[i]->step(rngs[i]);
    }
    for (int i = 0; i < p.num_workers(); ++i) m.master->absorb(i, up[i]);
    m.master->finish_round();
  }
  return m.master->x();
}

TEST(Methods, Ef21AndEf21PlusMatchDirectTranscriptionOfThePapers) {
  auto bez = make_beznosikov_problem();
  TopK top1(1);
  for (const bool plus : {false, true}) {
    for (const double gamma : {0.02, 0.11}) {
      const Vector ref = reference_ef21(*bez, top1, gamma, Vector::Ones(3), 40, plus);
      const Vector got =
          run_rounds(plus ? "ef21_plus" : "ef21", *bez, top1, gamma, Vector::Ones(3), 40);
      EXPECT_LT((ref - got).norm(), 1e-10 * std::max(1.0, ref.norm()))
          << "plus=" << plus << " gamma=" << gamma;
    }
  }
  LogisticProblem logistic(small_data(), 4, 0.1);
  TopK top3(3);
  for (const bool plus : {false, true}) {
    const Vector ref = reference_ef21(logistic, top3, 5.0, Vector::Zero(30), 50, plus);
    const Vector got =
        run_rounds(plus ? "ef21_plus" : "ef21", logistic, top3, 5.0, Vector::Zero(30), 50);
    EXPECT_LT((ref - got).norm(), 1e-10 * std::max(1.0, ref.norm())) << "plus=" << plus;
  }
}

// ---------------------------------------------------------------------------------------------
// The cost model's charges, against their closed forms (algorithms/core/cost.hpp), and the
// sampler behind Rand-K and minibatches against a plain transcription of Floyd's algorithm.

TEST(CostModel, GlmChargesFollowTheFormula) {
  const auto data = small_data(1, 30, 200);
  const auto nnz = static_cast<double>(data->A.nonZeros());
  const GlmObjective logistic(data, 0, 200, Loss::kLogistic, 0.1);
  EXPECT_DOUBLE_EQ(logistic.gradient_flops(), 4 * nnz + 50 * 200 + 3 * 30);
  const GlmObjective squares(data, 0, 200, Loss::kSquares, 0.0);
  EXPECT_DOUBLE_EQ(squares.gradient_flops(), 4 * nnz + 8 * 200 + 1 * 30);
  // A minibatch of 16 rows: drawing them, then its own rows' entries.
  Rng rng(5), same(5);
  Vector g(30);
  const double charged = logistic.stochastic_gradient(Vector::Constant(30, 0.1), 16, rng, g);
  double batch_nnz = 0;
  for (const std::int32_t r : sample_without_replacement(same, 200, 16))
    batch_nnz += static_cast<double>(data->A.row(r).nonZeros());
  EXPECT_DOUBLE_EQ(charged, 30 * 16 + 10 * 16 * std::log2(17.0) + 4 * batch_nnz + 50 * 16 + 3 * 30);
}

TEST(CostModel, SamplerIsFloydsAlgorithm) {
  for (const auto& [n, k] : std::vector<std::pair<int, int>>{
           {1, 1}, {10, 3}, {64, 64}, {65, 64}, {1000, 1}, {1000, 999}, {100000, 500}}) {
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
      Rng a(seed), b(seed);
      std::set<std::int32_t> chosen;  // the textbook form: an ordered set
      for (int j = n - k; j < n; ++j) {
        const auto t =
            static_cast<std::int32_t>(uniform_below(b, static_cast<std::uint64_t>(j) + 1));
        chosen.insert(chosen.count(t) ? j : t);
      }
      const auto got = sample_without_replacement(a, n, k);
      EXPECT_EQ(got, std::vector<std::int32_t>(chosen.begin(), chosen.end())) << n << " " << k;
      EXPECT_EQ(a(), b()) << "the same number of draws";
    }
  }
}

}  // namespace
}  // namespace efsim::alg
