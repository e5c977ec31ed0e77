// Stochastic gradients, momentum and least squares, against independent references: Monte-Carlo
// unbiasedness, exact reductions (beta = 0, eta = 1), a normal-equations optimum, EF21's
// Theorem 3 linear rate, and the noise-floor example of poster 000.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "algorithms/core/error.hpp"
#include "algorithms/methods/method.hpp"
#include "algorithms/problems/glm.hpp"
#include "algorithms/problems/quadratic.hpp"
#include "algorithms/runner/sync_runner.hpp"
#include "sim/sweep/recorder.hpp"
#include "test_util.hpp"

namespace efsim::alg {
namespace {

std::shared_ptr<Dataset> data(int samples = 400, int dim = 20, int workers = 4) {
  SyntheticSpec s;
  s.samples = samples;
  s.dim = dim;
  s.nnz_per_row = 6;
  s.workers = workers;
  s.seed = 9;
  s.feature_decay = 0.0;
  return std::make_shared<Dataset>(make_synthetic(s));
}

std::vector<TraceRow> run(const std::string& name, const Problem& p, const Compressor& C,
                          double gamma, int rounds, int batch, double eta = 1.0, double beta = 0.0,
                          std::uint64_t seed = 3) {
  MethodSpec spec;
  spec.name = name;
  spec.gamma = gamma;
  spec.wire.value_bits = 64;
  spec.params.set("batch", batch);
  spec.params.set("eta", eta);
  spec.params.set("beta", beta);
  MethodInstance m = find_method(name).make(spec, p, C, Vector::Ones(p.dim()));
  StopRule rule;
  rule.max_rounds = rounds;
  rule.divergence_factor = 1e300;
  Monitor mon(p, rule);
  run_sync(m, mon, seed);
  return mon.trace();
}

void expect_identical(const std::vector<TraceRow>& a, const std::vector<TraceRow>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    ASSERT_EQ(sim::exact(a[k].f), sim::exact(b[k].f)) << "round " << k;
    ASSERT_EQ(sim::exact(a[k].grad_norm_sq), sim::exact(b[k].grad_norm_sq)) << "round " << k;
    ASSERT_EQ(a[k].bits_up_per_worker, b[k].bits_up_per_worker) << "round " << k;
  }
}

TEST(StochasticGradient, MinibatchIsUnbiasedAndFullBatchIsExact) {
  for (Loss loss : {Loss::kLogistic, Loss::kSquares}) {
    GlmProblem p(data(), 4, loss, 0.05);
    const Objective& f = p.local(1);
    Rng xr(4);
    Vector x(20);
    for (int j = 0; j < 20; ++j) x[j] = standard_normal(xr);
    Vector full(20), g(20), mean = Vector::Zero(20), sq = Vector::Zero(20);
    f.value_and_gradient(x, full);
    Rng rng(5);
    const int draws = 20000;
    for (int t = 0; t < draws; ++t) {
      f.stochastic_gradient(x, 7, rng, g);
      mean += g;
      sq += (g - full).cwiseAbs2();
    }
    mean /= draws;
    for (int j = 0; j < 20; ++j)
      EXPECT_NEAR(mean[j], full[j], 5 * std::sqrt(sq[j] / draws / draws) + 1e-12) << j;
    // batch >= N_i: exactly the full gradient.
    f.stochastic_gradient(x, 100000, rng, g);
    EXPECT_EQ(g, full);
  }
}

TEST(Momentum, BetaZeroIsThePlainMethodBitForBit) {
  GlmProblem p(data(), 4, Loss::kLogistic, 0.1);
  TopK top(3);
  Identity id;
  expect_identical(run("dcgd", p, id, 0.5, 40, 8, 1.0, 0.0), run("dcgd", p, id, 0.5, 40, 8));
  const auto plain = run("ef", p, top, 0.5, 40, 8);
  expect_identical(run("ef", p, top, 0.5, 40, 8, 1.0, 0.0), plain);
  // And beta > 0 changes the iterates (the test can fail).
  EXPECT_NE(run("ef", p, top, 0.5, 40, 8, 1.0, 0.9).back().f, plain.back().f);
}

TEST(Momentum, HeavyBallMatchesItsRecurrence) {
  // Full gradients, identity compressor: x+ = x - gamma m, m = beta m + grad f(x).
  GlmProblem p(data(), 4, Loss::kSquares, 0.0);
  Identity id;
  const double gamma = 0.05, beta = 0.9;
  const auto trace = run("dcgd", p, id, gamma, 30, 0, 1.0, beta);
  Vector x = Vector::Ones(20), m = Vector::Zero(20), g(20);
  for (int k = 1; k <= 30; ++k) {
    p.value_and_gradient(x, g);
    m = beta * m + g;
    x -= gamma * m;
    Vector gx(20);
    const double f = p.value_and_gradient(x, gx);
    EXPECT_NEAR(trace[k].f, f, 1e-10 * std::max(1.0, std::abs(f))) << k;
  }
}

TEST(Ef21Sgdm, EtaOneIsEf21SgdBitForBit) {
  GlmProblem p(data(), 4, Loss::kLogistic, 0.1);
  TopK top(2);
  const auto sgd = run("ef21", p, top, 1.0, 50, 5);
  expect_identical(run("ef21_sgdm", p, top, 1.0, 50, 5, 1.0), sgd);
  expect_identical(run("ef21_sgd2m", p, top, 1.0, 50, 5, 1.0), sgd);
  EXPECT_NE(run("ef21_sgdm", p, top, 1.0, 50, 5, 0.5).back().f, sgd.back().f);
}

TEST(Ef21Sgdm, FullGradientsAndEtaOneAreEf21) {
  GlmProblem p(data(), 4, Loss::kLogistic, 0.1);
  TopK top(2);
  expect_identical(run("ef21_sgdm", p, top, 1.0, 30, 0, 1.0), run("ef21", p, top, 1.0, 30, 0));
  // The ideal variants without noise are EF21 with g_i = ∇f_i exactly: GD.
  Identity id;
  const auto gd = run("gd", p, id, 1.0, 30, 0);
  const auto ideal = run("ef21_sgd_ideal", p, top, 1.0, 30, 0);
  for (std::size_t k = 0; k < gd.size(); ++k) EXPECT_NEAR(ideal[k].f, gd[k].f, 1e-12) << k;
}

double mean_grad_sq(const std::vector<TraceRow>& t, std::size_t from, std::size_t to) {
  double s = 0;
  for (std::size_t k = from; k < to; ++k) s += t[k].grad_norm_sq;
  return s / static_cast<double>(to - from);
}

// Poster 000's example f(x) = 0.5 ||x||^2 with Gaussian gradient noise sigma: EF21-SGD stalls at
// a noise floor (it does not decrease with more rounds, and without noise the method
// converges); EF21-SGDM with a small eta goes several times below it, for every n tried.
TEST(PaperFatkhullin, Ef21SgdStallsAtANoiseFloorThatEf21SgdmGoesBelow) {
  TopK top1(1);
  for (int n : {1, 4}) {
    auto noisy = make_noisy_quadratic_problem(10, n, 1.0);
    const auto sgd = run("ef21", *noisy, top1, 0.1, 3000, 1);
    const auto sgdm = run("ef21_sgdm", *noisy, top1, 0.1, 3000, 1, 0.1);
    const double floor_early = mean_grad_sq(sgd, 1000, 2000),
                 floor_late = mean_grad_sq(sgd, 2000, 3001);
    EXPECT_LT(floor_late, 2.0 * floor_early) << "n=" << n;  // stalled, not converging
    EXPECT_GT(floor_late, 0.5 * floor_early) << "n=" << n;
    EXPECT_LT(4.0 * mean_grad_sq(sgdm, 2000, 3001), floor_late) << "n=" << n;
    auto exact = make_noisy_quadratic_problem(10, n, 0.0);
    EXPECT_LT(run("ef21", *exact, top1, 0.1, 3000, 1).back().grad_norm_sq, 1e-20) << "n=" << n;
  }
}

// Theorem 1 of Fatkhullin, Tyurin, Richtárik (2023): EF21-SGD-ideal stalls at a floor that does
// not shrink with n. That needs noise whose compression is biased the same way on every worker
// (the "skewed" noise: zero mean, but Top-1 keeps its first coordinate only when positive); with
// isotropic Gaussian noise the compressed noise is unbiased and the floor does shrink like 1/n.
// The paper's fix, EF21-SGDM-ideal, damps the noise before compressing: its floor scales with
// eta^2.
TEST(PaperFatkhullin, IdealEf21SgdFloorDoesNotShrinkWithNUnderBiasedCompressedNoise) {
  TopK top1(1);
  auto floor_of = [&](int n, QuadraticObjective::Noise noise, const char* method, double eta) {
    auto p = make_noisy_quadratic_problem(10, n, 1.0, noise);
    return mean_grad_sq(run(method, *p, top1, 0.1, 3000, 1, eta), 2000, 3001);
  };
  using N = QuadraticObjective::Noise;
  const double skew1 = floor_of(1, N::kSkewed, "ef21_sgd_ideal", 1.0);
  const double skew16 = floor_of(16, N::kSkewed, "ef21_sgd_ideal", 1.0);
  EXPECT_GT(skew16, 0.5 * skew1) << "skewed noise: n = 1 " << skew1 << ", n = 16 " << skew16;
  const double gauss1 = floor_of(1, N::kGaussian, "ef21_sgd_ideal", 1.0);
  const double gauss16 = floor_of(16, N::kGaussian, "ef21_sgd_ideal", 1.0);
  EXPECT_LT(4.0 * gauss16, gauss1) << "gaussian noise: n = 1 " << gauss1 << ", n = 16 " << gauss16;
  const double m1 = floor_of(16, N::kSkewed, "ef21_sgdm_ideal", 0.1);
  const double m2 = floor_of(16, N::kSkewed, "ef21_sgdm_ideal", 0.01);
  EXPECT_GT(m1 / m2, 50.0);  // ~ eta^2
  EXPECT_LT(m1 / m2, 200.0);
  EXPECT_LT(10.0 * m1, skew16);
}

TEST(LeastSquares, OptimalValueFromNormalEquations) {
  GlmProblem p(data(300, 12, 3), 3, Loss::kSquares, 0.0);
  const double f_star = p.optimal_value();
  ASSERT_TRUE(std::isfinite(f_star));
  Rng rng(2);
  Vector g(12);
  for (int t = 0; t < 50; ++t) {
    Vector x(12);
    for (int j = 0; j < 12; ++j) x[j] = standard_normal(rng);
    EXPECT_GE(p.value_and_gradient(x, g), f_star - 1e-12);
  }
  // GD at 1/L reaches it.
  Identity id;
  const auto gd = run("gd", p, id, 1.0 / p.smoothness(), 3000, 0);
  EXPECT_NEAR(gd.back().f, f_star, 1e-9 * std::max(1.0, f_star));
  // No f* for the logistic loss.
  EXPECT_TRUE(std::isnan(LogisticProblem(data(), 4, 0.1).optimal_value()));
}

// EF21 paper, Theorem 3 (PL): with gamma <= min{(L + L̃ sqrt(2 beta/theta))^-1, theta/(2 mu)},
// Psi^T <= (1 - gamma mu)^T Psi^0, Psi = f - f* + (gamma/theta) G, G = mean ||g_i - ∇f_i||^2.
// Least squares is PL with mu = the smallest eigenvalue of the Hessian.
TEST(LeastSquares, Ef21ConvergesLinearlyAsTheorem3States) {
  auto d = data(400, 10, 4);
  GlmProblem p(d, 4, Loss::kSquares, 0.0);
  // mu: the smallest eigenvalue of the Hessian (2/n) sum_i A_i^T A_i / N_i.
  Eigen::MatrixXd H = Eigen::MatrixXd::Zero(10, 10);
  for (int i = 0; i < 4; ++i) {
    const auto [first, rows] = worker_rows(400, 4, i);
    const Eigen::MatrixXd Ai = Eigen::MatrixXd(d->A.middleRows(first, rows));
    H += 2.0 * Ai.transpose() * Ai / rows / 4.0;
  }
  const double mu = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(H).eigenvalues().minCoeff();
  ASSERT_GT(mu, 0.0);
  TopK top(2);
  const double alpha = 0.2, root = std::sqrt(1 - alpha), theta = 1 - root,
               beta = (1 - alpha) / (1 - root);
  const double gamma =
      std::min(1.0 / (p.smoothness() + p.smoothness_tilde() * std::sqrt(2 * beta / theta)),
               theta / (2 * mu));
  EXPECT_NEAR(p.pl_constant(), mu, 1e-9 * mu);
  EXPECT_DOUBLE_EQ(pl_theory_gamma("ef21", top, p), gamma);
  const auto trace = run("ef21", p, top, gamma, 400, 0);
  // Psi^0 >= f(x^0) - f* + (gamma/theta) G^0, with g_i^0 = C(∇f_i(x^0)) computed here.
  double G0 = 0;
  Vector gi(10);
  Rng rng(1);
  for (int i = 0; i < 4; ++i) {
    p.local(i).value_and_gradient(Vector::Ones(10), gi);
    Compressed c;
    top.compress(gi, rng, WireFormat{64, 0}, c);
    G0 += (c.to_dense() - gi).squaredNorm() / 4;
  }
  const double psi0 = trace[0].f - p.optimal_value() + gamma / theta * G0;
  for (std::size_t t = 0; t < trace.size(); ++t)
    EXPECT_LE(trace[t].f - p.optimal_value(),
              std::pow(1 - gamma * mu, static_cast<double>(t)) * psi0 * (1 + 1e-9) + 1e-13)
        << "t=" << t;
  EXPECT_LT(trace.back().f - p.optimal_value(), 1e-3 * (trace[0].f - p.optimal_value()));
}

TEST(LeastSquares, A9aIsPlDespiteCollinearFeatures) {
  const std::string path = test::shared_dataset("a9a");
  if (path.empty()) GTEST_SKIP() << "a9a not present";
  GlmProblem p(std::make_shared<Dataset>(load_libsvm(path)), 20, Loss::kSquares, 0.0);
  // a9a's one-hot groups are collinear: the Hessian is singular, PL holds with its smallest
  // positive eigenvalue.
  EXPECT_GT(p.pl_constant(), 0.0);
  EXPECT_LT(p.pl_constant(), p.smoothness());
  TopK top(10);
  EXPECT_LE(pl_theory_gamma("ef21", top, p), theory_gamma("ef21", top, p));
  EXPECT_THROW(pl_theory_gamma("ef", top, p), InputError);
  EXPECT_THROW(pl_theory_gamma("ef21", top, LogisticProblem(data(), 4, 0.1)), InputError);
}

}  // namespace
}  // namespace efsim::alg
