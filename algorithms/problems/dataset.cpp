#include "algorithms/problems/dataset.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <vector>

#include "algorithms/core/error.hpp"

namespace efsim::alg {

namespace {

[[noreturn]] void fail(const std::string& path, long line, const std::string& what) {
  throw InputError(path + ":" + std::to_string(line) + ": " + what);
}

std::string label_text(const std::vector<double>& labels) {
  std::string out;
  char buf[32];
  for (double v : labels) {
    std::snprintf(buf, sizeof buf, "%g", v);
    out += (out.empty() ? "" : ", ") + std::string(buf);
  }
  return out;
}

}  // namespace

Dataset load_libsvm(const std::string& path, std::optional<int> dim) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open dataset file");
  // CSR arrays appended row by row (indices increase along a line): no triplets, no
  // transposition; at most the arrays plus the final matrix in memory at once.
  std::vector<std::int64_t> outer{0}, inner;
  std::vector<double> values;
  std::vector<double> labels;
  std::string text;
  long line_no = 0;
  int max_index = 0;
  std::vector<double> seen_labels;
  while (std::getline(in, text)) {
    ++line_no;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    const char* p = text.c_str();
    while (*p == ' ' || *p == '\t') ++p;
    if (*p == '\0') continue;  // blank line
    char* end = nullptr;
    errno = 0;
    const double label = std::strtod(p, &end);
    if (end == p || errno != 0 || !std::isfinite(label)) fail(path, line_no, "bad label");
    p = end;
    long previous = 0;
    while (true) {
      while (*p == ' ' || *p == '\t') ++p;
      if (*p == '\0' || *p == '#') break;
      errno = 0;
      const long index = std::strtol(p, &end, 10);
      if (end == p || *end != ':') fail(path, line_no, "expected 'index:value'");
      if (index < 1 || errno != 0 || index > 1'000'000'000L)
        fail(path, line_no, "feature index " + std::to_string(index) + " out of range (1-based)");
      if (index <= previous) fail(path, line_no, "feature indices must increase along a line");
      previous = index;
      p = end + 1;
      const double value = std::strtod(p, &end);
      if (end == p || !std::isfinite(value)) fail(path, line_no, "bad feature value");
      p = end;
      if (*p != '\0' && *p != ' ' && *p != '\t') fail(path, line_no, "junk after feature value");
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
        fail(path, line_no,
             "found 3 distinct labels (" + label_text(seen_labels) +
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
  Dataset data;
  data.source = path;
  // Copied array by array: Eigen's generic sparse assignment reserves 2 max(rows, cols)
  // entries first, gigabytes for a file whose one line names feature 10^9 (found by fuzzing).
  data.A.resize(static_cast<std::int64_t>(labels.size()), d);
  data.A.resizeNonZeros(static_cast<Eigen::Index>(values.size()));
  std::copy(outer.begin(), outer.end(), data.A.outerIndexPtr());
  std::copy(inner.begin(), inner.end(), data.A.innerIndexPtr());
  std::copy(values.begin(), values.end(), data.A.valuePtr());
  data.y.resize(static_cast<Eigen::Index>(labels.size()));
  const double low = *distinct.begin();
  for (std::size_t j = 0; j < labels.size(); ++j) data.y[j] = labels[j] == low ? -1.0 : 1.0;
  return data;
}

std::pair<int, int> worker_rows(int rows, int workers, int i) {
  const int per = rows / workers;
  const int first = i * per;
  const int count = (i == workers - 1) ? rows - first : per;
  return {first, count};
}

Dataset make_synthetic(const SyntheticSpec& s) {
  Rng model_rng(derive_seed(s.seed, 0, 1));
  Vector w_star(s.dim);
  for (int k = 0; k < s.dim; ++k) w_star[k] = standard_normal(model_rng);
  // Every row has nnz_per_row entries, generated in row order with sorted features: the CSR
  // arrays of the matrix are filled in place (the data is held once, even while built).
  Dataset data;
  data.y.resize(s.samples);
  data.A.resize(s.samples, s.dim);
  data.A.resizeNonZeros(static_cast<Eigen::Index>(s.samples) * s.nnz_per_row);
  std::int64_t* outer = data.A.outerIndexPtr();
  std::int64_t* inner = data.A.innerIndexPtr();
  double* value = data.A.valuePtr();
  std::int64_t pos = 0;
  outer[0] = 0;
  std::vector<int> features;
  for (int i = 0; i < s.workers; ++i) {
    Rng rng(derive_seed(s.seed, static_cast<std::uint64_t>(i) + 1, 2));
    Vector w_i = w_star;
    for (int k = 0; k < s.dim; ++k) w_i[k] += s.heterogeneity * standard_normal(rng);
    // Worker i's own slice of the feature space.
    const int slice_begin = static_cast<int>(static_cast<std::int64_t>(s.dim) * i / s.workers);
    const int slice_end = static_cast<int>(static_cast<std::int64_t>(s.dim) * (i + 1) / s.workers);
    const int slice = std::max(1, slice_end - slice_begin);
    const auto [first, count] = worker_rows(s.samples, s.workers, i);
    for (int j = first; j < first + count; ++j) {
      features.clear();
      int own_count = 0;
      while (static_cast<int>(features.size()) < s.nnz_per_row) {
        // Once the worker's own slice is used up, the rest of the row comes from everywhere.
        const bool own = own_count < slice && uniform01(rng) < s.heterogeneity;
        const int k = own ? slice_begin + static_cast<int>(uniform01(rng) * slice)
                          : static_cast<int>(uniform01(rng) * s.dim);
        if (k < s.dim && std::find(features.begin(), features.end(), k) == features.end()) {
          features.push_back(k);
          if (k >= slice_begin && k < slice_begin + slice) ++own_count;
        }
      }
      std::sort(features.begin(), features.end());
      double margin = 0.0;
      for (int k : features) {
        const double v = standard_normal(rng) * std::pow(1.0 + k, -s.feature_decay);
        inner[pos] = k;
        value[pos++] = v;
        margin += v * w_i[k];
      }
      outer[j + 1] = pos;
      margin += s.label_noise * standard_normal(rng);
      data.y[j] = margin >= 0.0 ? 1.0 : -1.0;
    }
  }
  data.source = "synthetic";
  return data;
}

}  // namespace efsim::alg
