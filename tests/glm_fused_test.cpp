// The fused GLM gradient (glm.cpp: one pass over the rows in blocks, pattern-only or float rows,
// log1p_unit) against a reference kept here: the straightforward two-pass formula
// s = A_i x; s_j <- phi'(s_j, y_j) / N_i; grad = A_i^T s with Eigen's sparse products and
// glibc's exp/log1p, i.e. the implementation the fused pass replaced. Checked: the gradients have
// the same bits; the loss values agree to a few ulps; whole trajectories of EF21 Top-K, GD and
// DIANA agree to 1e-10 relative on a9a, w8a, phishing and mushrooms (and on synthetic data with
// general values, and for least squares).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "algorithms/compressors/compressor.hpp"
#include "algorithms/core/log1p.hpp"
#include "algorithms/methods/method.hpp"
#include "algorithms/problems/glm.hpp"
#include "method_run.hpp"
#include "test_util.hpp"

namespace efsim::alg {
namespace {

// The two-pass reference of one worker's objective (the pre-fusion code, written out).
class TwoPassObjective final : public Objective {
 public:
  TwoPassObjective(std::shared_ptr<const Dataset> data, int first, int rows, Loss loss,
                   double lambda, const Objective& fused)
      : data_(std::move(data)),
        first_(first),
        rows_(rows),
        loss_(loss),
        lambda_(lambda),
        fused_(fused) {}
  int dim() const override { return data_->dim(); }
  double value_and_gradient(const Vector& x, Vector& grad) const override {
    const auto b = data_->A.middleRows(first_, rows_);
    const auto y = data_->y.segment(first_, rows_);
    Vector s = b * x;
    double total = 0.0;
    for (int j = 0; j < rows_; ++j) {
      double slope = 0.0;
      if (loss_ == Loss::kSquares) {
        slope = 2.0 * (s[j] - y[j]);
        total += (s[j] - y[j]) * (s[j] - y[j]);
      } else {
        const double t = -y[j] * s[j];
        const double e = std::exp(-std::abs(t));
        const double sigmoid = t >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
        total += t > 0 ? t + std::log1p(e) : std::log1p(e);
        slope = -y[j] * sigmoid;
      }
      s[j] = slope / rows_;
    }
    grad.noalias() = b.transpose() * s;
    double reg = 0.0;
    if (lambda_ != 0.0)
      for (Eigen::Index k = 0; k < x.size(); ++k) {
        const double q = 1.0 + x[k] * x[k];
        reg += x[k] * x[k] / q;
        grad[k] += lambda_ * 2.0 * x[k] / (q * q);
      }
    return total / rows_ + lambda_ * reg;
  }
  double value(const Vector& x) const override {
    Vector g(x.size());
    return value_and_gradient(x, g);
  }
  double gradient_flops() const override { return fused_.gradient_flops(); }
  double smoothness() const override { return fused_.smoothness(); }
  int num_samples() const override { return rows_; }

 private:
  std::shared_ptr<const Dataset> data_;
  int first_, rows_;
  Loss loss_;
  double lambda_;
  const Objective& fused_;
};

// GlmProblem's split and constants, with the two-pass objectives.
class TwoPassProblem final : public Problem {
 public:
  TwoPassProblem(std::shared_ptr<const Dataset> data, const GlmProblem& fused, Loss loss,
                 double lambda)
      : fused_(fused) {
    for (int i = 0; i < fused.num_workers(); ++i) {
      const auto [first, rows] = worker_rows(data->rows(), fused.num_workers(), i);
      locals_.push_back(
          std::make_unique<TwoPassObjective>(data, first, rows, loss, lambda, fused.local(i)));
    }
  }
  int num_workers() const override { return static_cast<int>(locals_.size()); }
  int dim() const override { return fused_.dim(); }
  const Objective& local(int i) const override { return *locals_[i]; }
  double smoothness() const override { return fused_.smoothness(); }
  std::string describe() const override { return "two-pass reference"; }

 private:
  const GlmProblem& fused_;
  std::vector<std::unique_ptr<TwoPassObjective>> locals_;
};

double rel(double a, double b) {
  return a == b ? 0.0 : std::abs(a - b) / std::max(std::abs(a), std::abs(b));
}

std::uint64_t bits(double v) {
  std::uint64_t u;
  std::memcpy(&u, &v, sizeof u);
  return u;
}

std::shared_ptr<const Dataset> dataset(const std::string& name) {
  const std::string path = test::shared_dataset(name);
  if (path.empty()) return nullptr;
  return std::make_shared<Dataset>(load_libsvm(path));
}

// Points with mixed-sign margins: x = 0, a constant, and seeded Gaussian points of scale 0.1-3.
std::vector<Vector> probe_points(int d) {
  std::vector<Vector> xs{Vector::Zero(d), Vector::Constant(d, 0.01)};
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal;
  for (const double scale : {0.1, 1.0, 3.0}) {
    Vector x(d);
    for (int k = 0; k < d; ++k) x[k] = scale * normal(rng);
    xs.push_back(x);
  }
  return xs;
}

// Every worker's gradient bit for bit, and the loss values to a few ulps.
void expect_same_gradients(const GlmProblem& fused, const TwoPassProblem& ref) {
  for (const Vector& x : probe_points(fused.dim())) {
    for (int i = 0; i < fused.num_workers(); ++i) {
      Vector g1(fused.dim()), g2(fused.dim());
      const double f1 = fused.local(i).value_and_gradient(x, g1);
      const double f2 = ref.local(i).value_and_gradient(x, g2);
      EXPECT_LE(rel(f1, f2), 1e-14) << "worker " << i << ": " << f1 << " vs " << f2;
      for (Eigen::Index k = 0; k < g1.size(); ++k)
        ASSERT_EQ(bits(g1[k]), bits(g2[k]))
            << "worker " << i << ", coordinate " << k << ": " << g1[k] << " vs " << g2[k];
    }
  }
}

// The run of `method` on both problems, trace row by row and the final iterate, to 1e-10.
void expect_same_trajectory(const GlmProblem& fused, const TwoPassProblem& ref,
                            const std::string& method, const CompressorSpec& cs, long rounds,
                            double gamma = 0.0) {
  SCOPED_TRACE(method + " " + cs.kind);
  const auto C = make_compressor(cs, fused.dim());
  MethodSpec spec;
  spec.name = method;
  spec.gamma = gamma > 0 ? gamma : theory_gamma(method, *C, fused);
  const Outcome a = run(spec, fused, *C, rounds);
  const Outcome b = run(spec, ref, *C, rounds);
  ASSERT_EQ(a.trace.size(), b.trace.size());
  ASSERT_EQ(a.trace.size(), static_cast<std::size_t>(rounds + 1));
  double worst = 0.0;
  for (std::size_t r = 0; r < a.trace.size(); ++r) {
    EXPECT_LE(rel(a.trace[r].f, b.trace[r].f), 1e-10) << "round " << r;
    EXPECT_LE(rel(a.trace[r].grad_norm_sq, b.trace[r].grad_norm_sq), 1e-10) << "round " << r;
    worst = std::max({worst, rel(a.trace[r].f, b.trace[r].f),
                      rel(a.trace[r].grad_norm_sq, b.trace[r].grad_norm_sq)});
  }
  EXPECT_LE((a.x - b.x).norm(), 1e-10 * b.x.norm());
  // The iterates depend on the gradients only, which have the same bits: so do the iterates.
  EXPECT_EQ(a.x, b.x);
  ::testing::Test::RecordProperty(method + "_worst_relative", std::to_string(worst));
}

void check_dataset(const std::string& name, const std::string& layout) {
  const auto data = dataset(name);
  if (!data) GTEST_SKIP() << "../shared/datasets/" << name << " not present";
  EXPECT_EQ(fused_rows_layout(*make_fused_rows(data)), layout);
  LogisticProblem fused(data, 20, 0.1);
  TwoPassProblem ref(data, fused, Loss::kLogistic, 0.1);
  expect_same_gradients(fused, ref);
  expect_same_trajectory(fused, ref, "ef21", CompressorSpec("top_k", 1), 300);
  expect_same_trajectory(fused, ref, "gd", CompressorSpec("identity"), 100);
  // DIANA has no theoretical stepsize in efsim: 1/(4L), stable with Rand-10 of d >= 112.
  expect_same_trajectory(fused, ref, "diana", CompressorSpec("rand_k_unbiased", 10), 200,
                         0.25 / fused.smoothness());
}

TEST(GlmFused, SameAsTwoPassOnA9a) { check_dataset("a9a", "pattern"); }
TEST(GlmFused, SameAsTwoPassOnW8a) { check_dataset("w8a", "pattern"); }
TEST(GlmFused, SameAsTwoPassOnPhishing) { check_dataset("phishing", "constant"); }
TEST(GlmFused, SameAsTwoPassOnMushrooms) { check_dataset("mushrooms", "pattern"); }

// Synthetic data has general double values (no pattern-only or float copy), least squares the
// other loss; a tiny block (fewer rows than the fused pass's block and its 4-row groups).
TEST(GlmFused, SameAsTwoPassOnSyntheticDataBothLosses) {
  SyntheticSpec s;
  s.samples = 1003;
  s.dim = 50;
  s.nnz_per_row = 7;
  s.workers = 5;
  const auto data = std::make_shared<Dataset>(make_synthetic(s));
  EXPECT_STREQ(fused_rows_layout(*make_fused_rows(data)), "double");
  for (const Loss loss : {Loss::kLogistic, Loss::kSquares}) {
    for (const double lambda : {0.0, 0.1}) {
      GlmProblem fused(data, 5, loss, lambda);
      TwoPassProblem ref(data, fused, loss, lambda);
      expect_same_gradients(fused, ref);
      expect_same_trajectory(fused, ref, "ef21", CompressorSpec("top_k", 2), 100);
    }
  }
  GlmProblem tiny(data, 1000, Loss::kLogistic, 0.1);  // 1 to 4 rows per worker
  TwoPassProblem tiny_ref(data, tiny, Loss::kLogistic, 0.1);
  expect_same_gradients(tiny, tiny_ref);
}

// Rows of mixed lengths (some empty), and each row layout: values all 1 (pattern-only), all 0.1
// (constant), 0.5 and 0.25 (floats), 0.1 and 0.05 (doubles), one small LIBSVM file each.
TEST(GlmFused, SameAsTwoPassForEveryRowLayout) {
  const std::string dir = test::make_temp_dir("glm-fused");
  ASSERT_FALSE(dir.empty());
  std::mt19937_64 rng(5);
  const std::vector<std::tuple<double, bool, std::string>> cases{{1.0, false, "pattern"},
                                                                 {0.1, false, "constant"},
                                                                 {0.5, true, "float"},
                                                                 {0.1, true, "double"}};
  for (const auto& [value, mixed, layout] : cases) {
    const std::string path = dir + "/" + layout;
    {
      std::ofstream out(path);
      for (int j = 0; j < 300; ++j) {
        out << (rng() % 2 ? "+1" : "-1");
        const int len = static_cast<int>(rng() % 9);  // 0..8 features, some rows empty
        for (int k = 1; k <= 30 && len > 0; k += 1 + static_cast<int>(rng() % 4))
          if (static_cast<int>(rng() % 9) < len)
            out << ' ' << k << ':' << (mixed && k % 3 == 0 ? value / 2 : value);
        out << '\n';
      }
    }
    const auto data = std::make_shared<Dataset>(load_libsvm(path, 30));
    EXPECT_EQ(fused_rows_layout(*make_fused_rows(data)), layout);
    LogisticProblem fused(data, 3, 0.1);
    TwoPassProblem ref(data, fused, Loss::kLogistic, 0.1);
    expect_same_gradients(fused, ref);
  }
  std::filesystem::remove_all(dir);
}

std::int64_t ulps(double a, double b) {
  std::int64_t x, y;
  std::memcpy(&x, &a, sizeof x);
  std::memcpy(&y, &b, sizeof y);
  return x > y ? x - y : y - x;
}

// log1p_unit: within 1 ulp of glibc's log1p on [0, 1] (exp(-|t|) for t from 0 to 745, and
// uniform values), exact at 0, and the SSE2 version gives the scalar version's bits.
TEST(GlmFused, Log1pUnitWithinOneUlpAndSse2SameBits) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> unit(0.0, 1.0), margin(0.0, 745.0);
  std::vector<double> es{0.0,
                         1.0,
                         1e-300,
                         1e-17,
                         0.41421356237309503,
                         0.41421356237309515,
                         std::numeric_limits<double>::denorm_min()};
  for (int i = 0; i < 200000; ++i) es.push_back(i % 2 ? unit(rng) : std::exp(-margin(rng)));
  std::int64_t worst = 0, differ = 0;
  for (const double e : es) {
    const std::int64_t u = ulps(log1p_unit(e), std::log1p(e));
    worst = std::max(worst, u);
    differ += u != 0;
  }
  EXPECT_LE(worst, 1);
  EXPECT_LT(differ, static_cast<std::int64_t>(es.size()) / 50);  // mostly glibc's rounding
  EXPECT_EQ(log1p_unit(0.0), 0.0);
  EXPECT_EQ(log1p_unit(1e-300), 1e-300);
  RecordProperty("log1p_unit_differs_from_glibc", std::to_string(differ));
#if defined(__SSE2__)
  for (std::size_t i = 0; i + 2 <= es.size(); i += 2) {
    alignas(16) double out[2];
    _mm_store_pd(out, log1p_unit(_mm_set_pd(es[i + 1], es[i])));
    ASSERT_EQ(bits(out[0]), bits(log1p_unit(es[i]))) << es[i];
    ASSERT_EQ(bits(out[1]), bits(log1p_unit(es[i + 1]))) << es[i + 1];
  }
#endif
}

}  // namespace
}  // namespace efsim::alg
