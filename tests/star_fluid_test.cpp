// The `analytic` network model (sim/network/star_fluid.*) against SimGrid's `textbook` runs of the
// same scenarios: the same iterates and bits bit for bit, and every time of the trace (the round
// ends and the down/compute/up/idle/master breakdown) equal to SimGrid's within SimGrid's own
// precision -- on a homogeneous star, on an edge fleet whose classes differ in link and speed,
// under partial participation and with stragglers; and the grouped solver against the general
// fluid model of analytic_star.hpp on random heterogeneous flows.
#include "sim/network/star_fluid.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "sim/network/analytic_star.hpp"
#include "sim/sweep/recorder.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using efsim::test::quoted;
using efsim::test::run_efsim;

using AnalyticModelTest = efsim::test::TempDirTest;

void expect_close(double a, double b, const std::string& what) {
  EXPECT_LE(std::abs(a - b), 1e-9 * std::max(std::abs(a), std::abs(b)) + 1e-12)
      << what << ": " << a << " vs " << b;
}

TEST_F(AnalyticModelTest, EqualsSimGridTextbookOnStarsAndEdgeFleets) {
  const fs::path yaml = fs::path(dir_) / "s.yaml";
  std::ofstream(yaml) << "seed: 4\n"
                         "network_model: [textbook, analytic]\n"
                         "platforms:\n"
                         "  - {name: star, kind: star, bandwidth: 10Mbps, latency: 10ms, "
                         "master_bandwidth: 40Mbps}\n"
                         "  - name: edge\n"
                         "    kind: edge\n"
                         "    master_bandwidth: 50Mbps\n"
                         "    stragglers: {fraction: 0.2, slowdown: 30}\n"
                         "    classes:\n"
                         "      - {bandwidth: 10Mbps, latency: 50ms, share: 0.5, speed: 0.01Gf}\n"
                         "      - {bandwidth: 100Mbps, latency: 10ms, share: 0.3, speed: 4Gf}\n"
                         "      - {bandwidth: 1Mbps, latency: 80ms, share: 0.2}\n"
                         "problem:\n"
                         "  dataset: synthetic\n"
                         "  synthetic: {samples: 997, dim: 300, nnz_per_row: 7}\n"
                         "  workers: 40\n"
                         "stop: {max_rounds: 25}\n"
                         "runs:\n"
                         "  - method: ef21\n"
                         "    compressor: {kind: top_k, k: [3, 200]}\n"
                         "  - method: dcgd\n"
                         "    compressor: {kind: rand_k_unbiased, k: 9}\n"
                         "    participation: {tau: 11}\n"
                         "    stepsize: {gamma: 0.2}\n";
  const auto r = run_efsim("run " + quoted(yaml.string()) + " --out " +
                           quoted((fs::path(dir_) / "out").string()) + " --no-report --quiet");
  ASSERT_EQ(r.status, 0) << r.output;
  int compared = 0;
  for (const auto& run : fs::directory_iterator(fs::path(dir_) / "out" / "runs")) {
    const std::string id = run.path().filename().string();
    const auto at = id.find("-textbook");
    if (at == std::string::npos) continue;
    const std::string twin = id.substr(0, at) + "-analytic";
    const auto a = efsim::sim::read_trace_csv((run.path() / "trace.csv").string());
    const auto b =
        efsim::sim::read_trace_csv((fs::path(dir_) / "out" / "runs" / twin / "trace.csv").string());
    ASSERT_EQ(a.size(), b.size()) << id;
    ASSERT_EQ(a.size(), 26u) << id;
    for (std::size_t k = 0; k < a.size(); ++k) {
      const std::string row = id + " round " + std::to_string(k);
      EXPECT_EQ(a[k].f, b[k].f) << row;
      EXPECT_EQ(a[k].grad_norm_sq, b[k].grad_norm_sq) << row;
      EXPECT_EQ(a[k].bits_up_per_worker, b[k].bits_up_per_worker) << row;
      EXPECT_EQ(a[k].bits_down_per_worker, b[k].bits_down_per_worker) << row;
      expect_close(a[k].sim_time_s, b[k].sim_time_s, row + " time");
      expect_close(a[k].time.down_s, b[k].time.down_s, row + " down");
      expect_close(a[k].time.compute_s, b[k].time.compute_s, row + " compute");
      expect_close(a[k].time.up_s, b[k].time.up_s, row + " up");
      expect_close(a[k].time.idle_s, b[k].time.idle_s, row + " idle");
      expect_close(a[k].time.master_s, b[k].time.master_s, row + " master");
    }
    ++compared;
  }
  EXPECT_EQ(compared, 6);  // 3 runs x 2 platforms
}

TEST(StarFluid, GroupedSolverEqualsTheGeneralFluidModel) {
  efsim::alg::Rng rng(11);
  for (int trial = 0; trial < 200; ++trial) {
    const int n = 1 + static_cast<int>(efsim::alg::uniform_below(rng, 30));
    const double shared = 1e5 * (1 + efsim::alg::uniform_below(rng, 50));
    std::vector<efsim::sim::StarFlow> star;
    std::vector<efsim::sim::Flow> general;
    std::vector<double> capacity = {shared};
    for (int i = 0; i < n; ++i) {
      // Few distinct values, so that groups form; some flows without bytes.
      const double ready = 0.1 * static_cast<double>(efsim::alg::uniform_below(rng, 3));
      const double latency = 0.01 * static_cast<double>(efsim::alg::uniform_below(rng, 3));
      const double bytes = 1000.0 * static_cast<double>(efsim::alg::uniform_below(rng, 4));
      const double cap = 2e4 * static_cast<double>(1 + efsim::alg::uniform_below(rng, 8));
      star.push_back({ready, latency, bytes, cap});
      capacity.push_back(cap);
      general.push_back({ready, bytes > 0 ? latency : 0.0, bytes, {0, i + 1}});
    }
    const auto got = efsim::sim::star_finish_times(star, shared);
    const auto want = efsim::sim::fluid_finish_times(general, capacity);
    ASSERT_EQ(got.size(), want.size());
    for (int i = 0; i < n; ++i)
      EXPECT_NEAR(got[i], want[i], 1e-12 * std::max(1.0, want[i]))
          << "trial " << trial << " flow " << i;
  }
}

}  // namespace
