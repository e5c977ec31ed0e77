// The compute model, checked: each operation that takes simulated time runs for real here, and
// reports the flops the cost model charges for it (algorithms/core/cost.hpp, the problems'
// gradient_flops(), the compressors' flops(d) + the codec) as a rate. If the model's shape is
// right, an operation's effective rate (charged flops / host seconds) stays about constant as
// its size changes; tests/bench/cost_table.py tabulates the rates and their spread.
//   cost/logistic_rows/R      local logistic gradient, d = 10^4, R rows of 10 non-zeros
//   cost/logistic_dim/D       the same with 2,000 rows and d = D (the 8 d coordinate term)
//   cost/logistic_nnz/K       10,000 rows of K non-zeros, d = 10^4 (the nnz term)
//   cost/least_squares_rows/R as logistic_rows for f_i = (1/N)||A x - y||^2
//   cost/softmax/N, cost/mlp/N   multiclass logistic and the 784-512-10 MLP on N Fashion-MNIST
//                            images (full local gradient)
//   cost/compress/<kind>/D   compress + encode + decode at d = D, 1 % kept where it takes k
#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>

#include "algorithms/compressors/compressor.hpp"
#include "algorithms/core/cost.hpp"
#include "algorithms/problems/glm.hpp"
#include "algorithms/problems/images.hpp"
#include "algorithms/problems/softmax.hpp"
#include "bench_util.hpp"
#include "compressor_examples.hpp"

namespace efsim::alg {
namespace {

void report(benchmark::State& state, double charged_flops) {
  state.counters["charged_flops"] = charged_flops;
  state.counters["flops_per_s"] =
      benchmark::Counter(charged_flops, benchmark::Counter::kIsIterationInvariantRate);
}

void glm_gradient(benchmark::State& state, Loss loss, int rows, int d, int nnz_per_row = 10) {
  SyntheticSpec s;
  s.samples = rows;
  s.dim = d;
  s.nnz_per_row = nnz_per_row;
  s.workers = 1;
  s.seed = 3;
  const GlmProblem p(std::make_shared<Dataset>(make_synthetic(s)), 1, loss, 0.01);
  const Objective& f = p.local(0);
  Vector x = Vector::Constant(d, 0.01), g(d);
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.value_and_gradient(x, g));
    benchmark::DoNotOptimize(g.data());
  }
  report(state, f.gradient_flops());
}

void BM_logistic_rows(benchmark::State& state) {
  glm_gradient(state, Loss::kLogistic, static_cast<int>(state.range(0)), 10000);
}
void BM_logistic_dim(benchmark::State& state) {
  glm_gradient(state, Loss::kLogistic, 2000, static_cast<int>(state.range(0)));
}
void BM_logistic_nnz(benchmark::State& state) {
  glm_gradient(state, Loss::kLogistic, 10000, 10000, static_cast<int>(state.range(0)));
}
void BM_least_squares_rows(benchmark::State& state) {
  glm_gradient(state, Loss::kSquares, static_cast<int>(state.range(0)), 10000);
}
BENCHMARK(BM_logistic_rows)->Name("cost/logistic_rows")->RangeMultiplier(10)->Range(100, 100000);
BENCHMARK(BM_logistic_dim)->Name("cost/logistic_dim")->RangeMultiplier(10)->Range(1000, 1000000);
BENCHMARK(BM_logistic_nnz)->Name("cost/logistic_nnz")->Arg(2)->Arg(10)->Arg(40)->Arg(160);
BENCHMARK(BM_least_squares_rows)
    ->Name("cost/least_squares_rows")
    ->RangeMultiplier(10)
    ->Range(100, 100000);

void images(benchmark::State& state, int hidden) {
  const std::string dir = "/usr/share/datasets/fashion-mnist/";
  if (!std::filesystem::exists(dir + "train-images-idx3-ubyte.gz"))
    return state.SkipWithError("Fashion-MNIST not found (apt-get install dataset-fashion-mnist)");
  auto train = std::make_shared<ImageSet>(load_idx(dir + "train-images-idx3-ubyte.gz",
                                                   dir + "train-labels-idx1-ubyte.gz",
                                                   static_cast<int>(state.range(0))));
  SoftmaxSpec spec;
  spec.hidden = hidden;
  const SoftmaxProblem p(train, nullptr, 1, spec);
  const Objective& f = p.local(0);
  Vector x = hidden > 0 ? initial_model(train->features(), train->classes, hidden, 1)
                        : Vector::Constant(p.dim(), 0.001);
  Vector g(p.dim());
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.value_and_gradient(x, g));
    benchmark::DoNotOptimize(g.data());
  }
  report(state, f.gradient_flops());
}
void BM_softmax(benchmark::State& state) { images(state, 0); }
void BM_mlp(benchmark::State& state) { images(state, 512); }
BENCHMARK(BM_softmax)->Name("cost/softmax")->Arg(500)->Arg(5000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_mlp)->Name("cost/mlp")->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

// What NodeBase::compress_encode charges: C.flops(d) + 2 codec(nnz of the decoded value).
void BM_compress(benchmark::State& state, const std::string& kind) {
  const int d = static_cast<int>(state.range(0));
  const auto C = make_compressor(test::example_spec(kind, d), d);
  const Vector x = bench::gaussian_vector(d);
  Rng rng(2);
  const WireFormat wire;
  Compressed c, back;
  for (auto _ : state) {
    bench::compress_roundtrip(*C, x, rng, wire, c, back);
    benchmark::DoNotOptimize(back.value.data());
  }
  report(state, C->flops(d) + 2.0 * cost::codec(static_cast<std::int64_t>(back.nnz())));
}

const bool registered = [] {
  for (const auto& info : compressor_registry())
    benchmark::RegisterBenchmark(("cost/compress/" + info.kind).c_str(), BM_compress, info.kind)
        ->RangeMultiplier(100)
        ->Range(10000, 1000000)
        ->Unit(benchmark::kMicrosecond);
  return true;
}();

}  // namespace
}  // namespace efsim::alg
