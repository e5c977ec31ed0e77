// network_model: ns3 (SimGrid's packet-level ns-3 TCP) against closed forms of TCP, the error
// band of the flow models on a representative case, and the simulator's invariants under it:
// the same iterates as every other model, deterministic outputs, bad platforms rejected.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "sim/network/validation.hpp"
#include "test_util.hpp"

namespace efsim::sim {
namespace {

ValidationCell cell(double bytes, double bandwidth_bps, double latency_s, int workers = 1) {
  ValidationCell c;
  c.bytes = bytes;
  c.bandwidth_bps = bandwidth_bps;
  c.latency_s = latency_s;
  c.workers = workers;
  return c;
}

// One round = the master's message down, then the worker's message up: two transfers, each a
// route of two links (the worker's and the master's).
TEST(Ns3, TextbookRoundIsTwiceLatencyPlusSizeOverBandwidth) {
  const ValidationCell c = cell(1e5, 1e7, 2e-3);
  const double one_way = 2 * c.latency_s + c.bytes * 8 / c.bandwidth_bps;
  EXPECT_NEAR(validation_round_time(c, "textbook"), 2 * one_way, 1e-9);
}

// A message of one segment on a fresh TCP connection: SYN / SYN-ACK (one round trip), then the
// data and the close (one more): two round trips per message, RTT = 4 L over two links.
TEST(Ns3, SmallMessageCostsTwoRoundTripsOfAFreshConnection) {
  const ValidationCell c = cell(100, 1e10, 10e-3);
  const double rtt = 4 * c.latency_s;
  EXPECT_NEAR(validation_round_time(c, "ns3"), 2 * (2 * rtt), 0.01 * 4 * rtt);
}

// A bulk transfer runs at TCP's goodput: 1000-byte segments (SimGrid's ns-3 setting) carry 42
// bytes of TCP/IP and PPP headers, so time ~ 1.042 S / B, plus a few round trips of set-up and
// slow start (RTT = 0.4 ms here, 2 ms of them at most).
TEST(Ns3, BulkTransferRunsAtTcpGoodput) {
  const ValidationCell c = cell(1e7, 1e8, 0.1e-3);
  const double wire = 2 * 1.042 * c.bytes * 8 / c.bandwidth_bps;  // both directions
  const double t = validation_round_time(c, "ns3");
  EXPECT_GT(t, wire);
  EXPECT_LT(t, wire + 2 * 2e-3);
}

// The documented error band of LV08 (README, "How accurate is simulated time"): 13x its
// latency makes a small message about 3x slower than even a fresh TCP connection; a large
// message agrees within a few percent.
TEST(Ns3, Lv08ErrorBandSmallAndLargeMessages) {
  const ValidationCell small = cell(1e3, 1e8, 10e-3, 4);
  const double small_ratio =
      validation_round_time(small, "simgrid") / validation_round_time(small, "ns3");
  EXPECT_GT(small_ratio, 2.5);
  EXPECT_LT(small_ratio, 4.0);
  const ValidationCell large = cell(1e6, 1e7, 1e-3, 4);
  const double large_ratio =
      validation_round_time(large, "simgrid") / validation_round_time(large, "ns3");
  EXPECT_NEAR(large_ratio, 1.0, 0.05);
}

// Every pattern, both downlinks, random stragglers and partial participation under ns-3 give
// the same iterates as under LV08; only time differs. Two ns-3 sweeps give the same bytes.
class Ns3Sweep : public test::TempDirTest {};

std::map<std::string, std::string> traces_without_time(const std::filesystem::path& runs,
                                                       const std::string& tag) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(runs)) {
    const std::string id = e.path().filename().string();
    if (id.size() < tag.size() || id.compare(id.size() - tag.size(), tag.size(), tag) != 0)
      continue;
    std::istringstream in(test::slurp(e.path() / "trace.csv"));
    std::string line, math;
    while (std::getline(in, line)) {  // round, f, grad_norm_sq, bits: columns 0, 2, 3, 4, 5
      std::vector<std::string> cols;
      std::stringstream ls(line);
      for (std::string c; std::getline(ls, c, ',');) cols.push_back(c);
      math += cols[0] + ',' + cols[2] + ',' + cols[3] + ',' + cols[4] + ',' + cols[5] + '\n';
    }
    out[id.substr(0, id.size() - tag.size())] = math;
  }
  return out;
}

TEST_F(Ns3Sweep, SameIteratesAsLv08ForEveryPatternAndDeterministic) {
  const std::string scenario = write("ns3.yaml", R"(seed: 5
network_model: [simgrid, ns3]
platform: {kind: star, bandwidth: 10Mbps, latency: 1ms,
           stragglers: {fraction: 0.5, slowdown: 3, mode: random}}
problem:
  kind: logistic
  dataset: synthetic
  synthetic: {samples: 200, dim: 40, nnz_per_row: 8}
  workers: 4
stop: {max_rounds: 12}
runs:
  - method: ef21
    compressor: {kind: top_k, k: 4}
    pattern: [parameter_server, tree, ring_allgather]
  - method: gd
    pattern: ring_allreduce
  - method: gd
    pattern: tree
    downlink: [aggregate, model]
  - method: dcgd
    compressor: {kind: rand_k_unbiased, k: 8}
    participation: {tau: 2}
    downlink: model
)");
  const auto out1 = dir_ / "a", out2 = dir_ / "b";
  for (const auto& out : {out1, out2}) {
    const auto r = test::run_efsim("run " + scenario + " --out " + out.string() +
                                   " --no-report --quiet --jobs 2");
    ASSERT_EQ(r.status, 0) << r.output;
  }
  const auto lv08 = traces_without_time(out1 / "runs", "@simgrid");
  const auto ns3 = traces_without_time(out1 / "runs", "@ns3");
  ASSERT_EQ(lv08.size(), 7u);
  EXPECT_EQ(lv08, ns3);
  for (const auto& [id, math] : ns3) {
    SCOPED_TRACE(id);
    const auto run1 = out1 / "runs" / (id + "@ns3"), run2 = out2 / "runs" / (id + "@ns3");
    EXPECT_EQ(test::slurp(run1 / "trace.csv"), test::slurp(run2 / "trace.csv"));
    EXPECT_EQ(test::slurp(run1 / "run.json"), test::slurp(run2 / "run.json"));
    EXPECT_NE(test::slurp(run1 / "trace.csv"),
              test::slurp(out1 / "runs" / (id + "@simgrid") / "trace.csv"));  // time differs
  }
}

TEST_F(Ns3Sweep, PlatformFileWithoutSingleLinkRoutesIsRejected) {
  const std::string scenario = write("file.yaml", std::string(R"(network_model: ns3
platform: {kind: file, file: )") + EFSIM_SOURCE_DIR +
                                                      R"(/platforms/example_star.xml,
           master: ps, workers: "worker-*"}
problem: {kind: logistic, dataset: synthetic, workers: 4}
stop: {max_rounds: 2}
runs:
  - method: gd
)");
  const auto r = test::run_efsim("run " + scenario + " --out " + (dir_ / "o").string() +
                                 " --no-report --quiet");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("file.yaml:2: key 'platform.file': "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("network_model ns3: host 'ps' has no single-link route"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "o")) << "checked before any result is written";
  EXPECT_EQ(r.output.find("CRITICAL"), std::string::npos) << r.output;  // no SimGrid abort
}

TEST_F(Ns3Sweep, NetworkModelListIsChecked) {
  const std::string head =
      "problem: {kind: logistic, dataset: synthetic, workers: 2}\nruns:\n"
      "  - method: gd\n";
  auto run = [&](const std::string& models) {
    return test::run_efsim("run " + write("m.yaml", "network_model: " + models + "\n" + head) +
                           " --out " + (dir_ / "o").string() + " --no-report --quiet");
  };
  const auto typo = run("ns-3");
  EXPECT_EQ(typo.status, 2);
  EXPECT_NE(typo.output.find("m.yaml:1: key 'network_model': 'ns-3' is not one of: simgrid, "
                             "cm02, textbook, ns3, analytic; did you mean 'ns3'?"),
            std::string::npos)
      << typo.output;
  const auto twice = run("[ns3, simgrid, ns3]");
  EXPECT_EQ(twice.status, 2);
  EXPECT_NE(twice.output.find("'ns3' listed twice"), std::string::npos) << twice.output;
}

}  // namespace
}  // namespace efsim::sim
