#include "sim/scenario/dynamics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "algorithms/core/error.hpp"

namespace efsim::sim {

namespace fs = std::filesystem;

namespace {

ProfileSpec parse_profile(const Reader& r, const YAML::Node& n, const std::string& key,
                          const std::string& dir, bool on_off) {
  ProfileSpec p;
  r.require_map(n, key);
  r.check_keys(n, key, {"trace", "loop", "step", "diurnal", "markov"});
  int kinds = 0;
  for (const char* k : {"trace", "step", "diurnal", "markov"})
    if (n[k]) ++kinds;
  if (kinds != 1) r.fail(n, key, "give exactly one of trace, step, diurnal, markov");
  if (n["loop"] && !n["trace"]) r.fail(n["loop"], key + ".loop", "only with trace");
  const double hi = on_off ? 1.0 : 1e9;  // factors; availability: 0 (off) .. 1 (on)
  auto check_on_off = [&](const YAML::Node& v, const std::string& k, double x) {
    if (on_off && x != 0.0 && x != 1.0) r.fail(v, k, "availability is 0 (off) or 1 (on)");
  };
  if (const YAML::Node t = n["trace"]) {
    p.kind = "trace";
    fs::path file = r.scalar(t, key + ".trace");
    if (file.is_relative()) file = fs::path(dir) / file;
    p.points = read_trace_file(file.lexically_normal().string(),
                               r.location(t, key + ".trace") + ": key '" + key + ".trace'", on_off);
    if (n["loop"]) {
      p.loop_s = r.quantity(n["loop"], key + ".loop", Unit::kSeconds, true);
      if (p.loop_s <= p.points.back().first)
        r.fail(n["loop"], key + ".loop",
               "the period must exceed the trace's last time (" +
                   Reader::fmt(p.points.back().first) + " s)");
    }
  } else if (const YAML::Node s = n["step"]) {
    p.kind = "step";
    const std::string k = key + ".step";
    r.require_map(s, k);
    r.check_keys(s, k, {"at", "factor"});
    if (!s["at"] || !s["factor"]) r.fail(s, k, "needs at and factor");
    p.at_s = r.quantity(s["at"], k + ".at", Unit::kSeconds, false);
    p.factor = r.number(s["factor"], k + ".factor", 0.0, hi);
    check_on_off(s["factor"], k + ".factor", p.factor);
    if (!on_off && p.factor <= 0) r.fail(s["factor"], k + ".factor", "must be > 0");
  } else if (const YAML::Node d = n["diurnal"]) {
    p.kind = "diurnal";
    const std::string k = key + ".diurnal";
    if (on_off) r.fail(d, k, "availability takes trace, step or markov");
    r.require_map(d, k);
    r.check_keys(d, k, {"period", "min", "max", "peak", "steps"});
    if (d["period"]) p.period_s = r.quantity(d["period"], k + ".period", Unit::kSeconds, true);
    if (d["min"]) p.min = r.number(d["min"], k + ".min", 1e-9, hi);
    if (d["max"]) p.max = r.number(d["max"], k + ".max", 1e-9, hi);
    if (p.min > p.max) r.fail(d, k, "min must not exceed max");
    if (d["peak"]) p.peak_s = r.quantity(d["peak"], k + ".peak", Unit::kSeconds, false);
    if (d["steps"]) p.steps = static_cast<int>(r.integer(d["steps"], k + ".steps", 1, 100'000));
  } else {
    const YAML::Node m = n["markov"];
    p.kind = "markov";
    const std::string k = key + ".markov";
    r.require_map(m, k);
    r.check_keys(m, k, {"mean_on", "mean_off", "low", "horizon"});
    if (!m["mean_on"] || !m["mean_off"]) r.fail(m, k, "needs mean_on and mean_off");
    p.mean_on_s = r.quantity(m["mean_on"], k + ".mean_on", Unit::kSeconds, true);
    p.mean_off_s = r.quantity(m["mean_off"], k + ".mean_off", Unit::kSeconds, true);
    if (m["low"]) {
      if (on_off) r.fail(m["low"], k + ".low", "availability is off while low");
      p.low = r.number(m["low"], k + ".low", 1e-9, hi);
    }
    if (!on_off && !m["low"]) r.fail(m, k, "needs low (the factor while off, > 0)");
    if (m["horizon"]) p.horizon_s = r.quantity(m["horizon"], k + ".horizon", Unit::kSeconds, true);
    if (p.horizon_s / (p.mean_on_s + p.mean_off_s) > 10'000)
      r.fail(m, k, "horizon covers more than 10,000 on/off cycles: shorten it");
  }
  return p;
}

PowerSpec parse_power(const Reader& r, const YAML::Node& n, const std::string& key, bool transfer) {
  PowerSpec p;
  r.require_map(n, key);
  if (transfer)
    r.check_keys(n, key, {"idle", "busy", "off", "transfer"});
  else
    r.check_keys(n, key, {"idle", "busy", "off"});
  if (!n["idle"] || !n["busy"]) r.fail(n, key, "needs idle and busy (watts)");
  p.idle_W = r.number(n["idle"], key + ".idle", 0.0, 1e6);
  p.busy_W = r.number(n["busy"], key + ".busy", 0.0, 1e6);
  if (p.busy_W < p.idle_W) r.fail(n["busy"], key + ".busy", "must be >= idle");
  if (n["off"]) p.off_W = r.number(n["off"], key + ".off", 0.0, 1e6);
  if (n["transfer"]) p.transfer_W = r.number(n["transfer"], key + ".transfer", 0.0, 1e6);
  return p;
}

}  // namespace

bool DynamicsSpec::has_power() const {
  if (master_power.given()) return true;
  for (const auto& e : entries)
    if (e.power.given()) return true;
  return false;
}

bool DynamicsSpec::has_availability() const {
  for (const auto& e : entries)
    if (e.availability.active()) return true;
  return false;
}
bool DynamicsSpec::has_profiles() const {
  for (const auto& e : entries)
    if (e.bandwidth.active() || e.latency.active() || e.speed.active() || e.availability.active())
      return true;
  return false;
}

std::vector<std::pair<double, double>> read_trace_file(const std::string& path,
                                                       const std::string& key, bool on_off) {
  std::ifstream in(path);
  if (!in) throw InputError(key + ": cannot read trace file " + path);
  // Errors name the scenario's file, line and key, then the trace file's line.
  std::vector<std::pair<double, double>> points;
  std::string line;
  for (int no = 1; std::getline(in, line); ++no) {
    const std::string where = key + ": " + path + ":" + std::to_string(no);
    if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    for (char& c : line)
      if (c == ',' || c == '\t' || c == '\r') c = ' ';
    std::istringstream fields(line);
    std::vector<std::string> cells;
    for (std::string c; fields >> c;) cells.push_back(c);
    if (cells.empty()) continue;
    if (cells.size() != 2)
      throw InputError(where + ": expected 'time value', got " + std::to_string(cells.size()) +
                       " fields");
    double v[2];
    for (int j = 0; j < 2; ++j) {
      char* end = nullptr;
      v[j] = std::strtod(cells[j].c_str(), &end);
      if (end == cells[j].c_str() || *end != '\0' || !std::isfinite(v[j]))
        throw InputError(where + ": '" + cells[j] + "' is not a number");
    }
    if (v[0] < 0) throw InputError(where + ": negative time " + cells[0]);
    if (!points.empty() && v[0] <= points.back().first)
      throw InputError(where + ": times must increase (" + cells[0] + " after " +
                       Reader::fmt(points.back().first) + ")");
    if (on_off ? (v[1] != 0.0 && v[1] != 1.0) : !(v[1] > 0))
      throw InputError(where + ": value " + cells[1] +
                       (on_off ? " is not 0 (off) or 1 (on)" : " must be a factor > 0"));
    points.emplace_back(v[0], v[1]);
  }
  if (points.empty()) throw InputError(key + ": " + path + ": no (time, value) points");
  return points;
}

void parse_dynamics(const Reader& r, const YAML::Node& n, const std::string& key,
                    const std::string& dir, int classes, DynamicsSpec& out) {
  if (const YAML::Node d = n["round_deadline"]) {
    const std::string k = key + ".round_deadline";
    if (d.IsMap()) {
      // The quantile rule, optionally capped: {quantile: q, at_most: 2s}.
      r.check_keys(d, k, {"quantile", "at_most"});
      if (!d["quantile"]) r.fail(d, k, "needs quantile: q (0 < q <= 1), or give a duration");
      out.round_quantile = r.number(d["quantile"], k + ".quantile", 0, 1);
      if (!(out.round_quantile > 0))
        r.fail(d["quantile"], k + ".quantile", "must be > 0 (the round needs an upload)");
      if (d["at_most"])
        out.round_deadline_s = r.quantity(d["at_most"], k + ".at_most", Unit::kSeconds, true);
    } else {
      out.round_deadline_s = r.quantity(d, k, Unit::kSeconds, true);
    }
    out.deadline_origin = r.location(d, k);
  }
  if (const YAML::Node m = n["master_power"])
    out.master_power = parse_power(r, m, key + ".master_power", false);
  const YAML::Node list = n["dynamics"];
  if (!list) {
    if (out.master_power.given())
      r.fail(n["master_power"], key + ".master_power",
             "give the workers' power too (dynamics entries with power)");
    return;
  }
  if (!list.IsSequence() || list.size() == 0)
    r.fail(list, key + ".dynamics", "expected a non-empty list of {workers or class, ...}");
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node e = list[i];
    const std::string k = key + ".dynamics." + std::to_string(i);
    r.require_map(e, k);
    r.check_keys(e, k,
                 {"workers", "class", "bandwidth", "latency", "speed", "availability", "power"});
    DynamicsEntry entry;
    entry.origin = r.location(e, k);
    if (e["workers"] && e["class"]) r.fail(e, k, "give workers: all or class, not both");
    if (e["class"]) {
      if (classes == 0)
        r.fail(e["class"], k + ".class", "classes exist for platform kind edge only");
      entry.worker_class = static_cast<int>(r.integer(e["class"], k + ".class", 0, classes - 1));
    } else if (e["workers"]) {
      r.choice(e["workers"], k + ".workers", {"all"});
    } else {
      r.fail(e, k, "needs workers: all or class: N (an index into classes)");
    }
    if (e["bandwidth"])
      entry.bandwidth = parse_profile(r, e["bandwidth"], k + ".bandwidth", dir, false);
    if (e["latency"]) entry.latency = parse_profile(r, e["latency"], k + ".latency", dir, false);
    if (e["speed"]) entry.speed = parse_profile(r, e["speed"], k + ".speed", dir, false);
    if (e["availability"])
      entry.availability = parse_profile(r, e["availability"], k + ".availability", dir, true);
    if (e["power"]) entry.power = parse_power(r, e["power"], k + ".power", true);
    out.entries.push_back(std::move(entry));
  }
  // The energy report covers every host: workers' power needs the master's, and every worker's.
  if (out.has_power()) {
    if (!out.master_power.given())
      r.fail(n, key + ".master_power", "required with the workers' power (idle and busy watts)");
    std::vector<char> covered(std::max(classes, 1), 0);
    for (const auto& e : out.entries)
      if (e.power.given()) {
        if (e.worker_class < 0)
          std::fill(covered.begin(), covered.end(), 1);
        else
          covered[e.worker_class] = 1;
      }
    for (std::size_t c = 0; c < covered.size(); ++c)
      if (!covered[c])
        r.fail(list, key + ".dynamics",
               classes > 0 ? "no power for class " + std::to_string(c) +
                                 " (the energy report needs every worker's)"
                           : "no power for the workers (an entry with workers: all and power)");
  }
  // A round must end even when its workers are off: a semi-synchronous master waits for them
  // until a deadline.
  if (out.has_availability() && !out.has_deadline())
    r.fail(list, key + ".dynamics", "availability needs platform.round_deadline");
  // ... and a round all of whose sampled workers are off has no upload to close it: the quantile
  // rule needs its cap then.
  if (out.has_availability() && !std::isfinite(out.round_deadline_s))
    r.fail(n["round_deadline"], key + ".round_deadline",
           "availability needs a time limit: {quantile: q, at_most: <duration>}");
}

}  // namespace efsim::sim
