// End-to-end tests of the efsim binary (EFSIM_BINARY): help and usage exit codes, a typo'd
// scenario rejected before any output is written, and a tiny sweep that is deterministic and
// writes traces with the documented shape.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "algorithms/compressors/compressor.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;

using efsim::test::quoted;
using efsim::test::Result;
using efsim::test::run_efsim;
using efsim::test::slurp;

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream in(s);
  while (std::getline(in, cell, sep)) out.push_back(cell);
  return out;
}

using CliTest = efsim::test::TempDirTest;

const char* kTiny =
    "name: tiny\n"
    "seed: 3\n"
    "network_model: textbook\n"
    "problem:\n"
    "  dataset: synthetic\n"
    "  workers: 2\n"
    "  synthetic: {samples: 200, dim: 50, nnz_per_row: 5}\n"
    "stop: {max_rounds: 5}\n"
    "runs:\n"
    "  - method: gd\n"
    "  - method: ef21\n"
    "    compressor: {kind: top_k, k: 2}\n";

TEST_F(CliTest, HelpExitsZeroAndMentionsOptions) {
  for (const char* args : {"--help", "-h", "run --help"}) {
    const Result r = run_efsim(args);
    EXPECT_EQ(r.status, 0) << args << "\n" << r.output;
    EXPECT_NE(r.output.find("--out"), std::string::npos) << args << "\n" << r.output;
    EXPECT_NE(r.output.find("--set"), std::string::npos) << args << "\n" << r.output;
  }
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  const Result none = run_efsim("");
  EXPECT_EQ(none.status, 2) << none.output;
  EXPECT_NE(none.output.find("Usage"), std::string::npos) << none.output;
  const Result unknown = run_efsim("frobnicate");
  EXPECT_EQ(unknown.status, 2) << unknown.output;
  EXPECT_NE(unknown.output.find("frobnicate"), std::string::npos) << unknown.output;
  const Result no_scenario = run_efsim("run");
  EXPECT_EQ(no_scenario.status, 2) << no_scenario.output;
  const Result bad_option = run_efsim("run x.yaml --bogus");
  EXPECT_EQ(bad_option.status, 2) << bad_option.output;
  const Result missing = run_efsim("run " + quoted((dir_ / "absent.yaml").string()) + " --quiet");
  EXPECT_EQ(missing.status, 2) << missing.output;
  EXPECT_NE(missing.output.find("absent.yaml"), std::string::npos) << missing.output;
}

TEST_F(CliTest, ListsMethodsAndCompressors) {
  const Result m = run_efsim("methods");
  EXPECT_EQ(m.status, 0);
  for (const char* name : {"gd", "ef", "ef21"})
    EXPECT_NE(m.output.find(name), std::string::npos) << m.output;
  const Result c = run_efsim("compressors");
  EXPECT_EQ(c.status, 0);
  EXPECT_NE(c.output.find("top_k"), std::string::npos) << c.output;
}

TEST_F(CliTest, TypoRejectedBeforeAnyOutput) {
  const std::string text =
      "name: typo\n"
      "network_model: textbook\n"
      "problem:\n"
      "  dataset: synthetic\n"
      "  workers: 2\n"
      "  synthetic: {samples: 200, dim: 50, nnz_per_row: 5}\n"
      "stop:\n"
      "  max_round: 5\n"
      "runs: [{method: gd}]\n";
  const std::string path = write("typo.yaml", text);
  const fs::path out = dir_ / "out-typo";
  const Result r = run_efsim("run " + quoted(path) + " --out " + quoted(out.string()));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find(path + ":8:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("stop.max_round"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out)) << "results folder created for a bad scenario";
}

TEST_F(CliTest, KLargerThanDimRejectedBeforeAnyOutput) {
  // Valid YAML, but k = 100 > d = 50 is only known once the data exists: still exit 2, naming
  // the runs entry (line 8), and no results folder.
  const std::string text =
      "network_model: textbook\n"
      "problem:\n"
      "  dataset: synthetic\n"
      "  workers: 2\n"
      "  synthetic: {samples: 200, dim: 50, nnz_per_row: 5}\n"
      "runs:\n"
      "  - method: gd\n"
      "  - method: ef21\n"
      "    compressor: {kind: top_k, k: 100}\n";
  const std::string path = write("kbig.yaml", text);
  const fs::path out = dir_ / "out-kbig";
  const Result r = run_efsim("run " + quoted(path) + " --out " + quoted(out.string()));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find(path + ":8"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("100"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out));
}

// A platform file without the worker-to-worker routes a ring needs: exit 2, the missing route
// named, no summary.
TEST_F(CliTest, PatternWithoutRoutesInThePlatformFileRejected) {
  const fs::path out = dir_ / "out-ring";
  const Result r = run_efsim(
      "run " + quoted(std::string(EFSIM_SOURCE_DIR) + "/scenarios/example_platform_file.yaml") +
      " --out " + quoted(out.string()) +
      " --set runs.0.pattern=ring_allgather --set stop.max_rounds=2 --quiet");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("example_star.xml: no route from worker-0 to worker-1 (pattern "
                          "ring_allgather sends there)"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(fs::exists(out / "summary.csv"));
}

// efsim topology on a SimGrid XML file: SimGrid's routes, analysed; bad hosts exit 2.
TEST_F(CliTest, TopologyAnalysesAPlatformFile) {
  const std::string xml = std::string(EFSIM_SOURCE_DIR) + "/platforms/example_star.xml";
  const fs::path dot = dir_ / "routes.dot";
  const Result r =
      run_efsim("topology " + quoted(xml) + " --master ps --dot " + quoted(dot.string()));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("hosts 5 (1 master, 4 workers), switches 0, links 5"), std::string::npos)
      << r.output;
  // By hand: three 100 Mbps workers and a 10 Mbps one behind a 1 Gbps master link.
  EXPECT_NE(r.output.find("max flow master -> workers: 310 Mbps"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("route bottlenecks: 10 to 100 Mbps"), std::string::npos) << r.output;
  EXPECT_NE(slurp(dot).find("digraph efsim"), std::string::npos);
  // Without --master: no host is named master, and ps is the one host that is not a worker.
  const Result inferred = run_efsim("topology " + quoted(xml));
  EXPECT_EQ(inferred.status, 0) << inferred.output;
  EXPECT_NE(inferred.output.find("(SimGrid routes; master ps)"), std::string::npos)
      << inferred.output;
  EXPECT_NE(inferred.output.find("max flow master -> workers: 310 Mbps"), std::string::npos);
  // A master that is not there: the hosts are listed, and how to name the master.
  const Result bad = run_efsim("topology " + quoted(xml) + " --master nosuch");
  EXPECT_EQ(bad.status, 2) << bad.output;
  EXPECT_NE(bad.output.find("efsim: error: " + xml +
                            ": no host named 'nosuch' (the master); the hosts are ps, worker-0, "
                            "worker-1, worker-2, worker-3: name the master with --master NAME"),
            std::string::npos)
      << bad.output;
  // Several hosts that are not workers: no guess, the candidates are listed.
  const Result none = run_efsim("topology " + quoted(xml) + " --workers 'worker-1*'");
  EXPECT_EQ(none.status, 2) << none.output;
  EXPECT_NE(none.output.find("no host named 'master', and 4 hosts are not workers (ps, worker-0, "
                             "worker-2, worker-3): name the master with --master NAME"),
            std::string::npos)
      << none.output;
}

// The README's table of bad inputs: each gives exit 2, the message shown there, and no summary.
TEST_F(CliTest, BadInputTableOfTheReadme) {
  const std::string synth =
      "problem: {dataset: synthetic, workers: 2, synthetic: {samples: 200, dim: 50, "
      "nnz_per_row: 5}}\n";
  const std::string ef21 = "runs: [{method: ef21, compressor: {kind: top_k, k: 2}}]\n";
  write("zero.svm", "1 0:1\n");
  write("dec.svm", "1 3:1 2:1\n-1 1:1\n");
  write("nan.svm", "1 1:nan\n-1 1:1\n");
  write("inf.svm", "1 1:1\n-1 1:inf\n");
  write("word.svm", "1 1:one\n-1 1:1\n");
  write("empty.svm", "");
  write("two.svm", "1 1:1\n-1 2:1\n");
  write("nolabel.svm", "1:1\n");
  write("train.svm", "1 1:1 3:1\n-1 2:1\n");
  write("test.svm", "1 1:1 4:1\n-1 2:1\n");
  write("bad.xml", "<platform version=\"4.1\"><zone id=\"z\" routing=\"Full\">");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"runs: [method: ef21\n", "YAML syntax error"},
      {synth + ef21 + "stpo: {max_rounds: 3}\n", "key 'stpo': unknown key; did you mean 'stop'?"},
      {synth + ef21 + "stop: {max_rounds: many}\n",
       "key 'stop.max_rounds': 'many' is not an integer"},
      {synth + "runs: [{method: ef21, compressor: {kind: top_k, k: 0}}]\n",
       "key 'runs.0.compressor.k': value 0 out of range"},
      {synth + "runs: [{method: ef21, compressor: {kind: top_k, k: 60}}]\n",
       "compressor top_k: k = 60 must be in 1..50 (d)"},
      {synth + ef21 + "platform: {bandwidth: 0Mbps}\n", "key 'platform.bandwidth': must be > 0"},
      {synth + ef21 + "platform: {bandwidth: 10 Mbps}\n", "'10 Mbps': bandwidth unit must be like"},
      {synth + ef21 + "platform: {bandwidth: 10Mbpz}\n", "'10Mbpz': bandwidth unit must be like"},
      {synth + ef21 + "platform: {latency: -1ms}\n", "key 'platform.latency'"},
      {synth + ef21 + "platform: {worker_speed: 0Gf}\n", "key 'platform.worker_speed'"},
      {synth + "runs: [{method: ef21, compressor: {kind: top_k, k: 2}, stepsize: {gamma: -1}}]\n",
       "key 'runs.0.stepsize.gamma': value -1 out of range"},
      {"problem: {dataset: synthetic, workers: 0}\nruns: [{method: gd}]\n",
       "key 'problem.workers': value 0 out of range"},
      {synth + "runs: [{method: dcgd, participation: {p: 1.5}}]\n",
       "key 'runs.0.participation.p': value 1.5 out of range"},
      {synth + "runs: [{method: ef21, compressor: {kind: top_k, k: 2}, batch: 1000}]\n",
       "batch 1000 exceeds the 100 rows of the smallest worker"},
      {"problem: {dataset: synthetic, workers: 2}\nruns: []\n",
       "key 'runs': expected a non-empty list of run entries"},
      {"problem: {dataset: nonexistent.svm, workers: 2}\nruns: [{method: gd}]\n",
       "key 'problem.dataset': no such file"},
      {"problem: {dataset: zero.svm, workers: 1}\nruns: [{method: gd}]\n",
       "zero.svm:1: feature index 0 out of range (1-based)"},
      {"problem: {dataset: dec.svm, workers: 1}\nruns: [{method: gd}]\n",
       "dec.svm:1: feature indices must increase along a line"},
      {"problem: {dataset: nan.svm, workers: 1}\nruns: [{method: gd}]\n",
       "nan.svm:1: bad feature value"},
      {"problem: {dataset: inf.svm, workers: 1}\nruns: [{method: gd}]\n",
       "inf.svm:2: bad feature value"},
      {"problem: {dataset: word.svm, workers: 1}\nruns: [{method: gd}]\n",
       "word.svm:1: bad feature value"},
      {"problem: {dataset: empty.svm, workers: 1}\nruns: [{method: gd}]\n",
       "empty.svm: dataset has no samples"},
      {"problem: {dataset: nolabel.svm, workers: 1}\nruns: [{method: gd}]\n",
       "nolabel.svm:1: expected 'index:value'"},
      {"problem: {dataset: two.svm, workers: 5}\nruns: [{method: gd}]\n",
       "5 workers but the dataset has only 2 samples"},
      {"problem: {dataset: train.svm, test_dataset: test.svm, workers: 1}\nruns: [{method: gd}]\n",
       "test.svm: dimension 3 is smaller than the largest feature index 4"},
      {synth + ef21 + "platform: {kind: file, file: bad.xml, master: a, workers: \"w-*\"}\n",
       "bad.xml: cannot load SimGrid platform"},
      {synth + ef21 + "platform: {kind: file, file: " + std::string(EFSIM_SOURCE_DIR) +
           "/platforms/example_star.xml, master: nosuch, workers: \"worker-*\"}\n",
       "example_star.xml: no host named 'nosuch' (the master)"},
      {synth + "runs: [{method: ef21, compressor: {kind: top_k, k: 2}, pattern: ring_allgater}]\n",
       "did you mean 'ring_allgather'?"},
      {"problem: {dataset: synthetic, workers: 6, synthetic: {samples: 200, dim: 50, "
       "nnz_per_row: 5}}\n" +
           ef21 + "platform: {kind: file, file: " + std::string(EFSIM_SOURCE_DIR) +
           "/platforms/example_star.xml, master: ps, workers: \"worker-*\"}\n",
       "example_star.xml: 4 worker hosts found but the problem has 6 workers"},
  };
  int i = 0;
  for (const auto& [text, message] : cases) {
    const std::string path = write("bad" + std::to_string(i) + ".yaml", text);
    const fs::path out = dir_ / ("out" + std::to_string(i++));
    const Result r =
        run_efsim("run " + quoted(path) + " --quiet --no-report --out " + quoted(out.string()));
    EXPECT_EQ(r.status, 2) << text << r.output;
    EXPECT_NE(r.output.find(message), std::string::npos) << text << "\n" << r.output;
    EXPECT_FALSE(fs::exists(out / "summary.csv")) << text;
  }
  write("afile", "x");
  const Result f = run_efsim("run " + quoted(write("ok.yaml", synth + ef21)) + " --out " +
                             quoted((dir_ / "afile").string()));
  EXPECT_EQ(f.status, 2);
  EXPECT_NE(f.output.find("the output folder exists and is not a folder"), std::string::npos)
      << f.output;
}

// A diverging run is a result, not a crash: stop reason `diverged`, its trace kept up to the
// round it blew up, the other runs of the sweep finish, exit 0.
TEST_F(CliTest, DivergingRunIsRecordedAndTheSweepGoesOn) {
  const std::string path = write("div.yaml",
                                 "problem: {kind: least_squares, dataset: synthetic, workers: 2, "
                                 "synthetic: {samples: 200, dim: 50, nnz_per_row: 5}}\n"
                                 "stop: {max_rounds: 200}\n"
                                 "runs:\n"
                                 "  - method: gd\n"
                                 "    stepsize: {theory_multiplier: [1, 1000]}\n");
  const fs::path out = dir_ / "out-div";
  const Result r = run_efsim("run " + quoted(path) + " --quiet --out " + quoted(out.string()));
  EXPECT_EQ(r.status, 0) << r.output;
  const std::string summary = slurp(out / "summary.csv");
  EXPECT_NE(summary.find("gd-identity-x1000,gd,identity,0,"), std::string::npos) << summary;
  EXPECT_NE(summary.find(",diverged,"), std::string::npos) << summary;
  EXPECT_NE(summary.find("gd-identity-x1,"), std::string::npos) << summary;
  EXPECT_NE(summary.find(",max_rounds,"), std::string::npos) << summary;
  const auto rows = split(slurp(out / "runs" / "gd-identity-x1000" / "trace.csv"), '\n');
  EXPECT_GE(rows.size(), 3u);                    // header, x0, and the rounds up to the blow-up
  EXPECT_LT(rows.size(), 200u);                  // it stopped there
  EXPECT_TRUE(fs::exists(out / "report.html"));  // the report shows it
  EXPECT_NE(slurp(out / "report.html").find("diverged"), std::string::npos);
}

TEST_F(CliTest, BadSetValueRejected) {
  const std::string path = write("tiny.yaml", kTiny);
  const fs::path out = dir_ / "out-set";
  const Result r = run_efsim("run " + quoted(path) + " --out " + quoted(out.string()) +
                             " --set problem.workers=0");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("--set"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("problem.workers"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(CliTest, TinySweepIsDeterministicAndWellFormed) {
  const std::string path = write("tiny.yaml", kTiny);
  const fs::path out1 = dir_ / "out1";
  const fs::path out2 = dir_ / "out2";
  const Result r1 =
      run_efsim("run " + quoted(path) + " --out " + quoted(out1.string()) + " --quiet");
  ASSERT_EQ(r1.status, 0) << r1.output;
  const Result r2 = run_efsim("run " + quoted(path) + " --out=" + quoted(out2.string()));
  ASSERT_EQ(r2.status, 0) << r2.output;

  const std::vector<std::string> run_ids = {"gd-identity-x1", "ef21-top_k2-x1"};
  ASSERT_TRUE(fs::exists(out1 / "summary.csv"));
  EXPECT_EQ(slurp(out1 / "summary.csv"), slurp(out2 / "summary.csv"));
  const std::string summary = slurp(out1 / "summary.csv");
  for (const auto& id : run_ids) {
    SCOPED_TRACE(id);
    const fs::path d1 = out1 / "runs" / id;
    const fs::path d2 = out2 / "runs" / id;
    ASSERT_TRUE(fs::exists(d1 / "trace.csv"));
    ASSERT_TRUE(fs::exists(d1 / "run.json"));
    EXPECT_EQ(slurp(d1 / "trace.csv"), slurp(d2 / "trace.csv"));
    EXPECT_EQ(slurp(d1 / "run.json"), slurp(d2 / "run.json"));
    EXPECT_NE(summary.find("\n" + id + ","), std::string::npos) << summary;

    const auto lines = split(slurp(d1 / "trace.csv"), '\n');
    ASSERT_EQ(lines.size(), 7u);  // header + rounds 0..5
    EXPECT_EQ(lines[0],
              "round,sim_time_s,f,grad_norm_sq,bits_up_per_worker,bits_down_per_worker,"
              "time_down_s,time_compute_s,time_up_s,time_idle_s,time_master_s,"
              "train_accuracy,test_loss,test_accuracy");
    double prev_t = -1, prev_up = -1, prev_down = -1;
    for (int row = 0; row <= 5; ++row) {
      const auto cells = split(lines[row + 1], ',');
      ASSERT_EQ(cells.size(), 14u) << lines[row + 1];
      double parts = 0;  // the time breakdown adds up to sim_time_s
      for (int c = 6; c < 11; ++c) parts += std::strtod(cells[c].c_str(), nullptr);
      EXPECT_NEAR(parts, std::strtod(cells[1].c_str(), nullptr), 1e-9);
      EXPECT_EQ(cells[0], std::to_string(row));
      const double t = std::strtod(cells[1].c_str(), nullptr);
      const double f = std::strtod(cells[2].c_str(), nullptr);
      const double g = std::strtod(cells[3].c_str(), nullptr);
      const double up = std::strtod(cells[4].c_str(), nullptr);
      const double down = std::strtod(cells[5].c_str(), nullptr);
      EXPECT_GE(t, prev_t) << "sim_time_s decreases at round " << row;
      EXPECT_GE(up, prev_up) << "bits_up_per_worker decreases at round " << row;
      EXPECT_GE(down, prev_down) << "bits_down_per_worker decreases at round " << row;
      EXPECT_TRUE(std::isfinite(f) && std::isfinite(g));
      EXPECT_GE(g, 0.0);
      if (row == 0) {
        EXPECT_EQ(t, 0.0);
        EXPECT_EQ(up, 0.0);
        EXPECT_NEAR(f, std::log(2.0), 1e-12);  // logistic loss at x0 = 0
      } else {
        EXPECT_GT(t, prev_t);
        EXPECT_GT(up, prev_up);
      }
      prev_t = t;
      prev_up = up;
      prev_down = down;
    }
    // Uplink per round is the encoded message, whole bytes (d = 50, 32-bit values):
    //   gd:   dense  1 + 50*32 = 1601 bits -> 201 bytes = 1608 bits
    //   ef21: top-2  1 + 32 + 2*(6 + 32) = 109 bits -> 14 bytes = 112 bits
    const double per_round = id == "gd-identity-x1" ? 1608.0 : 112.0;
    EXPECT_EQ(std::strtod(split(lines[6], ',')[4].c_str(), nullptr), 5 * per_round) << lines[6];

    const std::string json = slurp(d1 / "run.json");
    EXPECT_NE(json.find("\"stop_reason\": \"max_rounds\""), std::string::npos) << json;
    EXPECT_NE(json.find("\"rounds\": 5"), std::string::npos) << json;
    EXPECT_NE(json.find("\"id\": \"" + id + "\""), std::string::npos) << json;
  }
  // Nothing else (no temporary folders) is left in runs/.
  int entries = 0;
  for (const auto& e : fs::directory_iterator(out1 / "runs")) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 2);
}

TEST_F(CliTest, CompressorsListsEveryKindWithItsConstant) {
  const Result r = run_efsim("compressors");
  EXPECT_EQ(r.status, 0);
  for (const auto& info : efsim::alg::compressor_registry()) {
    EXPECT_NE(r.output.find("  " + info.kind), std::string::npos) << info.kind;
    EXPECT_NE(r.output.find(info.constant), std::string::npos) << info.constant;
  }
}

// Every example scenario shipped in scenarios/ validates and runs (a few rounds).
TEST_F(CliTest, ExampleScenariosRun) {
  int checked = 0;
  for (const auto& e : fs::recursive_directory_iterator(fs::path(EFSIM_SOURCE_DIR) / "scenarios")) {
    if (e.path().extension() != ".yaml") continue;
    if (e.path().string().find("papers") != std::string::npos &&
        !fs::exists(fs::path(EFSIM_SOURCE_DIR) / ".." / "shared" / "datasets"))
      continue;  // the paper scenarios read ../shared/datasets
    const auto r = run_efsim("run " + quoted(e.path().string()) +
                             " --quiet --no-report --set stop.max_rounds=2 --out " +
                             quoted((dir_ / e.path().stem()).string()));
    EXPECT_EQ(r.status, 0) << e.path() << ":\n" << r.output;
    ++checked;
  }
  EXPECT_GE(checked, 2);
}

}  // namespace
