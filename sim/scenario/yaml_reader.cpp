#include "sim/scenario/yaml_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>

#include "algorithms/core/error.hpp"

namespace efsim::sim {

namespace {

// Edit distance (insertions, deletions, substitutions, adjacent swaps) for "did you mean".
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] =
          std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

}  // namespace

// ", did you mean 'x'?" for the closest candidate within a third of the word's length (>= 1).
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_d = std::max<std::size_t>(1, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    const std::size_t dist = edit_distance(word, c);
    if (dist < best_d) {
      best_d = dist;
      best = c;
    }
  }
  return best.empty() ? "" : "; did you mean '" + best + "'?";
}

std::string apply_override(YAML::Node& root, const std::string& file, const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError(file + ": --set '" + text + "': expected key.path=value");
  const std::string path = text.substr(0, eq);
  YAML::Node value;
  try {
    value = YAML::Load(text.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    throw InputError(file + ": --set " + path + ": bad value: " + e.msg);
  }
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const auto dot = path.find('.', start);
    parts.push_back(path.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  // yaml-cpp nodes are handles: walk down with reset(), creating maps as needed.
  YAML::Node cur = root;
  for (std::size_t p = 0; p < parts.size(); ++p) {
    const std::string& k = parts[p];
    if (k.empty()) throw InputError(file + ": --set '" + text + "': empty key in path");
    const bool last = p + 1 == parts.size();
    YAML::Node next;
    if (cur.IsSequence()) {
      char* end = nullptr;
      const long idx = std::strtol(k.c_str(), &end, 10);
      if (*end != '\0' || idx < 0 || static_cast<std::size_t>(idx) >= cur.size())
        throw InputError(file + ": --set " + path + ": '" + k + "' is not an index of the list");
      if (last) {
        cur[idx] = value;
        break;
      }
      next.reset(cur[idx]);
    } else {
      if (!cur.IsMap() && cur.IsDefined() && !cur.IsNull())
        throw InputError(file + ": --set " + path + ": '" + k +
                         "' is inside a value, not a mapping");
      if (last) {
        cur[k] = value;
        break;
      }
      next.reset(cur[k]);
    }
    cur.reset(next);
  }
  return path;
}

void Reader::fail(const YAML::Node& node, const std::string& key, const std::string& msg) const {
  for (const auto& o : overridden_) {
    if (key == o || key.rfind(o + ".", 0) == 0 || o.rfind(key + ".", 0) == 0)
      throw InputError(file_ + ": --set " + o + ": key '" + key + "': " + msg);
  }
  std::string where = file_;
  if (node.IsDefined() && node.Mark().line >= 0)
    where += ":" + std::to_string(node.Mark().line + 1);
  throw InputError(where + ": key '" + key + "': " + msg);
}

std::string Reader::location(const YAML::Node& node, const std::string& key) const {
  for (const auto& o : overridden_)
    if (key == o || key.rfind(o + ".", 0) == 0) return file_ + " (--set " + o + ")";
  if (node.IsDefined() && node.Mark().line >= 0)
    return file_ + ":" + std::to_string(node.Mark().line + 1);
  return file_;
}

void Reader::require_map(const YAML::Node& node, const std::string& key) const {
  if (!node.IsMap()) fail(node, key, "expected a mapping (key: value lines)");
}

void Reader::check_keys(const YAML::Node& map, const std::string& path,
                        const std::vector<std::string>& allowed) const {
  require_map(map, path);
  std::set<std::string> seen;
  for (const auto& kv : map) {
    if (!kv.first.IsScalar())
      fail(kv.first, path.empty() ? "(key)" : path, "a key must be a plain name");
    const std::string k = kv.first.Scalar();
    if (!seen.insert(k).second) fail(kv.first, join(path, k), "key given twice");
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      std::string valid;
      for (const auto& a : allowed) valid += (valid.empty() ? "" : ", ") + a;
      fail(kv.first, join(path, k),
           "unknown key" + did_you_mean(k, allowed) + " (valid keys: " + valid + ")");
    }
  }
}

std::string Reader::join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string Reader::scalar(const YAML::Node& n, const std::string& key) const {
  if (!n.IsScalar()) fail(n, key, "expected a single value");
  return n.Scalar();
}

double Reader::number(const YAML::Node& n, const std::string& key, double lo, double hi) const {
  const std::string s = scalar(n, key);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(v)) fail(n, key, "'" + s + "' is not a number");
  if (v < lo || v > hi)
    fail(n, key, "value " + s + " out of range [" + fmt(lo) + ", " + fmt(hi) + "]");
  return v;
}

long Reader::integer(const YAML::Node& n, const std::string& key, long lo, long hi) const {
  const std::string s = scalar(n, key);
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0) {
    // Also accept integral values written like 1e6 (exact below 2^53).
    const double d = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !std::isfinite(d) || d != std::floor(d) ||
        std::abs(d) > 9007199254740992.0)
      fail(n, key, "'" + s + "' is not an integer");
    v = static_cast<long long>(d);
  }
  if (v < lo || v > hi)
    fail(n, key,
         "value " + s + " out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return static_cast<long>(v);
}

double Reader::quantity(const YAML::Node& n, const std::string& key, Unit unit,
                        bool positive) const {
  std::string why;
  auto v = parse_quantity(scalar(n, key), unit, &why);
  if (!v) fail(n, key, why);
  if (positive && *v <= 0) fail(n, key, "must be > 0");
  return *v;
}

std::string Reader::choice(const YAML::Node& n, const std::string& key,
                           const std::vector<std::string>& valid) const {
  const std::string s = scalar(n, key);
  if (std::find(valid.begin(), valid.end(), s) != valid.end()) return s;
  std::string list;
  for (const auto& v : valid) list += (list.empty() ? "" : ", ") + v;
  fail(n, key, "'" + s + "' is not one of: " + list + did_you_mean(s, valid));
}

std::vector<YAML::Node> Reader::axis(const YAML::Node& n, const std::string& key) const {
  std::vector<YAML::Node> out;
  if (n.IsSequence()) {
    if (n.size() == 0) fail(n, key, "empty list");
    for (const auto& e : n) out.push_back(e);
  } else if (n.IsScalar()) {
    out.push_back(n);
  } else {
    fail(n, key, "expected a value or a list of values");
  }
  return out;
}

std::string Reader::fmt(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace efsim::sim
