#include "sim/scenario/scenario.hpp"

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

#include "algorithms/core/error.hpp"
#include "algorithms/methods/method.hpp"
#include "sim/network/pattern.hpp"
#include "sim/scenario/run_grid.hpp"
#include "sim/scenario/units.hpp"
#include "sim/scenario/yaml_reader.hpp"
#include "sim/text.hpp"

namespace efsim::sim {

namespace fs = std::filesystem;

namespace {

// A generated topology (tree | ring | torus | fat_tree | dragonfly | edge) and its parameters.
void parse_topology(const Reader& r, const YAML::Node& n, const std::string& key, const Scenario& s,
                    PlatformSpec& p) {
  const std::string& kind = p.kind;
  r.check_keys(
      n, key,
      {"kind", "bandwidth", "latency", "master_bandwidth", "master_latency", "uplink",
       "uplink_latency", "worker_speed", "master_speed", "racks", "k", "groups", "routers",
       "hosts_per_router", "classes", "stragglers", "round_deadline", "dynamics", "master_power"});
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
    if (n[k] &&
        (it == own.end() || std::find(it->second.begin(), it->second.end(), k) == it->second.end()))
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
}

// kind star: the worker and master links and speeds.
void parse_star(const Reader& r, const YAML::Node& n, const std::string& key, PlatformSpec& p) {
  r.check_keys(
      n, key,
      {"kind", "bandwidth", "downlink_bandwidth", "latency", "master_bandwidth", "master_latency",
       "worker_speed", "master_speed", "stragglers", "round_deadline", "dynamics", "master_power"});
  auto& st = p.topology;
  if (n["bandwidth"])
    st.bandwidth_Bps = r.quantity(n["bandwidth"], key + ".bandwidth", Unit::kBandwidthBps, true);
  if (n["downlink_bandwidth"])  // asymmetric worker links: the master -> worker direction
    st.downlink_bandwidth_Bps =
        r.quantity(n["downlink_bandwidth"], key + ".downlink_bandwidth", Unit::kBandwidthBps, true);
  if (n["latency"])
    st.latency_s = r.quantity(n["latency"], key + ".latency", Unit::kSeconds, false);
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
}

// kind file: a SimGrid XML file, the master host and the worker hosts.
void parse_platform_file(const Reader& r, const YAML::Node& n, const std::string& key,
                         const std::string& dir, PlatformSpec& p) {
  r.check_keys(n, key,
               {"kind", "file", "master", "workers", "stragglers", "round_deadline", "dynamics",
                "master_power"});
  for (const char* k : {"dynamics", "master_power"})
    if (n[k])
      r.fail(n[k], key + "." + k,
             "only for generated platforms; a platform file carries its own profiles "
             "(bandwidth_file, speed_file, state_file) and host properties");
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
  p.file_origin = r.location(n["file"], key + ".file");
  p.file_key = key + ".file";
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
  if (kind == "star")
    parse_star(r, n, key, p);
  else if (kind == "file")
    parse_platform_file(r, n, key, dir, p);
  else
    parse_topology(r, n, key, s, p);
  parse_dynamics(r, n, key, dir, kind == "edge" ? static_cast<int>(p.topology.classes.size()) : 0,
                 p.dynamics);
}

// kind multiclass_logistic | mlp: Fashion-MNIST-like IDX folders.
void parse_image_problem(const Reader& r, const YAML::Node& n, const std::string& dir,
                         Scenario& s) {
  const std::string key = "problem";
  ProblemSpec& p = s.problem;
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
}

// kind noisy_quadratic: poster 000's f_i = ½‖x‖² with noisy gradients.
void parse_quadratic_problem(const Reader& r, const YAML::Node& n, const std::string&,
                             Scenario& s) {
  const std::string key = "problem";
  ProblemSpec& p = s.problem;
  r.check_keys(n, key, {"kind", "dim", "sigma", "noise", "workers", "x0"});
  if (n["noise"])
    p.skewed_noise = r.choice(n["noise"], "problem.noise", {"gaussian", "skewed"}) == "skewed";
  if (!n["workers"]) r.fail(n, "problem.workers", "required: the number of workers n");
  p.workers = static_cast<int>(r.integer(n["workers"], "problem.workers", 1, 1'000'000));
  p.dim = n["dim"] ? static_cast<int>(r.integer(n["dim"], "problem.dim", 1, 100'000'000)) : 10;
  if (n["sigma"]) p.sigma = r.number(n["sigma"], "problem.sigma", 0.0, 1e12);
  p.x0_kind = "constant";
  p.x0_value = 1.0;
}

// kind beznosikov: the n = d = 3 counterexample.
void parse_beznosikov_problem(const Reader& r, const YAML::Node& n, const std::string&,
                              Scenario& s) {
  const std::string key = "problem";
  ProblemSpec& p = s.problem;
  r.check_keys(n, key, {"kind", "workers", "x0"});
  if (n["workers"] && r.integer(n["workers"], "problem.workers", 1, 1'000'000) != 3)
    r.fail(n["workers"], "problem.workers", "the beznosikov example has exactly 3 workers");
  p.workers = 3;
  p.x0_kind = "constant";
  p.x0_value = 1.0;
}

// kind logistic | least_squares: a LIBSVM file or the synthetic generator.
void parse_glm_problem(const Reader& r, const YAML::Node& n, const std::string& dir, Scenario& s) {
  const std::string key = "problem";
  ProblemSpec& p = s.problem;
  r.check_keys(n, key,
               {"kind", "dataset", "test_dataset", "dim", "synthetic", "lambda", "workers", "x0"});
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
    if (n["dim"]) r.fail(n["dim"], "problem.dim", "only for a LIBSVM dataset (use synthetic.dim)");
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
        sy.samples =
            static_cast<int>(r.integer(y["samples"], "problem.synthetic.samples", 1, 100'000'000));
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
    if (n["synthetic"]) r.fail(n["synthetic"], "problem.synthetic", "only with dataset: synthetic");
    fs::path file = p.dataset;
    if (file.is_relative()) file = fs::path(dir) / file;
    if (!fs::is_regular_file(file))
      r.fail(n["dataset"], "problem.dataset",
             "no such file: " + file.string() + " (a LIBSVM file, or 'synthetic')");
    p.dataset = file.lexically_normal().string();
    if (n["dim"]) p.dim = static_cast<int>(r.integer(n["dim"], "problem.dim", 1, 100'000'000));
  }
}

// problem.x0: zeros | a constant | a list | random (the MLP's He initialisation).
void parse_x0(const Reader& r, const YAML::Node& n, ProblemSpec& p) {
  const YAML::Node x0 = n["x0"];
  if (!x0) return;
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

void parse_problem(const Reader& r, const YAML::Node& n, const std::string& dir, Scenario& s) {
  const std::string key = "problem";
  if (!n.IsDefined()) r.fail(n, key, "missing (kind, dataset, workers, ...)");
  r.require_map(n, key);
  ProblemSpec& p = s.problem;
  if (n["kind"])
    p.kind = r.choice(n["kind"], "problem.kind",
                      {"logistic", "least_squares", "multiclass_logistic", "mlp", "noisy_quadratic",
                       "beznosikov"});
  if (p.kind == "multiclass_logistic" || p.kind == "mlp")
    parse_image_problem(r, n, dir, s);
  else if (p.kind == "noisy_quadratic")
    parse_quadratic_problem(r, n, dir, s);
  else if (p.kind == "beznosikov")
    parse_beznosikov_problem(r, n, dir, s);
  else
    parse_glm_problem(r, n, dir, s);
  parse_x0(r, n, p);
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

// One platform, or a list of named platforms, under one network model or a list of them: every
// run is then run on each platform under each model (a sweep axis; the runs' platform names
// are tagged with the model, e.g. @fast-ns3).
void parse_platforms(const Reader& r, const YAML::Node& root, const std::string& dir, Scenario& s) {
  std::vector<std::string> models;
  if (const YAML::Node m = root["network_model"]) {
    for (const auto& v : r.axis(m, "network_model")) {
      models.push_back(r.choice(v, "network_model", network_model_names()));
      if (std::count(models.begin(), models.end(), models.back()) > 1)
        r.fail(v, "network_model", "'" + models.back() + "' listed twice");
    }
  } else {
    models.push_back(s.network_model);
  }
  s.network_model = models.front();
  for (std::size_t i = 1; i < models.size(); ++i) s.network_model += "," + models[i];
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
    for (const auto& m : models) {
      if (m == "analytic" && p.kind != "star" && p.kind != "edge")
        r.fail(root["network_model"], "network_model",
               "'analytic' computes star and edge platforms only (" + key + " is " + p.kind + ")");
      if (m == "analytic" && p.dynamics.any())
        r.fail(root["network_model"], "network_model",
               "'analytic' computes static platforms: no dynamics, deadlines or power figures (" +
                   key + ")");
      if (m == "analytic" && p.topology.downlink_bandwidth_Bps > 0)
        r.fail(spec["downlink_bandwidth"], key + ".downlink_bandwidth",
               "network_model analytic prices symmetric worker links; asymmetric worker links "
               "run under simgrid, cm02 and textbook");
      if (m == "ns3" && p.topology.downlink_bandwidth_Bps > 0)
        r.fail(spec["downlink_bandwidth"], key + ".downlink_bandwidth",
               "network_model ns3 builds symmetric point-to-point links; asymmetric worker links "
               "run under simgrid, cm02 and textbook");
      PlatformSpec pm = p;
      pm.network_model = m;
      if (models.size() > 1) pm.name = p.name.empty() ? m : p.name + "-" + m;
      s.platforms.push_back(pm);
    }
  }
}

}  // namespace

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
  const std::string dir = fs::absolute(path).parent_path().string();
  parse_problem(r, root["problem"], dir, s);
  parse_platforms(r, root, dir, s);
  s.platform = s.platforms.front();
  parse_wire(r, root["wire"], s);
  parse_stop(r, root["stop"], s);
  if (const YAML::Node m = root["metrics"]) {
    r.check_keys(m, "metrics", {"every"});
    if (m["every"])
      s.stop.metrics_every = r.integer(m["every"], "metrics.every", 1, 1'000'000'000L);
  }
  expand_runs(r, root["runs"], s);
  return s;
}

}  // namespace efsim::sim
