// Tests of sim/scenario (load, validate, expand) and sim/units. Scenario files are written to a
// temporary folder; expected line numbers are found in the text written (not computed by the
// product), and every error must be an efsim::InputError naming file, line and key.
#include "sim/scenario/scenario.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "algorithms/core/cost.hpp"
#include "algorithms/core/error.hpp"
#include "sim/scenario/run_grid.hpp"
#include "sim/scenario/units.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using efsim::InputError;
using efsim::sim::load_scenario;
using efsim::sim::Scenario;

const char* kMinimal =
    "problem: {dataset: synthetic, workers: 2}\n"
    "runs: [{method: gd}]\n";

class ScenarioTest : public efsim::test::TempDirTest {
 protected:
  // The InputError message of loading `text`; fails the test if it loads or throws anything else.
  std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
    // (Built piecewise: GCC 12 warns -Wrestrict, falsely, on "s" + std::to_string(n).)
    std::string name = std::to_string(counter_++);
    name.insert(0, 1, 's');
    name += ".yaml";
    last_path_ = write(name, text);
    try {
      load_scenario(last_path_, overrides);
    } catch (const InputError& e) {
      return e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not an InputError: " << e.what();
      return "";
    }
    ADD_FAILURE() << "scenario loaded but an error was expected:\n" << text;
    return "";
  }
  // 1-based line of the first line of `text` containing `marker`.
  static int line_of(const std::string& text, const std::string& marker) {
    std::istringstream in(text);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (line.find(marker) != std::string::npos) return n;
    }
    ADD_FAILURE() << "marker '" << marker << "' not in text";
    return -1;
  }
  // Expects an error naming <path>:<line of marker>: and the key path, and containing every
  // string in `also`.
  void expect_error(const std::string& text, const std::string& marker, const std::string& key,
                    const std::vector<std::string>& also = {}) {
    const std::string msg = error_of(text);
    if (msg.empty()) return;
    const std::string where = last_path_ + ":" + std::to_string(line_of(text, marker)) + ":";
    EXPECT_NE(msg.find(where), std::string::npos) << "expected '" << where << "' in: " << msg;
    EXPECT_NE(msg.find("'" + key + "'"), std::string::npos)
        << "expected key '" << key << "' in: " << msg;
    for (const auto& a : also)
      EXPECT_NE(msg.find(a), std::string::npos) << "expected '" << a << "' in: " << msg;
  }
  std::vector<std::string> ids(const Scenario& s) {
    std::vector<std::string> out;
    for (const auto& r : s.runs) out.push_back(r.id);
    return out;
  }
  std::string last_path_;
  int counter_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Valid scenarios

TEST_F(ScenarioTest, MinimalWithDefaults) {
  const std::string path = write("minimal.yaml", kMinimal);
  const Scenario s = load_scenario(path);
  EXPECT_EQ(s.path, path);
  EXPECT_EQ(s.name, "minimal");  // the file's stem
  EXPECT_EQ(s.seed, 1u);
  EXPECT_EQ(s.network_model, "simgrid");
  EXPECT_EQ(s.platform.kind, "star");
  EXPECT_EQ(s.platform.topology.workers, 2);
  EXPECT_DOUBLE_EQ(s.platform.topology.bandwidth_Bps, 12.5e6);
  EXPECT_EQ(s.problem.kind, "logistic");
  EXPECT_EQ(s.problem.dataset, "synthetic");
  EXPECT_EQ(s.problem.workers, 2);
  EXPECT_EQ(s.problem.synthetic.workers, 2);
  EXPECT_EQ(s.problem.synthetic.seed, 1u);
  EXPECT_DOUBLE_EQ(s.problem.lambda, 0.1);
  EXPECT_EQ(s.problem.x0_kind, "zeros");
  EXPECT_EQ(s.wire.value_bits, 32);
  EXPECT_EQ(s.wire.index_bits, 0);
  EXPECT_EQ(s.stop.max_rounds, 1000);
  EXPECT_EQ(s.stop.target_grad_norm_sq, 0.0);
  ASSERT_EQ(s.runs.size(), 1u);
  const auto& r = s.runs[0];
  EXPECT_EQ(r.method, "gd");
  EXPECT_EQ(r.compressor.kind, "identity");
  EXPECT_EQ(r.compressor.k, 0);
  EXPECT_TRUE(r.stepsize.theory);
  EXPECT_EQ(r.stepsize.value, 1.0);
  EXPECT_EQ(r.id, "gd-identity-x1");
  EXPECT_EQ(r.origin, path + ":2");
}

TEST_F(ScenarioTest, FullScenarioValuesParsed) {
  const std::string text =
      "name: my-run_1.0\n"
      "seed: 7\n"
      "network_model: textbook\n"
      "platform:\n"
      "  kind: star\n"
      "  bandwidth: 10Mbps\n"
      "  latency: 5ms\n"
      "  master_bandwidth: 1GBps\n"
      "  master_latency: 100us\n"
      "  worker_speed: 2Gf\n"
      "  master_speed: 1e10\n"
      "problem:\n"
      "  dataset: synthetic\n"
      "  synthetic: {samples: 300, dim: 40, nnz_per_row: 4, heterogeneity: 0.25, label_noise: 0, "
      "feature_decay: 0}\n"
      "  lambda: 0.5\n"
      "  workers: 3\n"
      "  x0: [1, 2.5]\n"
      "wire: {value_bits: 64, index_bits: 20}\n"
      "stop: {grad_norm_sq: 1e-6, max_rounds: 50, max_sim_time: 2min, divergence_factor: 100}\n"
      "runs:\n"
      "  - method: ef21\n"
      "    compressor: {kind: top_k, k: 3}\n"
      "    stepsize: {gamma: 0.5}\n";
  const Scenario s = load_scenario(write("full.yaml", text));
  EXPECT_EQ(s.name, "my-run_1.0");
  EXPECT_EQ(s.seed, 7u);
  EXPECT_EQ(s.network_model, "textbook");
  EXPECT_DOUBLE_EQ(s.platform.topology.bandwidth_Bps, 1.25e6);
  EXPECT_DOUBLE_EQ(s.platform.topology.latency_s, 5e-3);
  EXPECT_DOUBLE_EQ(s.platform.topology.master_bandwidth_Bps, 1e9);
  EXPECT_DOUBLE_EQ(s.platform.topology.master_latency_s, 1e-4);
  EXPECT_DOUBLE_EQ(s.platform.topology.worker_speed_flops, 2e9);
  EXPECT_DOUBLE_EQ(s.platform.topology.master_speed_flops, 1e10);
  EXPECT_EQ(s.platform.topology.workers, 3);
  EXPECT_EQ(s.problem.synthetic.samples, 300);
  EXPECT_EQ(s.problem.synthetic.dim, 40);
  EXPECT_EQ(s.problem.synthetic.nnz_per_row, 4);
  EXPECT_EQ(s.problem.synthetic.heterogeneity, 0.25);
  EXPECT_EQ(s.problem.synthetic.label_noise, 0.0);
  EXPECT_EQ(s.problem.synthetic.feature_decay, 0.0);
  EXPECT_EQ(s.problem.synthetic.seed, 7u);  // the scenario seed
  EXPECT_EQ(s.problem.synthetic.workers, 3);
  EXPECT_EQ(s.problem.lambda, 0.5);
  EXPECT_EQ(s.problem.x0_kind, "list");
  EXPECT_EQ(s.problem.x0_list, (std::vector<double>{1, 2.5}));
  EXPECT_EQ(s.wire.value_bits, 64);
  EXPECT_EQ(s.wire.index_bits, 20);
  EXPECT_EQ(s.stop.target_grad_norm_sq, 1e-6);
  EXPECT_EQ(s.stop.max_rounds, 50);
  EXPECT_DOUBLE_EQ(s.stop.max_sim_time_s, 120.0);
  EXPECT_EQ(s.stop.divergence_factor, 100.0);
  ASSERT_EQ(s.runs.size(), 1u);
  EXPECT_FALSE(s.runs[0].stepsize.theory);
  EXPECT_EQ(s.runs[0].stepsize.value, 0.5);
  EXPECT_EQ(s.runs[0].compressor.kind, "top_k");
  EXPECT_EQ(s.runs[0].compressor.k, 3);
  EXPECT_EQ(s.runs[0].id, "ef21-top_k3-g0.5");
}

TEST_F(ScenarioTest, CartesianExpansion) {
  const std::string text =
      "problem: {dataset: synthetic, workers: 2}\n"
      "runs:\n"
      "  - method: [ef, ef21]\n"
      "    compressor: {kind: top_k, k: [1, 5]}\n"
      "    stepsize: {theory_multiplier: [1, 8]}\n";
  const std::string path = write("cart.yaml", text);
  const Scenario s = load_scenario(path);
  const std::vector<std::string> expected = {"ef-top_k1-x1",   "ef-top_k1-x8",   "ef-top_k5-x1",
                                             "ef-top_k5-x8",   "ef21-top_k1-x1", "ef21-top_k1-x8",
                                             "ef21-top_k5-x1", "ef21-top_k5-x8"};
  const auto got = ids(s);
  ASSERT_EQ(got.size(), 8u);
  // Every combination exactly once (order: method, compressor, stepsize).
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()).size(), 8u);
  EXPECT_EQ(got, expected);
  for (const auto& r : s.runs) {
    EXPECT_EQ(r.compressor.kind, "top_k");
    EXPECT_TRUE(r.stepsize.theory);
    EXPECT_EQ(r.origin, path + ":3");
    EXPECT_EQ(r.id, efsim::sim::run_id(r));
  }
  const auto& last = s.runs.back();
  EXPECT_EQ(last.method, "ef21");
  EXPECT_EQ(last.compressor.k, 5);
  EXPECT_EQ(last.stepsize.value, 8.0);
  // Stable: loading again gives the same ids.
  EXPECT_EQ(ids(load_scenario(path)), got);
}

TEST_F(ScenarioTest, GdCollapsesToIdentityAndDuplicatesDropped) {
  const std::string text =
      "problem: {dataset: synthetic, workers: 2}\n"
      "runs:\n"
      "  - method: [gd, ef21]\n"
      "    compressor: {kind: top_k, k: [1, 5]}\n"
      "  - method: gd\n";
  const Scenario s = load_scenario(write("gd.yaml", text));
  EXPECT_EQ(ids(s),
            (std::vector<std::string>{"gd-identity-x1", "ef21-top_k1-x1", "ef21-top_k5-x1"}));
  EXPECT_EQ(s.runs[0].compressor.kind, "identity");
  EXPECT_EQ(s.runs[0].compressor.k, 0);
}

TEST_F(ScenarioTest, DuplicateNonGdRunIsAnError) {
  const std::string text =
      "problem: {dataset: synthetic, workers: 2}\n"
      "runs:\n"
      "  - method: ef21\n"
      "    compressor: {kind: top_k, k: 2}\n"
      "  - method: [ef, ef21]\n"
      "    compressor: {kind: top_k, k: 2}\n";
  expect_error(text, "[ef, ef21]", "runs.1", {"ef21-top_k2-x1", "already listed", ":3"});
}

TEST_F(ScenarioTest, GammaIdsAndMultipleKinds) {
  const std::string text =
      "problem: {dataset: synthetic, workers: 2}\n"
      "runs:\n"
      "  - method: dcgd\n"
      "    compressor: {kind: [identity, top_k], k: 4}\n"
      "    stepsize: {gamma: [0.125, 2]}\n";
  const Scenario s = load_scenario(write("kinds.yaml", text));
  EXPECT_EQ(ids(s), (std::vector<std::string>{"dcgd-identity-g0.125", "dcgd-identity-g2",
                                              "dcgd-top_k4-g0.125", "dcgd-top_k4-g2"}));
}

TEST_F(ScenarioTest, LibsvmDatasetRelativeToScenarioFolder) {
  fs::create_directories(fs::path(dir_) / "data");
  write("data/tiny.svm", "1 1:1\n-1 2:1\n");
  const std::string text =
      "problem: {dataset: data/tiny.svm, dim: 5, workers: 2}\n"
      "runs: [{method: gd}]\n";
  const Scenario s = load_scenario(write("libsvm.yaml", text));
  EXPECT_EQ(fs::path(s.problem.dataset), (fs::path(dir_) / "data" / "tiny.svm").lexically_normal());
  EXPECT_EQ(s.problem.dim, 5);
}

// ---------------------------------------------------------------------------------------------
// Errors: file, line and key

TEST_F(ScenarioTest, UnknownTopLevelKey) {
  const std::string text =
      "problem: {dataset: synthetic, workers: 2}\n"
      "stopp: {max_rounds: 3}\n"
      "runs: [{method: gd}]\n";
  expect_error(text, "stopp", "stopp", {"unknown key", "stop"});
}

TEST_F(ScenarioTest, UnknownNestedKey) {
  const std::string text =
      "problem: {dataset: synthetic, workers: 2}\n"
      "stop:\n"
      "  grad_norm_sq: 1e-6\n"
      "  max_round: 5\n"
      "runs: [{method: gd}]\n";
  expect_error(text, "max_round:", "stop.max_round", {"unknown key", "max_rounds"});
}

TEST_F(ScenarioTest, UnknownKeyInRunEntry) {
  const std::string text =
      "problem: {dataset: synthetic, workers: 2}\n"
      "runs:\n"
      "  - method: gd\n"
      "  - method: ef21\n"
      "    compresor: {kind: top_k, k: 1}\n";
  expect_error(text, "compresor", "runs.1.compresor", {"unknown key"});
}

TEST_F(ScenarioTest, ValueOutOfRange) {
  const std::string text =
      "problem:\n"
      "  dataset: synthetic\n"
      "  workers: 0\n"
      "runs: [{method: gd}]\n";
  expect_error(text, "workers: 0", "problem.workers", {"out of range"});
  const std::string hetero =
      "problem:\n"
      "  dataset: synthetic\n"
      "  workers: 2\n"
      "  synthetic:\n"
      "    heterogeneity: 1.5\n"
      "runs: [{method: gd}]\n";
  expect_error(hetero, "heterogeneity", "problem.synthetic.heterogeneity", {"out of range"});
  const std::string vb =
      "problem: {dataset: synthetic, workers: 2}\n"
      "wire:\n"
      "  value_bits: 24\n"
      "runs: [{method: gd}]\n";
  expect_error(vb, "value_bits", "wire.value_bits", {"32 or 64"});
  const std::string too_many =
      "problem:\n"
      "  dataset: synthetic\n"
      "  synthetic: {samples: 3}\n"
      "  workers: 4\n"
      "runs: [{method: gd}]\n";
  expect_error(too_many, "workers: 4", "problem.workers");
}

TEST_F(ScenarioTest, WrongType) {
  const std::string word =
      "problem:\n"
      "  dataset: synthetic\n"
      "  workers: two\n"
      "runs: [{method: gd}]\n";
  expect_error(word, "workers: two", "problem.workers", {"not an integer"});
  const std::string frac =
      "problem: {dataset: synthetic, workers: 2}\n"
      "stop:\n"
      "  max_rounds: 2.5\n"
      "runs: [{method: gd}]\n";
  expect_error(frac, "max_rounds", "stop.max_rounds", {"not an integer"});
  const std::string list =
      "problem:\n"
      "  dataset: synthetic\n"
      "  workers: 2\n"
      "  lambda: [1, 2]\n"
      "runs: [{method: gd}]\n";
  expect_error(list, "lambda", "problem.lambda", {"single value"});
  const std::string scalar_for_map =
      "problem: {dataset: synthetic, workers: 2}\n"
      "stop: 5\n"
      "runs: [{method: gd}]\n";
  expect_error(scalar_for_map, "stop: 5", "stop", {"mapping"});
}

TEST_F(ScenarioTest, UnknownMethodListsValidOnes) {
  const std::string text =
      "problem: {dataset: synthetic, workers: 2}\n"
      "runs:\n"
      "  - method:\n"
      "      - ef\n"
      "      - ef22\n";
  expect_error(text, "ef22", "runs.0.method", {"ef22", "gd", "dcgd", "ef21", "ef21_plus"});
}

TEST_F(ScenarioTest, UnknownCompressorKind) {
  const std::string text =
      "problem: {dataset: synthetic, workers: 2}\n"
      "runs:\n"
      "  - method: ef21\n"
      "    compressor:\n"
      "      kind: rand_kk\n"
      "      k: 3\n";
  expect_error(text, "rand_kk", "runs.0.compressor.kind", {"rand_kk", "identity", "top_k", "qsgd"});
}

TEST_F(ScenarioTest, TopKWithoutK) {
  const std::string text =
      "problem: {dataset: synthetic, workers: 2}\n"
      "runs:\n"
      "  - method: ef21\n"
      "    compressor: {kind: top_k}\n";
  expect_error(text, "compressor:", "runs.0.compressor.k", {"required"});
}

TEST_F(ScenarioTest, IdentityWithK) {
  const std::string text =
      "problem: {dataset: synthetic, workers: 2}\n"
      "runs:\n"
      "  - method: ef21\n"
      "    compressor:\n"
      "      kind: identity\n"
      "      k: 3\n";
  expect_error(text, "k: 3", "runs.0.compressor.k", {"identity"});
}

TEST_F(ScenarioTest, TopKZero) {
  const std::string text =
      "problem: {dataset: synthetic, workers: 2}\n"
      "runs:\n"
      "  - method: ef21\n"
      "    compressor:\n"
      "      kind: top_k\n"
      "      k: [2, 0]\n";
  expect_error(text, "k: [2, 0]", "runs.0.compressor.k", {"out of range"});
}

TEST_F(ScenarioTest, BothTheoryMultiplierAndGamma) {
  const std::string text =
      "problem: {dataset: synthetic, workers: 2}\n"
      "runs:\n"
      "  - method: ef21\n"
      "    compressor: {kind: top_k, k: 1}\n"
      "    stepsize: {theory_multiplier: 2, gamma: 0.1}\n";
  expect_error(text, "stepsize:", "runs.0.stepsize", {"theory_multiplier", "gamma"});
}

TEST_F(ScenarioTest, NonPositiveStepsize) {
  const std::string text =
      "problem: {dataset: synthetic, workers: 2}\n"
      "runs:\n"
      "  - method: gd\n"
      "    stepsize:\n"
      "      gamma: -1\n";
  expect_error(text, "gamma: -1", "runs.0.stepsize.gamma", {"out of range"});
}

// Asymmetric worker links: downlink_bandwidth is the star's master -> worker direction; it is
// checked like bandwidth, exists only for kind star, and ns-3 (symmetric point-to-point links)
// refuses it.
TEST_F(ScenarioTest, DownlinkBandwidthOfAsymmetricStar) {
  const Scenario s = load_scenario(write("asym.yaml",
                                         "problem: {dataset: synthetic, workers: 2}\n"
                                         "platform: {bandwidth: 1Mbps, downlink_bandwidth: 8Mbps}\n"
                                         "runs: [{method: gd}]\n"));
  EXPECT_DOUBLE_EQ(s.platform.topology.bandwidth_Bps, 1.25e5);
  EXPECT_DOUBLE_EQ(s.platform.topology.downlink_bandwidth_Bps, 1e6);
  EXPECT_DOUBLE_EQ(
      load_scenario(write("sym.yaml", kMinimal)).platform.topology.downlink_bandwidth_Bps,
      0.0);  // symmetric unless given
  expect_error(
      "problem: {dataset: synthetic, workers: 2}\n"
      "platform:\n"
      "  downlink_bandwidth: 0Mbps\n"
      "runs: [{method: gd}]\n",
      "0Mbps", "platform.downlink_bandwidth", {"> 0"});
  expect_error(
      "problem: {dataset: synthetic, workers: 2}\n"
      "platform:\n"
      "  downlink_bandwidth: 10 Mbps\n"
      "runs: [{method: gd}]\n",
      "10 Mbps", "platform.downlink_bandwidth", {"unit"});
  expect_error(
      "problem: {dataset: synthetic, workers: 2}\n"
      "platform:\n"
      "  kind: tree\n"
      "  downlink_bandwidth: 10Mbps\n"
      "runs: [{method: gd}]\n",
      "downlink_bandwidth", "platform.downlink_bandwidth", {"unknown key"});
  expect_error(
      "problem: {dataset: synthetic, workers: 2}\n"
      "network_model: [simgrid, ns3]\n"
      "platform:\n"
      "  downlink_bandwidth: 10Mbps\n"
      "runs: [{method: gd}]\n",
      "downlink_bandwidth", "platform.downlink_bandwidth", {"ns3", "symmetric"});
}

TEST_F(ScenarioTest, BadBandwidthUnit) {
  const std::string text =
      "problem: {dataset: synthetic, workers: 2}\n"
      "platform:\n"
      "  kind: star\n"
      "  latency: 1ms\n"
      "  bandwidth: 10Mbs\n"
      "runs: [{method: gd}]\n";
  expect_error(text, "10Mbs", "platform.bandwidth", {"10Mbs", "Mbps"});
  const std::string zero =
      "problem: {dataset: synthetic, workers: 2}\n"
      "platform:\n"
      "  bandwidth: 0Mbps\n"
      "runs: [{method: gd}]\n";
  expect_error(zero, "0Mbps", "platform.bandwidth", {"> 0"});
  const std::string latency =
      "problem: {dataset: synthetic, workers: 2}\n"
      "platform:\n"
      "  latency: 1mss\n"
      "runs: [{method: gd}]\n";
  expect_error(latency, "1mss", "platform.latency");
}

TEST_F(ScenarioTest, MissingDatasetFile) {
  const std::string text =
      "problem:\n"
      "  workers: 2\n"
      "  dataset: no_such_file.svm\n"
      "runs: [{method: gd}]\n";
  expect_error(text, "no_such_file", "problem.dataset", {"no such file", "no_such_file.svm"});
}

TEST_F(ScenarioTest, YamlSyntaxErrorLine) {
  const std::string text =
      "problem: {dataset: synthetic, workers: 2}\n"
      "stop: {max_rounds: 3}\n"
      "runs:\n"
      "  - method: gd: ef21\n";
  const std::string msg = error_of(text);
  const std::string where = last_path_ + ":4:";
  EXPECT_NE(msg.find(where), std::string::npos) << msg;
  EXPECT_NE(msg.find("YAML"), std::string::npos) << msg;
  const std::string unclosed =
      "problem: {dataset: synthetic, workers: 2}\n"
      "runs: [{method: gd}\n"
      "stop: {max_rounds: 3}\n";
  const std::string msg2 = error_of(unclosed);
  EXPECT_NE(msg2.find(last_path_ + ":"), std::string::npos) << msg2;
  EXPECT_NE(msg2.find("YAML"), std::string::npos) << msg2;
}

TEST_F(ScenarioTest, PlatformFileMissing) {
  const std::string text =
      "problem: {dataset: synthetic, workers: 2}\n"
      "platform:\n"
      "  kind: file\n"
      "  file: clusters/missing.xml\n"
      "  master: m\n"
      "  workers: [a, b]\n"
      "runs: [{method: gd}]\n";
  expect_error(text, "missing.xml", "platform.file", {"no such file", "missing.xml"});
}

TEST_F(ScenarioTest, PlatformFileValidAndWorkerCountChecked) {
  write("p.xml", "<platform/>\n");
  const std::string ok =
      "problem: {dataset: synthetic, workers: 2}\n"
      "platform: {kind: file, file: p.xml, master: m, workers: [a, b]}\n"
      "runs: [{method: gd}]\n";
  const Scenario s = load_scenario(write("pf.yaml", ok));
  EXPECT_EQ(fs::path(s.platform.file), (fs::path(dir_) / "p.xml").lexically_normal());
  EXPECT_EQ(s.platform.workers, (std::vector<std::string>{"a", "b"}));
  const std::string wrong =
      "problem: {dataset: synthetic, workers: 3}\n"
      "platform:\n"
      "  kind: file\n"
      "  file: p.xml\n"
      "  master: m\n"
      "  workers: [a, b]\n"
      "runs: [{method: gd}]\n";
  expect_error(wrong, "workers: [a, b]", "platform.workers", {"3"});
  const std::string star_key =
      "problem: {dataset: synthetic, workers: 2}\n"
      "platform:\n"
      "  kind: file\n"
      "  file: p.xml\n"
      "  master: m\n"
      "  workers: [a, b]\n"
      "  bandwidth: 1Gbps\n"
      "runs: [{method: gd}]\n";
  expect_error(star_key, "bandwidth", "platform.bandwidth", {"unknown key"});
}

TEST_F(ScenarioTest, MissingRequiredParts) {
  const std::string no_runs = "problem: {dataset: synthetic, workers: 2}\n";
  const std::string msg = error_of(no_runs);
  EXPECT_NE(msg.find("'runs'"), std::string::npos) << msg;
  EXPECT_NE(msg.find(last_path_), std::string::npos) << msg;
  const std::string no_workers =
      "problem:\n"
      "  dataset: synthetic\n"
      "runs: [{method: gd}]\n";
  expect_error(no_workers, "dataset", "problem.workers", {"required"});
  const std::string no_method =
      "problem: {dataset: synthetic, workers: 2}\n"
      "runs:\n"
      "  - compressor: {kind: identity}\n";
  expect_error(no_method, "compressor", "runs.0.method", {"required"});
  const std::string bad_name =
      "name: has space\n"
      "problem: {dataset: synthetic, workers: 2}\n"
      "runs: [{method: gd}]\n";
  expect_error(bad_name, "has space", "name");
}

// Regression (found by this suite, fixed): yaml-cpp accepts a key given twice in one mapping and
// load_scenario reads the first occurrence, so the second `stop:` below (max_rounds 500) is
// silently ignored and the run stops after 3 rounds. algorithms/README.md invariant 5 wants such
// input to be an error naming the file and line (here line 3, the repeated key).
TEST_F(ScenarioTest, DuplicateKeyRejected) {
  const std::string text =
      "problem: {dataset: synthetic, workers: 2}\n"
      "stop: {max_rounds: 3}\n"
      "stop: {max_rounds: 500}\n"
      "runs: [{method: gd}]\n";
  expect_error(text, "max_rounds: 500", "stop");
}

// Regression (found by this suite, fixed): a non-scalar mapping key makes Reader::check_keys call
// kv.first.as<std::string>(), which throws YAML::TypedBadConversion (not efsim::InputError), so
// the CLI reports "internal error" with exit code 3 instead of a file:line message and exit 2.
TEST_F(ScenarioTest, NonScalarKeyIsInputError) {
  const std::string text =
      "problem: {dataset: synthetic, workers: 2}\n"
      "[a, b]: 1\n"
      "runs: [{method: gd}]\n";
  const std::string msg = error_of(text);
  EXPECT_NE(msg.find(last_path_ + ":2:"), std::string::npos) << msg;
}

// Regression (found by this suite, fixed): Reader::integer parses through a double, so an in-range
// seed above 2^53 is silently changed (9007199254740993 becomes 9007199254740992). It must be kept
// exactly or rejected.
TEST_F(ScenarioTest, LargeSeedKeptExactly) {
  const std::string path = write("seed.yaml",
                                 "seed: 9007199254740993\n"
                                 "problem: {dataset: synthetic, workers: 2}\n"
                                 "runs: [{method: gd}]\n");
  try {
    const Scenario s = load_scenario(path);
    EXPECT_EQ(s.seed, 9007199254740993ull);
  } catch (const InputError&) {
    SUCCEED();  // rejecting is acceptable
  }
}

// Regression (found by this suite, fixed): run_id prints the stepsize with %.6g, so distinct values
// that agree to 6 significant digits get the same id. For ef21 the second is then rejected as
// "already listed"; for gd it is silently dropped. Distinct parameters should give distinct ids.
TEST_F(ScenarioTest, CloseStepsizesGetDistinctIds) {
  const std::string text =
      "problem: {dataset: synthetic, workers: 2}\n"
      "runs:\n"
      "  - method: [gd, ef21]\n"
      "    compressor: {kind: top_k, k: 1}\n"
      "    stepsize: {gamma: [1.0000001, 1.0000002]}\n";
  const std::string path = write("close.yaml", text);
  try {
    const Scenario s = load_scenario(path);
    const auto got = ids(s);
    EXPECT_EQ(got.size(), 4u);
    EXPECT_EQ(std::set<std::string>(got.begin(), got.end()).size(), got.size());
  } catch (const InputError& e) {
    ADD_FAILURE() << e.what();
  }
}

TEST_F(ScenarioTest, MissingScenarioFile) {
  const std::string path = (fs::path(dir_) / "absent.yaml").string();
  try {
    load_scenario(path);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------------------------------------
// --set overrides

TEST_F(ScenarioTest, OverridesApply) {
  const std::string path = write("ov.yaml",
                                 "problem: {dataset: synthetic, workers: 2}\n"
                                 "stop: {max_rounds: 100}\n"
                                 "runs:\n"
                                 "  - method: ef21\n"
                                 "    compressor: {kind: top_k, k: 2}\n");
  const Scenario s = load_scenario(
      path, {"stop.max_rounds=5", "network_model=textbook", "runs.0.compressor.k=[1,10]",
             "problem.synthetic.samples=123", "wire.value_bits=64"});
  EXPECT_EQ(s.stop.max_rounds, 5);
  EXPECT_EQ(s.network_model, "textbook");
  EXPECT_EQ(ids(s), (std::vector<std::string>{"ef21-top_k1-x1", "ef21-top_k10-x1"}));
  EXPECT_EQ(s.problem.synthetic.samples, 123);
  EXPECT_EQ(s.wire.value_bits, 64);
  // The file itself is unchanged.
  EXPECT_EQ(load_scenario(path).stop.max_rounds, 100);
}

TEST_F(ScenarioTest, OverrideErrorsMentionSet) {
  const std::string text = kMinimal;
  {
    const std::string msg = error_of(text, {"problem.workers=0"});
    EXPECT_NE(msg.find("--set"), std::string::npos) << msg;
    EXPECT_NE(msg.find("problem.workers"), std::string::npos) << msg;
    EXPECT_NE(msg.find("out of range"), std::string::npos) << msg;
  }
  {
    const std::string msg = error_of(text, {"stop.max_round=5"});
    EXPECT_NE(msg.find("--set"), std::string::npos) << msg;
    EXPECT_NE(msg.find("stop.max_round"), std::string::npos) << msg;
  }
  {
    const std::string msg = error_of(text, {"platform.bandwidth=10Mbs"});
    EXPECT_NE(msg.find("--set"), std::string::npos) << msg;
    EXPECT_NE(msg.find("platform.bandwidth"), std::string::npos) << msg;
  }
  {
    const std::string msg = error_of(text, {"no_equals_sign"});
    EXPECT_NE(msg.find("--set"), std::string::npos) << msg;
  }
  {
    const std::string msg = error_of(text, {"runs.3.method=gd"});
    EXPECT_NE(msg.find("--set"), std::string::npos) << msg;
  }
  {
    const std::string msg = error_of(text, {"stop.max_rounds=[1"});
    EXPECT_NE(msg.find("--set"), std::string::npos) << msg;
  }
}

TEST_F(ScenarioTest, OverrideDoesNotHideFileErrors) {
  // An error in a key that was not overridden still names the file's line.
  const std::string text =
      "problem:\n"
      "  dataset: synthetic\n"
      "  workers: 0\n"
      "runs: [{method: gd}]\n";
  const std::string msg = error_of(text, {"stop.max_rounds=5"});
  EXPECT_NE(msg.find(last_path_ + ":3:"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("--set"), std::string::npos) << msg;
}

// ---------------------------------------------------------------------------------------------
// Units

using efsim::sim::parse_quantity;
using efsim::sim::Unit;

double q(const std::string& text, Unit unit) {
  std::string why;
  const auto v = parse_quantity(text, unit, &why);
  EXPECT_TRUE(v.has_value()) << text << ": " << why;
  return v.value_or(std::nan(""));
}

void rejected(const std::string& text, Unit unit) {
  std::string why;
  const auto v = parse_quantity(text, unit, &why);
  EXPECT_FALSE(v.has_value()) << "'" << text << "' accepted as " << v.value_or(0);
  EXPECT_FALSE(why.empty()) << text;
}

TEST(Units, Bandwidth) {
  EXPECT_DOUBLE_EQ(q("100Mbps", Unit::kBandwidthBps), 12.5e6);
  EXPECT_DOUBLE_EQ(q("1MBps", Unit::kBandwidthBps), 1e6);
  EXPECT_DOUBLE_EQ(q("12.5MBps", Unit::kBandwidthBps), 12.5e6);
  EXPECT_DOUBLE_EQ(q("1Gbps", Unit::kBandwidthBps), 1.25e8);
  EXPECT_DOUBLE_EQ(q("8bps", Unit::kBandwidthBps), 1.0);
  EXPECT_DOUBLE_EQ(q("1kBps", Unit::kBandwidthBps), 1e3);
  EXPECT_DOUBLE_EQ(q("1KiBps", Unit::kBandwidthBps), 1024.0);
  EXPECT_DOUBLE_EQ(q("1Mibps", Unit::kBandwidthBps), 1048576.0 / 8);
  EXPECT_DOUBLE_EQ(q("1TBps", Unit::kBandwidthBps), 1e12);
  EXPECT_DOUBLE_EQ(q("5000", Unit::kBandwidthBps), 5000.0);  // bare: bytes/s
  EXPECT_DOUBLE_EQ(q("0", Unit::kBandwidthBps), 0.0);
  rejected("10Mbs", Unit::kBandwidthBps);
  rejected("10mbps", Unit::kBandwidthBps);  // no milli prefix
  rejected("10 Mbps", Unit::kBandwidthBps);
  rejected("Mbps", Unit::kBandwidthBps);
  rejected("", Unit::kBandwidthBps);
  rejected("-1Mbps", Unit::kBandwidthBps);
  rejected("1ms", Unit::kBandwidthBps);
  rejected("inf", Unit::kBandwidthBps);
  rejected("nanMbps", Unit::kBandwidthBps);
}

TEST(Units, Time) {
  EXPECT_DOUBLE_EQ(q("1ms", Unit::kSeconds), 1e-3);
  EXPECT_DOUBLE_EQ(q("50us", Unit::kSeconds), 50e-6);
  EXPECT_DOUBLE_EQ(q("10ns", Unit::kSeconds), 1e-8);
  EXPECT_DOUBLE_EQ(q("2s", Unit::kSeconds), 2.0);
  EXPECT_DOUBLE_EQ(q("2min", Unit::kSeconds), 120.0);
  EXPECT_DOUBLE_EQ(q("1h", Unit::kSeconds), 3600.0);
  EXPECT_DOUBLE_EQ(q("0.25", Unit::kSeconds), 0.25);  // bare: seconds
  EXPECT_DOUBLE_EQ(q("1e-3", Unit::kSeconds), 1e-3);
  rejected("1 ms", Unit::kSeconds);
  rejected("1msec", Unit::kSeconds);
  rejected("1Mbps", Unit::kSeconds);
  rejected("-1s", Unit::kSeconds);
  rejected("s", Unit::kSeconds);
}

TEST(Units, Speed) {
  EXPECT_DOUBLE_EQ(q("1Gf", Unit::kFlops), 1e9);
  EXPECT_DOUBLE_EQ(q("2.5Mf", Unit::kFlops), 2.5e6);
  EXPECT_DOUBLE_EQ(q("3f", Unit::kFlops), 3.0);
  EXPECT_DOUBLE_EQ(q("1e10", Unit::kFlops), 1e10);  // bare: flop/s
  rejected("1Gflops", Unit::kFlops);
  rejected("1G", Unit::kFlops);
  rejected("1Xf", Unit::kFlops);
  rejected("f", Unit::kFlops);
}

// Device profiles: Geekbench 6 single-core scores scaled by the reference host's rate, which is
// taken to score the benchmark's baseline (2,500); the reference host itself is `server`.
TEST(Units, DeviceProfiles) {
  EXPECT_DOUBLE_EQ(q("server", Unit::kFlops), efsim::alg::cost::kReferenceRate);
  EXPECT_DOUBLE_EQ(q("server", Unit::kFlops), 2.8e9);
  EXPECT_DOUBLE_EQ(q("phone", Unit::kFlops), 2.8e9 * 1410 / 2500);
  EXPECT_DOUBLE_EQ(q("laptop", Unit::kFlops), 2.8e9 * 3103 / 2500);
  for (const auto& p : efsim::sim::device_profiles()) EXPECT_FALSE(p.source.empty()) << p.name;
  rejected("Phone", Unit::kFlops);
  rejected("phone", Unit::kBandwidthBps);  // a speed only
  std::string why;
  parse_quantity("desktop", Unit::kFlops, &why);
  EXPECT_NE(why.find("phone, laptop, server"), std::string::npos) << why;
}

TEST_F(ScenarioTest, WorkerSpeedTakesADeviceProfile) {
  const Scenario s =
      load_scenario(write("profiles.yaml",
                          "problem: {dataset: synthetic, workers: 2}\n"
                          "platform: {kind: star, worker_speed: phone, master_speed: server}\n"
                          "runs: [{method: gd}]\n"));
  EXPECT_DOUBLE_EQ(s.platform.topology.worker_speed_flops, 2.8e9 * 1410 / 2500);
  EXPECT_DOUBLE_EQ(s.platform.topology.master_speed_flops, 2.8e9);
  const std::string text =
      "problem: {dataset: synthetic, workers: 2}\n"
      "platform: {kind: star, worker_speed: tablet}\n"
      "runs: [{method: gd}]\n";
  expect_error(text, "tablet", "platform.worker_speed",
               {"'tablet' is not a number or a device profile (phone, laptop, server)"});
}

// ---- Compressor entries : every parameter may be a list; nested induced entries ----

TEST_F(ScenarioTest, CompressorParametersExpandAsProducts) {
  const std::string text =
      "problem: {dataset: synthetic, workers: 2}\n"
      "runs:\n"
      "  - method: dcgd\n"
      "    compressor: {kind: qsgd, s: [2, 8], coding: [fixed, elias]}\n"
      "  - method: ef21\n"
      "    compressor: {kind: [top_k, rand_k], k: 3, values: [none, natural]}\n"
      "  - method: dcgd\n"
      "    compressor:\n"
      "      kind: induced\n"
      "      c1: {kind: top_k, k: [1, 2]}\n"
      "      c2: {kind: wangni, k: 2}\n";
  const Scenario s = load_scenario(write("products.yaml", text));
  std::vector<std::string> ids;
  for (const auto& r : s.runs) ids.push_back(r.id);
  const std::vector<std::string> expected = {"dcgd-qsgd2-x1",
                                             "dcgd-qsgd2e-x1",
                                             "dcgd-qsgd8-x1",
                                             "dcgd-qsgd8e-x1",
                                             "ef21-top_k3-x1",
                                             "ef21-top_k3_natural-x1",
                                             "ef21-rand_k3-x1",
                                             "ef21-rand_k3_natural-x1",
                                             "dcgd-induced_top_k1+wangni2-x1",
                                             "dcgd-induced_top_k2+wangni2-x1"};
  EXPECT_EQ(ids, expected);
  EXPECT_EQ(s.runs.back().compressor.c1->k, 2);
  EXPECT_EQ(s.runs.back().compressor.c2->kind, "wangni");
}

TEST_F(ScenarioTest, CompressorParameterErrors) {
  const std::string head = "problem: {dataset: synthetic, workers: 2}\nruns:\n  - method: dcgd\n";
  expect_error(head + "    compressor: {kind: qsgd}\n", "compressor:", "runs.0.compressor.s",
               {"required"});
  expect_error(head + "    compressor: {kind: qsgd, s: 0}\n", "compressor:", "runs.0.compressor.s",
               {"out of range"});
  expect_error(head + "    compressor: {kind: qsgd, s: 2, coding: huffman}\n",
               "compressor:", "runs.0.compressor.coding", {"fixed", "elias"});
  expect_error(head + "    compressor: {kind: natural, k: 2}\n",
               "compressor:", "runs.0.compressor.k", {"takes no k"});
  expect_error(head + "    compressor: {kind: top_k, k: 2, values: float8}\n",
               "compressor:", "runs.0.compressor.values", {"natural"});
  expect_error(head + "    compressor: {kind: induced, c1: {kind: top_k, k: 1}}\n",
               "compressor:", "runs.0.compressor.c2", {"required"});
  expect_error(
      head + "    compressor: {kind: induced, c1: {kind: top_k, k: 1}, c2: {kind: qsgdd}}\n",
      "compressor:", "runs.0.compressor.c2.kind", {"qsgd"});
  expect_error(head + "    compressor: {kind: qsgd, s: 2, kk: 1}\n",
               "compressor:", "runs.0.compressor.kk", {"unknown key"});
}

// ---- Stochastic gradients and momentum  ----

TEST_F(ScenarioTest, BatchEtaBetaExpandAndNameTheRuns) {
  const std::string text =
      "problem: {dataset: synthetic, workers: 2}\n"
      "runs:\n"
      "  - method: ef21_sgdm\n"
      "    compressor: {kind: top_k, k: 2}\n"
      "    batch: [1, 8]\n"
      "    batch_init: 16\n"
      "    eta: [0.1, 1]\n"
      "  - method: dcgd\n"
      "    batch: 4\n"
      "    beta: 0.9\n";
  const Scenario s = load_scenario(write("sgdm.yaml", text));
  std::vector<std::string> ids;
  for (const auto& r : s.runs) ids.push_back(r.id);
  const std::vector<std::string> expected = {
      "ef21_sgdm-top_k2-x1-b1-bi16-eta0.1", "ef21_sgdm-top_k2-x1-b1-bi16-eta1",
      "ef21_sgdm-top_k2-x1-b8-bi16-eta0.1", "ef21_sgdm-top_k2-x1-b8-bi16-eta1",
      "dcgd-identity-x1-b4-beta0.9"};
  EXPECT_EQ(ids, expected);
}

TEST_F(ScenarioTest, BatchEtaBetaErrors) {
  const std::string head = "problem: {dataset: synthetic, workers: 2}\nruns:\n";
  expect_error(head + "  - {method: ef21, eta: 0.5}\n", "eta", "runs.0.eta", {"takes no eta"});
  expect_error(head + "  - {method: ef21_sgdm, eta: 0}\n", "eta", "runs.0.eta", {"must be > 0"});
  expect_error(head + "  - {method: ef21_sgdm, eta: 1.5}\n", "eta", "runs.0.eta", {"out of range"});
  expect_error(head + "  - {method: dcgd, beta: 1}\n", "beta", "runs.0.beta", {"must be < 1"});
  expect_error(head + "  - {method: ef21, beta: 0.5}\n", "beta", "runs.0.beta", {"takes no beta"});
  expect_error(head + "  - {method: dcgd, batch: -1}\n", "batch", "runs.0.batch", {"out of range"});
}

TEST_F(ScenarioTest, DianaAndParticipationKeys) {
  const std::string head = "problem: {dataset: synthetic, workers: 4}\nruns:\n";
  const Scenario s =
      load_scenario(write("d.yaml", head + "  - method: ec_sgd_diana\n"
                                           "    compressor: {kind: top_k, k: 2}\n"
                                           "    quantizer: {kind: [natural, qsgd], s: 4}\n"
                                           "    stepsize: {gamma: 0.1}\n"
                                           "  - method: dcgd\n"
                                           "    compressor: {kind: natural}\n"
                                           "    participation: {tau: 2}\n"
                                           "  - method: dcgd\n"
                                           "    compressor: {kind: natural}\n"
                                           "    participation: {p: [0.5, 1, 1, 0.25]}\n"));
  std::vector<std::string> ids;
  for (const auto& r : s.runs) ids.push_back(r.id);
  const std::vector<std::string> expected = {
      "ec_sgd_diana-top_k2-g0.1-qnatural", "ec_sgd_diana-top_k2-g0.1-qqsgd4",
      "dcgd-natural-x1-tau2", "dcgd-natural-x1-pp0.5_1_1_0.25"};
  EXPECT_EQ(ids, expected);
  expect_error(head + "  - {method: ec_sgd_diana, compressor: {kind: top_k, k: 1}}\n", "method",
               "runs.0.quantizer", {"required"});
  expect_error(head + "  - {method: ef21, quantizer: {kind: natural}}\n", "quantizer",
               "runs.0.quantizer", {"takes no quantizer"});
  expect_error(head + "  - {method: ef, participation: {tau: 2}}\n", "participation",
               "runs.0.participation", {"no partial participation"});
  expect_error(head + "  - {method: dcgd, participation: {tau: 5}}\n", "participation",
               "runs.0.participation.tau", {"out of range"});
  expect_error(head + "  - {method: dcgd, participation: {p: [0.5, 0.5]}}\n", "participation",
               "runs.0.participation.p", {"one probability per worker"});
  expect_error(head + "  - {method: dcgd, participation: {p: 0}}\n", "participation",
               "runs.0.participation.p", {"must be > 0"});
}

TEST_F(ScenarioTest, TyposGetADidYouMean) {
  const std::string head = "problem: {dataset: synthetic, workers: 2}\n";
  expect_error(head + "stop: {max_round: 3}\nruns: [{method: gd}]\n", "max_round", "stop.max_round",
               {"did you mean 'max_rounds'?"});
  expect_error(head + "runs: [{method: ef12}]\n", "ef12", "runs.0.method",
               {"did you mean 'ef21'?"});
  expect_error(head + "runs: [{method: ef21, compressor: {kind: topk, k: 1}}]\n", "topk",
               "runs.0.compressor.kind", {"did you mean 'top_k'?"});
  // Nothing close: no suggestion.
  EXPECT_EQ(error_of(head + "runs: [{method: zzzzzz}]\n").find("did you mean"), std::string::npos);
}

}  // namespace
