// Populations (participation `materialize: sampled`): only the clients a round samples exist, on
// a pool of slot hosts. The reference is the same scenario run the old way (every client a host,
// a link, an actor and a node): the traces must be the same bytes, on a star and on an edge fleet
// whose classes differ in links and speeds, with minibatches whose first step differs (batch_init)
// and a randomized compressor (every client's stream resumes where it stopped).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using efsim::test::quoted;
using efsim::test::run_efsim;
using efsim::test::slurp;

using PopulationTest = efsim::test::TempDirTest;

// The scenario up to its runs: a star and a 3-class edge fleet, three network models, `workers`
// clients of 4 synthetic rows each.
std::string population_head(int seed, int workers, long rounds) {
  return "seed: " + std::to_string(seed) +
         "\n"
         "platforms:\n"
         "  - {name: star, kind: star, bandwidth: 10Mbps, latency: 10ms}\n"
         "  - name: edge\n"
         "    kind: edge\n"
         "    classes:\n"
         "      - {bandwidth: 10Mbps, latency: 50ms, share: 0.5, speed: 0.5Gf}\n"
         "      - {bandwidth: 100Mbps, latency: 10ms, share: 0.3, speed: 4Gf}\n"
         "      - {bandwidth: 1Mbps, latency: 80ms, share: 0.2}\n"
         "network_model: [simgrid, textbook, analytic]\n"
         "problem:\n"
         "  dataset: synthetic\n"
         "  synthetic: {samples: " +
         std::to_string(4 * workers) + ", dim: 40, nnz_per_row: 6}\n" +
         "  workers: " + std::to_string(workers) + "\n" +
         "stop: {max_rounds: " + std::to_string(rounds) + "}\n";
}

// Writes the scenario text(materialize) for "all" and "sampled" and runs both into dir/all and
// dir/sampled.
void run_both(const fs::path& dir, const std::function<std::string(const std::string&)>& text) {
  for (const std::string m : {"all", "sampled"}) {
    const fs::path yaml = dir / (m + ".yaml");
    std::ofstream(yaml) << text(m);
    const auto r = run_efsim("run " + quoted(yaml.string()) + " --out " +
                             quoted((dir / m).string()) + " --no-report --quiet");
    ASSERT_EQ(r.status, 0) << r.output;
  }
}

std::string scenario(const std::string& materialize, int workers, int tau, long rounds) {
  return population_head(5, workers, rounds) +
         "runs:\n"
         "  - method: dcgd\n"
         "    compressor: {kind: rand_k_unbiased, k: 4}\n"
         "    participation: {tau: " +
         std::to_string(tau) + ", materialize: " + materialize +
         "}\n"
         "    stepsize: {gamma: 0.3}\n"
         "    batch: 2\n"
         "    batch_init: 4\n"
         "  - method: gd\n"
         "    participation: {tau: " +
         std::to_string(tau) + ", materialize: " + materialize + "}\n";
}

TEST_F(PopulationTest, SampledClientsOnSlotsGiveTheFullPlatformsTraces) {
  run_both(dir_, [](const std::string& m) { return scenario(m, 120, 7, 40); });
  if (HasFatalFailure()) return;
  int compared = 0;
  for (const auto& run : fs::directory_iterator(fs::path(dir_) / "all" / "runs")) {
    const fs::path other = fs::path(dir_) / "sampled" / "runs" / run.path().filename();
    const std::string a = slurp(run.path() / "trace.csv"), b = slurp(other / "trace.csv");
    EXPECT_EQ(a, b) << run.path().filename();
    EXPECT_GT(a.size(), 1000u);
    // The slot platform: 7 places x 3 classes on the edge fleet, 7 on the star (not 120 hosts).
    const std::string xml = slurp(other / "platform.xml");
    const bool edge = run.path().filename().string().find("@edge") != std::string::npos;
    EXPECT_NE(xml.find(edge ? "slot-6-class-2" : "slot-6-class-0"), std::string::npos);
    EXPECT_EQ(xml.find(edge ? "slot-7-class-0" : "slot-6-class-1"), std::string::npos);
    EXPECT_EQ(xml.find("worker-"), std::string::npos);
    ++compared;
  }
  EXPECT_EQ(compared, 12);  // 2 methods x 2 platforms x 3 network models
}

// EF21-PP and DIANA keep a vector per client between its rounds (g_i, h_i), parked compactly
// (ClientStates): the coordinates a sparse compressor touched, or the whole vector where the
// compressor is dense (scaled sign, natural). The reference is again the population built whole.
std::string stateful_scenario(const std::string& materialize, int workers, int tau, long rounds) {
  const std::string part =
      "    participation: {tau: " + std::to_string(tau) + ", materialize: " + materialize + "}\n";
  return population_head(11, workers, rounds) +
         "runs:\n"
         "  - method: ef21\n"
         "    compressor: {kind: top_k, k: 3}\n" +
         part +
         "    stepsize: {gamma: 0.2}\n"
         "    batch: 2\n"
         "    batch_init: 4\n"
         "  - method: ef21\n"
         "    compressor: {kind: rand_k, k: 4}\n" +
         part +
         "    stepsize: {gamma: 0.2}\n"
         "  - method: ef21\n"
         "    compressor: {kind: scaled_sign}\n" +
         part +
         "    stepsize: {gamma: 0.05}\n"
         "  - method: diana\n"
         "    compressor: {kind: rand_k_unbiased, k: 4}\n" +
         part +
         "    stepsize: {gamma: 0.05}\n"
         "  - method: diana\n"
         "    compressor: {kind: natural}\n" +
         part + "    stepsize: {gamma: 0.2}\n";
}

TEST_F(PopulationTest, Ef21AndDianaPopulationsGiveTheFullPlatformsTraces) {
  // 150 rounds of 7 out of 120: each client is sampled about 9 times, so its g_i / h_i
  // gathers the supports of several rounds and the sparse vectors cross over to dense.
  run_both(dir_, [](const std::string& m) { return stateful_scenario(m, 120, 7, 150); });
  if (HasFatalFailure()) return;
  int compared = 0;
  for (const auto& run : fs::directory_iterator(fs::path(dir_) / "all" / "runs")) {
    const fs::path other = fs::path(dir_) / "sampled" / "runs" / run.path().filename();
    const std::string trace = slurp(run.path() / "trace.csv");
    EXPECT_EQ(trace, slurp(other / "trace.csv")) << run.path().filename();
    EXPECT_GT(trace.size(), 3000u);
    ++compared;
  }
  EXPECT_EQ(compared, 30);  // 5 runs x 2 platforms x 3 network models
  const std::string all = slurp(fs::path(dir_) / "all" / "summary.csv");
  EXPECT_EQ(all, slurp(fs::path(dir_) / "sampled" / "summary.csv"));
  // Every run ran its 150 rounds (none diverged: the comparison is over live trajectories).
  std::size_t full = 0;
  for (std::size_t at = all.find(",max_rounds,150,"); at != std::string::npos;
       at = all.find(",max_rounds,150,", at + 1))
    ++full;
  EXPECT_EQ(full, 30u) << all;
}

TEST_F(PopulationTest, BadMaterializeRejectedWithItsKey) {
  struct Case {
    std::string entry, platform, message, extra;
  };
  const std::vector<Case> cases = {
      {"participation: {p: 0.1, materialize: sampled}", "{kind: star}", "needs tau-nice sampling",
       ""},
      {"participation: {tau: 3, materialize: some}", "{kind: star}", "materialize", ""},
      {"participation: {tau: 3, materialize: sampled}", "{kind: tree}",
       "needs a generated star or edge platform", ""},
      {"participation: {tau: 3, materialize: sampled}", "{kind: star}",
       "only gd, dcgd, ef21, diana", ""},
      {"participation: {tau: 3, materialize: sampled}", "{kind: star}",
       "not under network_model ns3", "network_model: ns3\n"},
  };
  for (const auto& c : cases) {
    const fs::path yaml = fs::path(dir_) / "bad.yaml";
    std::ofstream(yaml) << "platform: " << c.platform
                        << "\nproblem: {dataset: synthetic, workers: 10, synthetic: {samples: "
                           "100, dim: 20, nnz_per_row: 3}}\n"
                           "runs:\n  - method: "
                        << (c.message == "only gd, dcgd, ef21, diana" ? "ef21_plus" : "dcgd")
                        << "\n    compressor: {kind: top_k, k: 2}\n"
                           "    "
                        << c.entry << "\n"
                        << c.extra;
    const auto r = run_efsim("run " + quoted(yaml.string()) + " --out " +
                             quoted((fs::path(dir_) / "out").string()) + " --check");
    EXPECT_EQ(r.status, 2) << c.entry << "\n" << r.output;
    EXPECT_NE(r.output.find("bad.yaml:6:"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("key 'runs.0.participation.materialize'"), std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << r.output;
  }
}

}  // namespace
