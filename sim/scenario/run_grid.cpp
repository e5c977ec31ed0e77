#include "sim/scenario/run_grid.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include "algorithms/core/error.hpp"
#include "algorithms/methods/method.hpp"
#include "sim/network/pattern.hpp"
#include "sim/text.hpp"

namespace efsim::sim {

namespace {

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

// Every key a compressor entry may hold: `kind` and the parameters of any kind.
std::vector<std::string> compressor_keys() {
  std::vector<std::string> keys = {"kind"};
  for (const auto& c : alg::compressor_registry())
    for (const auto& p : c.params)
      if (std::find(keys.begin(), keys.end(), p.name) == keys.end()) keys.push_back(p.name);
  return keys;
}

// Replaces `items` by the product of each item with each value (set(item, value)).
template <class T, class V, class Set>
void multiply(std::vector<T>& items, const std::vector<V>& values, Set set) {
  std::vector<T> next;
  next.reserve(items.size() * values.size());
  for (const auto& item : items)
    for (const auto& v : values) {
      next.push_back(item);
      set(next.back(), v);
    }
  items = std::move(next);
}

// One compressor parameter's axis: every value it lists, each applied to a spec.
std::vector<alg::CompressorSpec> expand_param(const Reader& r, const YAML::Node& c,
                                              const std::string& key, const alg::CompressorParam& p,
                                              std::vector<alg::CompressorSpec> specs) {
  const std::string pk = key + "." + p.name;
  switch (p.type) {
    case alg::ParamType::kInteger: {
      std::vector<int> values;
      for (const auto& v : r.axis(c[p.name], pk))
        values.push_back(static_cast<int>(r.integer(v, pk, p.lo, p.hi)));
      multiply(specs, values, [&p](alg::CompressorSpec& s, int v) { s.*p.integer = v; });
      break;
    }
    case alg::ParamType::kChoice: {
      std::vector<std::string> values;
      for (const auto& v : r.axis(c[p.name], pk)) {
        const std::string word = r.choice(v, pk, p.choices);
        values.push_back(word == p.choices.front() ? "" : word);  // the default is stored as ""
      }
      multiply(specs, values,
               [&p](alg::CompressorSpec& s, const std::string& v) { s.*p.text = v; });
      break;
    }
    case alg::ParamType::kCompressor: {
      const auto subs = expand_compressor(r, c[p.name], pk);
      multiply(specs, subs, [&p](alg::CompressorSpec& s, const alg::CompressorSpec& v) {
        s.*p.sub = std::make_shared<alg::CompressorSpec>(v);
      });
      break;
    }
    case alg::ParamType::kReal:
      break;  // no compressor takes one
  }
  return specs;
}

}  // namespace

std::vector<alg::CompressorSpec> expand_compressor(const Reader& r, const YAML::Node& c,
                                                   const std::string& key) {
  r.check_keys(c, key, compressor_keys());
  if (!c["kind"]) r.fail(c, key + ".kind", "required (see efsim compressors)");
  std::vector<alg::CompressorSpec> out;
  for (const auto& kn : r.axis(c["kind"], key + ".kind")) {
    const std::string kind = r.choice(kn, key + ".kind", compressor_kinds());
    const alg::CompressorInfo& info = *alg::find_compressor(kind);
    // With a list of kinds, a parameter applies to the kinds that take it.
    for (const auto& k : compressor_keys())
      if (k != "kind" && c[k] && !info.param(k) && c["kind"].IsScalar())
        r.fail(c[k], key + "." + k, "compressor '" + kind + "' takes no " + k);
    std::vector<alg::CompressorSpec> specs(1);
    specs[0].kind = kind;
    for (const auto& p : info.params) {
      if (!c[p.name]) {
        if (!p.required) continue;
        r.fail(c, key + "." + p.name,
               p.type == alg::ParamType::kCompressor
                   ? "required for the " + kind + " compressor (a compressor entry)"
                   : "required for compressor '" + kind + "'");
      }
      specs = expand_param(r, c, key, p, std::move(specs));
    }
    out.insert(out.end(), specs.begin(), specs.end());
  }
  return out;
}

namespace {

alg::ParticipationSpec parse_participation(const Reader& r, const YAML::Node& pp,
                                           const std::string& pk, int workers) {
  alg::ParticipationSpec participation;
  if (!pp) return participation;
  r.check_keys(pp, pk, {"p", "tau", "materialize"});
  if (pp["p"] && pp["tau"])
    r.fail(pp, pk, "give p (independent sampling) or tau (tau-nice), not both");
  if (pp["tau"]) {
    participation.tau = static_cast<int>(r.integer(pp["tau"], pk + ".tau", 1, workers));
  } else if (pp["p"]) {
    const YAML::Node p = pp["p"];
    if (p.IsSequence() && static_cast<int>(p.size()) != workers)
      r.fail(p, pk + ".p",
             "one probability per worker: " + std::to_string(p.size()) + " given, " +
                 std::to_string(workers) + " workers");
    for (const auto& v : p.IsSequence() ? std::vector<YAML::Node>(p.begin(), p.end())
                                        : std::vector<YAML::Node>{p}) {
      const double x = r.number(v, pk + ".p", 0.0, 1.0);
      if (x <= 0) r.fail(v, pk + ".p", "must be > 0");
      participation.p.push_back(x);
    }
  } else {
    r.fail(pp, pk, "give p or tau");
  }
  if (const YAML::Node m = pp["materialize"]) {
    participation.sampled_only = r.choice(m, pk + ".materialize", {"all", "sampled"}) == "sampled";
    if (participation.sampled_only && participation.tau == 0)
      r.fail(m, pk + ".materialize", "'sampled' needs tau-nice sampling (tau), not p");
  }
  return participation;
}

std::vector<StepsizeSpec> parse_stepsizes(const Reader& r, const YAML::Node& st,
                                          const std::string& sk) {
  std::vector<StepsizeSpec> steps;
  if (!st) return {StepsizeSpec{true, 1.0}};
  r.check_keys(st, sk, {"theory_multiplier", "gamma", "tune", "theory"});
  bool pl = false;
  if (st["theory"]) {
    if (st["gamma"]) r.fail(st["theory"], sk + ".theory", "only with theory_multiplier or tune");
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
  return steps;
}

// One method setting's axis of values (numbers as given; ranges checked from its table row).
std::vector<double> number_axis(const Reader& r, const YAML::Node& node, const std::string& key,
                                const alg::ParamInfo& p) {
  std::vector<double> out;
  for (const auto& v : r.axis(node, key)) {
    const double x = p.type == alg::ParamType::kInteger
                         ? static_cast<double>(
                               r.integer(v, key, static_cast<long>(p.lo), static_cast<long>(p.hi)))
                         : r.number(v, key, p.lo, p.hi);
    if (p.hi_open && x >= p.hi) r.fail(v, key, "must be < " + Reader::fmt(p.hi));
    if (p.lo_open && x <= p.lo) r.fail(v, key, "must be > " + Reader::fmt(p.lo));
    out.push_back(x);
  }
  return out;
}

// The entry's methods against what each allows: its settings, participation and downlink.
void check_methods(const Reader& r, const YAML::Node& entry, const std::string& base,
                   const std::vector<std::string>& methods, bool partial,
                   const std::vector<std::string>& patterns,
                   const std::vector<std::string>& downlinks) {
  for (const auto& m : methods) {
    const auto& info = alg::find_method(m);
    const bool own_downlink = info.takes("downlink_compressor");
    if (!info.model_downlink && std::count(downlinks.begin(), downlinks.end(), "model"))
      r.fail(entry["downlink"], base + ".downlink",
             own_downlink
                 ? "method '" + m +
                       "' compresses its own downlink (downlink_compressor): only "
                       "downlink: aggregate"
                 : "method '" + m + "' keeps shifts on the workers: only downlink: aggregate");
    for (const auto& p : patterns) {
      if (own_downlink && p.rfind("ring_", 0) == 0)
        r.fail(entry["pattern"], base + ".pattern",
               "method '" + m + "' compresses the master's downlink, but '" + p +
                   "' has none (every worker aggregates); use parameter_server or tree");
      if (info.skips_uploads && p == "ring_allreduce")
        r.fail(entry["pattern"], base + ".pattern",
               "method '" + m +
                   "' skips uploads, but ring_allreduce moves the dense sum every round whoever "
                   "skips; use parameter_server, tree or ring_allgather");
    }
    for (const auto& p : alg::method_parameters()) {
      const YAML::Node v = entry[p.name];
      if (v && !info.takes(p.name))
        r.fail(v, base + "." + p.name,
               "method '" + m + "' takes no " + p.name + " (" + alg::methods_taking(p.name) +
                   " do: " + p.help + ")");
      if (!v && p.required && info.takes(p.name))
        r.fail(entry, base + "." + p.name, "required for method '" + m + "': " + p.help);
    }
    if (partial && !info.partial_participation) {
      std::string names;
      for (const auto& other : alg::method_registry())
        if (other.partial_participation) names += (names.empty() ? "" : ", ") + other.name;
      r.fail(entry["participation"], base + ".participation",
             "method '" + m + "' has no partial participation (" + names + " do)");
    }
  }
}

// Patterns and downlinks against each other and against partial participation.
void check_traffic(const Reader& r, const YAML::Node& entry, const std::string& base, bool partial,
                   const std::vector<std::string>& patterns,
                   const std::vector<std::string>& downlinks) {
  if (partial) {
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
}

std::vector<std::string> choice_axis(const Reader& r, const YAML::Node& node,
                                     const std::string& key, const std::string& fallback,
                                     const std::vector<std::string>& valid) {
  std::vector<std::string> out;
  for (const auto& v : node ? r.axis(node, key) : std::vector<YAML::Node>{YAML::Node(fallback)})
    out.push_back(r.choice(v, key, valid));
  return out;
}

// The runs of one entry: the product of every listed axis, in a fixed order.
std::vector<RunSpec> expand_entry(const Reader& r, const YAML::Node& entry, const std::string& base,
                                  const Scenario& s) {
  std::vector<std::string> keys = {"method",        "compressor", "stepsize",
                                   "participation", "pattern",    "downlink"};
  for (const auto& p : alg::method_parameters()) keys.push_back(p.name);
  r.check_keys(entry, base, keys);
  const alg::ParticipationSpec participation =
      parse_participation(r, entry["participation"], base + ".participation", s.problem.workers);
  if (!entry["method"]) r.fail(entry, base + ".method", "required");
  std::vector<std::string> methods;
  for (const auto& m : r.axis(entry["method"], base + ".method"))
    methods.push_back(r.choice(m, base + ".method", method_names()));
  const std::vector<alg::CompressorSpec> compressors =
      entry["compressor"] ? expand_compressor(r, entry["compressor"], base + ".compressor")
                          : std::vector<alg::CompressorSpec>(1);
  const std::vector<StepsizeSpec> steps = parse_stepsizes(r, entry["stepsize"], base + ".stepsize");
  const auto patterns =
      choice_axis(r, entry["pattern"], base + ".pattern", "parameter_server", pattern_names());
  const auto downlinks =
      choice_axis(r, entry["downlink"], base + ".downlink", "aggregate", {"aggregate", "model"});
  check_traffic(r, entry, base, !participation.full(), patterns, downlinks);
  for (const PlatformSpec& p : s.platforms)  // star_fluid.hpp: parameter-server rounds
    if (p.network_model == "analytic")
      for (const auto& pattern : patterns)
        if (pattern != "parameter_server")
          r.fail(entry["pattern"], base + ".pattern",
                 "'" + pattern +
                     "' needs SimGrid: network_model analytic computes parameter-server rounds");
  if (participation.sampled_only)  // the slots take each round's clients (slot_runner.hpp)
    for (const PlatformSpec& p : s.platforms) {
      const YAML::Node m = entry["participation"]["materialize"];
      if (p.kind != "star" && p.kind != "edge")
        r.fail(m, base + ".participation.materialize",
               "'sampled' needs a generated star or edge platform (platform '" +
                   (p.name.empty() ? p.kind : p.name) + "' is " + p.kind +
                   "): a client's place in other topologies is its own");
      if (p.network_model == "ns3")
        r.fail(m, base + ".participation.materialize",
               "'sampled' runs on SimGrid's flow models (simgrid, cm02, textbook) or analytic, "
               "not under network_model ns3");
      if (p.dynamics.any())
        r.fail(m, base + ".participation.materialize",
               "'sampled' runs without platform dynamics, deadlines or power figures");
      if (p.topology.downlink_bandwidth_Bps > 0)
        r.fail(m, base + ".participation.materialize",
               "'sampled' builds symmetric slot links: no platform.downlink_bandwidth");
    }
  if (participation.sampled_only)
    for (const auto& method : methods) {
      bool known = false, population = false;  // an unknown name is check_methods' to report
      std::string names;
      for (const auto& other : alg::method_registry()) {
        if (other.name == method) known = true, population = other.population;
        if (other.population) names += (names.empty() ? "" : ", ") + other.name;
      }
      if (known && !population)
        r.fail(entry["participation"]["materialize"], base + ".participation.materialize",
               "'sampled' builds a client's worker for each of its rounds: only " + names +
                   ", whose workers keep between rounds their random stream and at most one "
                   "vector that starts at zero (g_i, h_i), kept compactly ('" +
                   method + "' keeps more)");
    }
  check_methods(r, entry, base, methods, entry["participation"] && !participation.full(), patterns,
                downlinks);
  for (const auto& m : methods) {  // methods that compress by themselves, with summable uploads
    const auto& info = alg::find_method(m);
    if (info.own_compression && entry["compressor"])
      r.fail(entry["compressor"], base + ".compressor",
             "method '" + m + "' compresses by itself (see efsim methods): no compressor entry");
    if (info.summable_uploads && std::count(patterns.begin(), patterns.end(), "ring_allgather"))
      r.fail(entry["pattern"], base + ".pattern",
             "method '" + m +
                 "' sends factors that add up: use ring_allreduce (it moves them at their own "
                 "size), not ring_allgather");
  }

  std::vector<RunSpec> runs(1);
  multiply(runs, methods, [](RunSpec& run, const std::string& m) { run.method = m; });
  multiply(runs, compressors,
           [](RunSpec& run, const alg::CompressorSpec& c) { run.compressor = c; });
  multiply(runs, steps, [](RunSpec& run, const StepsizeSpec& st) { run.stepsize = st; });
  for (const auto& p : alg::method_parameters()) {  // the methods' own settings, table order
    const YAML::Node v = entry[p.name];
    if (!v) continue;
    const std::string key = base + "." + p.name;
    if (p.type == alg::ParamType::kCompressor) {
      multiply(
          runs, expand_compressor(r, v, key),
          [&p](RunSpec& run, const alg::CompressorSpec& c) { run.compressor_params[p.name] = c; });
    } else {
      const std::vector<double> values = number_axis(r, v, key, p);
      for (double x : values)
        if (p.at_most_workers && x > s.problem.workers)
          r.fail(v, key,
                 Reader::fmt(x) + " is more than the problem's " +
                     std::to_string(s.problem.workers) + " workers");
      multiply(runs, values, [&p](RunSpec& run, double x) { run.params[p.name] = x; });
    }
  }
  multiply(runs, patterns, [](RunSpec& run, const std::string& p) { run.pattern = p; });
  multiply(runs, downlinks, [](RunSpec& run, const std::string& d) { run.downlink = d; });
  std::vector<int> platform_ids(s.platforms.size());
  for (std::size_t i = 0; i < platform_ids.size(); ++i) platform_ids[i] = static_cast<int>(i);
  multiply(runs, platform_ids, [&s](RunSpec& run, int p) {
    run.platform = p;
    run.platform_name = s.platforms[p].name;
  });
  for (RunSpec& run : runs) {
    // A method that sends exact gradients has the identity whatever the entry lists; the
    // duplicates this creates are dropped by expand_runs.
    if (alg::find_method(run.method).compressor == alg::CompressorNeed::kIdentity)
      run.compressor = alg::CompressorSpec{};
    run.participation = participation;
    run.origin = r.location(entry, base);
    run.id = run_id(run);
    if (run.stepsize.tuned) run.tune_group = run_label(run, false);
  }
  return runs;
}

}  // namespace

void expand_runs(const Reader& r, const YAML::Node& n, Scenario& s) {
  if (!n.IsDefined())
    r.fail(n, "runs", "missing: a list of run entries (method, compressor, stepsize)");
  if (!n.IsSequence() || n.size() == 0)
    r.fail(n, "runs", "expected a non-empty list of run entries");
  std::map<std::string, std::string> seen;  // id -> origin
  for (std::size_t e = 0; e < n.size(); ++e) {
    const std::string base = "runs." + std::to_string(e);
    for (RunSpec& run : expand_entry(r, n[e], base, s)) {
      auto [it, inserted] = seen.emplace(run.id, run.origin);
      if (!inserted) {
        if (alg::find_method(run.method).compressor == alg::CompressorNeed::kIdentity) continue;
        r.fail(n[e], base, "run '" + run.id + "' is already listed at " + it->second);
      }
      s.runs.push_back(std::move(run));
    }
  }
}

std::string run_label(const RunSpec& run, bool with_stepsize) {
  std::string id = run.method + "-" + run.compressor.label();
  if (with_stepsize)
    id += (run.stepsize.theory ? (run.stepsize.pl ? "-xpl" : "-x") : "-g") +
          exact(run.stepsize.value);
  const alg::MethodInfo& method = alg::find_method(run.method);
  for (const auto& p : alg::method_parameters()) {
    if (p.type == alg::ParamType::kCompressor) {
      const auto it = run.compressor_params.find(p.name);
      if (it != run.compressor_params.end()) id += "-" + p.id_tag + it->second.label();
      continue;
    }
    const double v = run.param(p.name);
    if (!(p.id_always && method.takes(p.name)) && v == p.fallback) continue;
    id += "-" + p.id_tag +
          (p.type == alg::ParamType::kInteger ? std::to_string(static_cast<long>(v)) : exact(v));
  }
  if (run.participation.tau > 0) id += "-tau" + std::to_string(run.participation.tau);
  if (!run.participation.full() && run.participation.tau == 0) {
    id += "-pp";
    for (std::size_t i = 0; i < run.participation.p.size(); ++i) {
      if (i > 0) id += '_';
      id += exact(run.participation.p[i]);
    }
  }
  if (run.pattern != "parameter_server") id += "-" + run.pattern;
  if (run.downlink != "aggregate") id += "-dmodel";
  if (!run.platform_name.empty()) id += "@" + run.platform_name;
  return id;
}

std::string run_id(const RunSpec& run) { return run_label(run, true); }

double RunSpec::param(const std::string& name) const {
  const auto it = params.find(name);
  return it != params.end() ? it->second : alg::find_parameter(name).fallback;
}

}  // namespace efsim::sim
