#include "sim/sweep/recorder.hpp"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include "algorithms/core/error.hpp"
#include "algorithms/methods/method.hpp"
#include "sim/text.hpp"

namespace efsim::sim {

namespace fs = std::filesystem;

void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + tmp);
    out << content;
    out.flush();
    if (!out) throw std::runtime_error("write failed: " + tmp);
  }
  fs::rename(tmp, path);
}

std::string trace_csv(const std::vector<alg::TraceRow>& trace, bool with_skips,
                      bool with_participation, bool with_energy) {
  std::ostringstream os;
  os << kTraceHeader;
  if (with_skips) os << ',' << kSkipsColumn;
  if (with_participation) os << ',' << kParticipationColumns;
  if (with_energy) os << ',' << kEnergyColumn;
  os << '\n';
  for (const auto& r : trace) {
    os << r.round << ',' << exact(r.sim_time_s) << ',' << exact(r.f) << ',' << exact(r.grad_norm_sq)
       << ',' << exact(r.bits_up_per_worker) << ',' << exact(r.bits_down_per_worker) << ','
       << exact(r.time.down_s) << ',' << exact(r.time.compute_s) << ',' << exact(r.time.up_s) << ','
       << exact(r.time.idle_s) << ',' << exact(r.time.master_s) << ','
       << exact(r.metrics.train_accuracy) << ',' << exact(r.metrics.test_loss) << ','
       << exact(r.metrics.test_accuracy);
    if (with_skips) os << ',' << r.uploads_skipped;
    if (with_participation)
      os << ',' << r.participation.used << ',' << r.participation.dropped << ','
         << r.participation.off << ',' << exact(r.participation.time_lost_s);
    if (with_energy) os << ',' << exact(r.energy_J);
    os << '\n';
  }
  return os.str();
}

std::vector<alg::TraceRow> read_trace_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open trace");
  std::string line;
  std::getline(in, line);
  const std::string energy_tail = std::string(",") + kEnergyColumn;
  const bool with_energy =
      line.size() > energy_tail.size() &&
      line.compare(line.size() - energy_tail.size(), energy_tail.size(), energy_tail) == 0;
  if (with_energy) line.resize(line.size() - energy_tail.size());
  const std::string tail = std::string(",") + kParticipationColumns;
  const bool with_participation =
      line.size() > tail.size() && line.compare(line.size() - tail.size(), tail.size(), tail) == 0;
  if (with_participation) line.resize(line.size() - tail.size());
  const bool with_skips = line == std::string(kTraceHeader) + "," + kSkipsColumn;
  if (line != kTraceHeader && !with_skips)
    throw InputError(path + ":1: not an efsim trace (unexpected header)");
  std::vector<alg::TraceRow> rows;
  long line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    alg::TraceRow r;
    std::istringstream ls(line);
    std::string cell;
    double* fields[] = {&r.sim_time_s,
                        &r.f,
                        &r.grad_norm_sq,
                        &r.bits_up_per_worker,
                        &r.bits_down_per_worker,
                        &r.time.down_s,
                        &r.time.compute_s,
                        &r.time.up_s,
                        &r.time.idle_s,
                        &r.time.master_s,
                        &r.metrics.train_accuracy,
                        &r.metrics.test_loss,
                        &r.metrics.test_accuracy};
    if (!std::getline(ls, cell, ','))
      throw InputError(path + ":" + std::to_string(line_no) + ": empty row");
    r.round = std::stol(cell);
    for (double* f : fields) {
      if (!std::getline(ls, cell, ','))
        throw InputError(path + ":" + std::to_string(line_no) + ": short row");
      *f = std::strtod(cell.c_str(), nullptr);
    }
    if (with_skips) {
      if (!std::getline(ls, cell, ','))
        throw InputError(path + ":" + std::to_string(line_no) + ": short row");
      r.uploads_skipped = std::stol(cell);
    }
    if (with_participation) {
      long* counts[] = {&r.participation.used, &r.participation.dropped, &r.participation.off};
      for (long* c : counts) {
        if (!std::getline(ls, cell, ','))
          throw InputError(path + ":" + std::to_string(line_no) + ": short row");
        *c = std::stol(cell);
      }
      if (!std::getline(ls, cell, ','))
        throw InputError(path + ":" + std::to_string(line_no) + ": short row");
      r.participation.time_lost_s = std::strtod(cell.c_str(), nullptr);
    }
    if (with_energy) {
      if (!std::getline(ls, cell, ','))
        throw InputError(path + ":" + std::to_string(line_no) + ": short row");
      r.energy_J = std::strtod(cell.c_str(), nullptr);
    }
    rows.push_back(r);
  }
  return rows;
}

namespace {

// JSON has no inf/nan: write them as strings.
std::string jnum(double v) { return std::isfinite(v) ? exact(v) : json_quote(exact(v)); }

}  // namespace

std::string run_json(const RunRecord& r) {
  std::ostringstream os;
  os << "{\n"
     << "  \"id\": " << json_quote(r.id) << ",\n"
     << "  \"fingerprint\": " << json_quote(r.fingerprint) << ",\n"
     << "  \"tune_group\": " << json_quote(r.tune_group) << ",\n"
     << "  \"scenario\": " << json_quote(r.scenario) << ",\n"
     << "  \"method\": " << json_quote(r.method) << ",\n"
     << "  \"compressor\": {\"label\": " << json_quote(r.compressor) << ", \"k\": " << r.k
     << ", \"alpha\": " << jnum(r.alpha) << ", \"delta\": " << jnum(r.delta) << "},\n"
     << "  \"stepsize\": {" << json_quote(r.stepsize) << ": " << jnum(r.stepsize_value)
     << ", \"gamma\": " << jnum(r.gamma) << "},\n"
     << "  \"stochastic\": {\"batch\": " << r.batch << ", \"batch_init\": " << r.batch_init
     << ", \"eta\": " << jnum(r.eta) << ", \"beta\": " << jnum(r.beta) << "},\n"
     << "  \"f_star\": " << jnum(r.f_star) << ",\n"
     << "  \"smoothness\": {\"L\": " << jnum(r.L) << ", \"L_tilde\": " << jnum(r.L_tilde) << "},\n"
     << "  \"seed\": " << r.seed << ",\n"
     << "  \"network_model\": " << json_quote(r.network_model) << ",\n"
     << "  \"platform\": " << json_quote(r.platform) << ",\n"
     << "  \"platform_name\": " << json_quote(r.platform_name) << ",\n"
     << "  \"problem\": " << json_quote(r.problem) << ",\n"
     << "  \"workers\": " << r.workers << ",\n"
     << "  \"dim\": " << r.dim << ",\n"
     << "  \"wire\": {\"value_bits\": " << r.value_bits << ", \"index_bits\": " << r.index_bits
     << "},\n"
     << "  \"stop\": {\"max_rounds\": " << r.stop.max_rounds
     << ", \"grad_norm_sq\": " << jnum(r.stop.target_grad_norm_sq)
     << ", \"max_sim_time_s\": " << jnum(r.stop.max_sim_time_s)
     << ", \"divergence_factor\": " << jnum(r.stop.divergence_factor) << "},\n"
     << "  \"result\": {\"stop_reason\": " << json_quote(r.stop_reason)
     << ", \"rounds\": " << r.rounds << ", \"sim_time_s\": " << jnum(r.sim_time_s)
     << ", \"f\": " << jnum(r.final_f) << ", \"grad_norm_sq\": " << jnum(r.final_grad_norm_sq)
     << "}";
  if (r.has_energy) {
    os << ",\n  \"energy\": {\"total_J\": " << jnum(r.energy_J)
       << ", \"master_J\": " << jnum(r.energy_master_J)
       << ", \"workers_J\": " << jnum(r.energy_workers_J) << ", \"by_class_J\": [";
    for (std::size_t c = 0; c < r.energy_by_class_J.size(); ++c)
      os << (c ? ", " : "") << jnum(r.energy_by_class_J[c]);
    os << "]}";
  }
  os << "\n}\n";
  return os.str();
}

RunRecord read_run_json(const std::string& path) {
  YAML::Node j;
  try {
    j = YAML::LoadFile(path);  // JSON is YAML
  } catch (const YAML::Exception& e) {
    throw InputError(path + ": cannot read run.json: " + e.msg);
  }
  auto num = [](const YAML::Node& n) {
    const std::string s = n.as<std::string>();
    return std::strtod(s.c_str(), nullptr);  // also reads "inf", "nan"
  };
  try {
    RunRecord r;
    r.id = j["id"].as<std::string>();
    r.fingerprint = j["fingerprint"].as<std::string>();
    r.tune_group = j["tune_group"].as<std::string>();
    r.scenario = j["scenario"].as<std::string>();
    r.method = j["method"].as<std::string>();
    r.compressor = j["compressor"]["label"].as<std::string>();
    r.delta = num(j["compressor"]["delta"]);
    r.k = j["compressor"]["k"].as<int>();
    r.alpha = num(j["compressor"]["alpha"]);
    for (const auto& kv : j["stepsize"]) {
      const auto key = kv.first.as<std::string>();
      if (key == "gamma") {
        r.gamma = num(kv.second);
      } else {
        r.stepsize = key;
        r.stepsize_value = num(kv.second);
      }
    }
    r.batch = j["stochastic"]["batch"].as<int>();
    r.batch_init = j["stochastic"]["batch_init"].as<int>();
    r.eta = num(j["stochastic"]["eta"]);
    r.beta = num(j["stochastic"]["beta"]);
    r.f_star = num(j["f_star"]);
    r.L = num(j["smoothness"]["L"]);
    r.L_tilde = num(j["smoothness"]["L_tilde"]);
    r.seed = j["seed"].as<std::uint64_t>();
    r.network_model = j["network_model"].as<std::string>();
    r.platform = j["platform"].as<std::string>();
    r.platform_name = j["platform_name"].as<std::string>();
    r.problem = j["problem"].as<std::string>();
    r.workers = j["workers"].as<int>();
    r.dim = j["dim"].as<int>();
    r.value_bits = j["wire"]["value_bits"].as<int>();
    r.index_bits = j["wire"]["index_bits"].as<int>();
    r.stop.max_rounds = j["stop"]["max_rounds"].as<long>();
    r.stop.target_grad_norm_sq = num(j["stop"]["grad_norm_sq"]);
    r.stop.max_sim_time_s = num(j["stop"]["max_sim_time_s"]);
    r.stop.divergence_factor = num(j["stop"]["divergence_factor"]);
    r.stop_reason = j["result"]["stop_reason"].as<std::string>();
    r.rounds = j["result"]["rounds"].as<long>();
    r.sim_time_s = num(j["result"]["sim_time_s"]);
    r.final_f = num(j["result"]["f"]);
    r.final_grad_norm_sq = num(j["result"]["grad_norm_sq"]);
    if (const YAML::Node e = j["energy"]) {
      r.has_energy = true;
      r.energy_J = num(e["total_J"]);
      r.energy_master_J = num(e["master_J"]);
      r.energy_workers_J = num(e["workers_J"]);
      for (const auto& c : e["by_class_J"]) r.energy_by_class_J.push_back(num(c));
    }
    return r;
  } catch (const YAML::Exception& e) {
    throw InputError(path + ": malformed run.json: " + e.msg);
  }
}

SummaryRow summarize(const RunRecord& run, const std::vector<alg::TraceRow>& trace) {
  SummaryRow row;
  row.run = run;
  const double target = run.stop.target_grad_norm_sq;
  if (target > 0) {
    for (const auto& t : trace) {
      if (t.grad_norm_sq <= target) {
        row.rounds_to_target = t.round;
        row.time_to_target_s = t.sim_time_s;
        row.bits_up_to_target = t.bits_up_per_worker;
        row.bits_down_to_target = t.bits_down_per_worker;
        if (run.has_energy) row.energy_to_target_J = t.energy_J;
        break;
      }
    }
  }
  return row;
}

SummaryRow missing_row(const std::string& id, const std::string& why) {
  SummaryRow row;
  row.run.id = id;
  row.run.stop_reason = why;
  row.run.sim_time_s = row.run.final_grad_norm_sq = std::numeric_limits<double>::quiet_NaN();
  return row;
}

namespace {
// Is a better than b in a tuning group?
bool better(const SummaryRow& a, const SummaryRow& b) {
  if (a.time_to_target_s || b.time_to_target_s) {
    if (!b.time_to_target_s) return a.time_to_target_s.has_value();
    if (!a.time_to_target_s) return false;
    return *a.time_to_target_s < *b.time_to_target_s;
  }
  auto usable = [](const SummaryRow& r) {
    return r.run.stop_reason != "diverged" && std::isfinite(r.run.final_grad_norm_sq);
  };
  if (usable(a) != usable(b)) return usable(a);
  return a.run.final_grad_norm_sq < b.run.final_grad_norm_sq;
}
}  // namespace

void annotate(std::vector<SummaryRow>& rows) {
  std::map<std::string, std::size_t> best;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& g = rows[i].run.tune_group;
    if (g.empty() || rows[i].run.stop_reason == "failed" || rows[i].run.stop_reason == "pending")
      continue;
    auto it = best.find(g);
    if (it == best.end() || better(rows[i], rows[it->second])) best[g] = i;
  }
  for (const auto& [group, i] : best) rows[i].best_in_group = true;
  // The uncompressed baseline of each platform (GD: the methods whose compressor is the
  // identity by definition and that send every round; the lazy lag and lag_wk are compared to
  // it, not part of it): its fastest run to the target.
  auto baseline = [](const std::string& method) {
    for (const auto& m : alg::method_registry())
      if (m.name == method)
        return m.compressor == alg::CompressorNeed::kIdentity && !m.skips_uploads;
    return false;  // a result of a method this build does not know
  };
  std::map<std::string, double> gd_time;
  for (const auto& r : rows) {
    if (!baseline(r.run.method) || !r.time_to_target_s) continue;
    auto it = gd_time.find(r.run.platform_name);
    if (it == gd_time.end() || *r.time_to_target_s < it->second)
      gd_time[r.run.platform_name] = *r.time_to_target_s;
  }
  for (auto& r : rows) {
    const auto it = gd_time.find(r.run.platform_name);
    if (it != gd_time.end() && r.time_to_target_s && *r.time_to_target_s > 0)
      r.speedup_vs_gd = it->second / *r.time_to_target_s;
  }
}

namespace {
template <class T>
std::string opt(const std::optional<T>& v) {
  if (!v) return "";
  if constexpr (std::is_same_v<T, long>)
    return std::to_string(*v);
  else
    return exact(*v);
}
}  // namespace

std::string summary_csv(const std::vector<SummaryRow>& rows) {
  // Energy columns only in sweeps where some run measured energy.
  const bool energy =
      std::any_of(rows.begin(), rows.end(), [](const SummaryRow& r) { return r.run.has_energy; });
  std::ostringstream os;
  os << "run_id,method,compressor,k,gamma,stop_reason,rounds,sim_time_s,final_grad_norm_sq,"
        "rounds_to_target,time_to_target_s,bits_up_to_target,bits_down_to_target,speedup_vs_gd,"
        "tune_group,best_in_group,platform";
  os << (energy ? ",energy_J,energy_to_target_J\n" : "\n");
  for (const auto& r : rows) {
    os << r.run.id << ',' << r.run.method << ',' << r.run.compressor << ',' << r.run.k << ','
       << exact(r.run.gamma) << ',' << r.run.stop_reason << ',' << r.run.rounds << ','
       << exact(r.run.sim_time_s) << ',' << exact(r.run.final_grad_norm_sq) << ','
       << opt(r.rounds_to_target) << ',' << opt(r.time_to_target_s) << ','
       << opt(r.bits_up_to_target) << ',' << opt(r.bits_down_to_target) << ','
       << opt(r.speedup_vs_gd) << ',' << r.run.tune_group << ','
       << (r.run.tune_group.empty() ? ""
           : r.best_in_group        ? "yes"
                                    : "no")
       << ',' << r.run.platform_name;
    if (energy)
      os << ',' << (r.run.has_energy ? exact(r.run.energy_J) : "") << ','
         << opt(r.energy_to_target_J);
    os << '\n';
  }
  return os.str();
}

namespace {

// The run id without its "@platform" tag.
std::string untagged_id(const SummaryRow& r) {
  const std::string& p = r.run.platform_name;
  std::string label = r.run.id;
  if (!p.empty() && label.size() > p.size() + 1 &&
      label.compare(label.size() - p.size() - 1, std::string::npos, "@" + p) == 0)
    label.resize(label.size() - p.size() - 1);
  return label;
}

std::string compare_cell(const SummaryRow& r) {
  char buf[64];
  if (!r.time_to_target_s) return r.run.stop_reason;
  std::snprintf(buf, sizeof buf, "%.4g s", *r.time_to_target_s);
  std::string text = buf;
  if (r.speedup_vs_gd) {
    std::snprintf(buf, sizeof buf, " (%.2fx)", *r.speedup_vs_gd);
    text += buf;
  }
  return text;
}

// Rows are run ids (untagged), columns (sweep, platform) pairs; headings are the platform alone
// for one sweep, "sweep" or "sweep platform" for several.
std::string side_by_side(const std::vector<SweepResults>& sweeps, bool ratio_column) {
  struct Column {
    std::size_t sweep;
    std::string platform, heading;
  };
  std::vector<Column> columns;
  std::vector<std::string> labels;
  std::map<std::tuple<std::string, std::size_t, std::string>, const SummaryRow*> cell;
  for (std::size_t s = 0; s < sweeps.size(); ++s) {
    for (const auto& r : sweeps[s].rows) {
      const std::string& p = r.run.platform_name;
      const std::string label = untagged_id(r);
      if (std::find_if(columns.begin(), columns.end(), [&](const Column& c) {
            return c.sweep == s && c.platform == p;
          }) == columns.end()) {
        std::string heading = p.empty() ? "(platform)" : p;
        if (sweeps.size() > 1) heading = sweeps[s].label + (p.empty() ? "" : " " + p);
        columns.push_back({s, p, heading});
      }
      if (std::find(labels.begin(), labels.end(), label) == labels.end()) labels.push_back(label);
      cell[{label, s, p}] = &r;
    }
  }
  std::size_t w = 10;
  for (const auto& l : labels) w = std::max(w, l.size() + 2);
  int cw = 22;  // one sweep: as it always was; several: wide enough for the folder names
  if (sweeps.size() > 1)
    for (const auto& c : columns) cw = std::max(cw, static_cast<int>(c.heading.size()));
  std::ostringstream os;
  char buf[256];
  os << std::string(w, ' ');
  for (const auto& c : columns) {
    std::snprintf(buf, sizeof buf, " %*s", cw, c.heading.c_str());
    os << buf;
  }
  if (ratio_column) {
    std::snprintf(buf, sizeof buf, " %10s", "time 2/1");
    os << buf;
  }
  os << "\n";
  for (const auto& l : labels) {
    os << l << std::string(w - l.size(), ' ');
    std::vector<const SummaryRow*> found;
    for (const auto& c : columns) {
      const auto it = cell.find({l, c.sweep, c.platform});
      found.push_back(it == cell.end() ? nullptr : it->second);
      std::snprintf(buf, sizeof buf, " %*s", cw,
                    found.back() ? compare_cell(*found.back()).c_str() : "-");
      os << buf;
    }
    if (ratio_column) {
      std::string ratio = "-";
      if (found[0] && found[1] && found[0]->time_to_target_s && found[1]->time_to_target_s) {
        std::snprintf(buf, sizeof buf, "%.3g",
                      *found[1]->time_to_target_s / *found[0]->time_to_target_s);
        ratio = buf;
      }
      std::snprintf(buf, sizeof buf, " %10s", ratio.c_str());
      os << buf;
    }
    os << "\n";
  }
  return os.str();
}

}  // namespace

std::string compare_table(const std::vector<SummaryRow>& rows) {
  return side_by_side({SweepResults{"", "", 0, rows}}, false) +
         "cells: simulated time to the target (speedup over the fastest GD run on that platform), "
         "or the stop reason\n";
}

std::string compare_sweeps(const std::vector<SweepResults>& sweeps) {
  std::ostringstream os;
  bool one_platform_each = sweeps.size() == 2;
  for (std::size_t s = 0; s < sweeps.size(); ++s) {
    std::set<std::string> platforms;
    for (const auto& r : sweeps[s].rows) platforms.insert(r.run.platform_name);
    one_platform_each = one_platform_each && platforms.size() == 1;
    os << "sweep " << s + 1 << ": " << sweeps[s].label << " (scenario " << sweeps[s].scenario
       << ", " << sweeps[s].rows.size() << " runs, target ||grad f||^2 <= " << sweeps[s].target
       << ")\n";
  }
  os << "\n" << side_by_side(sweeps, one_platform_each);
  os << "cells: simulated time to the target (speedup over the fastest GD run of the same sweep "
        "and platform),\nor the stop reason; '-': the sweep has no such run";
  if (one_platform_each) os << "; time 2/1: sweep 2's time to the target over sweep 1's";
  os << "\n";
  for (std::size_t s = 1; s < sweeps.size(); ++s)
    if (sweeps[s].target != sweeps[0].target) {
      os << "note: the sweeps have different targets, so their times to the target measure "
            "different things\n";
      break;
    }
  return os.str();
}

std::string summary_table(const std::vector<SummaryRow>& rows, double target) {
  std::ostringstream os;
  char buf[1024];
  int w = 24;  // the run-id column fits the longest id (and its tuning mark)
  bool tuned = false;
  for (const auto& r : rows) {
    w = std::max(w, static_cast<int>(r.run.id.size()) + 2);
    tuned = tuned || !r.run.tune_group.empty();
  }
  std::snprintf(buf, sizeof buf, "%-*s %-12s %6s %8s %10s | %9s %10s %9s %9s %8s\n", w, "run",
                "stop", "rounds", "sim_s", "|grad|^2", "rounds", "sim_s", "Mbit_up", "Mbit_dn",
                "speedup");
  os << std::string(w + 34, ' ') << "| to target (bits per worker)\n";
  os << buf;
  for (const auto& r : rows) {
    const std::string rt = r.rounds_to_target ? std::to_string(*r.rounds_to_target) : "-";
    char tt[32] = "-", mb[32] = "-", md[32] = "-", sp[32] = "-";
    if (r.time_to_target_s) std::snprintf(tt, sizeof tt, "%.4g", *r.time_to_target_s);
    if (r.bits_up_to_target) std::snprintf(mb, sizeof mb, "%.4g", *r.bits_up_to_target / 1e6);
    if (r.bits_down_to_target) std::snprintf(md, sizeof md, "%.4g", *r.bits_down_to_target / 1e6);
    if (r.speedup_vs_gd) std::snprintf(sp, sizeof sp, "%.2fx", *r.speedup_vs_gd);
    std::snprintf(buf, sizeof buf, "%-*s %-12s %6ld %8.4g %10.3e | %9s %10s %9s %9s %8s\n", w,
                  (r.run.id + (r.best_in_group ? " *" : "")).c_str(), r.run.stop_reason.c_str(),
                  r.run.rounds, r.run.sim_time_s, r.run.final_grad_norm_sq, rt.c_str(), tt, mb, md,
                  sp);
    os << buf;
  }
  if (tuned) os << "* the best stepsize of its tuning group (method x compressor)\n";
  if (target > 0) {
    std::snprintf(buf, sizeof buf,
                  "target: ||grad f||^2 <= %g; speedup = the fastest GD run's time to target on "
                  "the same platform / "
                  "this run's\n",
                  target);
    os << buf;
  }
  return os.str();
}

}  // namespace efsim::sim
