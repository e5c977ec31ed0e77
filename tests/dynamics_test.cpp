// Real environments (platform.dynamics, platform.round_deadline) end to end through the efsim
// binary, against hand-computed times under the textbook network model (latency + bytes /
// bandwidth exactly): a bandwidth step in the middle of an upload, a round deadline just before
// and just after the slow worker's arrival, and bad trace files rejected with file:line:key.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "sim/sweep/recorder.hpp"
#include "sim/text.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using efsim::test::quoted;
using efsim::test::Result;
using efsim::test::run_efsim;

class DynamicsTest : public efsim::test::TempDirTest {
 protected:
  // Runs the scenario (GD, 5 rounds, d = 50) on `platform` and returns its only run's trace.
  std::vector<efsim::alg::TraceRow> run(const std::string& name, const std::string& platform,
                                        int workers) {
    const std::string text =
        "name: " + name + "\nseed: 3\nnetwork_model: textbook\nplatform:\n" + platform +
        "problem:\n  dataset: synthetic\n  workers: " + std::to_string(workers) +
        "\n  synthetic: {samples: 200, dim: 50, nnz_per_row: 5}\n"
        "stop: {max_rounds: 3}\nruns: [{method: gd}]\n";
    const std::string path = write(name + ".yaml", text);
    const fs::path out = dir_ / ("out-" + name);
    const Result r =
        run_efsim("run " + quoted(path) + " --quiet --no-report --out " + quoted(out.string()));
    EXPECT_EQ(r.status, 0) << r.output;
    for (const auto& e : fs::directory_iterator(out / "runs"))
      return efsim::sim::read_trace_csv((e.path() / "trace.csv").string());
    ADD_FAILURE() << "no run written";
    return {};
  }
};

// Fast hosts (compute ~1e-15 s) and a master link that costs nothing: a round-0 upload takes
// the worker link's latency + bytes / bandwidth.
const char* kHosts =
    "  worker_speed: 1e18f\n  master_speed: 1e18f\n  master_bandwidth: 1e15Bps\n"
    "  master_latency: 0s\n";

TEST_F(DynamicsTest, BandwidthStepGivesTheHandComputedUploadTime) {
  const std::string star =
      std::string("  kind: star\n  bandwidth: 1000Bps\n  latency: 10ms\n") + kHosts;
  const auto flat = run("flat", star, 1);
  ASSERT_GE(flat.size(), 2u);
  const double B = 1000, lat = 0.01;
  const double S = (flat[1].time.up_s - lat) * B;  // the upload's bytes, from the static run
  ASSERT_GT(S, 100);
  // The bandwidth halves at T, while the upload is under way.
  const double T = 0.1, f = 0.5;
  const auto step = run("step",
                        star +
                            "  dynamics:\n    - workers: all\n      bandwidth: {step: "
                            "{at: 100ms, factor: 0.5}}\n",
                        1);
  ASSERT_GE(step.size(), 2u);
  const double c = step[1].time.compute_s;
  const double sent_by_T = B * (T - c - lat);
  const double expected_up = (T - c) + (S - sent_by_T) / (f * B);
  EXPECT_NEAR(step[1].time.up_s, expected_up, 1e-9);
  // No participation columns without a deadline or availability.
  EXPECT_EQ(step.back().participation.used, 0);
}

// An asymmetric star (platform.downlink_bandwidth) has a link per direction: the profile
// applies to both, the upload following the same hand-computed time as on a symmetric link.
TEST_F(DynamicsTest, BandwidthStepAppliesToBothLinksOfAnAsymmetricStar) {
  const std::string star = std::string(
                               "  kind: star\n  bandwidth: 1000Bps\n  downlink_bandwidth: 4000Bps\n"
                               "  latency: 10ms\n") +
                           kHosts;
  const auto flat = run("asym_flat", star, 1);
  ASSERT_GE(flat.size(), 2u);
  const double B = 1000, lat = 0.01, T = 0.1, f = 0.5;
  const double S = (flat[1].time.up_s - lat) * B;
  ASSERT_GT(S, 100);
  const std::string step_at_T =
      "  dynamics:\n    - workers: all\n      bandwidth: {step: {at: 100ms, factor: 0.5}}\n";
  const auto step = run("asym_step", star + step_at_T, 1);
  ASSERT_GE(step.size(), 2u);
  const double c = step[1].time.compute_s;
  EXPECT_NEAR(step[1].time.up_s, (T - c) + (S - B * (T - c - lat)) / (f * B), 1e-9);
  // The downlink's profile: a step at 0 halves the master's broadcast (the model, d doubles
  // plus the header) on the 4000 B/s link, from the first round on.
  const std::string step_at_0 =
      "  dynamics:\n    - workers: all\n      bandwidth: {step: {at: 0s, factor: 0.5}}\n";
  const auto halved = run("asym_halved", star + step_at_0, 1);
  ASSERT_GE(halved.size(), 3u);
  const double down = flat[2].time.down_s - lat, down_halved = halved[2].time.down_s - lat;
  ASSERT_GT(down, 0);
  EXPECT_NEAR(down_halved, 2 * down, 1e-9);
}

TEST_F(DynamicsTest, SpeedAndLatencyProfilesScaleComputeAndLatency) {
  // Slow hosts (the computation takes measurable time) and a 10 ms link.
  const std::string star =
      "  kind: star\n  bandwidth: 1000Bps\n  latency: 10ms\n  worker_speed: 1e6f\n"
      "  master_speed: 1e18f\n  master_bandwidth: 1e15Bps\n  master_latency: 0s\n";
  const auto flat = run("flat2", star, 1);
  // From time 0: half the speed, three times the latency.
  const auto slow = run("slow",
                        star +
                            "  dynamics:\n    - workers: all\n"
                            "      speed: {step: {at: 0s, factor: 0.5}}\n"
                            "      latency: {step: {at: 0s, factor: 3}}\n",
                        1);
  ASSERT_GE(flat.size(), 2u);
  ASSERT_GE(slow.size(), 2u);
  ASSERT_GT(flat[1].time.compute_s, 1e-6);
  EXPECT_NEAR(slow[1].time.compute_s, 2 * flat[1].time.compute_s, 1e-12);
  EXPECT_NEAR(slow[1].time.up_s, flat[1].time.up_s + 2 * 0.01, 1e-9);
}

TEST_F(DynamicsTest, SameScenarioSameBytes) {
  const std::string edge =
      std::string(
          "  kind: edge\n  classes:\n"
          "    - {bandwidth: 2000Bps, latency: 10ms, share: 1}\n"
          "    - {bandwidth: 1000Bps, latency: 50ms, share: 1}\n  round_deadline: 400ms\n"
          "  master_power: {idle: 10, busy: 20}\n  dynamics:\n    - workers: all\n"
          "      power: {idle: 1, busy: 2, transfer: 0.5}\n"
          "      bandwidth: {diurnal: {period: 5s, min: 0.3, steps: 8}}\n"
          "    - class: 1\n      availability: {markov: {mean_on: 1s, mean_off: 1s}}\n") +
      kHosts;
  const auto a = run("det-a", edge, 4);
  const auto b = run("det-b", edge, 4);
  ASSERT_EQ(a.size(), b.size());
  // The trace and run.json's energy (run.json also names the scenario, which differs here).
  const auto text = [](const std::string& dir) {
    for (const auto& e : fs::directory_iterator(dir + "/runs")) {
      const std::string json = efsim::test::slurp((e.path() / "run.json").string());
      return efsim::test::slurp((e.path() / "trace.csv").string()) +
             json.substr(json.find("\"energy\""));
    }
    return std::string();
  };
  const std::string ta = text((dir_ / "out-det-a").string());
  EXPECT_FALSE(ta.empty());
  EXPECT_EQ(ta, text((dir_ / "out-det-b").string()));
  EXPECT_GT(a.back().participation.off + a.back().participation.dropped, 0);  // it did vary
}

TEST_F(DynamicsTest, DeadlineDropsTheWorkerJustPastItAndKeepsTheOneJustBefore) {
  // Two classes that differ only in latency: worker arrivals at lat_i + S / B.
  const std::string edge = std::string(
                               "  kind: edge\n  classes:\n"
                               "    - {bandwidth: 1000Bps, latency: 10ms, share: 1}\n"
                               "    - {bandwidth: 1000Bps, latency: 300ms, share: 1}\n") +
                           kHosts;
  const auto all = run("all", edge, 2);
  ASSERT_GE(all.size(), 2u);
  const double S_over_B = all[1].time.up_s - (0.01 + 0.3) / 2;  // mean of lat_i + S/B
  const double fast = 0.01 + S_over_B, slow = 0.3 + S_over_B;
  auto with_deadline = [&](const std::string& name, double deadline) {
    return run(name, edge + "  round_deadline: " + efsim::sim::exact(deadline) + "s\n", 2);
  };
  const auto in = with_deadline("in", slow + 1e-6);
  ASSERT_GE(in.size(), 2u);
  EXPECT_EQ(in[1].participation.used, 2);
  EXPECT_EQ(in[1].participation.dropped, 0);
  EXPECT_EQ(in[1].participation.time_lost_s, 0.0);
  EXPECT_NEAR(in[1].sim_time_s, all[1].sim_time_s, 1e-12);
  // The same math when everybody makes it (up to the model downlink's float32 rounding of x).
  EXPECT_NEAR(in[1].f, all[1].f, 1e-6 * std::abs(all[1].f));

  const double d = slow - 1e-6;
  const auto out = with_deadline("out", d);
  ASSERT_GE(out.size(), 2u);
  EXPECT_EQ(out[1].participation.used, 1);
  EXPECT_EQ(out[1].participation.dropped, 1);
  EXPECT_NEAR(out[1].participation.time_lost_s, d - fast, 1e-9);
  EXPECT_NEAR(out[1].sim_time_s, d, 1e-9);
  // x^1 moved along the fast worker's gradient only.
  EXPECT_GT(std::abs(out[1].f - all[1].f), 1e-4 * std::abs(all[1].f));
}

// The quantile rule against hand-computed arrivals: four workers that differ only in latency
// (10, 100, 100, 300 ms: two tie) upload S bytes at 1000 B/s, arriving at lat_i + S / B.
TEST_F(DynamicsTest, QuantileClosesAtTheHandComputedArrivalWithTiesAndCap) {
  const std::string edge = std::string(
                               "  kind: edge\n  classes:\n"
                               "    - {bandwidth: 1000Bps, latency: 10ms, share: 1}\n"
                               "    - {bandwidth: 1000Bps, latency: 100ms, share: 1}\n"
                               "    - {bandwidth: 1000Bps, latency: 100ms, share: 1}\n"
                               "    - {bandwidth: 1000Bps, latency: 300ms, share: 1}\n") +
                           kHosts;
  const auto all = run("q-all", edge, 4);
  ASSERT_GE(all.size(), 2u);
  const double S_over_B = all[1].time.up_s - (0.01 + 0.1 + 0.1 + 0.3) / 4;
  ASSERT_GT(S_over_B, 0.1);
  const double first = 0.01 + S_over_B, tied = 0.1 + S_over_B, last = 0.3 + S_over_B;
  auto quantile = [&](const std::string& name, const std::string& rule) {
    return run(name, edge + "  round_deadline: " + rule + "\n", 4);
  };
  // q = 0.25: ceil(1) = the first arrival alone.
  const auto q25 = quantile("q25", "{quantile: 0.25}");
  ASSERT_EQ(q25.size(), 4u);
  EXPECT_EQ(q25[1].participation.used, 1);
  EXPECT_EQ(q25[1].participation.dropped, 3);
  EXPECT_EQ(q25[1].participation.time_lost_s, 0.0);
  EXPECT_NEAR(q25[1].sim_time_s, first, 1e-9);
  // q = 0.5: ceil(2) = the 2nd arrival, which ties with the 3rd: both count.
  const auto q50 = quantile("q50", "{quantile: 0.5}");
  ASSERT_EQ(q50.size(), 4u);
  EXPECT_EQ(q50[1].participation.used, 3);
  EXPECT_EQ(q50[1].participation.dropped, 1);
  EXPECT_EQ(q50[1].participation.time_lost_s, 0.0);
  EXPECT_NEAR(q50[1].sim_time_s, tied, 1e-9);
  // Every round: rounds > 0 add the model download (the same for all) and keep the order.
  for (std::size_t k = 2; k < q50.size(); ++k) EXPECT_EQ(q50[k].participation.used, 3 * k);
  // q = 0.4: ceil(1.6) = 2, the same round as q = 0.5.
  const auto q40 = quantile("q40", "{quantile: 0.4}");
  ASSERT_EQ(q40.size(), 4u);
  EXPECT_EQ(q40[1].participation.used, 3);
  EXPECT_EQ(q40.back().f, q50.back().f);
  // q = 1: everybody, the same run as waiting for all (up to the float32 model download).
  const auto q100 = quantile("q100", "{quantile: 1}");
  ASSERT_EQ(q100.size(), 4u);
  EXPECT_EQ(q100[1].participation.used, 4);
  EXPECT_NEAR(q100[1].sim_time_s, last, 1e-9);
  EXPECT_NEAR(q100.back().f, all.back().f, 1e-6 * std::abs(all.back().f));
  // q = 0.9 (ceil(3.6) = 4: the last arrival) capped between the tie and the last: the cap
  // closes the round.
  const double cap = (tied + last) / 2;
  const auto capped = quantile("qcap", "{quantile: 0.9, at_most: " + efsim::sim::exact(cap) + "s}");
  ASSERT_EQ(capped.size(), 4u);
  EXPECT_EQ(capped[1].participation.used, 3);
  EXPECT_EQ(capped[1].participation.dropped, 1);
  EXPECT_NEAR(capped[1].participation.time_lost_s, cap - tied, 1e-9);
  EXPECT_NEAR(capped[1].sim_time_s, cap, 1e-9);
  // q = 0.75 (ceil(3) = 3) closes at the tie, like q = 0.5.
  const auto q75 = quantile("q75", "{quantile: 0.75}");
  ASSERT_EQ(q75.size(), 4u);
  EXPECT_EQ(q75[1].participation.used, 3);
  EXPECT_NEAR(q75[1].sim_time_s, tied, 1e-9);
  // ... and a cap past the quantile's arrival changes nothing.
  const auto loose = quantile("qloose", "{quantile: 0.5, at_most: 10s}");
  ASSERT_EQ(loose.size(), 4u);
  for (std::size_t k = 0; k < loose.size(); ++k) {
    EXPECT_EQ(loose[k].sim_time_s, q50[k].sim_time_s);
    EXPECT_EQ(loose[k].f, q50[k].f);
  }
}

TEST_F(DynamicsTest, AnOffWorkerSitsOutAndOneGoingOffMidTransferLosesIt) {
  const std::string edge = std::string(
                               "  kind: edge\n  classes:\n"
                               "    - {bandwidth: 1000Bps, latency: 10ms, share: 1}\n"
                               "    - {bandwidth: 1000Bps, latency: 300ms, share: 1}\n") +
                           kHosts + "  round_deadline: 10s\n";
  const auto all = run("static", edge, 2);
  ASSERT_GE(all.size(), 2u);
  const double S_over_B = all[1].time.up_s - (0.01 + 0.3) / 2;
  const double fast = 0.01 + S_over_B, slow = 0.3 + S_over_B;
  // Class 1 is off from the start: it never takes part.
  write("off.txt", "0 0\n");
  const auto off = run("off",
                       edge + "  dynamics:\n    - class: 1\n      availability: {trace: " +
                           (dir_ / "off.txt").string() + "}\n",
                       2);
  ASSERT_EQ(off.size(), 4u);
  EXPECT_EQ(off[3].participation.used, 3);
  EXPECT_EQ(off[3].participation.off, 3);
  EXPECT_EQ(off[3].participation.dropped, 0);
  EXPECT_NEAR(off[1].sim_time_s, fast, 1e-9);  // the round ends with the one upload it waits for
  // Class 1 goes off halfway through its first upload: lost; the master goes on when it knows.
  const double T = (fast + slow) / 2;
  write("drop.txt", "0 1\n" + efsim::sim::exact(T) + " 0\n");
  const auto lost = run("lost",
                        edge + "  dynamics:\n    - class: 1\n      availability: {trace: " +
                            (dir_ / "drop.txt").string() + "}\n",
                        2);
  ASSERT_EQ(lost.size(), 4u);
  EXPECT_EQ(lost[1].participation.used, 1);
  EXPECT_EQ(lost[1].participation.dropped, 1);
  EXPECT_EQ(lost[1].participation.off, 0);
  EXPECT_NEAR(lost[1].participation.time_lost_s, T - fast, 1e-9);
  EXPECT_NEAR(lost[1].sim_time_s, T, 1e-9);
  EXPECT_EQ(lost[3].participation.off, 2);  // off for the rounds after
}

TEST_F(DynamicsTest, EnergyOfOneWorkerOneTransferOneComputationIsWattsTimesSeconds) {
  // One worker computes for c seconds, uploads S bytes over a 1000 B/s link (no latency: the
  // link is busy for exactly S / B), the master aggregates for m seconds; the run ends at T.
  const std::string star =
      "  kind: star\n  bandwidth: 1000Bps\n  latency: 0s\n  worker_speed: 1e6f\n"
      "  master_speed: 1e6f\n  master_bandwidth: 1e15Bps\n  master_latency: 0s\n"
      "  master_power: {idle: 50, busy: 200}\n"
      "  dynamics:\n    - workers: all\n      power: {idle: 0.5, busy: 3, transfer: 1.5}\n";
  const auto t = run("energy", star, 1);
  ASSERT_GE(t.size(), 2u);
  const double T = t[1].sim_time_s, c = t[1].time.compute_s, up = t[1].time.up_s,
               m = t[1].time.master_s;
  ASSERT_GT(c, 0);
  ASSERT_GT(up, 0);
  ASSERT_GT(m, 0);
  EXPECT_NEAR(T, c + up + m, 1e-12);
  const double worker = 3 * c + 0.5 * (T - c) + 1.5 * up;
  const double master = 200 * m + 50 * (T - m);
  EXPECT_NEAR(t[1].energy_J, worker + master, 1e-9 * (worker + master));
  EXPECT_EQ(t[0].energy_J, 0.0);
  // The round-by-round Joules of later rows keep growing.
  EXPECT_GT(t.back().energy_J, t[1].energy_J);
}

TEST_F(DynamicsTest, BadTraceFilesAndMethodsWithoutSemanticsAreRejected) {
  write("bw.txt", "0 1\n5 0.5\n3 x\n");
  const std::string text =
      "name: bad\nnetwork_model: textbook\nplatform:\n  kind: star\n  dynamics:\n"
      "    - workers: all\n      bandwidth: {trace: bw.txt}\n"
      "problem:\n  dataset: synthetic\n  workers: 2\n"
      "  synthetic: {samples: 200, dim: 50, nnz_per_row: 5}\nruns: [{method: gd}]\n";
  const std::string path = write("bad.yaml", text);
  Result r = run_efsim("run " + quoted(path) + " --check");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find(path + ":7: key 'platform.dynamics.0.bandwidth.trace'"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("bw.txt:3: 'x' is not a number"), std::string::npos) << r.output;

  const std::string missing =
      write("missing.yaml", text.substr(0, text.find("bw.txt")) + "absent.txt}\n" +
                                text.substr(text.find("problem:")));
  r = run_efsim("run " + quoted(missing) + " --check");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("cannot read trace file"), std::string::npos) << r.output;

  const std::string ef =
      write("ef.yaml",
            "name: ef\nnetwork_model: textbook\nplatform:\n  kind: star\n  round_deadline: 2s\n"
            "problem:\n  dataset: synthetic\n  workers: 2\n"
            "  synthetic: {samples: 200, dim: 50, nnz_per_row: 5}\n"
            "runs: [{method: ef, compressor: {kind: top_k, k: 2}}]\n");
  r = run_efsim("run " + quoted(ef) + " --out " + quoted((dir_ / "out-ef").string()));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("no paper semantics for a missing upload"), std::string::npos)
      << r.output;
}

// Every new key is validated with the scenario's file, line and key, exit 2, before any run.
TEST_F(DynamicsTest, BadKeysNameTheirLineAndKey) {
  struct Case {
    std::string platform, key, message;
  };
  const std::string edge =
      "  kind: edge\n  classes:\n    - {bandwidth: 1Mbps, latency: 1ms, share: 1}\n";
  const std::vector<Case> cases = {
      {edge + "  dynamics:\n    - class: 1\n      speed: {step: {at: 1s, factor: 0.5}}\n",
       "platform.dynamics.0.class", "out of range"},
      {edge + "  dynamics:\n    - workers: all\n      availability: {step: {at: 1s, factor: 0}}\n",
       "platform.dynamics", "availability needs platform.round_deadline"},
      {edge + "  round_deadline: 1s\n  dynamics:\n    - workers: all\n"
              "      availability: {step: {at: 1s, factor: 0.5}}\n",
       "platform.dynamics.0.availability.step.factor", "0 (off) or 1 (on)"},
      {edge + "  dynamics:\n    - workers: all\n      power: {idle: 1, busy: 2}\n",
       "platform.master_power", "required with the workers' power"},
      {edge + "  master_power: {idle: 1, busy: 2}\n  dynamics:\n    - workers: all\n"
              "      power: {idle: 3, busy: 2}\n",
       "platform.dynamics.0.power.busy", "must be >= idle"},
      {edge + "  dynamics:\n    - workers: all\n      bandwidth: {diurnal: {period: 1h}, step: "
              "{at: 1s, factor: 2}}\n",
       "platform.dynamics.0.bandwidth", "exactly one of"},
      {edge + "  dynamics:\n    - workers: all\n      bandwidth: {markov: {mean_on: 1s, "
              "mean_off: 1s}}\n",
       "platform.dynamics.0.bandwidth.markov", "needs low"},
      {edge + "  round_deadline: -1s\n", "platform.round_deadline", ""},
      {edge + "  round_deadline: {quantile: 1.5}\n", "platform.round_deadline.quantile",
       "out of range"},
      {edge + "  round_deadline: {quantile: 0}\n", "platform.round_deadline.quantile",
       "must be > 0"},
      {edge + "  round_deadline: {quantile: half}\n", "platform.round_deadline.quantile",
       "is not a number"},
      {edge + "  round_deadline: {quantile: 0.5, within: 2s}\n", "platform.round_deadline",
       "unknown key"},
      {edge + "  round_deadline: {at_most: 2s}\n", "platform.round_deadline", "needs quantile"},
      {edge + "  round_deadline: {quantile: 0.5, at_most: -1s}\n",
       "platform.round_deadline.at_most", ""},
      {edge + "  round_deadline: {quantile: 0.5}\n  dynamics:\n    - workers: all\n"
              "      availability: {step: {at: 1s, factor: 0}}\n",
       "platform.round_deadline", "availability needs a time limit"},
      {"  kind: file\n  file: x.xml\n  master: m\n  workers: [a]\n  dynamics: []\n",
       "platform.dynamics", "only for generated platforms"},
  };
  write("x.xml", "<platform/>");
  for (std::size_t c = 0; c < cases.size(); ++c) {
    const std::string text =
        "name: bad\nnetwork_model: textbook\nplatform:\n" + cases[c].platform +
        "problem:\n  dataset: synthetic\n  workers: 2\n"
        "  synthetic: {samples: 200, dim: 50, nnz_per_row: 5}\nruns: [{method: gd}]\n";
    const std::string path = write("bad" + std::to_string(c) + ".yaml", text);
    const Result r = run_efsim("run " + quoted(path) + " --check");
    EXPECT_EQ(r.status, 2) << c << ": " << r.output;
    EXPECT_NE(r.output.find(path + ":"), std::string::npos) << c << ": " << r.output;
    EXPECT_NE(r.output.find("key '" + cases[c].key), std::string::npos) << c << ": " << r.output;
    EXPECT_NE(r.output.find(cases[c].message), std::string::npos) << c << ": " << r.output;
  }
}

}  // namespace
