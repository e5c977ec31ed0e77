// Tests of algorithms/dataset: the LIBSVM reader, the EF21 row split and the synthetic generator.
// Expected values are hand-computed from the small files written here, or taken from the dataset
// counts in ../shared/datasets/SOURCES.md (independent of this code).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "algorithms/core/error.hpp"
#include "algorithms/problems/dataset.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using efsim::InputError;
using efsim::alg::Dataset;
using efsim::alg::load_libsvm;
using efsim::alg::make_synthetic;
using efsim::alg::SyntheticSpec;
using efsim::alg::worker_rows;

class LibsvmTest : public efsim::test::TempDirTest {
 protected:
  // The InputError message of loading `content`, or "" if it loads.
  std::string error_of(const std::string& name, const std::string& content,
                       std::optional<int> dim = std::nullopt) {
    const std::string path = write(name, content);
    try {
      load_libsvm(path, dim);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  }
};

double at(const Dataset& d, int r, int c) { return d.A.coeff(r, c); }

std::string shared_dataset(const std::string& name) {
  return std::string(EFSIM_SOURCE_DIR) + "/../shared/datasets/" + name;
}

// ---------------------------------------------------------------------------------------------
// Parsing

TEST_F(LibsvmTest, OneBasedIndicesAndValues) {
  const auto path = write("a.svm", "1 1:0.5 3:2\n-1 2:1.5\n1 3:-4e-1\n");
  const Dataset d = load_libsvm(path);
  ASSERT_EQ(d.rows(), 3);
  ASSERT_EQ(d.dim(), 3);  // largest index
  EXPECT_EQ(d.A.nonZeros(), 4);
  EXPECT_EQ(at(d, 0, 0), 0.5);  // index 1 -> column 0
  EXPECT_EQ(at(d, 0, 1), 0.0);
  EXPECT_EQ(at(d, 0, 2), 2.0);
  EXPECT_EQ(at(d, 1, 1), 1.5);
  EXPECT_EQ(at(d, 2, 2), -0.4);
  EXPECT_EQ(d.y[0], 1.0);
  EXPECT_EQ(d.y[1], -1.0);
  EXPECT_EQ(d.y[2], 1.0);
  EXPECT_EQ(d.source, path);
}

TEST_F(LibsvmTest, BlankLinesSkipped) {
  const auto path = write("b.svm", "\n1 1:1\n\n   \n\t\n-1 2:2\n\n");
  const Dataset d = load_libsvm(path);
  ASSERT_EQ(d.rows(), 2);
  EXPECT_EQ(at(d, 0, 0), 1.0);
  EXPECT_EQ(at(d, 1, 1), 2.0);
}

TEST_F(LibsvmTest, RowWithoutFeaturesAndTabs) {
  const auto path = write("c.svm", "1\t1:1\t2:2\n-1\n");
  const Dataset d = load_libsvm(path);
  ASSERT_EQ(d.rows(), 2);
  EXPECT_EQ(d.dim(), 2);
  EXPECT_EQ(d.A.row(1).nonZeros(), 0);
  EXPECT_EQ(at(d, 0, 1), 2.0);
}

TEST_F(LibsvmTest, CrlfHandled) {
  const auto path = write("crlf.svm", "1 1:1 4:0.25\r\n\r\n-1 2:3\r\n");
  const Dataset d = load_libsvm(path);
  ASSERT_EQ(d.rows(), 2);
  EXPECT_EQ(d.dim(), 4);
  EXPECT_EQ(at(d, 0, 3), 0.25);
  EXPECT_EQ(at(d, 1, 1), 3.0);
  // Line numbers still count CRLF lines.
  const std::string msg = error_of("crlf_bad.svm", "1 1:1\r\n\r\n-1 2:x\r\n");
  EXPECT_NE(msg.find("crlf_bad.svm:3:"), std::string::npos) << msg;
}

TEST_F(LibsvmTest, LabelsZeroOneMapToMinusPlus) {
  const Dataset d = load_libsvm(write("01.svm", "0 1:1\n1 1:1\n1 1:1\n0 1:1\n"));
  EXPECT_EQ(d.y, (efsim::alg::Vector(4) << -1, 1, 1, -1).finished());
}

TEST_F(LibsvmTest, LabelsOneTwoMapToMinusPlus) {
  const Dataset d = load_libsvm(write("12.svm", "2 1:1\n1 1:1\n2 1:1\n"));
  EXPECT_EQ(d.y, (efsim::alg::Vector(3) << 1, -1, 1).finished());
}

TEST_F(LibsvmTest, LabelsMinusPlusUnchanged) {
  const Dataset d = load_libsvm(write("pm.svm", "+1 1:1\n-1 1:1\n1 1:1\n-1 1:1\n"));
  EXPECT_EQ(d.y, (efsim::alg::Vector(4) << 1, -1, 1, -1).finished());
}

TEST_F(LibsvmTest, ExplicitDimLargerThanMaxIndex) {
  const Dataset d = load_libsvm(write("dim.svm", "1 1:1 3:1\n-1 2:1\n"), 10);
  EXPECT_EQ(d.dim(), 10);
  EXPECT_EQ(d.rows(), 2);
  EXPECT_EQ(d.A.nonZeros(), 3);
}

TEST_F(LibsvmTest, ExplicitDimEqualToMaxIndex) {
  const Dataset d = load_libsvm(write("dimeq.svm", "1 1:1 3:1\n-1 2:1\n"), 3);
  EXPECT_EQ(d.dim(), 3);
}

TEST_F(LibsvmTest, ExplicitDimSmallerThrows) {
  const std::string msg = error_of("dimsmall.svm", "1 1:1 7:1\n-1 2:1\n", 5);
  ASSERT_FALSE(msg.empty()) << "dim 5 < largest index 7 must be rejected";
  EXPECT_NE(msg.find("dimsmall.svm"), std::string::npos) << msg;
  EXPECT_NE(msg.find("7"), std::string::npos) << msg;
}

TEST_F(LibsvmTest, MissingFileThrows) {
  EXPECT_THROW(load_libsvm((fs::path(dir_) / "nope.svm").string()), InputError);
}

// Every malformed line is reported as <file>:<line>:.
struct BadLine {
  const char* what;
  const char* content;
  int line;
};

TEST_F(LibsvmTest, ErrorsNameFileAndLine) {
  const BadLine cases[] = {
      {"bad label", "1 1:1\n-1 1:1\nabc 1:1\n", 3},
      {"bad label (nan)", "1 1:1\nnan 1:1\n-1 1:1\n", 2},
      {"missing colon", "1 1:1\n-1 3 1.0\n", 2},
      {"missing colon (index only)", "1 1:1\n\n-1 3\n", 3},
      {"index 0", "1 0:1\n-1 1:1\n", 1},
      {"negative index", "1 1:1\n-1 -2:1\n", 2},
      {"decreasing indices", "1 1:1\n-1 1:1\n1 5:1 3:1\n", 3},
      {"repeated index", "1 2:1 2:1\n-1 1:1\n", 1},
      {"junk after value", "1 1:1\n-1 1:1.0x\n", 2},
      {"missing value", "1 1:\n-1 1:1\n", 1},
      {"non-finite value", "1 1:1\n-1 1:inf\n", 2},
  };
  int n = 0;
  for (const auto& c : cases) {
    const std::string name = "bad" + std::to_string(n++) + ".svm";
    const std::string msg = error_of(name, c.content);
    ASSERT_FALSE(msg.empty()) << c.what << ": expected InputError";
    const std::string where = name + ":" + std::to_string(c.line) + ":";
    EXPECT_NE(msg.find(where), std::string::npos) << c.what << ": '" << msg << "' lacks " << where;
    EXPECT_NE(msg.find(dir_), std::string::npos) << c.what << ": full path expected in " << msg;
  }
}

TEST_F(LibsvmTest, ThreeDistinctLabelsRejected) {
  const std::string msg = error_of("three.svm", "1 1:1\n-1 1:1\n\n2 1:1\n1 1:1\n");
  ASSERT_FALSE(msg.empty());
  EXPECT_NE(msg.find("three.svm"), std::string::npos) << msg;
  EXPECT_NE(msg.find("3 distinct labels"), std::string::npos) << msg;  // says how many it found
}

// Regression (found by this suite, fixed): dataset.hpp promises "Throws InputError naming the file
// and line on malformed input", but a third distinct label is reported without the line it appears
// on (here line 4), as "<file>: expected exactly 2 distinct labels ..., found 3".
TEST_F(LibsvmTest, ThreeDistinctLabelsErrorNamesLine) {
  const std::string msg = error_of("three_line.svm", "1 1:1\n-1 1:1\n\n2 1:1\n1 1:1\n");
  ASSERT_FALSE(msg.empty());
  EXPECT_NE(msg.find("three_line.svm:4:"), std::string::npos) << msg;
}

TEST_F(LibsvmTest, SingleLabelRejected) {
  const std::string msg = error_of("one.svm", "1 1:1\n1 2:1\n");
  ASSERT_FALSE(msg.empty());
  EXPECT_NE(msg.find("one.svm"), std::string::npos) << msg;
}

TEST_F(LibsvmTest, EmptyFileRejected) {
  for (const char* content : {"", "\n\n  \n", "\r\n"}) {
    const std::string msg = error_of("empty.svm", content);
    ASSERT_FALSE(msg.empty()) << "content '" << content << "'";
    EXPECT_NE(msg.find("empty.svm"), std::string::npos) << msg;
  }
}

// ---------------------------------------------------------------------------------------------
// worker_rows: the EF21 split

void check_split(int rows, int workers) {
  const int per = rows / workers;  // floor(N/n)
  std::vector<int> covered(rows, 0);
  for (int i = 0; i < workers; ++i) {
    const auto [first, count] = worker_rows(rows, workers, i);
    EXPECT_EQ(first, i * per) << "N=" << rows << " n=" << workers << " i=" << i;
    EXPECT_EQ(count, i == workers - 1 ? rows - (workers - 1) * per : per);
    for (int r = first; r < first + count; ++r) {
      ASSERT_GE(r, 0);
      ASSERT_LT(r, rows);
      ++covered[r];
    }
  }
  for (int r = 0; r < rows; ++r)
    ASSERT_EQ(covered[r], 1) << "row " << r << " N=" << rows << " n=" << workers;
}

TEST(WorkerRows, A9aTwentyWorkers) {
  // 32561 / 20 = 1628 rows each; the last worker takes 32561 - 19*1628 = 1629.
  EXPECT_EQ(worker_rows(32561, 20, 0), std::make_pair(0, 1628));
  EXPECT_EQ(worker_rows(32561, 20, 1), std::make_pair(1628, 1628));
  EXPECT_EQ(worker_rows(32561, 20, 18), std::make_pair(29304, 1628));
  EXPECT_EQ(worker_rows(32561, 20, 19), std::make_pair(30932, 1629));
  check_split(32561, 20);
}

TEST(WorkerRows, SmallCases) {
  EXPECT_EQ(worker_rows(10, 3, 0), std::make_pair(0, 3));
  EXPECT_EQ(worker_rows(10, 3, 1), std::make_pair(3, 3));
  EXPECT_EQ(worker_rows(10, 3, 2), std::make_pair(6, 4));
  EXPECT_EQ(worker_rows(7, 1, 0), std::make_pair(0, 7));
  EXPECT_EQ(worker_rows(5, 5, 4), std::make_pair(4, 1));
  EXPECT_EQ(worker_rows(9, 4, 3), std::make_pair(6, 3));  // floor(9/4)=2, last gets 9-6
  for (int n = 1; n <= 12; ++n)
    for (int N = n; N <= 40; ++N) check_split(N, n);
}

// ---------------------------------------------------------------------------------------------
// Real data (skipped when ../shared/datasets is absent). Counts from SOURCES.md.

std::map<double, int> label_counts(const Dataset& d) {
  std::map<double, int> counts;
  for (Eigen::Index j = 0; j < d.y.size(); ++j) ++counts[d.y[j]];
  return counts;
}

TEST(RealData, A9a) {
  const std::string path = shared_dataset("a9a");
  if (!fs::exists(path)) GTEST_SKIP() << path << " not found";
  const Dataset d = load_libsvm(path);
  EXPECT_EQ(d.rows(), 32561);
  EXPECT_EQ(d.dim(), 123);
  EXPECT_EQ(d.A.nonZeros(), 451592);
  const auto counts = label_counts(d);
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts.at(-1.0), 24720);
  EXPECT_EQ(counts.at(1.0), 7841);
  EXPECT_EQ(d.A.coeffs().minCoeff(), 1.0);  // all values are 1
  EXPECT_EQ(d.A.coeffs().maxCoeff(), 1.0);
}

TEST(RealData, A9aTestWithDim123) {
  const std::string path = shared_dataset("a9a.t");
  if (!fs::exists(path)) GTEST_SKIP() << path << " not found";
  const Dataset d = load_libsvm(path, 123);  // largest index present is 122
  EXPECT_EQ(d.rows(), 16281);
  EXPECT_EQ(d.dim(), 123);
  EXPECT_EQ(d.A.nonZeros(), 225731);
  EXPECT_EQ(load_libsvm(path).dim(), 122);
  const auto counts = label_counts(d);
  EXPECT_EQ(counts.at(-1.0), 12435);
  EXPECT_EQ(counts.at(1.0), 3846);
}

TEST(RealData, MushroomsLabelsOneTwo) {
  const std::string path = shared_dataset("mushrooms");
  if (!fs::exists(path)) GTEST_SKIP() << path << " not found";
  const Dataset d = load_libsvm(path);
  EXPECT_EQ(d.rows(), 8124);
  EXPECT_EQ(d.dim(), 112);
  EXPECT_EQ(d.A.nonZeros(), 170604);
  const auto counts = label_counts(d);
  EXPECT_EQ(counts.at(-1.0), 3916);  // label 1
  EXPECT_EQ(counts.at(1.0), 4208);   // label 2
}

TEST(RealData, PhishingLabelsZeroOne) {
  const std::string path = shared_dataset("phishing");
  if (!fs::exists(path)) GTEST_SKIP() << path << " not found";
  const Dataset d = load_libsvm(path);
  EXPECT_EQ(d.rows(), 11055);
  EXPECT_EQ(d.dim(), 68);
  EXPECT_EQ(d.A.nonZeros(), 331650);
  const auto counts = label_counts(d);
  EXPECT_EQ(counts.at(-1.0), 4898);  // label 0
  EXPECT_EQ(counts.at(1.0), 6157);   // label 1
}

// ---------------------------------------------------------------------------------------------
// make_synthetic

SyntheticSpec small_spec() {
  SyntheticSpec s;
  s.samples = 300;
  s.dim = 80;
  s.nnz_per_row = 7;
  s.workers = 4;
  s.seed = 42;
  return s;
}

bool same_data(const Dataset& a, const Dataset& b) {
  if (a.A.rows() != b.A.rows() || a.A.cols() != b.A.cols() || a.A.nonZeros() != b.A.nonZeros())
    return false;
  for (Eigen::Index r = 0; r < a.A.rows(); ++r) {
    if (a.A.outerIndexPtr()[r + 1] != b.A.outerIndexPtr()[r + 1]) return false;
  }
  for (Eigen::Index t = 0; t < a.A.nonZeros(); ++t) {
    if (a.A.innerIndexPtr()[t] != b.A.innerIndexPtr()[t]) return false;
    if (std::memcmp(&a.A.valuePtr()[t], &b.A.valuePtr()[t], sizeof(double)) != 0) return false;
  }
  return a.y == b.y;
}

TEST(Synthetic, Deterministic) {
  const Dataset a = make_synthetic(small_spec());
  const Dataset b = make_synthetic(small_spec());
  EXPECT_TRUE(same_data(a, b));
}

TEST(Synthetic, ShapeNnzAndLabels) {
  const SyntheticSpec s = small_spec();
  const Dataset d = make_synthetic(s);
  ASSERT_EQ(d.rows(), s.samples);
  ASSERT_EQ(d.dim(), s.dim);
  EXPECT_EQ(d.A.nonZeros(), static_cast<Eigen::Index>(s.samples) * s.nnz_per_row);
  for (int r = 0; r < d.rows(); ++r) {
    // Distinct features per row: duplicates would be summed by setFromTriplets and leave fewer
    // stored entries.
    std::set<Eigen::Index> cols;
    for (efsim::alg::SparseMatrix::InnerIterator it(d.A, r); it; ++it) {
      cols.insert(it.col());
      EXPECT_NE(it.value(), 0.0);
    }
    ASSERT_EQ(static_cast<int>(cols.size()), s.nnz_per_row) << "row " << r;
  }
  int pos = 0, neg = 0;
  for (Eigen::Index j = 0; j < d.y.size(); ++j) {
    ASSERT_TRUE(d.y[j] == 1.0 || d.y[j] == -1.0) << d.y[j];
    (d.y[j] > 0 ? pos : neg)++;
  }
  EXPECT_GT(pos, 0);
  EXPECT_GT(neg, 0);
}

TEST(Synthetic, NnzEqualsDim) {
  SyntheticSpec s = small_spec();
  s.dim = 6;
  s.nnz_per_row = 6;
  s.samples = 20;
  const Dataset d = make_synthetic(s);
  EXPECT_EQ(d.A.nonZeros(), 20 * 6);
}

TEST(Synthetic, DifferentSeedDifferentData) {
  SyntheticSpec s = small_spec();
  const Dataset a = make_synthetic(s);
  s.seed = 43;
  const Dataset b = make_synthetic(s);
  EXPECT_FALSE(same_data(a, b));
  // Not just a relabelling: the sparsity pattern or values differ.
  bool matrix_differs = a.A.nonZeros() != b.A.nonZeros();
  for (Eigen::Index t = 0; !matrix_differs && t < a.A.nonZeros(); ++t)
    matrix_differs =
        a.A.innerIndexPtr()[t] != b.A.innerIndexPtr()[t] || a.A.valuePtr()[t] != b.A.valuePtr()[t];
  EXPECT_TRUE(matrix_differs);
}

// Regression (found by this suite, fixed): with heterogeneity = 1 (allowed: the scenario range is
// [0, 1]) every feature is drawn from the worker's own slice of dim/workers features, so
// nnz_per_row larger than the slice can never be reached and make_synthetic loops forever. Here the
// slices have 80/4 = 20 features and a row asks for 25. Run in a child process with a time limit so
// the suite does not hang; expected: it returns (or throws InputError) promptly.
TEST(Synthetic, FullHeterogeneityWithRowsWiderThanSliceTerminates) {
  SyntheticSpec s = small_spec();
  s.heterogeneity = 1.0;
  s.nnz_per_row = 25;
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int code = 0;
    try {
      const Dataset d = make_synthetic(s);
      code = d.A.nonZeros() == static_cast<Eigen::Index>(s.samples) * s.nnz_per_row ? 0 : 1;
    } catch (const InputError&) {
      code = 0;  // rejecting the spec is fine too
    } catch (...) {
      code = 3;
    }
    ::_exit(code);
  }
  int status = 0;
  bool finished = false;
  for (int i = 0; i < 100; ++i) {  // 5 s
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      finished = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!finished) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  ASSERT_TRUE(finished) << "make_synthetic(heterogeneity=1, nnz_per_row=25 > slice of 20) did not "
                           "return within 5 s (infinite loop)";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

}  // namespace
