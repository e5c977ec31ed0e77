// efsim command-line interface. Bad input of any kind ends here with a message and exit code 2.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "algorithms/compressors/compressor.hpp"
#include "algorithms/core/error.hpp"
#include "algorithms/methods/method.hpp"
#include "platforms/topology.hpp"
#include "sim/network/simgrid_runner.hpp"
#include "sim/network/validation.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/sweep/recorder.hpp"
#include "sim/sweep/sweep.hpp"
#include "sim/version.hpp"

namespace {

const char* kUsage =
    R"(efsim: simulated time-to-accuracy of communication-efficient distributed optimization

Usage:
  efsim run SCENARIO [--out DIR] [--set key.path=value]... [--jobs N] [--threads N]
                     [--shard I/N] [--fresh] [--no-report] [--yes] [--quiet] [--run-timeout S]
                     [--check]
  efsim report DIR... [--out OUT] [--quiet]   rebuild the summary and report from result folders
  efsim topology SCENARIO [--set key.path=value]... [--bytes N] [--dot FILE]
  efsim topology PLATFORM.xml [--master NAME] [--workers PATTERN] [--bytes N] [--dot FILE]
                         analyse a scenario's network, or any SimGrid platform file
  efsim compare DIR...   sweeps side by side: one sweep's platforms, or several sweeps' runs
                         matched by id (time to target and speedup)
  efsim validate [--quick] [--out DIR]   each network model's round time against ns-3
  efsim methods          the methods a scenario can name, and what each setting means
  efsim compressors      the compressors a scenario can name, with their constants
  efsim --help | -h      this text;  efsim COMMAND --help  for a command's options
  efsim --version

Common run options (efsim run --help lists them all):
  --set key.path=value   override a scenario value (YAML), e.g. --set stop.max_rounds=200
  --check                validate the scenario and list its expanded runs; run nothing
  --run-timeout S        kill any run that takes more than S seconds of host time
  --jobs N, --shard I/N  runs in parallel; run only the I-th of N slices (e.g. Slurm arrays)

A scenario is a YAML file (see README.md, "Scenario files"; examples in scenarios/).
`efsim run` writes DIR/runs/<run-id>/{trace.csv,run.json,platform.xml}, DIR/summary.csv and
the report (DIR/report.html, report.md, plots/), and prints the summary table.
`efsim report` rebuilds the summary and the report from result folders (e.g. the shards of a
sweep), reading only the result files.

Exit codes: 0 success, 1 some run failed, 2 bad input (scenario, dataset, platform, command line).
)";

const char* kRunUsage = R"(Usage: efsim run SCENARIO [options]

Runs every run of the scenario (the cartesian product of each `runs` entry), one process per
run, each on the simulated platform, and writes:
  DIR/runs/<run-id>/trace.csv     round, sim_time_s, f, grad_norm_sq, bits up/down per worker,
                                  and the time breakdown (down, compute, up, idle, master)
  DIR/runs/<run-id>/run.json      the resolved run (gamma, alpha, delta, L, L~, seed, ...), its
                                  fingerprint and its stop reason
  DIR/runs/<run-id>/platform.xml  the generated SimGrid platform (star platforms)
  DIR/summary.csv                 one row per run: rounds, time and bits to the target, speedup
                                  over GD, the winner of each stepsize-tuning group
  DIR/report.html, report.md, plots/   the report (python3-pandas, -matplotlib, -plotly)
  DIR/sweep.json, scenario.yaml   the run list and the scenario, for the report and for resuming
Runs already complete in DIR with the same inputs are skipped (resume after an interruption).

Options:
  --out DIR               output folder (default: results/<scenario name>)
  --set key.path=value    override a scenario value before validation; the value is YAML, e.g.
                          --set stop.max_rounds=200  --set 'runs.0.compressor.k=[1,10]'
                          --set network_model=textbook  (repeatable)
  --jobs N                runs in parallel (default: the number of cores)
  --threads N             host threads per run for the workers' math of a round (default: the
                          cores left per run, max(1, cores / runs at a time); 1 = one thread).
                          The results are the same for any N; synchronous rounds on SimGrid
                          only (deadlines, availability, populations, analytic: one thread)
  --shard I/N             run only the I-th of N slices of the runs (1 <= I <= N), e.g. one
                          per task of a Slurm job array; `efsim report` merges the folders
  --fresh                 rerun every run, even complete ones
  --no-report             do not write the HTML/Markdown report
  --yes                   run a sweep of more than 1000 runs (otherwise refused, exit 2)
  --run-timeout S         kill a run after S seconds of wall-clock (host) time; it is listed
                          as "timeout" in the summary and the exit code is 1
  --quiet                 no progress on stderr
  --check                 a dry run: load the data, validate the scenario and every run (the
                          checks a run makes before it starts), print the expanded runs with
                          their resolved stepsizes (this shard's, with --shard) and exit 0;
                          runs nothing and writes nothing. Bad input exits 2 as for a run
  -h, --help              this text
)";

const char* kReportUsage = R"(Usage: efsim report DIR... [--out OUT] [--quiet]

Rebuilds OUT/summary.csv and the report (OUT/report.html with embedded plots, report.md,
time_to_target.csv, plots/*.png) from the result folders DIR... (one sweep, or the folders of its
shards). Reads only the result files. OUT defaults to the first DIR.
)";

// Every error message of efsim starts "efsim: error: " (warnings "efsim: warning: ").
int usage_error(const std::string& msg) {
  std::cerr << "efsim: error: " << msg << "\n(see efsim --help)\n";
  return 2;
}

bool parse_int(const std::string& text, int* out) {
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < 1 || v > 1'000'000) return false;
  *out = static_cast<int>(v);
  return true;
}

int cmd_run(const std::vector<std::string>& args) {
  std::string scenario;
  efsim::sim::SweepOptions options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const std::string& name, std::string* out) {
      if (a == name) {
        if (i + 1 >= args.size()) return false;
        *out = args[++i];
        return true;
      }
      *out = a.substr(name.size() + 1);
      return true;
    };
    auto is = [&a](const std::string& name) { return a == name || a.rfind(name + "=", 0) == 0; };
    std::string v;
    if (a == "-h" || a == "--help") {
      std::cout << kRunUsage;
      return 0;
    } else if (is("--out")) {
      if (!value("--out", &options.out_dir)) return usage_error("--out needs a folder");
    } else if (is("--set")) {
      if (!value("--set", &v)) return usage_error("--set needs key.path=value");
      options.overrides.push_back(v);
    } else if (is("--jobs")) {
      if (!value("--jobs", &v) || !parse_int(v, &options.jobs))
        return usage_error("--jobs needs a positive number, got '" + v + "'");
    } else if (is("--threads")) {
      if (!value("--threads", &v) || !parse_int(v, &options.threads) || options.threads > 1024)
        return usage_error("--threads needs a number from 1 to 1024, got '" + v + "'");
    } else if (is("--shard")) {
      const auto slash = value("--shard", &v) ? v.find('/') : std::string::npos;
      if (slash == std::string::npos || !parse_int(v.substr(0, slash), &options.shard_index) ||
          !parse_int(v.substr(slash + 1), &options.shard_count) ||
          options.shard_index > options.shard_count)
        return usage_error("--shard needs I/N with 1 <= I <= N, got '" + v + "'");
    } else if (a == "--fresh") {
      options.fresh = true;
    } else if (a == "--no-report") {
      options.report = false;
    } else if (a == "--yes") {
      options.yes = true;
    } else if (is("--run-timeout")) {
      char* end = nullptr;
      if (!value("--run-timeout", &v)) return usage_error("--run-timeout needs seconds");
      options.run_timeout_s = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0' || !(options.run_timeout_s > 0))
        return usage_error("--run-timeout needs a positive number of seconds, got '" + v + "'");
    } else if (a == "--quiet") {
      options.quiet = true;
    } else if (a == "--check") {
      options.check = true;
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("run: unknown option '" + a + "'");
    } else if (scenario.empty()) {
      scenario = a;
    } else {
      return usage_error("run: more than one scenario given ('" + scenario + "', '" + a + "')");
    }
  }
  if (scenario.empty()) return usage_error("run: missing SCENARIO (a YAML file)");
  const auto s = efsim::sim::load_scenario(scenario, options.overrides);
  return efsim::sim::run_scenario(s, options);
}

int cmd_report(const std::vector<std::string>& args) {
  std::vector<std::string> dirs;
  std::string out;
  bool quiet = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kReportUsage;
      return 0;
    } else if (a == "--out") {
      if (i + 1 >= args.size()) return usage_error("--out needs a folder");
      out = args[++i];
    } else if (a.rfind("--out=", 0) == 0) {
      out = a.substr(6);
    } else if (a == "--quiet") {
      quiet = true;
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("report: unknown option '" + a + "'");
    } else {
      dirs.push_back(a);
    }
  }
  if (dirs.empty()) return usage_error("report: missing DIR (a results folder)");
  return efsim::sim::write_report(dirs, out.empty() ? dirs.front() : out, quiet);
}

const char* kCompareUsage = R"(Usage: efsim compare DIR...

Puts results side by side, reading only the result files.
  efsim compare DIR          one sweep over `platforms`: rows are runs, columns platforms
  efsim compare DIR1 DIR2 ...  several sweeps (e.g. before and after a change of bandwidth,
                             network model or stepsize): rows are runs matched by id, columns
                             the sweeps (and their platforms); with two sweeps of one platform
                             each, a last column gives sweep 2's time over sweep 1's
Cells: the simulated time to the target and the speedup over the fastest GD run of the same
sweep and platform, or the stop reason; '-' where a sweep has no such run.
)";

const char* kTopologyUsage =
    R"(Usage: efsim topology SCENARIO [--set key.path=value]... [--bytes N] [--dot FILE]
       efsim topology PLATFORM.xml [--master NAME] [--workers PATTERN] [--bytes N] [--dot FILE]

Analyses a network with Boost.Graph: hosts, switches, links; master <-> worker route lengths
and latencies; the bottleneck bandwidth of every route; the max flow from the master to all
workers (min cut); and a lower bound on one parameter-server round's communication time when
N bytes go down to every worker and N bytes come back from each (default N = 40000, a dense
10^4-vector of float32).
  SCENARIO      a generated platform (star, tree, ring, torus, fat_tree, dragonfly, edge) is
                analysed as its graph; a platform file (kind: file) as SimGrid routes it
  PLATFORM.xml  any SimGrid platform, loaded by SimGrid: its master <-> worker routes (the
                max flow is taken through the links of those routes)
  --master NAME      the master host of PLATFORM.xml (default: the host named master, or
                     else the one host that is not a worker)
  --workers PATTERN  its worker hosts, a '*' pattern (default: worker-*)
  --dot FILE         writes the graph (or the routes) in Graphviz DOT
)";

void print_analysis(const std::string& title, std::size_t workers,
                    const efsim::platforms::Analysis& a, double bytes) {
  const auto [lo, hi] = std::minmax_element(a.bottleneck_Bps.begin(), a.bottleneck_Bps.end());
  std::printf("%s\n", title.c_str());
  std::printf("hosts %zu (1 master, %zu workers), switches %zu, links %zu\n", a.hosts, workers,
              a.switches, a.links);
  std::printf("master <-> worker routes: at most %zu hops, at most %.6g ms latency\n", a.max_hops,
              a.max_latency_s * 1e3);
  std::printf("route bottlenecks: %.6g to %.6g Mbps\n", *lo * 8 / 1e6, *hi * 8 / 1e6);
  std::printf("max flow master -> workers: %.6g Mbps (min cut)\n", a.max_flow_Bps * 8 / 1e6);
  std::printf("round lower bound for %.6g bytes down and up per worker: %.6g s (no compute)\n",
              bytes, efsim::platforms::round_lower_bound_s(a, bytes, bytes));
}

int cmd_topology(const std::vector<std::string>& args) {
  std::string scenario, dot, master, workers = "worker-*";
  std::vector<std::string> overrides;
  double bytes = 40000;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kTopologyUsage;
      return 0;
    } else if (a == "--set" || a == "--dot" || a == "--bytes" || a == "--master" ||
               a == "--workers") {
      if (i + 1 >= args.size()) return usage_error(a + " needs a value");
      const std::string v = args[++i];
      if (a == "--set") overrides.push_back(v);
      if (a == "--dot") dot = v;
      if (a == "--master") master = v;
      if (a == "--workers") workers = v;
      if (a == "--bytes") {
        char* end = nullptr;
        bytes = std::strtod(v.c_str(), &end);
        if (v.empty() || *end != '\0' || !(bytes > 0))
          return usage_error("--bytes needs a positive number");
      }
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("topology: unknown option '" + a + "'");
    } else if (scenario.empty()) {
      scenario = a;
    } else {
      return usage_error("topology: more than one scenario given");
    }
  }
  if (scenario.empty())
    return usage_error("topology: missing SCENARIO (a YAML file) or PLATFORM (an XML file)");
  const bool xml = scenario.size() > 4 && scenario.compare(scenario.size() - 4, 4, ".xml") == 0;
  efsim::sim::NetworkSetup net;
  if (xml) {
    net.platform_file = scenario;
    net.master = master;
    net.master_option = "--master NAME";
    net.workers_glob = workers;
    net.model = "textbook";
  } else {
    const auto s = efsim::sim::load_scenario(scenario, overrides);
    if (s.platform.kind == "file") {
      net.platform_file = s.platform.file;
      net.master = s.platform.master;
      net.workers = s.platform.workers;
      net.workers_glob = s.platform.workers_glob;
      net.model = "textbook";
    }
  }
  if (!net.platform_file.empty()) {  // as SimGrid routes it
    if (!std::filesystem::is_regular_file(net.platform_file))
      throw efsim::InputError(net.platform_file + ": no such platform file");
    const auto p = efsim::sim::load_routes(net);
    print_analysis(p.source + " (SimGrid routes; master " + p.master + ")", p.workers.size(),
                   efsim::platforms::analyse(p), bytes);
    if (!dot.empty()) {
      efsim::sim::write_file_atomic(dot, efsim::platforms::routes_dot(p));
      std::printf("routes: %s\n", dot.c_str());
    }
    return 0;
  }
  const auto s = efsim::sim::load_scenario(scenario, overrides);
  const efsim::platforms::TopologySpec spec = s.platform.topology;
  const auto t = efsim::platforms::make_topology(spec);
  print_analysis(t.description, t.workers.size(), efsim::platforms::analyse(t), bytes);
  if (!dot.empty()) {
    efsim::sim::write_file_atomic(dot, efsim::platforms::topology_dot(t));
    std::printf("graph: %s\n", dot.c_str());
  }
  return 0;
}

// "name: help" lines for a method's or compressor's settings, indented under its entry.
void print_settings(const std::vector<std::pair<std::string, std::string>>& settings) {
  for (const auto& [name, help] : settings)
    std::cout << std::string(8, ' ') << name
              << std::string(15 - std::min<std::size_t>(14, name.size()), ' ') << help << "\n";
}

const char* kValidateUsage = R"(Usage: efsim validate [--quick] [--out DIR]

How far each network model's simulated time is from packet-level TCP (ns-3). For each cell of a
grid (message sizes 100 B to 100 MB, worker links 1 Mbps to 10 Gbps, latencies 0.1 to 100 ms,
n = 1 to 64 workers, a thin master link), one parameter-server round on a star: the master sends
S bytes to every worker, each sends S bytes back. The round runs under ns3, simgrid (LV08),
cm02 and textbook, each in its own process. Writes DIR/validation.csv (the times) and
DIR/validation.md (each model's error against ns-3, the worst cells), and prints the Markdown.
The whole grid takes about two minutes of host time (ns-3 moves every packet).

Options:
  --out DIR   output folder (default: results/validation)
  --quick     a small grid (3 sizes, one link; a few seconds)
)";

int cmd_validate(const std::vector<std::string>& args) {
  efsim::sim::ValidationOptions options;
  std::string out = "results/validation";
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "-h" || args[i] == "--help") {
      std::cout << kValidateUsage;
      return 0;
    }
    if (args[i] == "--quick") {
      options.quick = true;
    } else if (args[i] == "--out") {
      if (i + 1 >= args.size()) return usage_error("--out needs a folder");
      out = args[++i];
    } else {
      return usage_error("validate: unknown option '" + args[i] + "'");
    }
  }
  const auto rows = efsim::sim::run_validation(options, true);
  std::filesystem::create_directories(out);
  efsim::sim::write_file_atomic(out + "/validation.csv",
                                efsim::sim::validation_csv(rows, options.models));
  const std::string md = efsim::sim::validation_markdown(rows, options.models);
  efsim::sim::write_file_atomic(out + "/validation.md", md);
  std::cout << md << "\nresults: " << out << "/validation.csv, validation.md\n";
  return 0;
}

int cmd_methods() {
  namespace alg = efsim::alg;
  std::cout
      << "Methods (scenario: runs: [{method: NAME, ...}]). Any value of a runs entry may be a "
         "list;\n"
         "the entry expands to the product of its lists. Every method takes:\n"
         "        compressor     {kind: KIND, ...}: what a worker sends (efsim compressors);\n"
         "                       default identity\n"
         "        stepsize       {theory_multiplier: M} (default 1: the theory stepsize),\n"
         "                       {gamma: G} (absolute), {tune: [M1, M2, ...]} (keep the best),\n"
         "                       theory: pl (the PL-condition stepsize, where listed below)\n"
         "        pattern        parameter_server (default) | tree | ring_allgather |\n"
         "                       ring_allreduce: how the messages travel\n"
         "        downlink       aggregate (default) | model: what the master sends down\n"
         "and the settings listed under it (with their meaning and default).\n\n";
  for (const auto& m : alg::method_registry()) {
    std::cout << "  " << m.name << std::string(18 - std::min<std::size_t>(17, m.name.size()), ' ')
              << m.summary << "\n";
    std::string notes;
    switch (m.compressor) {
      case alg::CompressorNeed::kIdentity:
        notes = "exact gradients (the compressor is the identity)";
        break;
      case alg::CompressorNeed::kContractive:
        notes = "needs a contractive compressor";
        break;
      case alg::CompressorNeed::kUnbiased:
        notes = "needs an unbiased compressor";
        break;
      case alg::CompressorNeed::kAny:
        break;
    }
    if (!m.has_theory()) notes += (notes.empty() ? "" : "; ") + std::string("no theory stepsize");
    if (!m.theory_scope.empty())
      notes += (notes.empty() ? "" : "; ") + std::string("theory stepsize on ") + m.theory_scope +
               " only";
    if (m.pl_theory != nullptr) notes += (notes.empty() ? "" : "; ") + std::string("theory: pl");
    if (!m.model_downlink)
      notes += (notes.empty() ? "" : "; ") + std::string("downlink: aggregate only");
    if (m.own_compression)
      notes += (notes.empty() ? "" : "; ") + std::string("compresses by itself: no compressor");
    if (m.summable_uploads)
      notes +=
          (notes.empty() ? "" : "; ") +
          std::string("uploads add up: ring_allreduce moves them at their size; no ring_allgather");
    if (m.takes("downlink_compressor"))
      notes += "; no ring patterns (their workers aggregate: no downlink to compress)";
    if (m.skips_uploads)
      notes +=
          "; skipped uploads cost no bytes and no time (trace: uploads_skipped); "
          "no ring_allreduce";
    if (!notes.empty()) std::cout << std::string(20, ' ') << notes << "\n";
    if (!m.missing_upload.empty())
      std::cout << std::string(20, ' ') << "round_deadline / availability: " << m.missing_upload
                << "\n";
    std::vector<std::pair<std::string, std::string>> settings;
    for (const auto& p : m.params) settings.emplace_back(p, alg::find_parameter(p).help);
    if (m.partial_participation)
      settings.emplace_back(
          "participation", m.population
                               ? "{p: P} or {tau: T}: partial participation; {tau: T, materialize: "
                                 "sampled}: a population, only the sampled clients simulated"
                               : "{p: P} or {tau: T}: partial participation");
    print_settings(settings);
  }
  return 0;
}

int cmd_compressors() {
  std::cout
      << "Compressors (scenario: compressor: {kind: KIND, PARAM: value, ...}); any parameter\n"
         "may be a list. alpha: contraction E||C(x)-x||^2 <= (1-alpha)||x||^2; delta: unbiased,\n"
         "E||C(x)||^2 <= delta ||x||^2 (an unbiased C with delta < 2 is contractive, alpha = 2 - "
         "delta).\n\n";
  for (const auto& c : efsim::alg::compressor_registry()) {
    std::cout << "  " << c.kind << "\n"
              << "      "
              << (c.klass == efsim::alg::CompressorClass::kContractive ? "contractive, "
                                                                       : "unbiased, ")
              << c.constant << "\n"
              << "      " << c.summary << "\n";
    std::vector<std::pair<std::string, std::string>> settings;
    for (const auto& p : c.params) {
      std::string help = p.help;
      if (!p.choices.empty()) {
        std::string list;
        for (const auto& ch : p.choices) list += (list.empty() ? "" : " | ") + ch;
        help = list + ": " + help;
      }
      settings.emplace_back(p.name, help + (p.required ? " (required)" : ""));
    }
    print_settings(settings);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.empty()) {
      std::cerr << kUsage;
      return 2;
    }
    const std::string cmd = args[0];
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (cmd == "-h" || cmd == "--help" || cmd == "help") {
      std::cout << kUsage;
      return 0;
    }
    if (cmd == "--version" || cmd == "version") {
      std::cout << "efsim " << efsim::kVersion << "\n";
      return 0;
    }
    if (cmd == "run") return cmd_run(rest);
    if (cmd == "report") return cmd_report(rest);
    if (cmd == "topology") return cmd_topology(rest);
    if (cmd == "compare") {
      if (rest.empty() || rest[0] == "-h" || rest[0] == "--help") {
        std::cout << kCompareUsage;
        return rest.empty() ? 2 : 0;
      }
      for (const auto& a : rest)
        if (!a.empty() && a[0] == '-') return usage_error("compare: unknown option '" + a + "'");
      if (rest.size() == 1) {
        const auto sweep = efsim::sim::load_sweep(rest.front());
        std::cout << efsim::sim::compare_table(sweep.rows);
        return 0;
      }
      std::vector<efsim::sim::SweepResults> sweeps;
      for (const auto& dir : rest) sweeps.push_back(efsim::sim::load_sweep(dir));
      std::cout << efsim::sim::compare_sweeps(sweeps);
      return 0;
    }
    if (cmd == "validate") return cmd_validate(rest);
    if (cmd == "methods") return cmd_methods();
    if (cmd == "compressors") return cmd_compressors();
    return usage_error("unknown command '" + cmd + "'");
  } catch (const efsim::InputError& e) {
    std::cerr << "efsim: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "efsim: error: internal: " << e.what() << "\n";
    return 3;
  }
}
