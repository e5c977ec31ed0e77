#include "sim/sweep/sweep.hpp"

#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "algorithms/core/error.hpp"
#include "sim/sweep/execute.hpp"
#include "sim/sweep/fingerprint.hpp"
#include "sim/sweep/process_pool.hpp"
#include "sim/text.hpp"

namespace efsim::sim {

namespace fs = std::filesystem;

namespace {

fs::path run_dir(const std::string& out_dir, const std::string& id) {
  return fs::path(out_dir) / "runs" / id;
}

// A complete result made from the same inputs.
bool complete(const std::string& out_dir, const std::string& id, const std::string& fingerprint) {
  const fs::path json = run_dir(out_dir, id) / "run.json";
  if (!fs::exists(json) || !fs::exists(run_dir(out_dir, id) / "trace.csv")) return false;
  try {
    return read_run_json(json.string()).fingerprint == fingerprint;
  } catch (const InputError&) {
    return false;
  }
}

// Removes a run's result and any temporary folder this sweep's earlier attempts left.
void clear_run(const std::string& out_dir, const std::string& id) {
  fs::remove_all(run_dir(out_dir, id));
  const std::string prefix = ".tmp-" + id + "-";
  for (const auto& e : fs::directory_iterator(fs::path(out_dir) / "runs"))
    if (e.path().filename().string().rfind(prefix, 0) == 0) fs::remove_all(e.path());
}

// The output folder with the sweep's run list (for the report and for shards) and the scenario
// it came from.
void write_manifest(const Scenario& s, const std::vector<ResolvedRun>& runs,
                    const SweepOptions& options, const std::string& out_dir) {
  try {
    fs::create_directories(fs::path(out_dir) / "runs");
  } catch (const fs::filesystem_error& e) {
    throw InputError(out_dir + ": cannot create the output folder: " + e.code().message());
  }
  std::ostringstream js;
  js << "{\n  \"scenario\": " << json_quote(s.name)
     << ",\n  \"scenario_file\": " << json_quote(s.path)
     << ",\n  \"target_grad_norm_sq\": " << exact(s.stop.target_grad_norm_sq)
     << ",\n  \"overrides\": [";
  for (std::size_t i = 0; i < options.overrides.size(); ++i)
    js << (i ? ", " : "") << json_quote(options.overrides[i]);
  js << "],\n  \"runs\": [";
  for (std::size_t i = 0; i < runs.size(); ++i)
    js << (i ? ", " : "") << json_quote(runs[i].spec.id);
  js << "]\n}\n";
  write_file_atomic((fs::path(out_dir) / "sweep.json").string(), js.str());
  std::ifstream in(s.path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  write_file_atomic((fs::path(out_dir) / "scenario.yaml").string(), text.str());
}

// The runs of this shard that still need running (complete ones with the same fingerprint are
// kept unless --fresh; the others are cleared); *selected: this shard's runs, *cached: kept.
std::vector<std::size_t> select_runs(const std::vector<ResolvedRun>& runs,
                                     const std::vector<std::string>& fingerprints,
                                     const SweepOptions& options, const std::string& out_dir,
                                     std::size_t* selected_out, std::size_t* cached_out) {
  std::vector<std::size_t> queue;
  std::size_t& selected = *selected_out;
  std::size_t& cached = *cached_out;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (static_cast<int>(i % static_cast<std::size_t>(options.shard_count)) !=
        options.shard_index - 1)
      continue;
    ++selected;
    if (!options.fresh && complete(out_dir, runs[i].spec.id, fingerprints[i])) {
      ++cached;
      continue;
    }
    clear_run(out_dir, runs[i].spec.id);
    queue.push_back(i);
  }
  return queue;
}

// A summary row for a run without results: what the run was, and why it has none.
SummaryRow unfinished_row(const RunRecord& run, const std::string& why) {
  SummaryRow r = missing_row(run.id, why);
  r.run.method = run.method;
  r.run.compressor = run.compressor;
  r.run.k = run.k;
  r.run.gamma = run.gamma;
  r.run.tune_group = run.tune_group;
  r.run.platform_name = run.platform_name;
  return r;
}

// The summary (file and table) and the report of a sweep whose runs have ended; `unfinished`
// names the runs without a result. Returns the exit code.
int finish(const Scenario& s, const ProblemSetup& setup, const std::vector<ResolvedRun>& runs,
           const std::map<std::string, std::string>& unfinished, const std::string& out_dir,
           const SweepOptions& options) {
  double target = 0;
  std::vector<SummaryRow> rows = collect_results({out_dir}, &target);
  for (auto& r : rows) {
    const auto it = unfinished.find(r.run.id);
    if (it == unfinished.end()) continue;
    for (const ResolvedRun& run : runs)  // what the run was, without results
      if (run.spec.id == r.run.id) r = unfinished_row(run_record(s, setup, run), it->second);
  }
  annotate(rows);
  write_file_atomic((fs::path(out_dir) / "summary.csv").string(), summary_csv(rows));
  std::cout << summary_table(rows, s.stop.target_grad_norm_sq);
  if (s.platforms.size() > 1) std::cout << "\n" << compare_table(rows);
  std::cout << "results: " << fs::absolute(out_dir).lexically_normal().string()
            << "/ (summary.csv, runs/<run-id>/trace.csv, run.json)\n";
  if (options.report) write_report({out_dir}, out_dir, options.quiet);
  return unfinished.empty() ? 0 : 1;
}

// `efsim run --check`: the scenario passed every check a run makes before it starts; the runs
// (this shard's) with what each resolved to. Nothing is written.
void print_check(const Scenario& s, const ProblemSetup& setup, const std::vector<ResolvedRun>& runs,
                 const SweepOptions& options, const std::string& out_dir) {
  std::vector<std::size_t> shown;
  for (std::size_t i = 0; i < runs.size(); ++i)
    if (static_cast<int>(i % static_cast<std::size_t>(options.shard_count)) ==
        options.shard_index - 1)
      shown.push_back(i);
  std::cout << s.path << ": valid; " << runs.size() << " run" << (runs.size() == 1 ? "" : "s");
  if (options.shard_count > 1)
    std::cout << ", shard " << options.shard_index << "/" << options.shard_count << " runs "
              << shown.size();
  std::cout << " -> " << out_dir << "\n"
            << "problem: " << setup.problem->describe() << "; L = " << exact(setup.L)
            << ", L~ = " << exact(setup.L_tilde) << "\n";
  std::size_t width = 3, gwidth = 5;
  for (std::size_t i : shown) {
    width = std::max(width, runs[i].spec.id.size());
    gwidth = std::max(gwidth, exact(runs[i].gamma).size());
  }
  auto row = [&](const std::string& n, const std::string& id, const std::string& gamma,
                 const std::string& from) {
    std::cout << std::string(5 - std::min<std::size_t>(5, n.size()), ' ') << n << "  " << id
              << std::string(width - id.size(), ' ') << "  " << gamma
              << std::string(gwidth - gamma.size(), ' ') << "  " << from << "\n";
  };
  row("#", "run", "gamma", "from");
  for (std::size_t i : shown)
    row(std::to_string(i + 1), runs[i].spec.id, exact(runs[i].gamma), runs[i].spec.origin);
}

}  // namespace

int run_scenario(const Scenario& s, const SweepOptions& options) {
  const std::string out_dir = options.out_dir.empty() ? "results/" + s.name : options.out_dir;
  if (options.shard_count < 1 || options.shard_index < 1 ||
      options.shard_index > options.shard_count)
    throw InputError("--shard " + std::to_string(options.shard_index) + "/" +
                     std::to_string(options.shard_count) + ": expected I/N with 1 <= I <= N");
  if (fs::exists(out_dir) && !fs::is_directory(out_dir))
    throw InputError(out_dir + ": the output folder exists and is not a folder");
  if (s.runs.size() > kLargeSweep && !options.yes)
    throw InputError(s.path + ": key 'runs': the scenario expands to " +
                     std::to_string(s.runs.size()) + " runs (more than " +
                     std::to_string(kLargeSweep) + "); check the lists, or confirm with --yes");
  check_platform_files(s);
  const ProblemSetup setup = build_problem(s);
  std::vector<ResolvedRun> runs;
  for (const auto& spec : s.runs) runs.push_back(resolve_run(s, setup, spec));
  if (options.check) {
    print_check(s, setup, runs, options, out_dir);
    return 0;
  }
  const std::string inputs = inputs_digest(s);
  std::vector<std::string> fingerprints;
  for (const auto& r : runs) fingerprints.push_back(run_fingerprint(inputs, r));

  write_manifest(s, runs, options, out_dir);
  // A summary from an earlier sweep must not pass for this one's until this one completes.
  fs::remove(fs::path(out_dir) / "summary.csv");

  std::size_t selected = 0, cached = 0;
  const std::vector<std::size_t> queue =
      select_runs(runs, fingerprints, options, out_dir, &selected, &cached);
  const int cores = std::max(1, static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)));
  const int jobs = options.jobs > 0 ? options.jobs : cores;
  // Threads per run: the cores left per run at a time (never more runs at a time than queued).
  const int threads =
      options.threads > 0
          ? options.threads
          : std::max(1, cores / std::max(1, std::min(jobs, static_cast<int>(queue.size()))));
  if (!options.quiet) {
    std::cerr << "efsim: " << s.name << ": " << setup.problem->describe() << "\n"
              << "efsim: L = " << setup.L << ", L~ = " << setup.L_tilde << "; " << runs.size()
              << " runs";
    if (options.shard_count > 1)
      std::cerr << ", shard " << options.shard_index << "/" << options.shard_count << ": "
                << selected;
    if (cached > 0) std::cerr << ", " << cached << " already complete";
    std::cerr << "; " << jobs << " at a time -> " << out_dir << "\n";
  }

  PoolOptions pool;
  pool.jobs = jobs;
  pool.run_timeout_s = options.run_timeout_s;
  pool.quiet = options.quiet;
  auto work = [&](std::size_t i) {
    try {
      execute_run(s, setup, runs[i], fingerprints[i], out_dir, threads);
      return 0;
    } catch (const InputError& e) {
      std::cerr << "\nefsim: error: " << e.what() << "\n";
      return 2;
    } catch (const std::exception& e) {
      std::cerr << "\nefsim: error: run " << runs[i].spec.id << " failed: " << e.what() << "\n";
      return 3;
    }
  };
  auto line = [&](std::size_t i, int code, bool timeout, double host_s) {
    const std::string& id = runs[i].spec.id;
    char buf[512];
    if (timeout) {
      clear_run(out_dir, id);  // nothing half-written remains
      std::snprintf(buf, sizeof buf, "efsim: %-28s TIMEOUT after %.1f s host (--run-timeout)",
                    id.c_str(), host_s);
    } else if (code != 0) {
      std::snprintf(buf, sizeof buf, "efsim: %-28s FAILED (exit %d)", id.c_str(), code);
    } else {
      const RunRecord rec = read_run_json((run_dir(out_dir, id) / "run.json").string());
      std::snprintf(buf, sizeof buf,
                    "efsim: %-28s %-12s %6ld rounds %10.4g s simulated (%.1f s host)", id.c_str(),
                    rec.stop_reason.c_str(), rec.rounds, rec.sim_time_s, host_s);
    }
    return std::string(buf);
  };
  const PoolOutcome outcome = run_pool(queue, pool, selected, cached, work, line);
  if (outcome.input_error) return 2;
  std::map<std::string, std::string> unfinished;  // id -> failed | timeout
  for (std::size_t i : outcome.failed) unfinished[runs[i].spec.id] = "failed";
  for (std::size_t i : outcome.timed_out) unfinished[runs[i].spec.id] = "timeout";
  return finish(s, setup, runs, unfinished, out_dir, options);
}

std::vector<SummaryRow> collect_results(const std::vector<std::string>& dirs, double* target) {
  std::vector<std::string> ids;
  std::set<std::string> known;
  *target = 0;
  for (const auto& dir : dirs) {
    const fs::path manifest = fs::path(dir) / "sweep.json";
    if (!fs::exists(manifest)) continue;
    YAML::Node j;
    try {
      j = YAML::LoadFile(manifest.string());
      const std::string t = j["target_grad_norm_sq"].as<std::string>();
      *target = std::strtod(t.c_str(), nullptr);
      for (const auto& id : j["runs"])
        if (known.insert(id.as<std::string>()).second) ids.push_back(id.as<std::string>());
    } catch (const YAML::Exception& e) {
      throw InputError(manifest.string() + ": malformed sweep.json: " + e.msg);
    }
  }
  // Results found without a manifest entry (e.g. a folder of runs only) come after, sorted.
  std::vector<std::string> extra;
  for (const auto& dir : dirs) {
    if (!fs::is_directory(fs::path(dir) / "runs")) continue;
    for (const auto& e : fs::directory_iterator(fs::path(dir) / "runs")) {
      const std::string id = e.path().filename().string();
      if (id.rfind(".tmp-", 0) == 0 || !fs::exists(e.path() / "run.json")) continue;
      if (known.insert(id).second) extra.push_back(id);
    }
  }
  std::sort(extra.begin(), extra.end());
  ids.insert(ids.end(), extra.begin(), extra.end());
  std::vector<SummaryRow> rows;
  for (const auto& id : ids) {
    std::optional<SummaryRow> row;
    for (const auto& dir : dirs) {
      const fs::path d = run_dir(dir, id);
      if (!fs::exists(d / "run.json")) continue;
      SummaryRow r = summarize(read_run_json((d / "run.json").string()),
                               read_trace_csv((d / "trace.csv").string()));
      if (row && row->run.fingerprint != r.run.fingerprint)
        throw InputError(id + ": different results in " + dirs.front() + " and " + dir +
                         " (made from different inputs): efsim report merges the shards of one "
                         "sweep; to compare sweeps, use efsim compare " +
                         dirs.front() + " " + dir);
      row = r;
    }
    rows.push_back(row ? *row : missing_row(id, "pending"));
  }
  return rows;
}

SweepResults load_sweep(const std::string& dir) {
  if (!fs::is_directory(dir)) throw InputError(dir + ": no such results folder");
  SweepResults sweep;
  sweep.rows = collect_results({dir}, &sweep.target);
  if (sweep.rows.empty()) throw InputError(dir + ": no runs found (expected runs/<id>/run.json)");
  annotate(sweep.rows);
  sweep.label = fs::path(dir).lexically_normal().string();
  while (sweep.label.size() > 1 && sweep.label.back() == '/') sweep.label.pop_back();
  sweep.scenario = "?";
  const fs::path manifest = fs::path(dir) / "sweep.json";
  if (fs::exists(manifest)) try {
      sweep.scenario = YAML::LoadFile(manifest.string())["scenario"].as<std::string>();
    } catch (const YAML::Exception& e) {
      throw InputError(manifest.string() + ": malformed sweep.json: " + e.msg);
    }
  return sweep;
}

int write_report(const std::vector<std::string>& dirs, const std::string& out_dir, bool quiet) {
  for (const auto& d : dirs)
    if (!fs::is_directory(d)) throw InputError(d + ": no such results folder");
  double target = 0;
  std::vector<SummaryRow> rows = collect_results(dirs, &target);
  if (rows.empty())
    throw InputError(dirs.front() + ": no runs found (expected runs/<id>/run.json)");
  annotate(rows);
  fs::create_directories(out_dir);
  write_file_atomic((fs::path(out_dir) / "summary.csv").string(), summary_csv(rows));
  const std::string script = std::string(EFSIM_ANALYSIS_DIR) + "/report.py";
  const char* python = "/usr/bin/python3";
  if (!fs::exists(script) || !fs::exists(python)) {
    std::cerr << "efsim: warning: no report: needs " << python
              << " with pandas and matplotlib (Debian: python3-pandas python3-matplotlib) and "
              << script << "\n";
    return 1;
  }
  std::vector<std::string> args = {python, script, "--out", out_dir};
  if (quiet) args.push_back("--quiet");
  for (const auto& d : dirs) args.push_back(d);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::cout.flush();
  std::cerr.flush();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execv(python, argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  if (code != 0) std::cerr << "efsim: error: the report failed (exit " << code << ")\n";
  return code == 0 ? 0 : 1;
}

}  // namespace efsim::sim
