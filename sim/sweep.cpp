#include "sim/sweep.hpp"

#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "algorithms/core/error.hpp"
#include "platforms/star.hpp"
#include "platforms/topology.hpp"
#include "sim/pattern.hpp"
#include "sim/recorder.hpp"
#include "sim/simgrid_runner.hpp"
#include "sim/version.hpp"

namespace efsim::sim {

namespace fs = std::filesystem;

namespace {

// The SimGrid XML of a generated platform ("" for a platform file).
std::string generated_platform_xml(const PlatformSpec& p) {
  if (p.kind == "file") return "";
  if (p.kind == "star") return platforms::star_platform_xml(p.star);
  return platforms::topology_xml(platforms::make_topology(p.topology),
                                 peer_pairs(p.topology.workers));
}

std::string platform_summary(const PlatformSpec& p) {
  if (p.kind == "file") return "file " + p.file;
  if (p.kind != "star") return platforms::make_topology(p.topology).description;
  const auto& st = p.star;
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "star: %d workers, %g Mbps / %g ms links, master %g Mbps, %g Gflop/s workers",
                st.workers, st.worker_bandwidth_Bps * 8 / 1e6, st.worker_latency_s * 1e3,
                st.master_bandwidth_Bps * 8 / 1e6, st.worker_speed_flops / 1e9);
  return buf;
}

std::uint64_t fnv1a(const std::string& data, std::uint64_t h = 1469598103934665603ULL) {
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::string hex16(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string file_digest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return hex16(fnv1a(content.str()));
}

std::string json_string(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string inputs_digest(const Scenario& s) {
  std::ostringstream os;
  os << "efsim " << kVersion << "\nseed " << s.seed << "\nnetwork " << s.network_model << "\n";
  for (const PlatformSpec& p : s.platforms) {
    os << "name " << p.name << "\n";
    os << "platform " << p.kind << ' ' << exact(p.stragglers.fraction) << ' '
       << exact(p.stragglers.slowdown) << ' ' << p.stragglers.random << "\n";
    if (p.kind != "file") {
      os << "xml " << hex16(fnv1a(generated_platform_xml(p))) << "\n";
    }
    if (p.kind == "star") {
      const auto& st = p.star;
      os << exact(st.worker_bandwidth_Bps) << ' ' << exact(st.worker_latency_s) << ' '
         << exact(st.master_bandwidth_Bps) << ' ' << exact(st.master_latency_s) << ' '
         << exact(st.worker_speed_flops) << ' ' << exact(st.master_speed_flops) << "\n";
    } else if (p.kind == "file") {
      os << p.file << ' ' << file_digest(p.file) << ' ' << p.master << ' ' << p.workers_glob;
      for (const auto& w : p.workers) os << ' ' << w;
      os << "\n";
    }
  }
  const ProblemSpec& q = s.problem;
  os << "problem " << q.kind << ' ' << q.dataset << ' ' << q.dim << ' ' << exact(q.sigma) << ' '
     << q.skewed_noise << ' ' << exact(q.lambda) << ' ' << q.workers << ' ' << q.x0_kind << ' '
     << exact(q.x0_value);
  for (double v : q.x0_list) os << ' ' << exact(v);
  os << "\n";
  if (q.dataset == "synthetic") {
    const auto& y = q.synthetic;
    os << "synthetic " << y.samples << ' ' << y.dim << ' ' << y.nnz_per_row << ' ' << y.workers
       << ' ' << exact(y.heterogeneity) << ' ' << exact(y.label_noise) << ' '
       << exact(y.feature_decay) << ' ' << y.seed << "\n";
  } else if (q.kind == "logistic" || q.kind == "least_squares") {
    os << "data " << file_digest(q.dataset) << "\n";
    if (!q.test_dataset.empty())
      os << "test " << q.test_dataset << ' ' << file_digest(q.test_dataset) << "\n";
  } else if (q.kind == "multiclass_logistic" || q.kind == "mlp") {
    os << "images " << q.train_samples << ' ' << q.test << ' ' << q.split_by_label << ' '
       << q.hidden;
    for (const char* f : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                          "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"})
      os << ' ' << file_digest(q.dataset + "/" + f);
    os << "\n";
  }
  os << "wire " << s.wire.value_bits << ' ' << s.wire.index_bits << "\nstop " << s.stop.max_rounds
     << ' ' << exact(s.stop.target_grad_norm_sq) << ' ' << exact(s.stop.max_sim_time_s) << ' '
     << exact(s.stop.divergence_factor) << ' ' << s.stop.metrics_every << "\n";
  return os.str();
}

std::string run_fingerprint(const std::string& inputs, const ResolvedRun& run) {
  std::ostringstream os;
  os << inputs << "run " << run.spec.id << ' ' << run.spec.method << ' ' << run.compressor->label()
     << ' ' << run.spec.stepsize.theory << ' ' << exact(run.spec.stepsize.value) << ' '
     << exact(run.gamma) << ' ' << run.spec.tune_group;
  const alg::MethodInfo& method = alg::find_method(run.spec.method);
  for (const auto& p : alg::method_parameters()) {
    if (!p.in_every_fingerprint && !method.takes(p.name)) continue;
    os << ' ';
    if (p.type == alg::ParamType::kCompressor) {
      const auto it = run.compressor_params.find(p.name);
      os << (it != run.compressor_params.end() ? it->second->label() : "-");
    } else if (p.type == alg::ParamType::kInteger) {
      os << static_cast<long>(run.spec.param(p.name));
    } else {
      os << exact(run.spec.param(p.name));
    }
  }
  os << ' ' << run.spec.participation.tau;
  for (double p : run.spec.participation.p) os << ' ' << exact(p);
  os << "\n";
  return hex16(fnv1a(os.str()));
}

void execute_run(const Scenario& s, const ProblemSetup& setup, const ResolvedRun& run,
                 const std::string& fingerprint, const std::string& out_dir) {
  const fs::path final_dir = fs::path(out_dir) / "runs" / run.spec.id;
  const fs::path tmp_dir =
      fs::path(out_dir) / "runs" / (".tmp-" + run.spec.id + "-" + std::to_string(::getpid()));
  fs::remove_all(tmp_dir);
  fs::create_directories(tmp_dir);

  const PlatformSpec& platform = s.platforms[run.spec.platform];
  NetworkSetup net;
  net.model = s.network_model;
  net.pattern = parse_pattern(run.spec.pattern);
  net.wire = s.wire;
  if (platform.kind != "file") {
    net.platform_file = (tmp_dir / "platform.xml").string();
    write_file_atomic(net.platform_file, generated_platform_xml(platform));
    net.master = platforms::master_host_name();
    for (int i = 0; i < s.problem.workers; ++i)
      net.workers.push_back(platforms::worker_host_name(i));
  } else {
    net.platform_file = platform.file;
    net.master = platform.master;
    net.workers = platform.workers;
    net.workers_glob = platform.workers_glob;
  }

  alg::MethodInstance method = instantiate(run, setup);
  alg::Monitor monitor(*setup.problem, s.stop);
  alg::StopReason reason;
  try {
    reason = run_simgrid(net, method, monitor, s.seed);
  } catch (const InputError& e) {
    throw InputError(s.path + ": key 'platform': " + e.what());
  }

  RunRecord rec;
  rec.id = run.spec.id;
  rec.fingerprint = fingerprint;
  rec.tune_group = run.spec.tune_group;
  rec.scenario = s.name;
  rec.method = run.spec.method;
  rec.compressor = run.compressor->label();
  rec.delta = run.compressor->delta(setup.problem->dim());
  rec.k = run.spec.compressor.k;
  rec.stepsize = !run.spec.stepsize.theory ? "gamma"
                 : run.spec.stepsize.pl    ? "pl_theory_multiplier"
                                           : "theory_multiplier";
  rec.stepsize_value = run.spec.stepsize.value;
  rec.gamma = run.gamma;
  rec.batch = static_cast<int>(run.spec.param("batch"));
  rec.batch_init = static_cast<int>(run.spec.param("batch_init"));
  rec.eta = run.spec.param("eta");
  rec.beta = run.spec.param("beta");
  rec.f_star = setup.problem->optimal_value();
  rec.alpha = run.alpha;
  rec.L = setup.L;
  rec.L_tilde = setup.L_tilde;
  rec.seed = s.seed;
  rec.network_model = s.network_model;
  rec.platform = platform_summary(platform);
  rec.platform_name = platform.name;
  rec.problem = setup.problem->describe();
  rec.workers = setup.problem->num_workers();
  rec.dim = setup.problem->dim();
  rec.value_bits = s.wire.value_bits;
  rec.index_bits = s.wire.index_bits_for(rec.dim);
  rec.stop = s.stop;
  rec.stop_reason = alg::to_string(reason);
  const auto& last = monitor.trace().back();
  rec.rounds = last.round;
  rec.sim_time_s = last.sim_time_s;
  rec.final_f = last.f;
  rec.final_grad_norm_sq = last.grad_norm_sq;

  write_file_atomic((tmp_dir / "trace.csv").string(), trace_csv(monitor.trace()));
  write_file_atomic((tmp_dir / "run.json").string(), run_json(rec));
  fs::remove_all(final_dir);
  fs::rename(tmp_dir, final_dir);
}

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

std::string duration_text(double s) {
  char buf[32];
  const long t = std::lround(s);
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  return buf;
}

class Progress {
 public:
  Progress(std::size_t total, std::size_t done, bool quiet)
      : total_(total),
        done_(done),
        quiet_(quiet),
        tty_(::isatty(2) != 0),
        start_(std::chrono::steady_clock::now()) {
    draw("");
  }
  void finished(const std::string& line) {
    ++done_;
    ++ran_;
    draw(line);
  }
  void end() {
    if (!quiet_ && tty_) std::cerr << "\n";
  }

 private:
  void draw(const std::string& line) {
    if (quiet_) return;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::string eta = "--:--";
    if (ran_ > 0 && done_ < total_)
      eta = duration_text(elapsed / ran_ * static_cast<double>(total_ - done_));
    if (done_ == total_) eta = "0:00";
    if (tty_) {
      const int width = 30;
      const int filled = total_ ? static_cast<int>(width * done_ / total_) : width;
      if (!line.empty()) std::cerr << "\r\033[K" << line << "\n";
      std::cerr << "\r\033[Kefsim: [" << std::string(filled, '#')
                << std::string(width - filled, '-') << "] " << done_ << "/" << total_
                << " runs, elapsed " << duration_text(elapsed) << ", ETA " << eta << std::flush;
    } else if (!line.empty()) {
      std::cerr << line << "  [" << done_ << "/" << total_ << ", ETA " << eta << "]\n";
    }
  }
  std::size_t total_, done_, ran_ = 0;
  bool quiet_, tty_;
  std::chrono::steady_clock::time_point start_;
};

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
  const ProblemSetup setup = build_problem(s);
  std::vector<ResolvedRun> runs;
  for (const auto& spec : s.runs) runs.push_back(resolve_run(s, setup, spec));
  const std::string inputs = inputs_digest(s);
  std::vector<std::string> fingerprints;
  for (const auto& r : runs) fingerprints.push_back(run_fingerprint(inputs, r));

  try {
    fs::create_directories(fs::path(out_dir) / "runs");
  } catch (const fs::filesystem_error& e) {
    throw InputError(out_dir + ": cannot create the output folder: " + e.code().message());
  }
  // The sweep's run list (for the report and for shards) and the scenario it came from.
  {
    std::ostringstream js;
    js << "{\n  \"scenario\": " << json_string(s.name)
       << ",\n  \"scenario_file\": " << json_string(s.path)
       << ",\n  \"target_grad_norm_sq\": " << exact(s.stop.target_grad_norm_sq)
       << ",\n  \"overrides\": [";
    for (std::size_t i = 0; i < options.overrides.size(); ++i)
      js << (i ? ", " : "") << json_string(options.overrides[i]);
    js << "],\n  \"runs\": [";
    for (std::size_t i = 0; i < runs.size(); ++i)
      js << (i ? ", " : "") << json_string(runs[i].spec.id);
    js << "]\n}\n";
    write_file_atomic((fs::path(out_dir) / "sweep.json").string(), js.str());
    std::ifstream in(s.path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    write_file_atomic((fs::path(out_dir) / "scenario.yaml").string(), text.str());
  }
  // A summary from an earlier sweep must not pass for this one's until this one completes.
  fs::remove(fs::path(out_dir) / "summary.csv");

  std::vector<std::size_t> queue;
  std::size_t selected = 0, cached = 0;
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
  const int jobs = options.jobs > 0
                       ? options.jobs
                       : std::max(1, static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)));
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

  Progress progress(selected, cached, options.quiet);
  std::map<pid_t, std::pair<std::size_t, std::chrono::steady_clock::time_point>> running;
  std::set<std::string> failed, timed_out;
  bool input_error = false;
  std::size_t next = 0;
  while (next < queue.size() || !running.empty()) {
    while (!input_error && next < queue.size() && static_cast<int>(running.size()) < jobs) {
      const std::size_t i = queue[next++];
      std::cout.flush();
      std::cerr.flush();
      const pid_t pid = ::fork();
      if (pid < 0) throw std::runtime_error("fork failed");
      if (pid == 0) {
        int code = 0;
        try {
          execute_run(s, setup, runs[i], fingerprints[i], out_dir);
        } catch (const InputError& e) {
          std::cerr << "\nerror: " << e.what() << "\n";
          code = 2;
        } catch (const std::exception& e) {
          std::cerr << "\nefsim: run " << runs[i].spec.id << " failed: " << e.what() << "\n";
          code = 3;
        }
        std::cerr.flush();
        ::_exit(code);
      }
      running[pid] = {i, std::chrono::steady_clock::now()};
    }
    if (running.empty()) break;
    int status = 0;
    pid_t pid = 0;
    if (options.run_timeout_s > 0) {
      // Poll, and kill runs over their wall-clock budget (recorded as "timeout").
      pid = ::waitpid(-1, &status, WNOHANG);
      if (pid == 0) {
        const auto now = std::chrono::steady_clock::now();
        for (const auto& [p, info] : running)
          if (std::chrono::duration<double>(now - info.second).count() > options.run_timeout_s &&
              !timed_out.count(runs[info.first].spec.id)) {
            timed_out.insert(runs[info.first].spec.id);
            ::kill(p, SIGKILL);
          }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
    } else {
      pid = ::waitpid(-1, &status, 0);
    }
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("waitpid failed");
    }
    auto it = running.find(pid);
    if (it == running.end()) continue;
    const auto [i, start] = it->second;
    running.erase(it);
    const double host_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    const std::string& id = runs[i].spec.id;
    char buf[512];
    if (timed_out.count(id)) {
      clear_run(out_dir, id);  // nothing half-written remains
      std::snprintf(buf, sizeof buf, "efsim: %-28s TIMEOUT after %.1f s host (--run-timeout)",
                    id.c_str(), host_s);
    } else if (code != 0) {
      failed.insert(id);
      if (code == 2) input_error = true;  // bad platform input: every run would fail the same way
      std::snprintf(buf, sizeof buf, "efsim: %-28s FAILED (exit %d)", id.c_str(), code);
    } else {
      const RunRecord rec = read_run_json((run_dir(out_dir, id) / "run.json").string());
      std::snprintf(buf, sizeof buf,
                    "efsim: %-28s %-12s %6ld rounds %10.4g s simulated (%.1f s host)", id.c_str(),
                    rec.stop_reason.c_str(), rec.rounds, rec.sim_time_s, host_s);
    }
    progress.finished(buf);
  }
  progress.end();
  if (input_error) return 2;

  double target = 0;
  std::vector<SummaryRow> rows = collect_results({out_dir}, &target);
  for (auto& r : rows) {
    const bool fail = failed.count(r.run.id) > 0, timeout = timed_out.count(r.run.id) > 0;
    if (!fail && !timeout) continue;
    r = missing_row(r.run.id, fail ? "failed" : "timeout");
    for (const ResolvedRun& run : runs)  // what the run was, without results
      if (run.spec.id == r.run.id) {
        r.run.method = run.spec.method;
        r.run.compressor = run.compressor->label();
        r.run.k = run.spec.compressor.k;
        r.run.gamma = run.gamma;
        r.run.tune_group = run.spec.tune_group;
        r.run.platform_name = s.platforms[run.spec.platform].name;
      }
  }
  annotate(rows);
  write_file_atomic((fs::path(out_dir) / "summary.csv").string(), summary_csv(rows));
  std::cout << summary_table(rows, s.stop.target_grad_norm_sq);
  if (s.platforms.size() > 1) std::cout << "\n" << compare_table(rows);
  std::cout << "results: " << fs::absolute(out_dir).lexically_normal().string()
            << "/ (summary.csv, runs/<run-id>/trace.csv, run.json)\n";
  if (options.report) write_report({out_dir}, out_dir, options.quiet);
  return failed.empty() && timed_out.empty() ? 0 : 1;
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
                         " (different inputs): merge shards of one sweep only");
      row = r;
    }
    rows.push_back(row ? *row : missing_row(id, "pending"));
  }
  return rows;
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
    std::cerr << "efsim: no report: needs " << python
              << " with matplotlib (Debian: python3-matplotlib) and " << script << "\n";
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
  if (code != 0) std::cerr << "efsim: the report failed (exit " << code << ")\n";
  return code == 0 ? 0 : 1;
}

}  // namespace efsim::sim
