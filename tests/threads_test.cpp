// `efsim run --threads N`: the workers' steps of a round on a thread pool (sim/network/
// step_pool). The reference is the same run on one thread: every output file (trace.csv,
// run.json, platform.xml, summary.csv) must be byte-identical for any thread count, across
// methods whose steps differ in what they touch (EF21's error feedback, DIANA's shifts, MARINA's
// coin, EF21-SGDM's minibatches, CLAG's skipped uploads, partial participation's model
// downlink, the tree and ring patterns, stragglers, PowerSGD's factors on the MLP).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <numeric>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "sim/network/step_pool.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using efsim::sim::StepPool;
using efsim::test::quoted;
using efsim::test::Result;
using efsim::test::run_efsim;
using efsim::test::slurp;

// Every file under dir, by its path relative to dir (the sweep's own bookkeeping aside).
std::map<std::string, std::string> outputs(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const std::string rel = fs::relative(e.path(), dir).string();
    if (rel == "sweep.json" || rel == "scenario.yaml") continue;
    files[rel] = slurp(e.path());
  }
  return files;
}

class ThreadsTest : public efsim::test::TempDirTest {
 protected:
  // Runs the scenario with each thread count and checks the outputs against --threads 1.
  void expect_identical(const std::string& scenario, const std::vector<int>& threads) {
    const std::string path = write("s.yaml", scenario);
    std::map<std::string, std::string> reference;
    for (int t : threads) {
      const fs::path out = dir_ / ("out" + std::to_string(t));
      const Result r = run_efsim("run " + quoted(path) + " --out " + quoted(out.string()) +
                                 " --no-report --quiet --jobs 1 --threads " + std::to_string(t));
      ASSERT_EQ(r.status, 0) << r.output;
      const auto files = outputs(out);
      ASSERT_GT(files.count("summary.csv"), 0u);
      if (reference.empty()) {
        reference = files;
        continue;
      }
      ASSERT_EQ(files.size(), reference.size()) << "threads " << t;
      for (const auto& [name, bytes] : reference) {
        ASSERT_GT(files.count(name), 0u) << name << " missing with --threads " << t;
        EXPECT_TRUE(files.at(name) == bytes) << name << " differs with --threads " << t;
      }
    }
    std::set<std::string> traces;
    for (const auto& [name, bytes] : reference)
      if (name.size() > 9 && name.substr(name.size() - 9) == "trace.csv") traces.insert(name);
    EXPECT_GT(traces.size(), 0u);
  }
};

TEST_F(ThreadsTest, OutputsIdenticalForAnyThreadCount) {
  expect_identical(R"(name: threads
seed: 7
platform: {kind: star, bandwidth: 10Mbps, latency: 1ms, stragglers: {fraction: 0.5, slowdown: 3, mode: random}}
problem:
  dataset: synthetic
  workers: 6
  synthetic: {samples: 600, dim: 40, nnz_per_row: 6}
stop: {max_rounds: 30}
runs:
  - method: ef21
    compressor: {kind: top_k, k: 2}
    pattern: [parameter_server, tree, ring_allgather]
  - method: ef21
    compressor: {kind: top_k, k: 2}
    downlink: model
  - method: diana
    compressor: {kind: rand_k_unbiased, k: 4}
    stepsize: {gamma: 0.5}
  - method: marina
    compressor: {kind: rand_k_unbiased, k: 4}
    stepsize: {gamma: 0.5}
  - method: ef21_sgdm
    compressor: {kind: top_k, k: 2}
    batch: 8
    eta: 0.5
    stepsize: {gamma: 0.1}
  - method: clag
    compressor: {kind: top_k, k: 2}
    zeta: 2.0
  - method: dcgd
    compressor: {kind: rand_k_unbiased, k: 4}
    participation: {tau: 3}
    stepsize: {gamma: 0.2}
)",
                   {1, 2, 3});
}

TEST_F(ThreadsTest, PowerSgdOnTheMlpIdenticalForAnyThreadCount) {
  if (!fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist not installed";
  expect_identical(R"(name: threads_mlp
seed: 2
platform: {kind: star, bandwidth: 20Mbps, latency: 0.01ms}
problem:
  kind: mlp
  hidden: 8
  dataset: /usr/share/datasets/fashion-mnist
  train_samples: 240
  workers: 3
stop: {max_rounds: 8}
runs:
  - method: powersgd
    rank: 2
    batch: 16
    stepsize: {gamma: 0.1}
    pattern: [parameter_server, ring_allreduce]
)",
                   {1, 2});
}

TEST_F(ThreadsTest, BadThreadCountIsAUsageError) {
  const std::string path = write("s.yaml", "name: x\n");
  for (const char* bad : {"0", "-1", "two", "2000"}) {
    const Result r = run_efsim("run " + quoted(path) + " --threads " + bad);
    EXPECT_EQ(r.status, 2) << bad << "\n" << r.output;
    EXPECT_NE(r.output.find("--threads needs a number from 1 to 1024"), std::string::npos)
        << r.output;
  }
}

// The pool itself: every task exactly once per batch, over many batches (the helpers sleep and
// wake between them), and the exception of the lowest failing task.
TEST(StepPool, EveryTaskOncePerBatch) {
  for (int threads : {1, 2, 4}) {
    StepPool pool(threads);
    EXPECT_EQ(pool.threads(), threads);
    for (int batch = 0; batch < 300; ++batch) {
      const int count = 1 + batch % 37;
      std::vector<std::atomic<int>> hits(static_cast<std::size_t>(count));
      pool.run(count, [&](int k) { hits[static_cast<std::size_t>(k)].fetch_add(1); });
      for (int k = 0; k < count; ++k) ASSERT_EQ(hits[static_cast<std::size_t>(k)].load(), 1);
      if (batch % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
}

// start() returns at once; wait(k) in any order finds each task done exactly once, while the
// calling thread does other work in between (as the simulation does between a round's steps).
TEST(StepPool, StartThenWaitInAnyOrder) {
  StepPool pool(3);
  std::mt19937 rng(5);
  for (int batch = 0; batch < 200; ++batch) {
    const int count = 1 + batch % 23;
    std::vector<std::atomic<int>> hits(static_cast<std::size_t>(count));
    std::vector<std::uint64_t> result(static_cast<std::size_t>(count), 0);
    const std::function<void(int)> task = [&](int k) {
      std::uint64_t x = static_cast<std::uint64_t>(k);
      for (int r = 0; r < 2000; ++r) x = (x * 6364136223846793005ULL + 1) % 1000003;
      result[static_cast<std::size_t>(k)] = x;
      hits[static_cast<std::size_t>(k)].fetch_add(1);
    };
    pool.start(count, task);
    std::vector<int> order(static_cast<std::size_t>(count));
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    for (int k : order) {
      pool.wait(k);
      ASSERT_EQ(hits[static_cast<std::size_t>(k)].load(), 1);
      std::uint64_t x = static_cast<std::uint64_t>(k);  // the task's own result, visible here
      for (int r = 0; r < 2000; ++r) x = (x * 6364136223846793005ULL + 1) % 1000003;
      ASSERT_EQ(result[static_cast<std::size_t>(k)], x);
    }
    for (int k = 0; k < count; ++k) ASSERT_EQ(hits[static_cast<std::size_t>(k)].load(), 1);
  }
}

TEST(StepPool, RethrowsTheLowestFailingTaskAfterRunningAll) {
  StepPool pool(2);
  std::atomic<int> ran{0};
  try {
    pool.run(40, [&](int k) {
      ++ran;
      if (k == 7 || k == 30) throw std::runtime_error("task " + std::to_string(k));
    });
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "task 7");
  }
  EXPECT_EQ(ran.load(), 40);
  int sum = 0;  // still usable afterwards
  std::mutex m;
  pool.run(10, [&](int k) {
    std::lock_guard<std::mutex> lock(m);
    sum += k;
  });
  EXPECT_EQ(sum, 45);
}

}  // namespace
