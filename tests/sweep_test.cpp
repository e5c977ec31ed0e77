// Sweeps as users run them (the real binary): parallel runs give the same bytes, a killed sweep
// resumes without redoing finished runs, shards merge into the unsharded result, stepsize
// tuning keeps the best run, and the report is written from the result files.
#include "sim/sweep/sweep.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <thread>

#include "sim/sweep/recorder.hpp"
#include "sim/text.hpp"
#include "test_util.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using efsim::test::quoted;
using efsim::test::run_efsim;
using efsim::test::slurp;

// Six runs of a few tenths of a second each.
const char* kSweep =
    "seed: 5\n"
    "network_model: textbook\n"
    "platform: {kind: star, bandwidth: 10Mbps, latency: 1ms}\n"
    "problem:\n"
    "  dataset: synthetic\n"
    "  synthetic: {samples: 3000, dim: 3000, nnz_per_row: 30}\n"
    "  workers: 4\n"
    "  lambda: 0.01\n"
    "stop: {max_rounds: 400, grad_norm_sq: 1e-7}\n"
    "runs:\n"
    "  - method: gd\n"
    "  - method: [ef, ef21]\n"
    "    compressor: {kind: top_k, k: [10, 100]}\n"
    "    stepsize: {theory_multiplier: 4}\n"
    "  - method: dcgd\n"
    "    compressor: {kind: natural}\n";

class SweepTest : public efsim::test::TempDirTest {
 protected:
  std::string scenario(const std::string& text = kSweep) { return write("sweep.yaml", text); }
  // Every result file (not the report) under dir, relative path -> bytes.
  static std::map<std::string, std::string> results(const fs::path& dir) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (!e.is_regular_file()) continue;
      const std::string rel = fs::relative(e.path(), dir).string();
      if (rel.rfind("runs/", 0) == 0 || rel == "summary.csv" || rel == "sweep.json")
        out[rel] = slurp(e.path());
    }
    return out;
  }
  static void expect_same_results(const fs::path& a, const fs::path& b) {
    const auto ra = results(a), rb = results(b);
    ASSERT_FALSE(ra.empty());
    ASSERT_EQ(ra.size(), rb.size());
    for (const auto& [rel, bytes] : ra) {
      auto it = rb.find(rel);
      ASSERT_NE(it, rb.end()) << rel << " missing in " << b;
      EXPECT_EQ(bytes, it->second) << rel << " differs";
    }
  }
};

TEST_F(SweepTest, JobsOneAndTwoGiveIdenticalFiles) {
  const std::string s = scenario();
  const auto r1 = run_efsim("run " + quoted(s) + " --quiet --no-report --jobs 1 --out " +
                            quoted((dir_ / "j1").string()));
  const auto r2 = run_efsim("run " + quoted(s) + " --quiet --no-report --jobs 2 --out " +
                            quoted((dir_ / "j2").string()));
  ASSERT_EQ(r1.status, 0) << r1.output;
  ASSERT_EQ(r2.status, 0) << r2.output;
  // The printed table too (all but the last line, which names the folder).
  EXPECT_EQ(efsim::test::without_sanitizer_notes(r1.output.substr(0, r1.output.find("results: "))),
            efsim::test::without_sanitizer_notes(r2.output.substr(0, r2.output.find("results: "))));
  expect_same_results(dir_ / "j1", dir_ / "j2");
  EXPECT_EQ(results(dir_ / "j1").size(), 6u * 3 + 2);  // 6 runs x 3 files + summary + sweep.json
}

TEST_F(SweepTest, KilledSweepResumesWithoutRedoingFinishedRuns) {
  const std::string s = scenario();
  const fs::path out = dir_ / "killed";
  // Start a sequential sweep in its own process group, kill it all (-9) once two runs are done.
  const std::string bin = EFSIM_BINARY;
  std::vector<std::string> args = {bin,      "run", s,       "--quiet",   "--no-report",
                                   "--jobs", "1",   "--out", out.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, bin.c_str(), nullptr, &attr, argv.data(), environ), 0);
  posix_spawnattr_destroy(&attr);
  auto done_runs = [&out] {
    int n = 0;
    if (fs::exists(out / "runs"))
      for (const auto& e : fs::directory_iterator(out / "runs"))
        n += fs::exists(e.path() / "run.json");
    return n;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (done_runs() < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ::kill(-pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  const int finished = done_runs();
  ASSERT_GE(finished, 2);
  ASSERT_LT(finished, 6) << "the sweep finished before it could be killed";
  EXPECT_FALSE(fs::exists(out / "summary.csv"));  // nothing that looks complete
  // Remember the finished runs' files (and their modification times).
  std::map<std::string, fs::file_time_type> stamps;
  for (const auto& e : fs::directory_iterator(out / "runs"))
    if (fs::exists(e.path() / "run.json"))
      stamps[e.path().filename().string()] = fs::last_write_time(e.path() / "trace.csv");

  const auto resumed =
      run_efsim("run " + quoted(s) + " --no-report --jobs 2 --out " + quoted(out.string()));
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_NE(resumed.output.find(std::to_string(finished) + " already complete"), std::string::npos)
      << resumed.output;
  for (const auto& [id, t] : stamps)
    EXPECT_EQ(fs::last_write_time(out / "runs" / id / "trace.csv"), t) << id << " was redone";
  // No temporary leftovers, and the same bytes as a sweep that was never interrupted.
  for (const auto& e : fs::directory_iterator(out / "runs"))
    EXPECT_NE(e.path().filename().string().rfind(".tmp-", 0), 0u) << e.path();
  ASSERT_EQ(run_efsim("run " + quoted(s) + " --quiet --no-report --out " +
                      quoted((dir_ / "clean").string()))
                .status,
            0);
  expect_same_results(out, dir_ / "clean");
}

TEST_F(SweepTest, ChangedInputsAreRerunUnchangedAreNot) {
  const std::string s = scenario();
  const std::string out = quoted((dir_ / "o").string());
  ASSERT_EQ(run_efsim("run " + quoted(s) + " --quiet --no-report --out " + out).status, 0);
  const auto again = run_efsim("run " + quoted(s) + " --no-report --out " + out);
  EXPECT_NE(again.output.find("6 already complete"), std::string::npos) << again.output;
  const auto changed =
      run_efsim("run " + quoted(s) + " --no-report --set stop.max_rounds=300 --out " + out);
  EXPECT_EQ(changed.output.find("already complete"), std::string::npos) << changed.output;
  const auto fresh =
      run_efsim("run " + quoted(s) + " --no-report --set stop.max_rounds=300 --fresh --out " + out);
  EXPECT_EQ(fresh.output.find("already complete"), std::string::npos) << fresh.output;
}

TEST_F(SweepTest, ShardsMergedEqualTheUnshardedSweep) {
  const std::string s = scenario();
  ASSERT_EQ(run_efsim("run " + quoted(s) + " --quiet --no-report --out " +
                      quoted((dir_ / "all").string()))
                .status,
            0);
  ASSERT_EQ(run_efsim("run " + quoted(s) + " --quiet --no-report --shard 1/2 --out " +
                      quoted((dir_ / "s1").string()))
                .status,
            0);
  ASSERT_EQ(run_efsim("run " + quoted(s) + " --quiet --no-report --shard 2/2 --out " +
                      quoted((dir_ / "s2").string()))
                .status,
            0);
  // Each shard holds half of the runs; its own summary lists the others as pending.
  int in_s1 = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "s1" / "runs"))
    in_s1 += fs::exists(e.path() / "run.json");
  EXPECT_EQ(in_s1, 3);
  EXPECT_NE(slurp(dir_ / "s1" / "summary.csv").find(",pending,"), std::string::npos);
  const auto merged =
      run_efsim("report " + quoted((dir_ / "s1").string()) + " " + quoted((dir_ / "s2").string()) +
                " --quiet --out " + quoted((dir_ / "merged").string()));
  ASSERT_TRUE(merged.status == 0 || merged.status == 1) << merged.output;  // 1: no matplotlib
  EXPECT_EQ(slurp(dir_ / "merged" / "summary.csv"), slurp(dir_ / "all" / "summary.csv"));
  // Shards of different sweeps do not merge.
  ASSERT_EQ(run_efsim("run " + quoted(s) + " --quiet --no-report --set seed=6 --out " +
                      quoted((dir_ / "other").string()))
                .status,
            0);
  const auto bad =
      run_efsim("report " + quoted((dir_ / "all").string()) + " " +
                quoted((dir_ / "other").string()) + " --out " + quoted((dir_ / "bad").string()));
  EXPECT_EQ(bad.status, 2) << bad.output;
  EXPECT_NE(bad.output.find("different inputs"), std::string::npos) << bad.output;
}

TEST_F(SweepTest, TuneKeepsTheFastestStepsizePerGroup) {
  const std::string text =
      "seed: 5\nnetwork_model: textbook\nplatform: {kind: star, bandwidth: 10Mbps}\n"
      "problem: {dataset: synthetic, synthetic: {samples: 1000, dim: 500, nnz_per_row: 10}, "
      "workers: 4, lambda: 0.01}\n"
      "stop: {max_rounds: 300, grad_norm_sq: 1e-6}\n"
      "runs:\n"
      "  - method: [ef, ef21]\n"
      "    compressor: {kind: top_k, k: 20}\n"
      "    stepsize: {tune: [1, 4, 16]}\n";
  const std::string s = write("tune.yaml", text);
  const auto r =
      run_efsim("run " + quoted(s) + " --quiet --no-report --out " + quoted((dir_ / "t").string()));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("best stepsize of its tuning group"), std::string::npos) << r.output;
  // Check the winners independently from the traces: per group, the smallest time to target
  // (first round meeting the target), else the smallest final ||∇f||^2.
  std::map<std::string, std::pair<double, std::string>> best;
  for (const auto& e : fs::directory_iterator(dir_ / "t" / "runs")) {
    const auto rec = efsim::sim::read_run_json((e.path() / "run.json").string());
    const auto trace = efsim::sim::read_trace_csv((e.path() / "trace.csv").string());
    double score = 1e300;
    for (const auto& row : trace)
      if (row.grad_norm_sq <= 1e-6) {
        score = row.sim_time_s;
        break;
      }
    if (score == 1e300) score = 1e200 + trace.back().grad_norm_sq;  // never reached: rank by final
    EXPECT_EQ(rec.tune_group, rec.method + "-top_k20");
    auto& b = best[rec.tune_group];
    if (b.second.empty() || score < b.first) b = {score, rec.id};
  }
  ASSERT_EQ(best.size(), 2u);
  const std::string summary = slurp(dir_ / "t" / "summary.csv");
  for (const auto& [group, b] : best) {
    const auto line = summary.find("\n" + b.second + ",");
    ASSERT_NE(line, std::string::npos);
    EXPECT_NE(summary.substr(line, summary.find('\n', line + 1) - line).find("," + group + ",yes"),
              std::string::npos)
        << b.second << " should win " << group << "\n"
        << summary;
  }
}

TEST(Summary, TimeToTargetIsTheFirstRoundMeetingTheTarget) {
  efsim::sim::RunRecord rec;
  rec.stop.target_grad_norm_sq = 1e-3;
  std::vector<efsim::alg::TraceRow> trace(5);
  const double g[] = {1.0, 1e-2, 9e-4, 2e-3, 1e-5};  // crosses at round 2, bounces back, then below
  for (int k = 0; k < 5; ++k) {
    trace[k].round = k;
    trace[k].sim_time_s = 0.5 * k;
    trace[k].grad_norm_sq = g[k];
    trace[k].bits_up_per_worker = 100.0 * k;
    trace[k].bits_down_per_worker = 10.0 * k;
  }
  const auto row = efsim::sim::summarize(rec, trace);
  ASSERT_TRUE(row.rounds_to_target.has_value());
  EXPECT_EQ(*row.rounds_to_target, 2);
  EXPECT_EQ(*row.time_to_target_s, 1.0);
  EXPECT_EQ(*row.bits_up_to_target, 200.0);
  EXPECT_EQ(*row.bits_down_to_target, 20.0);
  rec.stop.target_grad_norm_sq = 1e-9;  // never reached
  EXPECT_FALSE(efsim::sim::summarize(rec, trace).time_to_target_s.has_value());
}

// The report's Python modules (analysis/report.py): pandas and matplotlib.
bool have_matplotlib() {
  return std::system("/usr/bin/python3 -c 'import matplotlib, pandas' > /dev/null 2>&1") == 0;
}

TEST_F(SweepTest, ReportIsSelfContainedAndReadsOnlyResultFiles) {
  if (!have_matplotlib()) GTEST_SKIP() << "python3-matplotlib not installed";
  const std::string s = scenario();
  const fs::path out = dir_ / "rep";
  const auto r = run_efsim("run " + quoted(s) + " --quiet --out " + quoted(out.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string page = slurp(out / "report.html");
  auto count = [&](const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = page.find(what); at != std::string::npos; at = page.find(what, at + 1))
      ++n;
    return n;
  };
  // Time, uplink bits, downlink bits, rounds, time to target (interactive with python3-plotly,
  // else PNGs) and the breakdown (a PNG).
  EXPECT_EQ(count("<div id=\"fig-") + count("<img alt="), 6u);
  EXPECT_EQ(count("<img alt="),
            std::system("/usr/bin/python3 -c 'import plotly' 2> /dev/null") == 0 ? 1u : 6u);
  EXPECT_EQ(page.find("src='plots/"), std::string::npos);  // nothing outside the file
  EXPECT_EQ(page.find("<script src="), std::string::npos);
  for (const char* id : {"gd-identity-x1", "ef21-top_k100-x4", "dcgd-natural-x1"})
    EXPECT_NE(page.find(id), std::string::npos) << id;
  EXPECT_NE(slurp(out / "report.md").find("| run | method | compressor |"), std::string::npos);
  EXPECT_NE(slurp(out / "time_to_target.csv").find("speedup vs GD"), std::string::npos);
  // The report is rebuilt from the result files alone, in another folder.
  const auto again = run_efsim("report " + quoted(out.string()) + " --quiet --out " +
                               quoted((dir_ / "rep2").string()));
  ASSERT_EQ(again.status, 0) << again.output;
  EXPECT_EQ(slurp(dir_ / "rep2" / "summary.csv"), slurp(out / "summary.csv"));
  EXPECT_TRUE(fs::exists(dir_ / "rep2" / "report.html"));
}

// What a reader sees: the HTML report renders in headless Chromium (analysis/screenshot.sh).
TEST_F(SweepTest, ReportRendersInHeadlessChromium) {
  if (!have_matplotlib() || std::system("command -v chromium > /dev/null 2>&1") != 0) {
    // ./run.sh test (and so CI) installs both and sets EFSIM_REQUIRE_BROWSER: no silent skip.
    if (std::getenv("EFSIM_REQUIRE_BROWSER") != nullptr)
      FAIL() << "EFSIM_REQUIRE_BROWSER is set but python3-matplotlib or chromium is missing";
    GTEST_SKIP() << "needs python3-matplotlib and chromium";
  }
  const fs::path out = dir_ / "shot";
  ASSERT_EQ(
      run_efsim("run " + quoted(scenario()) + " --quiet --out " + quoted(out.string())).status, 0);
  const std::string cmd = quoted(std::string(EFSIM_SOURCE_DIR) + "/analysis/screenshot.sh") + " " +
                          quoted((out / "report.html").string()) + " " +
                          quoted((out / "shot.png").string()) + " > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const std::string png = slurp(out / "shot.png");
  ASSERT_GT(png.size(), 50000u);  // a rendered page with tables and six plots, not a blank one
  EXPECT_EQ(png.substr(1, 3), "PNG");
}

TEST_F(SweepTest, BadSweepOptionsAreUsageErrors) {
  const std::string s = scenario();
  for (const char* bad : {"--jobs 0", "--jobs x", "--shard 3/2", "--shard 1", "--shard 0/1"}) {
    const auto r = run_efsim("run " + quoted(s) + " " + bad);
    EXPECT_EQ(r.status, 2) << bad << ": " << r.output;
  }
  const fs::path file = dir_ / "afile";
  write("afile", "x");
  const auto r = run_efsim("run " + quoted(s) + " --out " + quoted(file.string()));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("not a folder"), std::string::npos) << r.output;
  const auto rep = run_efsim("report " + quoted((dir_ / "nothing").string()));
  EXPECT_EQ(rep.status, 2) << rep.output;
}

// A sweep over named platforms: every run on each, ids tagged @name, GD's speedup baseline taken
// per platform, and `efsim compare` puts the platforms side by side.
// The speedup's baseline is GD proper: an uncompressed method that sends every round. The lazy
// lag and lag_wk (identity compressor, but skipped uploads) are measured against it, never set it.
TEST(Annotate, LazyIdentityMethodsAreNotTheBaseline) {
  auto row = [](const std::string& method, double t) {
    efsim::sim::SummaryRow r;
    r.run.id = method;
    r.run.method = method;
    r.time_to_target_s = t;
    return r;
  };
  std::vector<efsim::sim::SummaryRow> rows = {row("gd", 2.0), row("lag_wk", 1.0), row("lag", 0.5),
                                              row("ef21", 4.0)};
  efsim::sim::annotate(rows);
  EXPECT_DOUBLE_EQ(*rows[0].speedup_vs_gd, 1.0);
  EXPECT_DOUBLE_EQ(*rows[1].speedup_vs_gd, 2.0);
  EXPECT_DOUBLE_EQ(*rows[2].speedup_vs_gd, 4.0);
  EXPECT_DOUBLE_EQ(*rows[3].speedup_vs_gd, 0.5);
}

TEST_F(SweepTest, PlatformsAreASweepAxisWithPerPlatformBaselines) {
  const std::string text =
      "seed: 5\nnetwork_model: textbook\n"
      "platforms:\n"
      "  - {name: slow, kind: star, bandwidth: 1Mbps}\n"
      "  - {name: fast, kind: ring, bandwidth: 1Gbps, uplink: 1Gbps}\n"
      "problem: {dataset: synthetic, synthetic: {samples: 400, dim: 2000, nnz_per_row: 10}, "
      "workers: 4, lambda: 0.01}\n"
      "stop: {max_rounds: 300, grad_norm_sq: 1e-7}\n"
      "runs:\n"
      "  - method: gd\n"
      "  - method: ef21\n"
      "    compressor: {kind: top_k, k: 50}\n"
      "    stepsize: {theory_multiplier: 8}\n";
  const fs::path out = dir_ / "plat";
  const auto r = run_efsim("run " + quoted(write("plat.yaml", text)) +
                           " --quiet --no-report --out " + quoted(out.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* id : {"gd-identity-x1@slow", "gd-identity-x1@fast", "ef21-top_k50-x8@slow",
                         "ef21-top_k50-x8@fast"})
    EXPECT_TRUE(fs::exists(out / "runs" / id / "run.json")) << id;
  EXPECT_NE(slurp(out / "runs" / "ef21-top_k50-x8@fast" / "platform.xml").find("\"ring-2\""),
            std::string::npos);  // a ring
  // Speedups against the GD run of the same platform, recomputed from the summary.
  double target = 0;
  const auto rows = efsim::sim::collect_results({out.string()}, &target);
  std::map<std::string, double> gd;
  for (const auto& row : rows)
    if (row.run.method == "gd" && row.time_to_target_s)
      gd[row.run.platform_name] = *row.time_to_target_s;
  ASSERT_EQ(gd.size(), 2u);
  EXPECT_GT(gd["slow"], 5 * gd["fast"]);
  auto annotated = rows;
  efsim::sim::annotate(annotated);
  for (const auto& row : annotated) {
    if (row.time_to_target_s) {
      EXPECT_DOUBLE_EQ(*row.speedup_vs_gd, gd[row.run.platform_name] / *row.time_to_target_s)
          << row.run.id;
    }
  }
  const auto cmp = run_efsim("compare " + quoted(out.string()));
  ASSERT_EQ(cmp.status, 0) << cmp.output;
  EXPECT_NE(cmp.output.find("slow"), std::string::npos);
  EXPECT_NE(cmp.output.find("ef21-top_k50-x8 "), std::string::npos) << cmp.output;
  EXPECT_NE(cmp.output.find("(1.00x)"), std::string::npos) << cmp.output;
}

// `efsim run --check`: validates like a run and lists what the run would do, writes nothing; the
// ids and stepsizes it lists are those the real sweep then records.
TEST_F(SweepTest, CheckListsTheRunsOfTheSweepAndWritesNothing) {
  const std::string s = scenario();
  const fs::path dry = dir_ / "dry";
  const auto check = run_efsim("run " + quoted(s) + " --check --out " + quoted(dry.string()));
  ASSERT_EQ(check.status, 0) << check.output;
  EXPECT_FALSE(fs::exists(dry));
  EXPECT_NE(check.output.find(": valid; 6 runs -> " + dry.string()), std::string::npos)
      << check.output;
  const fs::path out = dir_ / "real";
  ASSERT_EQ(
      run_efsim("run " + quoted(s) + " --quiet --no-report --out " + quoted(out.string())).status,
      0);
  double target = 0;
  const auto rows = efsim::sim::collect_results({out.string()}, &target);
  ASSERT_EQ(rows.size(), 6u);
  std::size_t at = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {  // "#  id  gamma  from", in the sweep's order
    const std::string line = std::to_string(i + 1) + "  " + rows[i].run.id;
    at = check.output.find(line, at);
    ASSERT_NE(at, std::string::npos) << line << "\n" << check.output;
    const std::string rest = check.output.substr(at, check.output.find('\n', at) - at);
    EXPECT_NE(rest.find(" " + efsim::sim::exact(rows[i].run.gamma) + " "), std::string::npos)
        << rest;
  }
  // A shard lists its own runs: 2/4 has the 2nd and the 6th.
  const auto shard = run_efsim("run " + quoted(s) + " --check --shard 2/4");
  ASSERT_EQ(shard.status, 0) << shard.output;
  EXPECT_NE(shard.output.find("6 runs, shard 2/4 runs 2"), std::string::npos) << shard.output;
  EXPECT_NE(shard.output.find("2  " + rows[1].run.id), std::string::npos) << shard.output;
  EXPECT_NE(shard.output.find("6  " + rows[5].run.id), std::string::npos) << shard.output;
  EXPECT_EQ(shard.output.find(rows[0].run.id), std::string::npos) << shard.output;
  // Bad input: the run's own message and exit 2, before anything is written.
  std::string bad = kSweep;
  bad.replace(bad.find("k: [10, 100]"), 12, "k: [10, 5000]");
  const auto r =
      run_efsim("run " + quoted(write("bad.yaml", bad)) + " --check --out " + quoted(dry.string()));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("efsim: error: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("k = 5000 must be in 1..3000 (d)"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dry));
}

// `efsim compare` of two sweeps: runs matched by id, both times shown (each sweep's own
// summary), the ratio of the two, and '-' for a run only one sweep has.
TEST_F(SweepTest, CompareTwoSweepsMatchesRunsById) {
  const std::string s = scenario();
  const fs::path a = dir_ / "slow", b = dir_ / "fast";
  ASSERT_EQ(
      run_efsim("run " + quoted(s) + " --quiet --no-report --out " + quoted(a.string())).status, 0);
  ASSERT_EQ(run_efsim("run " + quoted(s) + " --quiet --no-report --out " + quoted(b.string()) +
                      " --set platform.bandwidth=1Gbps --set 'runs.1.compressor.k=[10]'")
                .status,
            0);
  const auto cmp = run_efsim("compare " + quoted(a.string()) + " " + quoted(b.string()));
  ASSERT_EQ(cmp.status, 0) << cmp.output;
  EXPECT_EQ(cmp.output.find("merge shards"), std::string::npos) << cmp.output;
  EXPECT_NE(cmp.output.find("sweep 1: " + a.string() + " (scenario sweep, 6 runs"),
            std::string::npos)
      << cmp.output;
  EXPECT_NE(cmp.output.find("sweep 2: " + b.string() + " (scenario sweep, 4 runs"),
            std::string::npos)
      << cmp.output;
  double target = 0;
  auto ra = efsim::sim::collect_results({a.string()}, &target);
  auto rb = efsim::sim::collect_results({b.string()}, &target);
  efsim::sim::annotate(ra);
  efsim::sim::annotate(rb);
  char buf[64];
  for (const auto& row : ra) {
    const std::size_t at = cmp.output.find("\n" + row.run.id + " ");
    ASSERT_NE(at, std::string::npos) << row.run.id << "\n" << cmp.output;
    const std::string line = cmp.output.substr(at + 1, cmp.output.find('\n', at + 1) - at - 1);
    const efsim::sim::SummaryRow* other = nullptr;
    for (const auto& o : rb)
      if (o.run.id == row.run.id) other = &o;
    for (const auto* r : {&row, other}) {
      if (r == nullptr || !r->time_to_target_s) continue;
      std::snprintf(buf, sizeof buf, "%.4g s", *r->time_to_target_s);
      EXPECT_NE(line.find(buf), std::string::npos) << line;
    }
    if (other == nullptr) {  // only in sweep 1 (k = 100)
      EXPECT_NE(row.run.id.find("k100"), std::string::npos);
      EXPECT_EQ(line.substr(line.size() - 1), "-") << line;
    } else if (row.time_to_target_s && other->time_to_target_s) {
      std::snprintf(buf, sizeof buf, " %.3g", *other->time_to_target_s / *row.time_to_target_s);
      EXPECT_EQ(line.substr(line.size() - std::string(buf).size()), buf) << line;
    }
  }
  // A folder without runs: exit 2.
  fs::create_directories(dir_ / "empty");
  EXPECT_EQ(
      run_efsim("compare " + quoted(a.string()) + " " + quoted((dir_ / "empty").string())).status,
      2);
}

}  // namespace

namespace {

// --run-timeout: a run over its wall-clock budget is killed and recorded as `timeout`, with
// nothing of it left half-written; the other runs finish; the sweep exits 1; a rerun tries the
// timed-out run again.
TEST_F(SweepTest, RunTimeoutRecordsTheRunAndTheOthersFinish) {
  // The first run's stepsize is too small ever to reach the target: it would run 10^8 rounds.
  const std::string slow = write("slow.yaml",
                                 "seed: 1\n"
                                 "network_model: textbook\n"
                                 "problem:\n"
                                 "  dataset: synthetic\n"
                                 "  synthetic: {samples: 400, dim: 100, nnz_per_row: 10}\n"
                                 "  workers: 2\n"
                                 "stop: {max_rounds: 100000000, grad_norm_sq: 1e-3}\n"
                                 "runs:\n"
                                 "  - method: gd\n"
                                 "    stepsize: {gamma: [1e-12, 1]}\n");
  const fs::path out = dir_ / "timeout";
  const auto start = std::chrono::steady_clock::now();
  const auto r = run_efsim("run " + quoted(slow) + " --no-report --jobs 1 --run-timeout 1 --out " +
                           quoted(out.string()));
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("TIMEOUT after"), std::string::npos) << r.output;
  EXPECT_LT(took, 30.0);
  const std::string summary = slurp(out / "summary.csv");
  EXPECT_NE(summary.find("gd-identity-g1e-12,gd,identity,0,1e-12,timeout,"), std::string::npos)
      << summary;
  EXPECT_NE(summary.find("gd-identity-g1,gd,identity,0,1,target,"), std::string::npos) << summary;
  EXPECT_FALSE(fs::exists(out / "runs" / "gd-identity-g1e-12"));
}

}  // namespace
