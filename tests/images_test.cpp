// IDX image files, multiclass logistic regression and test-set metrics.
#include "algorithms/problems/images.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <filesystem>
#include <memory>

#include "algorithms/core/error.hpp"
#include "algorithms/problems/glm.hpp"
#include "algorithms/problems/softmax.hpp"
#include "algorithms/runner/monitor.hpp"
#include "test_util.hpp"

namespace efsim::alg {
namespace {

void put_u32(std::vector<unsigned char>& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(v >> s));
}

void write_gz(const std::string& path, const std::vector<unsigned char>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

class Idx : public test::TempDirTest {
 protected:
  // n images of r x c pixels with pixel (k, p) = (7k + p) % 256 and label k % classes.
  void make(int n, int r, int c, int classes, std::uint32_t image_magic = 0x803,
            std::uint32_t label_magic = 0x801, int label_count = -1, std::size_t cut = 0) {
    std::vector<unsigned char> img, lab;
    put_u32(img, image_magic);
    put_u32(img, n);
    put_u32(img, r);
    put_u32(img, c);
    for (int k = 0; k < n; ++k)
      for (int p = 0; p < r * c; ++p) img.push_back(static_cast<unsigned char>((7 * k + p) % 256));
    put_u32(lab, label_magic);
    put_u32(lab, label_count < 0 ? n : label_count);
    for (int k = 0; k < n; ++k) lab.push_back(static_cast<unsigned char>(k % classes));
    if (cut) img.resize(img.size() - cut);
    write_gz((dir_ / "img.gz").string(), img);
    write_gz((dir_ / "lab.gz").string(), lab);
  }
  ImageSet load(int limit = 0) {
    return load_idx((dir_ / "img.gz").string(), (dir_ / "lab.gz").string(), limit);
  }
  std::string error() {
    try {
      load();
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  }
};

TEST_F(Idx, ReadsImagesAndLabels) {
  make(5, 3, 4, 3);
  const ImageSet s = load();
  ASSERT_EQ(s.rows(), 5);
  ASSERT_EQ(s.features(), 12);
  EXPECT_EQ(s.classes, 3);
  EXPECT_EQ(s.pixels(4, 11), (7 * 4 + 11) % 256);
  EXPECT_EQ(s.labels[4], 1);
  EXPECT_EQ(load(2).rows(), 2);
}

TEST_F(Idx, BadFilesAreInputErrors) {
  make(5, 3, 4, 3, 0x804);
  EXPECT_NE(error().find("not an IDX images file"), std::string::npos);
  make(5, 3, 4, 3, 0x803, 0x802);
  EXPECT_NE(error().find("not an IDX labels file"), std::string::npos);
  make(5, 3, 4, 3, 0x803, 0x801, 4);
  EXPECT_NE(error().find("5 images but"), std::string::npos);
  make(5, 3, 4, 3, 0x803, 0x801, -1, 10);
  EXPECT_NE(error().find("truncated"), std::string::npos);
  EXPECT_THROW(load_idx((dir_ / "none.gz").string(), (dir_ / "lab.gz").string()), InputError);
}

std::shared_ptr<ImageSet> tiny_images(int n = 120, int l = 9, int classes = 3) {
  auto s = std::make_shared<ImageSet>();
  s->pixels.resize(n, l);
  Rng rng(3);
  for (int k = 0; k < n; ++k) {
    s->labels.push_back(static_cast<int>(uniform_below(rng, classes)));
    for (int p = 0; p < l; ++p)
      s->pixels(k, p) = static_cast<std::uint8_t>(uniform_below(rng, 256) /
                                                  (p % classes == s->labels.back() ? 1 : 3));
  }
  s->classes = classes;
  s->source = "tiny";
  return s;
}

TEST(Softmax, GradientMatchesFiniteDifferences) {
  SoftmaxProblem p(tiny_images(), nullptr, 3, SoftmaxSpec{false, 0.05, 1});
  Rng rng(8);
  Vector x(p.dim());
  for (int j = 0; j < p.dim(); ++j) x[j] = 0.5 * standard_normal(rng);
  for (int i = 0; i < 3; ++i) {
    Vector g(p.dim());
    p.local(i).value_and_gradient(x, g);
    for (int j = 0; j < p.dim(); ++j) {
      Vector a = x, b = x;
      a[j] += 1e-6;
      b[j] -= 1e-6;
      const double fd = (p.local(i).value(a) - p.local(i).value(b)) / 2e-6;
      EXPECT_NEAR(g[j], fd, 1e-7 * std::max(1.0, std::abs(fd))) << i << " " << j;
    }
  }
}

TEST(Softmax, SplitByLabelGivesWorkersFewClassesAndIidAll) {
  auto data = tiny_images(300, 9, 3);
  for (const bool by_label : {true, false}) {
    SoftmaxProblem p(data, nullptr, 3, SoftmaxSpec{by_label, 0.0, 1});
    // With no regulariser and x = 0, f_i = log c; the worker's rows determine its gradient:
    // by label, worker 0 holds (mostly) class 0, so the class-0 block of its gradient is negative.
    Vector g(p.dim());
    p.local(0).value_and_gradient(Vector::Zero(p.dim()), g);
    const double class0 = g.head(9).sum(), class2 = g.tail(9).sum();
    if (by_label) {
      EXPECT_LT(class0, 0.0) << "worker 0 should hold class 0";
      EXPECT_GT(class2, 0.0);
    }
    EXPECT_NEAR(p.local(0).value(Vector::Zero(p.dim())), std::log(3.0), 1e-12);
  }
}

TEST(Softmax, MetricsReportAccuracyOnTrainAndTest) {
  auto data = tiny_images(300, 9, 3);
  SoftmaxProblem p(data, data, 3, SoftmaxSpec{false, 0.0, 1});
  const Metrics m0 = p.metrics(Vector::Zero(p.dim()));
  EXPECT_NEAR(m0.test_loss, std::log(3.0), 1e-12);
  // A few GD steps learn the planted pattern: accuracy well above chance (1/3).
  Vector x = Vector::Zero(p.dim()), g(p.dim());
  for (int k = 0; k < 200; ++k) {
    p.value_and_gradient(x, g);
    x -= 1.0 / p.smoothness() * g;
  }
  const Metrics m = p.metrics(x);
  EXPECT_GT(m.train_accuracy, 0.6);
  EXPECT_EQ(m.train_accuracy, m.test_accuracy);  // same data
  EXPECT_LT(m.test_loss, std::log(3.0));
}

TEST(Softmax, RealFashionMnist) {
  const std::string dir = "/usr/share/datasets/fashion-mnist/";
  if (!std::filesystem::exists(dir + "train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist not installed";
  const ImageSet train =
      load_idx(dir + "train-images-idx3-ubyte.gz", dir + "train-labels-idx1-ubyte.gz");
  EXPECT_EQ(train.rows(), 60000);
  EXPECT_EQ(train.features(), 784);
  EXPECT_EQ(train.classes, 10);
  const ImageSet test =
      load_idx(dir + "t10k-images-idx3-ubyte.gz", dir + "t10k-labels-idx1-ubyte.gz");
  EXPECT_EQ(test.rows(), 10000);
  std::vector<int> per_class(10, 0);
  for (int y : train.labels) ++per_class[y];
  for (int c : per_class) EXPECT_EQ(c, 6000);  // balanced classes
}

TEST(TestSet, A9aTestAccuracyIsRecorded) {
  const std::string train = test::shared_dataset("a9a"), held = test::shared_dataset("a9a.t");
  if (train.empty() || held.empty()) GTEST_SKIP() << "a9a not present";
  GlmProblem p(std::make_shared<Dataset>(load_libsvm(train)), 4, Loss::kLogistic, 0.0);
  p.set_test(std::make_shared<Dataset>(load_libsvm(held, 123)));
  Vector x = Vector::Zero(123), g(123);
  for (int k = 0; k < 100; ++k) {
    p.value_and_gradient(x, g);
    x -= 4.0 / p.smoothness() * g;
  }
  const Metrics m = p.metrics(x);
  // a9a's majority class is 76 %; logistic regression gets about 84-85 %.
  EXPECT_GT(m.test_accuracy, 0.80);
  EXPECT_LT(m.test_accuracy, 0.90);
  EXPECT_GT(m.train_accuracy, 0.80);
  EXPECT_THROW(p.set_test(std::make_shared<Dataset>(load_libsvm(held))), InputError);  // d = 122
}

TEST(Monitor, MetricsEveryRecordsMultiplesAndTheEnd) {
  GlmProblem p(std::make_shared<Dataset>(make_synthetic(SyntheticSpec{})), 4, Loss::kLogistic, 0.1);
  StopRule rule;
  rule.max_rounds = 23;
  rule.metrics_every = 10;
  Monitor mon(p, rule);
  const Vector x = Vector::Zero(p.dim());
  for (long k = 0; k <= 23; ++k)
    mon.observe(k, 0.1 * k, RoundTiming{}, x, k ? 8.0 : 0.0, k ? 4.0 : 0.0);
  ASSERT_EQ(mon.trace().size(), 4u);  // rounds 0, 10, 20 and the last, 23
  EXPECT_EQ(mon.trace()[3].round, 23);
  EXPECT_DOUBLE_EQ(mon.trace()[3].bits_up_per_worker, 23 * 8.0 / 4);  // bits of every round
  EXPECT_EQ(mon.reason(), StopReason::kMaxRounds);
}

// The two-layer MLP: backpropagation against finite differences (ReLU kinks avoided by the
// random initialisation: no pre-activation is near 0 at the test point), and it learns.
TEST(Mlp, BackpropMatchesFiniteDifferences) {
  SoftmaxSpec spec{false, 0.01, 1, 4};
  SoftmaxProblem p(tiny_images(60, 9, 3), nullptr, 2, spec);
  ASSERT_EQ(p.dim(), 4 * 9 + 4 + 3 * 4 + 3);
  EXPECT_TRUE(std::isnan(p.smoothness()));
  const Vector x = initial_model(9, 3, 4, 5);
  Vector g(p.dim());
  p.local(0).value_and_gradient(x, g);
  for (int j = 0; j < p.dim(); ++j) {
    Vector a = x, b = x;
    a[j] += 1e-6;
    b[j] -= 1e-6;
    const double fd = (p.local(0).value(a) - p.local(0).value(b)) / 2e-6;
    EXPECT_NEAR(g[j], fd, 1e-6 * std::max(1.0, std::abs(fd))) << j;
  }
}

// The fused difference EF21 and DIANA compress (gradient accumulated onto -shift) against the
// gradient minus shift, for both models, a minibatch inside one chunk and one spanning chunks.
TEST(Mlp, MinibatchGradientMinusShiftIsTheDifference) {
  auto data = tiny_images(600, 9, 3);
  for (int hidden : {0, 4}) {
    SoftmaxProblem p(data, nullptr, 1, SoftmaxSpec{false, 0.01, 1, hidden});
    const Vector x = hidden ? initial_model(9, 3, hidden, 5) : Vector::Constant(p.dim(), 0.1);
    Rng r(6);
    Vector shift(p.dim());
    for (int j = 0; j < p.dim(); ++j) shift[j] = standard_normal(r);
    for (int batch : {32, 300, 0}) {
      Rng a(9), b(9);
      Vector g, out;
      const double fa = p.local(0).stochastic_gradient(x, batch, a, g);
      const double fb = p.local(0).stochastic_gradient_minus(x, batch, b, shift, out);
      EXPECT_EQ(fa, fb);
      EXPECT_EQ(a(), b());  // the same rows were drawn
      EXPECT_LE((out - (g - shift)).cwiseAbs().maxCoeff(), 1e-15 * shift.cwiseAbs().maxCoeff())
          << hidden << " " << batch;
    }
  }
}

TEST(Mlp, GradientDescentLearns) {
  auto data = tiny_images(300, 9, 3);
  SoftmaxProblem p(data, data, 3, SoftmaxSpec{false, 0.0, 1, 16});
  Vector x = initial_model(9, 3, 16, 2), g(p.dim());
  const double f0 = p.value_and_gradient(x, g);
  for (int k = 0; k < 300; ++k) {
    p.value_and_gradient(x, g);
    x -= 0.5 * g;
  }
  EXPECT_LT(p.value_and_gradient(x, g), 0.7 * f0);
  EXPECT_GT(p.metrics(x).test_accuracy, 0.6);
}

}  // namespace
}  // namespace efsim::alg
