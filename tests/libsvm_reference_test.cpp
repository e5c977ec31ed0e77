// The LIBSVM loader (algorithms/problems/dataset.cpp: the file mapped in one piece, numbers by
// std::from_chars, entries written into the matrix in place) against the straightforward
// reader it replaced, kept here as the reference: std::getline per line, strtod/strtol per
// token, vectors grown by push_back. On the shared data sets and on thousands of generated
// files full of the awkward cases (signs, exponents, under- and overflow, hex, inf/nan, '\r',
// '\v', NUL bytes, comments, huge or repeated indices, missing values) both must give the
// same matrix bit for bit, or the same error message (file, line, reason).
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "algorithms/core/error.hpp"
#include "algorithms/problems/dataset.hpp"
#include "test_util.hpp"

namespace {

using efsim::InputError;
using efsim::alg::Dataset;
using efsim::alg::load_libsvm;

// --- The reference reader (the loader as it was before the fast one) ---

[[noreturn]] void ref_fail(const std::string& path, long line, const std::string& what) {
  throw InputError(path + ":" + std::to_string(line) + ": " + what);
}

std::string ref_label_text(const std::vector<double>& labels) {
  std::string out;
  char buf[32];
  for (double v : labels) {
    std::snprintf(buf, sizeof buf, "%g", v);
    out += (out.empty() ? "" : ", ") + std::string(buf);
  }
  return out;
}

struct Csr {
  long rows = 0, cols = 0;
  std::vector<std::int64_t> outer, inner;
  std::vector<double> values, y;
};

Csr reference_load(const std::string& path, std::optional<int> dim) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open dataset file");
  std::vector<std::int64_t> outer{0}, inner;
  std::vector<double> values, labels, seen_labels;
  std::string text;
  long line_no = 0;
  int max_index = 0;
  while (std::getline(in, text)) {
    ++line_no;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    const char* p = text.c_str();
    while (*p == ' ' || *p == '\t') ++p;
    if (*p == '\0') continue;
    char* end = nullptr;
    errno = 0;
    const double label = std::strtod(p, &end);
    if (end == p || errno != 0 || !std::isfinite(label)) ref_fail(path, line_no, "bad label");
    p = end;
    long previous = 0;
    while (true) {
      while (*p == ' ' || *p == '\t') ++p;
      if (*p == '\0' || *p == '#') break;
      errno = 0;
      const long index = std::strtol(p, &end, 10);
      if (end == p || *end != ':') ref_fail(path, line_no, "expected 'index:value'");
      if (index < 1 || errno != 0 || index > 1'000'000'000L)
        ref_fail(path, line_no,
                 "feature index " + std::to_string(index) + " out of range (1-based)");
      if (index <= previous) ref_fail(path, line_no, "feature indices must increase along a line");
      previous = index;
      p = end + 1;
      const double value = std::strtod(p, &end);
      if (end == p || !std::isfinite(value)) ref_fail(path, line_no, "bad feature value");
      p = end;
      if (*p != '\0' && *p != ' ' && *p != '\t')
        ref_fail(path, line_no, "junk after feature value");
      max_index = std::max(max_index, static_cast<int>(index));
      if (value != 0.0) {
        inner.push_back(index - 1);
        values.push_back(value);
      }
    }
    outer.push_back(static_cast<std::int64_t>(inner.size()));
    if (std::find(seen_labels.begin(), seen_labels.end(), label) == seen_labels.end()) {
      seen_labels.push_back(label);
      if (seen_labels.size() > 2)
        ref_fail(path, line_no,
                 "found 3 distinct labels (" + ref_label_text(seen_labels) +
                     "); binary classification needs exactly 2");
    }
    labels.push_back(label);
  }
  if (labels.empty()) throw InputError(path + ": dataset has no samples");
  std::set<double> distinct(labels.begin(), labels.end());
  if (distinct.size() != 2)
    throw InputError(path + ": expected exactly 2 distinct labels (binary classification), found " +
                     std::to_string(distinct.size()));
  if (dim && *dim < max_index)
    throw InputError(path + ": dimension " + std::to_string(*dim) +
                     " is smaller than the largest feature index " + std::to_string(max_index));
  const int d = dim ? *dim : max_index;
  if (d < 1) throw InputError(path + ": dataset has no features");
  Csr c;
  c.rows = static_cast<long>(labels.size());
  c.cols = d;
  c.outer = outer;
  c.inner = inner;
  c.values = values;
  const double low = *distinct.begin();
  for (double l : labels) c.y.push_back(l == low ? -1.0 : 1.0);
  return c;
}

Csr as_csr(const Dataset& d) {
  Csr c;
  c.rows = d.A.rows();
  c.cols = d.A.cols();
  c.outer.assign(d.A.outerIndexPtr(), d.A.outerIndexPtr() + d.A.rows() + 1);
  c.inner.assign(d.A.innerIndexPtr(), d.A.innerIndexPtr() + d.A.nonZeros());
  c.values.assign(d.A.valuePtr(), d.A.valuePtr() + d.A.nonZeros());
  c.y.assign(d.y.data(), d.y.data() + d.y.size());
  return c;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

// "" and the matrix, or the error message.
struct Outcome {
  std::string error;
  Csr csr;
};

Outcome outcome(bool reference, const std::string& path, std::optional<int> dim) {
  Outcome o;
  try {
    o.csr = reference ? reference_load(path, dim) : as_csr(load_libsvm(path, dim));
  } catch (const InputError& e) {
    o.error = e.what();
  }
  return o;
}

void expect_same(const std::string& path, std::optional<int> dim, const std::string& what) {
  const Outcome a = outcome(true, path, dim), b = outcome(false, path, dim);
  ASSERT_EQ(a.error, b.error) << what;
  if (!a.error.empty()) return;
  ASSERT_EQ(a.csr.rows, b.csr.rows) << what;
  ASSERT_EQ(a.csr.cols, b.csr.cols) << what;
  ASSERT_EQ(a.csr.outer, b.csr.outer) << what;
  ASSERT_EQ(a.csr.inner, b.csr.inner) << what;
  ASSERT_TRUE(same_bits(a.csr.values, b.csr.values)) << what;
  ASSERT_TRUE(same_bits(a.csr.y, b.csr.y)) << what;
}

std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 32 && c < 127) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

using LibsvmReferenceTest = efsim::test::TempDirTest;

TEST_F(LibsvmReferenceTest, SharedDataSetsBitForBit) {
  int found = 0;
  for (const char* name : {"a9a", "a9a.t", "w8a", "phishing", "mushrooms"}) {
    const std::string path = std::string(EFSIM_SOURCE_DIR) + "/../shared/datasets/" + name;
    if (!std::filesystem::exists(path)) continue;
    ++found;
    expect_same(path, std::nullopt, name);
  }
  if (found == 0) GTEST_SKIP() << "no shared data sets";
}

TEST_F(LibsvmReferenceTest, GeneratedFilesSameMatrixOrSameError) {
  // Pieces of lines, common and awkward; a file is a few lines of random pieces.
  const std::vector<std::string> labels = {
      "1",   "-1", "+1",   "0", "2",  "1.0",  "+-1", "1e-400", "1e400", "0x1",   "inf",
      "nan", "-0", "1abc", "",  " 1", "\t-1", "\v1", "1e0",    ".5e1",  "4e-320"};
  const std::vector<std::string> indices = {
      "1",          "2",          "3",  "7",  "10",
      "003",        "0",          "-2", "+4", "99999999999",
      "1000000000", "1000000001", "",   " 5", "12345678901234567890",
      "x"};
  const std::vector<std::string> values = {
      "1",        "0",      "-0",    "0.5", "+2",   "1e-5", "1e-400",
      "4.9e-324", "1e400",  "0x1p3", "inf", "nan",  "",     " 3",
      "1.",       ".25",    "-.75",  "1e",  "2e+2", "3x",   "0.1234567890123456789",
      "1e-310",   "00.0e5", "+ 1"};
  const std::vector<std::string> seps = {" ", " ", " ", "  ", "\t", " \t"};
  const std::vector<std::string> ends = {"\n",     "\n",     "\n",  "\r\n", " \n",
                                         " # c\n", "\r\r\n", "#\n", "\n\n", std::string("\0x\n", 3),
                                         "\v\n"};
  std::mt19937_64 rng(20261204);
  auto pick = [&rng](const std::vector<std::string>& v) -> const std::string& {
    return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng)];
  };
  auto coin = [&rng](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  for (int file = 0; file < 3000; ++file) {
    const bool clean = coin(0.3);  // mostly well-formed files, to reach their ends
    std::string text;
    const int lines = 1 + static_cast<int>(rng() % 6);
    for (int l = 0; l < lines; ++l) {
      text += clean ? (coin(0.5) ? "+1" : "-1") : pick(labels);
      int index = 0;
      const int entries = static_cast<int>(rng() % 5);
      for (int e = 0; e < entries; ++e) {
        text += clean ? " " : pick(seps);
        index += 1 + static_cast<int>(rng() % 4);
        text += clean || coin(0.8) ? std::to_string(index) : pick(indices);
        if (clean || coin(0.95)) text += ":";
        text += clean ? (coin(0.5) ? "1" : "0.25") : pick(values);
      }
      text += clean ? "\n" : pick(ends);
    }
    if (coin(0.2) && !text.empty()) text.pop_back();  // no final newline
    const std::string path = write("f" + std::to_string(file % 8), text);
    const std::optional<int> dim =
        coin(0.2) ? std::optional<int>(static_cast<int>(rng() % 12)) : std::nullopt;
    expect_same(path, dim, printable(text));
    if (HasFatalFailure()) return;
  }
}

TEST_F(LibsvmReferenceTest, EmptyMissingAndFolder) {
  expect_same(write("empty", ""), std::nullopt, "empty file");
  expect_same((dir_ / "missing").string(), std::nullopt, "missing file");
  std::filesystem::create_directories(dir_ / "folder");
  expect_same((dir_ / "folder").string(), std::nullopt, "a folder");
}

}  // namespace
