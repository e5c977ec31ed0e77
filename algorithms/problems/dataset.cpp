#include "algorithms/problems/dataset.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
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

namespace {

// The CSR arrays of a file being read, row by row (indices increase along a line): no triplets,
// no transposition. inner and values are the final matrix's own arrays, allocated for the
// file's count of ':' (every entry has one): filled in place, never grown or copied.
struct Rows {
  std::vector<std::int64_t> outer{0};
  std::int64_t* inner = nullptr;
  double* values = nullptr;
  std::size_t nnz = 0;
  int max_index = 0;
  void push(int index, double value) {
    inner[nnz] = index;
    values[nnz++] = value;
  }
};

// One line by the reference rules: strtod/strtol on the line's text (NUL-terminated; a NUL byte
// in the line ends it). Returns false for a blank line; throws for a malformed one.
bool parse_line_reference(const std::string& path, long line_no, const char* p, Rows& rows,
                          double* label_out) {
  while (*p == ' ' || *p == '\t') ++p;
  if (*p == '\0') return false;  // blank line
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
    rows.max_index = std::max(rows.max_index, static_cast<int>(index));
    if (value != 0.0) rows.push(static_cast<int>(index - 1), value);
  }
  *label_out = label;
  return true;
}

bool starts_number(char c) { return (c >= '0' && c <= '9') || c == '-' || c == '.'; }

// A decimal number [-]digits[.digits][(e|E)[+|-]digits] at [p, e) by std::from_chars, which
// rounds correctly as strtod does: the same double. False when from_chars does not take it
// whole or when strtod would say more (out of range, or an underflow strtod flags): the caller
// then reads the line by the reference rules.
bool read_double(const char* p, const char* e, double* out, const char** next) {
  // "+1" (LIBSVM's usual positive label) is read as strtod reads it: the number after the sign.
  if (e - p >= 2 && *p == '+' && *(p + 1) != '-') ++p;
  if (p == e || !starts_number(*p)) return false;  // inf, nan, spaces, "+-": the reference
  const auto [ptr, ec] = std::from_chars(p, e, *out);
  if (ec != std::errc{} || ptr == p || !std::isfinite(*out)) return false;
  if (std::fabs(*out) < std::numeric_limits<double>::min()) {  // 0 or subnormal
    for (const char* q = p; q < ptr && *q != 'e' && *q != 'E'; ++q)
      if (*q >= '1' && *q <= '9') return false;  // not an exact 0: strtod's ERANGE decides
  }
  *next = ptr;
  return true;
}

// One line [p, e) (no '\n', no trailing '\r', no NUL) in the common form; false (with `rows`
// untouched) for anything else, which the reference rules then read or reject with their
// message. The same results as parse_line_reference wherever it returns true.
bool parse_line_fast(const char* p, const char* e, Rows& rows, double* label, bool* blank) {
  while (p < e && (*p == ' ' || *p == '\t')) ++p;
  *blank = p == e;
  if (*blank) return true;
  if (!read_double(p, e, label, &p)) return false;
  const std::size_t row_start = rows.nnz;
  int previous = 0, max_index = rows.max_index;
  auto undo = [&] {
    rows.nnz = row_start;
    return false;
  };
  while (true) {
    while (p < e && (*p == ' ' || *p == '\t')) ++p;
    if (p == e || *p == '#') break;
    std::int64_t number = 0;  // at most 10 digits: no overflow
    int digits = 0;
    for (; p < e && *p >= '0' && *p <= '9' && digits < 10; ++p, ++digits)
      number = number * 10 + (*p - '0');
    if (digits == 0 || p == e || *p != ':' || number < 1 || number > 1'000'000'000 ||
        number <= previous)
      return undo();  // a sign, too many digits, a bad index: the reference's message
    const int index = static_cast<int>(number);
    previous = index;
    double value = 0;
    if (!read_double(p + 1, e, &value, &p)) return undo();
    if (p != e && *p != ' ' && *p != '\t') return undo();
    max_index = std::max(max_index, index);
    if (value != 0.0) rows.push(index - 1, value);
  }
  rows.max_index = max_index;
  return true;
}

// The bytes of a file: mapped when it is a regular file (no copy), else read (pipes).
class FileBytes {
 public:
  explicit FileBytes(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) throw InputError(path + ": cannot open dataset file");
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ,
                       MAP_PRIVATE | MAP_POPULATE, fd, 0);
      if (p != MAP_FAILED) {
        map_ = p;
        size_ = static_cast<std::size_t>(st.st_size);
      }
    }
    if (map_ == nullptr) {  // read until the end (or the first error, e.g. a folder)
      char block[1 << 16];
      for (ssize_t got; (got = ::read(fd, block, sizeof block)) > 0;)
        copy_.append(block, static_cast<std::size_t>(got));
      size_ = copy_.size();
    }
    ::close(fd);
  }
  ~FileBytes() {
    if (map_ != nullptr) ::munmap(map_, size_);
  }
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;
  const char* data() const {
    return map_ != nullptr ? static_cast<const char*>(map_) : copy_.data();
  }
  std::size_t size() const { return size_; }

 private:
  void* map_ = nullptr;
  std::size_t size_ = 0;
  std::string copy_;
};

}  // namespace

Dataset load_libsvm(const std::string& path, std::optional<int> dim) {
  const FileBytes file(path);
  const char* const begin = file.data();
  const char* const stop = begin + file.size();
  // Every array sized from the file's counts of lines and of ':' (an upper bound of the
  // entries); the entries go straight into the matrix's arrays.
  const auto entries = static_cast<Eigen::Index>(std::count(begin, stop, ':'));
  const auto lines = static_cast<std::size_t>(std::count(begin, stop, '\n')) + 1;
  Dataset data;
  data.source = path;
  data.A.resize(0, 0);
  data.A.resizeNonZeros(entries);
  Rows rows;
  rows.inner = data.A.innerIndexPtr();
  rows.values = data.A.valuePtr();
  rows.outer.reserve(lines + 1);
  std::vector<double> labels;
  labels.reserve(lines);
  std::vector<double> seen_labels;
  long line_no = 0;
  // Lines as std::getline splits them: each ends at '\n', the last one also at the end of the
  // file (an empty tail is no line); a trailing '\r' is dropped.
  for (const char* b = begin; b < stop;) {
    const char* nl =
        static_cast<const char*>(std::memchr(b, '\n', static_cast<std::size_t>(stop - b)));
    const char* e = nl != nullptr ? nl : stop;
    const char* next = nl != nullptr ? nl + 1 : stop;
    ++line_no;
    if (e > b && e[-1] == '\r') --e;
    double label = 0;
    bool blank = false;
    const bool nul = std::find(b, e, '\0') != e;
    if (nul || !parse_line_fast(b, e, rows, &label, &blank)) {
      const std::string line(b, e);  // c_str() ends at a NUL byte, as getline's text did
      blank = !parse_line_reference(path, line_no, line.c_str(), rows, &label);
    }
    b = next;
    if (blank) continue;
    rows.outer.push_back(static_cast<std::int64_t>(rows.nnz));
    if (std::find(seen_labels.begin(), seen_labels.end(), label) == seen_labels.end()) {
      seen_labels.push_back(label);
      if (seen_labels.size() > 2)
        fail(path, line_no,
             "found 3 distinct labels (" + label_text(seen_labels) +
                 "); binary classification needs exactly 2");
    }
    labels.push_back(label);
  }
  const int max_index = rows.max_index;
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
  // Eigen 3.4's resize(rows, cols) empties the entries but keeps their allocation, and
  // resizeNonZeros within it keeps the contents: the arrays filled above stay in place. (Not a
  // generic sparse assignment, which reserves 2 max(rows, cols) entries first: gigabytes for a
  // file whose one line names feature 10^9, found by fuzzing.)
  data.A.resize(static_cast<std::int64_t>(labels.size()), d);
  data.A.resizeNonZeros(static_cast<Eigen::Index>(rows.nnz));
  assert(data.A.innerIndexPtr() == rows.inner && data.A.valuePtr() == rows.values);
  std::copy(rows.outer.begin(), rows.outer.end(), data.A.outerIndexPtr());
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
