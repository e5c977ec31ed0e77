#include "sim/scenario.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <numeric>
#include <set>

#include "algorithms/error.hpp"
#include "algorithms/method.hpp"
#include "sim/simgrid_runner.hpp"
#include "sim/text.hpp"
#include "sim/units.hpp"

namespace efsim::sim {

namespace fs = std::filesystem;

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

// Reads YAML nodes with error messages that name the file, line and key.
class Reader {
 public:
  Reader(std::string file, std::set<std::string> overridden)
      : file_(std::move(file)), overridden_(std::move(overridden)) {}

  [[noreturn]] void fail(const YAML::Node& node, const std::string& key,
                         const std::string& msg) const {
    for (const auto& o : overridden_) {
      if (key == o || key.rfind(o + ".", 0) == 0 || o.rfind(key + ".", 0) == 0)
        throw InputError(file_ + ": --set " + o + ": key '" + key + "': " + msg);
    }
    std::string where = file_;
    if (node.IsDefined() && node.Mark().line >= 0)
      where += ":" + std::to_string(node.Mark().line + 1);
    throw InputError(where + ": key '" + key + "': " + msg);
  }

  std::string location(const YAML::Node& node, const std::string& key) const {
    for (const auto& o : overridden_)
      if (key == o || key.rfind(o + ".", 0) == 0) return file_ + " (--set " + o + ")";
    if (node.IsDefined() && node.Mark().line >= 0)
      return file_ + ":" + std::to_string(node.Mark().line + 1);
    return file_;
  }

  void require_map(const YAML::Node& node, const std::string& key) const {
    if (!node.IsMap()) fail(node, key, "expected a mapping (key: value lines)");
  }

  void check_keys(const YAML::Node& map, const std::string& path,
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

  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  std::string scalar(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) fail(n, key, "expected a single value");
    return n.Scalar();
  }

  double number(const YAML::Node& n, const std::string& key, double lo, double hi) const {
    const std::string s = scalar(n, key);
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !std::isfinite(v)) fail(n, key, "'" + s + "' is not a number");
    if (v < lo || v > hi)
      fail(n, key, "value " + s + " out of range [" + fmt(lo) + ", " + fmt(hi) + "]");
    return v;
  }

  long integer(const YAML::Node& n, const std::string& key, long lo, long hi) const {
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

  double quantity(const YAML::Node& n, const std::string& key, Unit unit, bool positive) const {
    std::string why;
    auto v = parse_quantity(scalar(n, key), unit, &why);
    if (!v) fail(n, key, why);
    if (positive && *v <= 0) fail(n, key, "must be > 0");
    return *v;
  }

  std::string choice(const YAML::Node& n, const std::string& key,
                     const std::vector<std::string>& valid) const {
    const std::string s = scalar(n, key);
    if (std::find(valid.begin(), valid.end(), s) != valid.end()) return s;
    std::string list;
    for (const auto& v : valid) list += (list.empty() ? "" : ", ") + v;
    fail(n, key, "'" + s + "' is not one of: " + list + did_you_mean(s, valid));
  }

  // A scalar or a list of scalars, as a list (the cartesian-product axes of `runs`).
  std::vector<YAML::Node> axis(const YAML::Node& n, const std::string& key) const {
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

  const std::string& file() const { return file_; }

  static std::string fmt(double v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
  }

 private:
  std::string file_;
  std::set<std::string> overridden_;
};

// Applies "a.b.c=value" to the tree; returns the key path.
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

void parse_platform(const Reader& r, const YAML::Node& n, const std::string& key,
                    const std::string& dir, const Scenario& s, PlatformSpec& p) {
  if (!n.IsDefined()) return;  // default star
  r.require_map(n, key);
  const std::string kind =
      n["kind"]
          ? r.choice(n["kind"], key + ".kind",
                     {"star", "file", "tree", "ring", "torus", "fat_tree", "dragonfly", "edge"})
          : std::string("star");
  p.kind = kind;
  if (const YAML::Node st = n["stragglers"]) {
    r.check_keys(st, key + ".stragglers", {"fraction", "slowdown", "mode"});
    if (!st["fraction"] || !st["slowdown"])
      r.fail(st, key + ".stragglers", "needs fraction and slowdown");
    p.stragglers.fraction = r.number(st["fraction"], key + ".stragglers.fraction", 0.0, 1.0);
    p.stragglers.slowdown = r.number(st["slowdown"], key + ".stragglers.slowdown", 1.0, 1e9);
    if (st["mode"])
      p.stragglers.random =
          r.choice(st["mode"], key + ".stragglers.mode", {"fixed", "random"}) == "random";
  }
  if (kind != "star" && kind != "file") {
    r.check_keys(n, key,
                 {"kind", "bandwidth", "latency", "master_bandwidth", "master_latency", "uplink",
                  "uplink_latency", "worker_speed", "master_speed", "racks", "k", "groups",
                  "routers", "hosts_per_router", "classes", "stragglers"});
    auto& t = p.topology;
    t.kind = kind;
    t.seed = s.seed;
    auto bw = [&](const char* k, double* out) {
      if (n[k]) *out = r.quantity(n[k], key + "." + k, Unit::kBandwidthBps, true);
    };
    auto time = [&](const char* k, double* out) {
      if (n[k]) *out = r.quantity(n[k], key + "." + k, Unit::kSeconds, false);
    };
    auto speed = [&](const char* k, double* out) {
      if (n[k]) *out = r.quantity(n[k], key + "." + k, Unit::kFlops, true);
    };
    auto count = [&](const char* k, int* out) {
      if (n[k]) *out = static_cast<int>(r.integer(n[k], key + "." + k, 1, 100'000));
    };
    bw("bandwidth", &t.bandwidth_Bps);
    time("latency", &t.latency_s);
    bw("master_bandwidth", &t.master_bandwidth_Bps);
    time("master_latency", &t.master_latency_s);
    bw("uplink", &t.uplink_Bps);
    time("uplink_latency", &t.uplink_latency_s);
    speed("worker_speed", &t.worker_speed_flops);
    speed("master_speed", &t.master_speed_flops);
    count("racks", &t.racks);
    count("k", &t.k);
    count("groups", &t.groups);
    count("routers", &t.routers);
    count("hosts_per_router", &t.hosts_per_router);
    const std::map<std::string, std::vector<std::string>> own = {
        {"tree", {"racks"}},
        {"fat_tree", {"k"}},
        {"dragonfly", {"groups", "routers", "hosts_per_router"}},
        {"edge", {"classes"}}};
    for (const char* k : {"racks", "k", "groups", "routers", "hosts_per_router", "classes"}) {
      const auto it = own.find(kind);
      if (n[k] && (it == own.end() ||
                   std::find(it->second.begin(), it->second.end(), k) == it->second.end()))
        r.fail(n[k], key + "." + k, "not a parameter of platform kind '" + kind + "'");
    }
    if (kind == "fat_tree" && t.k % 2) r.fail(n["k"], key + ".k", "must be even");
    if (kind == "edge") {
      const YAML::Node c = n["classes"];
      if (!c || !c.IsSequence() || c.size() == 0)
        r.fail(c ? c : n, key + ".classes",
               "required for kind edge: a list of {bandwidth, latency, share}");
      for (std::size_t i = 0; i < c.size(); ++i) {
        const std::string ck = key + ".classes." + std::to_string(i);
                r.check_keys(c[i], ck, {"bandwidth", "latency", "share", "speed"});
        if (!c[i]["bandwidth"] || !c[i]["latency"]) r.fail(c[i], ck, "needs bandwidth and latency");
        platforms::LinkClass lc;
        lc.bandwidth_Bps =
            r.quantity(c[i]["bandwidth"], ck + ".bandwidth", Unit::kBandwidthBps, true);
        lc.latency_s = r.quantity(c[i]["latency"], ck + ".latency", Unit::kSeconds, false);
                lc.share = c[i]["share"] ? r.number(c[i]["share"], ck + ".share", 1e-12, 1e12) : 1.0;
        if (c[i]["speed"])
          lc.speed_flops = r.quantity(c[i]["speed"], ck + ".speed", Unit::kFlops, true);
        t.classes.push_back(lc);
      }
    }
    return;
  }
  if (kind == "star") {
    r.check_keys(n, key,
                 {"kind", "bandwidth", "latency", "master_bandwidth", "master_latency",
                  "worker_speed", "master_speed", "stragglers"});
    auto& st = p.star;
    if (n["bandwidth"])
      st.worker_bandwidth_Bps =
          r.quantity(n["bandwidth"], key + ".bandwidth", Unit::kBandwidthBps, true);
    if (n["latency"])
      st.worker_latency_s = r.quantity(n["latency"], key + ".latency", Unit::kSeconds, false);
    if (n["master_bandwidth"])
      st.master_bandwidth_Bps =
          r.quantity(n["master_bandwidth"], key + ".master_bandwidth", Unit::kBandwidthBps, true);
    if (n["master_latency"])
      st.master_latency_s =
          r.quantity(n["master_latency"], key + ".master_latency", Unit::kSeconds, false);
    if (n["worker_speed"])
      st.worker_speed_flops =
          r.quantity(n["worker_speed"], key + ".worker_speed", Unit::kFlops, true);
    if (n["master_speed"])
      st.master_speed_flops =
          r.quantity(n["master_speed"], key + ".master_speed", Unit::kFlops, true);
    return;
  }
  r.check_keys(n, key, {"kind", "file", "master", "workers", "stragglers"});
  if (!n["file"]) r.fail(n, key + ".file", "required for platform kind 'file'");
  if (!n["master"])
    r.fail(n, key + ".master", "required for platform kind 'file' (the master host's name)");
  if (!n["workers"])
    r.fail(n, key + ".workers",
           "required for platform kind 'file' (list of host names, or a pattern like \"node-*\")");
  fs::path file = r.scalar(n["file"], key + ".file");
  if (file.is_relative()) file = fs::path(dir) / file;
  if (!fs::is_regular_file(file))
    r.fail(n["file"], key + ".file", "no such file: " + file.string());
  p.file = file.lexically_normal().string();
  p.master = r.scalar(n["master"], key + ".master");
  const YAML::Node w = n["workers"];
  if (w.IsSequence()) {
    std::set<std::string> seen;
    for (const auto& h : w) {
      const std::string name = r.scalar(h, key + ".workers");
      if (name == p.master) r.fail(h, key + ".workers", "'" + name + "' is the master host");
      if (!seen.insert(name).second)
        r.fail(h, key + ".workers", "host '" + name + "' listed twice");
      p.workers.push_back(name);
    }
    if (p.workers.empty()) r.fail(w, key + ".workers", "empty list");
  } else {
    p.workers_glob = r.scalar(w, key + ".workers");
  }
}

void parse_problem(const Reader& r, const YAML::Node& n, const std::string& dir, Scenario& s) {
  const std::string key = "problem";
  if (!n.IsDefined()) r.fail(n, key, "missing (kind, dataset, workers, ...)");
  r.require_map(n, key);
  ProblemSpec& p = s.problem;
  if (n["kind"])
    p.kind = r.choice(n["kind"], "problem.kind",
                      {"logistic", "least_squares", "multiclass_logistic", "mlp", "noisy_quadratic",
                       "beznosikov"});
  if (p.kind == "multiclass_logistic" || p.kind == "mlp") {
    r.check_keys(
        n, key,
        {"kind", "dataset", "train_samples", "test", "split", "lambda", "workers", "x0", "hidden"});
    if (p.kind == "mlp") {
      p.hidden = n["hidden"]
                     ? static_cast<int>(r.integer(n["hidden"], "problem.hidden", 1, 1'000'000))
                     : 512;
      p.x0_kind = "random";  // He initialisation from the seed
    } else if (n["hidden"]) {
      r.fail(n["hidden"], "problem.hidden", "only for kind: mlp");
    }
    if (!n["workers"]) r.fail(n, "problem.workers", "required: the number of workers n");
    p.workers = static_cast<int>(r.integer(n["workers"], "problem.workers", 1, 1'000'000));
    p.lambda = p.kind == "mlp" ? 0.0 : 0.001;
    if (n["lambda"]) p.lambda = r.number(n["lambda"], "problem.lambda", 0.0, 1e6);
    p.dataset = n["dataset"] ? r.scalar(n["dataset"], "problem.dataset")
                             : "/usr/share/datasets/fashion-mnist";
    fs::path folder = p.dataset;
    if (folder.is_relative()) folder = fs::path(dir) / folder;
    for (const char* f : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"})
      if (!fs::exists(folder / f))
        r.fail(n["dataset"] ? n["dataset"] : n, "problem.dataset",
               "no " + (folder / f).string() +
                   " (a folder of gzip IDX files; Fashion-MNIST: apt-get install "
                   "dataset-fashion-mnist)");
    p.dataset = folder.lexically_normal().string();
    if (n["train_samples"])
      p.train_samples =
          static_cast<int>(r.integer(n["train_samples"], "problem.train_samples", 1, 100'000'000));
    if (n["test"]) p.test = r.choice(n["test"], "problem.test", {"true", "false"}) == "true";
    if (n["split"])
      p.split_by_label = r.choice(n["split"], "problem.split", {"iid", "label"}) == "label";
  } else if (p.kind == "noisy_quadratic") {
    r.check_keys(n, key, {"kind", "dim", "sigma", "noise", "workers", "x0"});
    if (n["noise"])
      p.skewed_noise = r.choice(n["noise"], "problem.noise", {"gaussian", "skewed"}) == "skewed";
    if (!n["workers"]) r.fail(n, "problem.workers", "required: the number of workers n");
    p.workers = static_cast<int>(r.integer(n["workers"], "problem.workers", 1, 1'000'000));
    p.dim = n["dim"] ? static_cast<int>(r.integer(n["dim"], "problem.dim", 1, 100'000'000)) : 10;
    if (n["sigma"]) p.sigma = r.number(n["sigma"], "problem.sigma", 0.0, 1e12);
    p.x0_kind = "constant";
    p.x0_value = 1.0;
  } else if (p.kind == "beznosikov") {
    r.check_keys(n, key, {"kind", "workers", "x0"});
    if (n["workers"] && r.integer(n["workers"], "problem.workers", 1, 1'000'000) != 3)
      r.fail(n["workers"], "problem.workers", "the beznosikov example has exactly 3 workers");
    p.workers = 3;
    p.x0_kind = "constant";
    p.x0_value = 1.0;
  } else {
    r.check_keys(
        n, key, {"kind", "dataset", "test_dataset", "dim", "synthetic", "lambda", "workers", "x0"});
    if (!n["workers"]) r.fail(n, "problem.workers", "required: the number of workers n");
    if (const YAML::Node t = n["test_dataset"]) {
      fs::path file = r.scalar(t, "problem.test_dataset");
      if (file.is_relative()) file = fs::path(dir) / file;
      if (!fs::is_regular_file(file))
        r.fail(t, "problem.test_dataset", "no such file: " + file.string());
      p.test_dataset = file.lexically_normal().string();
    }
    p.workers = static_cast<int>(r.integer(n["workers"], "problem.workers", 1, 1'000'000));
    if (p.kind == "least_squares") p.lambda = 0.0;  // plain least squares unless asked
    if (n["lambda"]) p.lambda = r.number(n["lambda"], "problem.lambda", 0.0, 1e6);
    if (n["dataset"]) p.dataset = r.scalar(n["dataset"], "problem.dataset");
    if (p.dataset == "synthetic") {
      if (n["dim"])
        r.fail(n["dim"], "problem.dim", "only for a LIBSVM dataset (use synthetic.dim)");
      auto& sy = p.synthetic;
      sy.workers = p.workers;
      sy.seed = s.seed;
      if (const YAML::Node y = n["synthetic"]) {
        r.check_keys(y, "problem.synthetic",
                     {"samples", "dim", "nnz_per_row", "heterogeneity", "label_noise",
                      "feature_decay", "seed"});
        if (y["feature_decay"])
          sy.feature_decay =
              r.number(y["feature_decay"], "problem.synthetic.feature_decay", 0.0, 10.0);
        if (y["seed"])
          sy.seed = static_cast<std::uint64_t>(
              r.integer(y["seed"], "problem.synthetic.seed", 0, std::numeric_limits<long>::max()));
        if (y["samples"])
          sy.samples = static_cast<int>(
              r.integer(y["samples"], "problem.synthetic.samples", 1, 100'000'000));
        if (y["dim"])
          sy.dim = static_cast<int>(r.integer(y["dim"], "problem.synthetic.dim", 1, 100'000'000));
        if (y["nnz_per_row"])
          sy.nnz_per_row = static_cast<int>(
              r.integer(y["nnz_per_row"], "problem.synthetic.nnz_per_row", 1, 100'000'000));
        if (y["heterogeneity"])
          sy.heterogeneity =
              r.number(y["heterogeneity"], "problem.synthetic.heterogeneity", 0.0, 1.0);
        if (y["label_noise"])
          sy.label_noise = r.number(y["label_noise"], "problem.synthetic.label_noise", 0.0, 1e6);
        if (sy.nnz_per_row > sy.dim)
          r.fail(y, "problem.synthetic.nnz_per_row",
                 "must be <= synthetic.dim (" + std::to_string(sy.dim) + ")");
      }
      if (p.workers > sy.samples)
        r.fail(n["workers"], "problem.workers",
               "more workers than synthetic samples (" + std::to_string(sy.samples) + ")");
    } else {
      if (n["synthetic"])
        r.fail(n["synthetic"], "problem.synthetic", "only with dataset: synthetic");
      fs::path file = p.dataset;
      if (file.is_relative()) file = fs::path(dir) / file;
      if (!fs::is_regular_file(file))
        r.fail(n["dataset"], "problem.dataset",
               "no such file: " + file.string() + " (a LIBSVM file, or 'synthetic')");
      p.dataset = file.lexically_normal().string();
      if (n["dim"]) p.dim = static_cast<int>(r.integer(n["dim"], "problem.dim", 1, 100'000'000));
    }
  }
  if (const YAML::Node x0 = n["x0"]) {
    if (x0.IsSequence()) {
      p.x0_kind = "list";
      for (const auto& v : x0) p.x0_list.push_back(r.number(v, "problem.x0", -1e300, 1e300));
    } else if (x0.IsScalar() && x0.Scalar() == "zeros") {
      p.x0_kind = "zeros";
    } else if (x0.IsScalar() && x0.Scalar() == "random") {
      if (p.kind != "mlp") r.fail(x0, "problem.x0", "random (He) initialisation is for kind: mlp");
      p.x0_kind = "random";
    } else {
      p.x0_kind = "constant";
      p.x0_value = r.number(x0, "problem.x0", -1e300, 1e300);
    }
  }
}

void parse_wire(const Reader& r, const YAML::Node& n, Scenario& s) {
  if (!n.IsDefined()) return;
  r.check_keys(n, "wire", {"value_bits", "index_bits"});
  if (n["value_bits"]) {
    const long vb = r.integer(n["value_bits"], "wire.value_bits", 1, 64);
    if (vb != 16 && vb != 32 && vb != 64)
      r.fail(n["value_bits"], "wire.value_bits", "must be 16, 32 or 64");
    s.wire.value_bits = static_cast<int>(vb);
  }
  if (n["index_bits"]) {
    if (n["index_bits"].IsScalar() && n["index_bits"].Scalar() == "auto")
      s.wire.index_bits = 0;
    else
      s.wire.index_bits = static_cast<int>(r.integer(n["index_bits"], "wire.index_bits", 1, 32));
  }
}

void parse_stop(const Reader& r, const YAML::Node& n, Scenario& s) {
  if (!n.IsDefined()) return;
  r.check_keys(n, "stop", {"max_rounds", "grad_norm_sq", "max_sim_time", "divergence_factor"});
  if (n["max_rounds"])
    s.stop.max_rounds = r.integer(n["max_rounds"], "stop.max_rounds", 1, 1'000'000'000L);
  if (n["grad_norm_sq"])
    s.stop.target_grad_norm_sq = r.number(n["grad_norm_sq"], "stop.grad_norm_sq", 0.0, 1e300);
  if (n["max_sim_time"])
    s.stop.max_sim_time_s =
        r.quantity(n["max_sim_time"], "stop.max_sim_time", Unit::kSeconds, true);
  if (n["divergence_factor"])
    s.stop.divergence_factor =
        r.number(n["divergence_factor"], "stop.divergence_factor", 1.0, 1e300);
}

std::vector<std::string> method_names() {
  std::vector<std::string> names;
  for (const auto& m : alg::method_registry()) names.push_back(m.name);
  return names;
}

std::vector<std::string> compressor_kinds() {
  std::vector<std::string> kinds;
  for (const auto& c : alg::compressor_registry()) kinds.push_back(c.kind);
  return kinds;
}

// A compressor entry, with any parameter given as a list, expands to the product of its lists.
// A parameter that the listed kind does not take is an error (with a list of kinds, it applies
// to the kinds that take it).
std::vector<alg::CompressorSpec> expand_compressor(const Reader& r, const YAML::Node& c,
                                                   const std::string& key) {
  r.check_keys(c, key, {"kind", "k", "s", "coding", "values", "c1", "c2"});
  if (!c["kind"]) r.fail(c, key + ".kind", "required (see efsim compressors)");
  std::vector<alg::CompressorSpec> out;
  for (const auto& kn : r.axis(c["kind"], key + ".kind")) {
    const std::string kind = r.choice(kn, key + ".kind", compressor_kinds());
    const alg::CompressorInfo& info = *alg::find_compressor(kind);
    auto takes = [&info](const char* p) {
      return std::find(info.params.begin(), info.params.end(), p) != info.params.end();
    };
    for (const char* p : {"k", "s", "coding", "values", "c1", "c2"}) {
      if (c[p] && !takes(p) && c["kind"].IsScalar())
        r.fail(c[p], key + "." + p, "compressor '" + kind + "' takes no " + p);
    }
    std::vector<alg::CompressorSpec> specs(1);
    specs[0].kind = kind;
    auto product = [&specs](const auto& values, auto set) {
      std::vector<alg::CompressorSpec> next;
      for (const auto& spec : specs)
        for (const auto& v : values) {
          next.push_back(spec);
          set(next.back(), v);
        }
      specs = std::move(next);
    };
    for (const char* p : {"k", "s"}) {
      if (!takes(p)) continue;
      if (!c[p]) r.fail(c, key + "." + p, std::string("required for compressor '") + kind + "'");
      std::vector<int> values;
      for (const auto& v : r.axis(c[p], key + "." + p))
        values.push_back(static_cast<int>(r.integer(v, key + "." + p, 1, 1'000'000'000L)));
      const bool is_k = p[0] == 'k';
      product(values, [is_k](alg::CompressorSpec& spec, int v) { (is_k ? spec.k : spec.s) = v; });
    }
    if (takes("coding") && c["coding"]) {
      std::vector<std::string> values;
      for (const auto& v : r.axis(c["coding"], key + ".coding"))
        values.push_back(r.choice(v, key + ".coding", {"fixed", "elias"}));
      product(values, [](alg::CompressorSpec& spec, const std::string& v) { spec.coding = v; });
    }
    if (takes("values") && c["values"]) {
      std::vector<std::string> values;
      for (const auto& v : r.axis(c["values"], key + ".values"))
        values.push_back(r.choice(v, key + ".values", {"none", "natural"}));
      product(values, [](alg::CompressorSpec& spec, const std::string& v) {
        spec.values = v == "none" ? "" : v;
      });
    }
    if (takes("c1")) {
      for (const char* p : {"c1", "c2"})
        if (!c[p])
          r.fail(c, key + "." + p, "required for the induced compressor (a compressor entry)");
      const auto c1 = expand_compressor(r, c["c1"], key + ".c1");
      const auto c2 = expand_compressor(r, c["c2"], key + ".c2");
      std::vector<std::pair<alg::CompressorSpec, alg::CompressorSpec>> pairs;
      for (const auto& a : c1)
        for (const auto& b : c2) pairs.emplace_back(a, b);
      product(pairs, [](alg::CompressorSpec& spec, const auto& ab) {
        spec.c1 = std::make_shared<alg::CompressorSpec>(ab.first);
        spec.c2 = std::make_shared<alg::CompressorSpec>(ab.second);
      });
    }
    out.insert(out.end(), specs.begin(), specs.end());
  }
  return out;
}

void parse_runs(const Reader& r, const YAML::Node& n, Scenario& s) {
  if (!n.IsDefined())
    r.fail(n, "runs", "missing: a list of run entries (method, compressor, stepsize)");
  if (!n.IsSequence() || n.size() == 0)
    r.fail(n, "runs", "expected a non-empty list of run entries");
  std::map<std::string, std::string> seen;  // id -> origin
  for (std::size_t e = 0; e < n.size(); ++e) {
    const YAML::Node entry = n[e];
    const std::string base = "runs." + std::to_string(e);
    r.check_keys(entry, base,
                 {"method", "compressor", "stepsize", "batch", "batch_init", "eta", "beta",
                  "quantizer", "alpha", "lsvrg_p", "participation", "pattern", "downlink"});
    alg::ParticipationSpec participation;
    if (const YAML::Node pp = entry["participation"]) {
      const std::string pk = base + ".participation";
      r.check_keys(pp, pk, {"p", "tau"});
      if (pp["p"] && pp["tau"])
        r.fail(pp, pk, "give p (independent sampling) or tau (tau-nice), not both");
      if (pp["tau"]) {
        participation.tau =
            static_cast<int>(r.integer(pp["tau"], pk + ".tau", 1, s.problem.workers));
      } else if (pp["p"]) {
        const YAML::Node p = pp["p"];
        if (p.IsSequence() && static_cast<int>(p.size()) != s.problem.workers)
          r.fail(p, pk + ".p",
                 "one probability per worker: " + std::to_string(p.size()) + " given, " +
                     std::to_string(s.problem.workers) + " workers");
        for (const auto& v : p.IsSequence() ? std::vector<YAML::Node>(p.begin(), p.end())
                                            : std::vector<YAML::Node>{p}) {
          const double x = r.number(v, pk + ".p", 0.0, 1.0);
          if (x <= 0) r.fail(v, pk + ".p", "must be > 0");
          participation.p.push_back(x);
        }
      } else {
        r.fail(pp, pk, "give p or tau");
      }
    }
    if (!entry["method"]) r.fail(entry, base + ".method", "required");
    std::vector<std::string> methods;
    for (const auto& m : r.axis(entry["method"], base + ".method"))
      methods.push_back(r.choice(m, base + ".method", method_names()));

    std::vector<alg::CompressorSpec> compressors;
    if (const YAML::Node c = entry["compressor"])
      compressors = expand_compressor(r, c, base + ".compressor");
    else
      compressors.push_back({});

    std::vector<StepsizeSpec> steps;
    if (const YAML::Node st = entry["stepsize"]) {
      const std::string sk = base + ".stepsize";
      r.check_keys(st, sk, {"theory_multiplier", "gamma", "tune", "theory"});
      bool pl = false;
      if (st["theory"]) {
        if (st["gamma"])
          r.fail(st["theory"], sk + ".theory", "only with theory_multiplier or tune");
        pl = r.choice(st["theory"], sk + ".theory", {"nonconvex", "pl"}) == "pl";
      }
      if ((st["theory_multiplier"] ? 1 : 0) + (st["gamma"] ? 1 : 0) + (st["tune"] ? 1 : 0) > 1)
        r.fail(st, sk, "give one of theory_multiplier, gamma or tune");
      if (st["tune"]) {
        // A grid of theory multipliers; the report keeps the best of each method x compressor.
        for (const auto& v : r.axis(st["tune"], sk + ".tune"))
          steps.push_back({true, r.number(v, sk + ".tune", 1e-12, 1e12), true});
      } else if (st["theory_multiplier"]) {
        for (const auto& v : r.axis(st["theory_multiplier"], sk + ".theory_multiplier"))
          steps.push_back({true, r.number(v, sk + ".theory_multiplier", 1e-12, 1e12)});
      } else if (st["gamma"]) {
        for (const auto& v : r.axis(st["gamma"], sk + ".gamma"))
          steps.push_back({false, r.number(v, sk + ".gamma", 1e-300, 1e300)});
      } else {
        r.fail(st, sk, "give theory_multiplier, gamma or tune");
      }
      for (auto& v : steps) {
        if (v.value <= 0) r.fail(st, sk, "must be > 0");
        v.pl = pl;
      }
    } else {
      steps.push_back({true, 1.0});
    }

    // Stochastic gradients and momentum: lists are axes of the product too.
    auto int_axis = [&](const char* k, long lo, long hi) {
      std::vector<int> out;
      if (!entry[k]) return std::vector<int>{0};
      for (const auto& v : r.axis(entry[k], base + "." + k))
        out.push_back(static_cast<int>(r.integer(v, base + "." + k, lo, hi)));
      return out;
    };
    auto real_axis = [&](const char* k, double fallback, double lo, double hi, bool open_hi) {
      std::vector<double> out;
      if (!entry[k]) return std::vector<double>{fallback};
      for (const auto& v : r.axis(entry[k], base + "." + k)) {
        const double x = r.number(v, base + "." + k, lo, hi);
        if (open_hi && x >= hi) r.fail(v, base + "." + k, "must be < " + Reader::fmt(hi));
        if (!open_hi && x <= lo) r.fail(v, base + "." + k, "must be > " + Reader::fmt(lo));
        out.push_back(x);
      }
      return out;
    };
    const std::vector<int> batches = int_axis("batch", 0, 1'000'000'000L);  // 0: full gradients
    const std::vector<int> batch_inits = int_axis("batch_init", 1, 1'000'000'000L);
    const std::vector<double> etas = real_axis("eta", 1.0, 0.0, 1.0, false);
    const std::vector<double> betas = real_axis("beta", 0.0, 0.0, 1.0, true);
    const std::vector<double> alphas = real_axis("alpha", 0.0, 0.0, 1.0, false);
    const std::vector<double> lsvrg_ps = real_axis("lsvrg_p", 0.0, 0.0, 1.0, false);
    std::vector<std::optional<alg::CompressorSpec>> quantizers = {std::nullopt};
    if (const YAML::Node q = entry["quantizer"]) {
      quantizers.clear();
      for (auto& spec : expand_compressor(r, q, base + ".quantizer")) quantizers.emplace_back(spec);
    }
    // Communication pattern and downlink: axes too.
    std::vector<std::string> patterns, downlinks;
    for (const auto& v : entry["pattern"] ? r.axis(entry["pattern"], base + ".pattern")
                                          : std::vector<YAML::Node>{YAML::Node("parameter_server")})
      patterns.push_back(r.choice(v, base + ".pattern", pattern_names()));
    for (const auto& v : entry["downlink"] ? r.axis(entry["downlink"], base + ".downlink")
                                           : std::vector<YAML::Node>{YAML::Node("aggregate")})
      downlinks.push_back(r.choice(v, base + ".downlink", {"aggregate", "model"}));
    if (!participation.full()) {
      for (const auto& p : patterns)
        if (p != "parameter_server")
          r.fail(entry["pattern"], base + ".pattern",
                 "'" + p + "' needs every worker in every round: no partial participation");
      if (std::count(downlinks.begin(), downlinks.end(), "aggregate") && entry["downlink"])
        r.fail(entry["downlink"], base + ".downlink",
               "under partial participation the workers receive the model (downlink: model)");
    }
    for (const auto& p : patterns)
      if (p.rfind("ring_", 0) == 0 && std::count(downlinks.begin(), downlinks.end(), "model"))
        r.fail(entry["downlink"], base + ".downlink",
               "'" + p + "' has no downlink: every worker forms the aggregate itself");
    for (const auto& m : methods) {
      const auto& info = alg::find_method(m);
      if (info.uses_quantizer && std::count(downlinks.begin(), downlinks.end(), "model"))
        r.fail(entry["downlink"], base + ".downlink",
               "method '" + m + "' keeps shifts on the workers: only downlink: aggregate");
      if (entry["eta"] && !info.uses_eta)
        r.fail(entry["eta"], base + ".eta",
               "method '" + m + "' takes no eta (ef21_sgdm, ef21_sgd2m, ef21_sgdm_ideal do)");
      if (entry["beta"] && !info.uses_beta)
        r.fail(entry["beta"], base + ".beta",
               "method '" + m + "' takes no beta (heavy ball: gd, dcgd, ef)");
      if (entry["quantizer"] && !info.uses_quantizer)
        r.fail(entry["quantizer"], base + ".quantizer",
               "method '" + m + "' takes no quantizer (ec_sgd_diana, ec_lsvrg_diana do)");
      if (!entry["quantizer"] && info.uses_quantizer)
        r.fail(entry, base + ".quantizer",
               "required for method '" + m +
                   "': the shifts' unbiased compressor, e.g. {kind: natural}");
      if (entry["alpha"] && m != "diana" && !info.uses_quantizer)
        r.fail(entry["alpha"], base + ".alpha",
               "method '" + m + "' takes no alpha (the DIANA family does)");
      if (entry["lsvrg_p"] && m != "ec_lsvrg_diana")
        r.fail(entry["lsvrg_p"], base + ".lsvrg_p", "only for ec_lsvrg_diana");
      if (entry["participation"] && !participation.full() && !info.partial)
        r.fail(entry["participation"], base + ".participation",
               "method '" + m +
                   "' has no partial participation (gd and dcgd do, Horvath & Richtarik §4.2)");
    }
    // The entry's runs: the product of every listed axis.
    std::vector<RunSpec> product(1);
    auto times = [&product](const auto& values, auto set) {
      std::vector<RunSpec> next;
      for (const auto& run : product)
        for (const auto& v : values) {
          next.push_back(run);
          set(next.back(), v);
        }
      product = std::move(next);
    };
    times(methods, [](RunSpec& run, const std::string& m) { run.method = m; });
    times(compressors, [](RunSpec& run, const alg::CompressorSpec& c) { run.compressor = c; });
    times(steps, [](RunSpec& run, const StepsizeSpec& st) { run.stepsize = st; });
    times(batches, [](RunSpec& run, int b) { run.batch = b; });
    times(batch_inits, [](RunSpec& run, int b) { run.batch_init = b; });
    times(etas, [](RunSpec& run, double v) { run.eta = v; });
    times(betas, [](RunSpec& run, double v) { run.beta = v; });
    times(quantizers,
          [](RunSpec& run, const std::optional<alg::CompressorSpec>& q) { run.quantizer = q; });
    times(alphas, [](RunSpec& run, double v) { run.shift_alpha = v; });
    times(lsvrg_ps, [](RunSpec& run, double v) { run.lsvrg_p = v; });
    times(patterns, [](RunSpec& run, const std::string& p) { run.pattern = p; });
    times(downlinks, [](RunSpec& run, const std::string& d) { run.downlink = d; });
    std::vector<int> platform_ids(s.platforms.size());
    std::iota(platform_ids.begin(), platform_ids.end(), 0);
    times(platform_ids, [&s](RunSpec& run, int p) {
      run.platform = p;
      run.platform_name = s.platforms[p].name;
    });
    for (RunSpec& run : product) {
      // GD sends exact gradients: its compressor is the identity whatever the entry lists, and
      // the duplicates this creates are dropped below.
      if (run.method == "gd") run.compressor = alg::CompressorSpec{};
      run.participation = participation;
      run.origin = r.location(entry, base);
      run.id = run_id(run);
      if (run.stepsize.tuned) run.tune_group = run_label(run, false);
      auto [it, inserted] = seen.emplace(run.id, run.origin);
      if (!inserted) {
        if (run.method == "gd") continue;
        r.fail(entry, base, "run '" + run.id + "' is already listed at " + it->second);
      }
      s.runs.push_back(run);
    }
  }
}

}  // namespace

std::string run_label(const RunSpec& run, bool with_stepsize) {
  std::string id = run.method + "-" + run.compressor.label();
  if (with_stepsize)
    id += (run.stepsize.theory ? (run.stepsize.pl ? "-xpl" : "-x") : "-g") +
          exact(run.stepsize.value);
  if (run.batch > 0) id += "-b" + std::to_string(run.batch);
  if (run.batch_init > 0) id += "-bi" + std::to_string(run.batch_init);
  if (alg::find_method(run.method).uses_eta) id += "-eta" + exact(run.eta);
  if (run.beta > 0) id += "-beta" + exact(run.beta);
  if (run.quantizer) id += "-q" + run.quantizer->label();
  if (run.shift_alpha > 0) id += "-a" + exact(run.shift_alpha);
  if (run.lsvrg_p > 0) id += "-p" + exact(run.lsvrg_p);
  if (run.participation.tau > 0) id += "-tau" + std::to_string(run.participation.tau);
  if (!run.participation.full() && run.participation.tau == 0) {
    id += "-pp";
    for (double p : run.participation.p) id += (id.back() == 'p' ? "" : "_") + exact(p);
  }
  if (run.pattern != "parameter_server") id += "-" + run.pattern;
  if (run.downlink != "aggregate") id += "-dmodel";
  if (!run.platform_name.empty()) id += "@" + run.platform_name;
  return id;
}

std::string run_id(const RunSpec& run) { return run_label(run, true); }

Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides) {
  if (!fs::is_regular_file(path)) throw InputError(path + ": no such scenario file");
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::ParserException& e) {
    throw InputError(path + ":" + std::to_string(e.mark.line + 1) +
                     ": YAML syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    throw InputError(path + ": cannot read scenario: " + e.msg);
  }
  std::set<std::string> overridden;
  if (!root.IsMap() && !overrides.empty()) root = YAML::Node(YAML::NodeType::Map);
  for (const auto& o : overrides) overridden.insert(apply_override(root, path, o));
  const Reader r(path, overridden);
  if (!root.IsMap())
    r.fail(root, "(top level)",
           "a scenario is a mapping of keys (seed, platform, problem, runs, ...)");
  r.check_keys(root, "",
               {"name", "seed", "network_model", "platform", "platforms", "problem", "wire", "stop",
                "metrics", "runs"});

  Scenario s;
  s.path = path;
  s.name = root["name"] ? r.scalar(root["name"], "name") : fs::path(path).stem().string();
  for (char ch : s.name)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.'))
      r.fail(root["name"], "name",
             "use letters, digits, '-', '_' and '.' only (it names a folder)");
  if (root["seed"])
    s.seed = static_cast<std::uint64_t>(
        r.integer(root["seed"], "seed", 0, std::numeric_limits<long>::max()));
  if (root["network_model"])
    s.network_model = r.choice(root["network_model"], "network_model", {"simgrid", "textbook"});
  const std::string dir = fs::absolute(path).parent_path().string();
  parse_problem(r, root["problem"], dir, s);
  // One platform, or a list of named platforms: every run is then run on each (a sweep axis).
  if (root["platform"] && root["platforms"])
    r.fail(root["platforms"], "platforms", "give platform or platforms, not both");
  std::vector<std::pair<YAML::Node, std::string>> entries;  // node, key
  if (const YAML::Node list = root["platforms"]) {
    if (!list.IsSequence() || list.size() == 0)
      r.fail(list, "platforms", "expected a non-empty list of platforms");
    for (std::size_t i = 0; i < list.size(); ++i)
      entries.emplace_back(list[i], "platforms." + std::to_string(i));
  } else {
    entries.emplace_back(root["platform"], "platform");
  }
  std::set<std::string> names;
  for (const auto& [node, key] : entries) {
    PlatformSpec p;
    YAML::Node spec = node;
    if (root["platforms"]) {
      r.require_map(node, key);
      if (!node["name"])
        r.fail(node, key + ".name", "required: a short name for the platform (it tags run ids)");
      p.name = r.scalar(node["name"], key + ".name");
      for (char ch : p.name)
        if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.'))
          r.fail(node["name"], key + ".name", "use letters, digits, '-', '_' and '.' only");
      if (!names.insert(p.name).second)
        r.fail(node["name"], key + ".name", "platform name given twice");
      spec = YAML::Clone(node);
      spec.remove("name");
    }
    parse_platform(r, spec, key, dir, s, p);
    p.star.workers = s.problem.workers;
    p.topology.workers = s.problem.workers;
    if (p.kind != "star" && p.kind != "file") {
      try {
        (void)platforms::make_topology(p.topology);  // fail now, not in the first run
      } catch (const InputError& e) {
        r.fail(node, key, e.what());
      }
    }
    if (p.kind == "file" && !p.workers.empty() &&
        static_cast<int>(p.workers.size()) != s.problem.workers)
      r.fail(node["workers"], key + ".workers",
             std::to_string(p.workers.size()) +
                 " hosts listed but problem.workers = " + std::to_string(s.problem.workers));
    s.platforms.push_back(p);
  }
  s.platform = s.platforms.front();
  parse_wire(r, root["wire"], s);
  parse_stop(r, root["stop"], s);
  if (const YAML::Node m = root["metrics"]) {
    r.check_keys(m, "metrics", {"every"});
    if (m["every"])
      s.stop.metrics_every = r.integer(m["every"], "metrics.every", 1, 1'000'000'000L);
  }
  parse_runs(r, root["runs"], s);
  return s;
}

}  // namespace efsim::sim
