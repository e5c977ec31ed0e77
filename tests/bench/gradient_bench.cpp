// Google Benchmark: the math a run is made of, without the simulator.
//   gradients/a9a_n20        the n = 20 local gradient passes of one round on a9a (EF21 split),
//                            at the fixed point x = 0.01
//   gradients/a9a_n20_ef21_iterates  the same passes at the iterates an EF21 Top-1 run visits
//                            (round t of the benchmark at x^t): the "bare" baseline of the
//                            overhead target (README, Performance). The logistic loss costs
//                            more at real iterates (mixed-sign margins defeat branch prediction)
//   gradients/mlp_n20_b32    20 minibatch (32) gradients of the 784-512-10 MLP on Fashion-MNIST
//   evaluation/mlp_train10k_test10k  one observer row on it: f, ∇f, accuracy on 10k train
//                            images, loss and accuracy on 10k test images
//   round/ef21_top1_a9a_n20  one EF21 Top-1 round (gradients, compression, codec, aggregation,
//                            model updates) through the Node/Master objects, no SimGrid
//   round/ef21_top20000_mlp_n20_b32  the same for the MLP figure's run (minibatch 32, Top-20000)
// Data: ../shared/datasets/a9a beside the repository (or $EFSIM_A9A) and Debian's
// dataset-fashion-mnist; a benchmark whose data is missing reports an error and is skipped.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

#include "algorithms/compressors/compressor.hpp"
#include "algorithms/methods/method.hpp"
#include "algorithms/problems/glm.hpp"
#include "algorithms/problems/images.hpp"
#include "algorithms/problems/softmax.hpp"
#include "algorithms/runner/sync_runner.hpp"

namespace efsim::alg {
namespace {

std::string a9a_path() {
  if (const char* env = std::getenv("EFSIM_A9A")) return env;
  return (std::filesystem::path(EFSIM_SOURCE_DIR) / ".." / "shared" / "datasets" / "a9a").string();
}

std::shared_ptr<LogisticProblem> a9a(int workers) {
  static std::shared_ptr<const Dataset> data;
  if (!data) data = std::make_shared<Dataset>(load_libsvm(a9a_path(), 123));
  return std::make_shared<LogisticProblem>(data, workers, 0.1);
}

void BM_a9a_local_gradients(benchmark::State& state) {
  if (!std::filesystem::exists(a9a_path())) return state.SkipWithError("a9a not found");
  const auto p = a9a(20);
  Vector x = Vector::Constant(p->dim(), 0.01), g(p->dim());
  for (auto _ : state) {
    double f = 0.0;
    for (int i = 0; i < p->num_workers(); ++i) f += p->local(i).value_and_gradient(x, g);
    benchmark::DoNotOptimize(f);
    benchmark::DoNotOptimize(g.data());
  }
}
BENCHMARK(BM_a9a_local_gradients)->Name("gradients/a9a_n20")->Unit(benchmark::kMicrosecond);

// One synchronous round of a method through its Node/Master objects (what SyncRunner does, no
// SimGrid and no observer).
void one_round(MethodInstance& m, std::vector<Rng>& rngs, std::vector<Message>& up, long round) {
  for (std::size_t i = 0; i < m.nodes.size(); ++i) {
    if (round > 0) m.nodes[i]->receive(m.master->broadcast());
    up[i] = m.nodes[i]->run_step(rngs[i]);
  }
  for (std::size_t i = 0; i < m.nodes.size(); ++i) m.master->absorb(static_cast<int>(i), up[i]);
  m.master->finish_round();
}

// Times one round per benchmark iteration of method m, from its first round on.
void time_rounds(benchmark::State& state, MethodInstance& m) {
  auto rngs = worker_rngs(1, static_cast<int>(m.nodes.size()));
  std::vector<Message> up(m.nodes.size());
  long round = 0;
  for (auto _ : state) one_round(m, rngs, up, round++);
}

// The whole-run benchmark's a9a run (EF21 Top-1, theory stepsize, 32-bit wire values, x0 = 0).
MethodInstance a9a_ef21(const LogisticProblem& p, const Compressor& C) {
  MethodSpec spec;
  spec.name = "ef21";
  spec.gamma = theory_gamma("ef21", C, p);
  return find_method("ef21").make(spec, p, C, Vector::Zero(p.dim()));
}

// Its first 5,000 iterates x^0, x^1, ... (computed once).
const std::vector<Vector>& a9a_ef21_iterates() {
  static std::vector<Vector> xs;
  if (!xs.empty()) return xs;
  const auto p = a9a(20);
  const auto C = make_compressor(CompressorSpec("top_k", 1), p->dim());
  MethodInstance m = a9a_ef21(*p, *C);
  auto rngs = worker_rngs(1, p->num_workers());
  std::vector<Message> up(p->num_workers());
  for (long t = 0; t < 5000; ++t) {
    xs.push_back(m.master->x());
    one_round(m, rngs, up, t);
  }
  return xs;
}

void BM_a9a_local_gradients_at_iterates(benchmark::State& state) {
  if (!std::filesystem::exists(a9a_path())) return state.SkipWithError("a9a not found");
  const auto p = a9a(20);
  const auto& xs = a9a_ef21_iterates();
  Vector g(p->dim());
  std::size_t t = 0;
  for (auto _ : state) {
    double f = 0.0;
    for (int i = 0; i < p->num_workers(); ++i) f += p->local(i).value_and_gradient(xs[t], g);
    t = (t + 1) % xs.size();
    benchmark::DoNotOptimize(f);
    benchmark::DoNotOptimize(g.data());
  }
}
BENCHMARK(BM_a9a_local_gradients_at_iterates)
    ->Name("gradients/a9a_n20_ef21_iterates")
    ->Iterations(5000)  // every iterate of the 5,000-round run once
    ->Unit(benchmark::kMicrosecond);

const std::string kFashion = "/usr/share/datasets/fashion-mnist/";

// The MLP problem of the whole-run benchmark: 10,000 training images over 20 workers, and the
// 10,000 test images when with_test.
std::unique_ptr<SoftmaxProblem> mlp_problem(bool with_test) {
  auto train = std::make_shared<ImageSet>(load_idx(kFashion + "train-images-idx3-ubyte.gz",
                                                   kFashion + "train-labels-idx1-ubyte.gz", 10000));
  std::shared_ptr<ImageSet> test;
  if (with_test)
    test = std::make_shared<ImageSet>(
        load_idx(kFashion + "t10k-images-idx3-ubyte.gz", kFashion + "t10k-labels-idx1-ubyte.gz"));
  SoftmaxSpec spec;
  spec.hidden = 512;
  return std::make_unique<SoftmaxProblem>(train, test, 20, spec);
}

void BM_mlp_minibatch_gradients(benchmark::State& state) {
  if (!std::filesystem::exists(kFashion + "train-images-idx3-ubyte.gz"))
    return state.SkipWithError(
        "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)");
  const auto problem = mlp_problem(false);
  const SoftmaxProblem& p = *problem;
  Vector x = initial_model(784, 10, 512, 1), g(p.dim());
  Rng rng(3);
  for (auto _ : state) {
    for (int i = 0; i < p.num_workers(); ++i) p.local(i).stochastic_gradient(x, 32, rng, g);
    benchmark::DoNotOptimize(g.data());
  }
  state.counters["d"] = static_cast<double>(p.dim());
}
BENCHMARK(BM_mlp_minibatch_gradients)->Name("gradients/mlp_n20_b32")->Unit(benchmark::kMillisecond);

// One metrics row of the observer on that problem (what the monitor computes at round 0 and at
// the end): f, ∇f and the accuracy on the 10,000 training images, loss and accuracy on the
// 10,000 test images.
void BM_mlp_observer_row(benchmark::State& state) {
  if (!std::filesystem::exists(kFashion + "t10k-images-idx3-ubyte.gz"))
    return state.SkipWithError(
        "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)");
  const auto p = mlp_problem(true);
  Vector x = initial_model(784, 10, 512, 1), g(p->dim());
  for (auto _ : state) {
    double accuracy = 0.0;
    benchmark::DoNotOptimize(p->evaluate(x, g, &accuracy));
    benchmark::DoNotOptimize(p->test_metrics(x).test_loss);
  }
}
BENCHMARK(BM_mlp_observer_row)
    ->Name("evaluation/mlp_train10k_test10k")
    ->Unit(benchmark::kMillisecond);

void BM_ef21_round(benchmark::State& state) {
  if (!std::filesystem::exists(a9a_path())) return state.SkipWithError("a9a not found");
  const auto p = a9a(20);
  const auto C = make_compressor(CompressorSpec("top_k", 1), p->dim());
  MethodInstance m = a9a_ef21(*p, *C);
  time_rounds(state, m);
}
BENCHMARK(BM_ef21_round)
    ->Name("round/ef21_top1_a9a_n20")
    ->Iterations(5000)  // the whole-run benchmark's 5,000 rounds
    ->Unit(benchmark::kMicrosecond);

// The MLP figure's run without the simulator: EF21 Top-20000, minibatch 32, gamma 0.1.
void BM_ef21_mlp_round(benchmark::State& state) {
  if (!std::filesystem::exists(kFashion + "train-images-idx3-ubyte.gz"))
    return state.SkipWithError(
        "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)");
  const auto p = mlp_problem(false);
  const auto C = make_compressor(CompressorSpec("top_k", 20000), p->dim());
  MethodSpec spec;
  spec.name = "ef21";
  spec.gamma = 0.1;
  spec.params.set("batch", 32);
  MethodInstance m = find_method("ef21").make(spec, *p, *C, initial_model(784, 10, 512, 1));
  time_rounds(state, m);
}
BENCHMARK(BM_ef21_mlp_round)
    ->Name("round/ef21_top20000_mlp_n20_b32")
    ->Iterations(200)  // the whole-run benchmark's first 200 rounds
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace efsim::alg
