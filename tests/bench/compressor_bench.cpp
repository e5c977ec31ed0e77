// Google Benchmark: compress + encode + decode per operator at d = 1e3, 1e5, 1e7.
// Throughput is reported as bytes of input (d doubles) per second.
//   ./build/tests/bench/efsim_bench --benchmark_filter=compress
#include <benchmark/benchmark.h>

#include <memory>

#include "algorithms/compressors/compressor.hpp"
#include "bench_util.hpp"
#include "compressor_examples.hpp"

namespace efsim::alg {
namespace {

// Sparsifiers keep 1 %, quantizers use 16 levels.
CompressorSpec spec_for(const std::string& kind, int d) { return test::example_spec(kind, d); }

void BM_compress_encode_decode(benchmark::State& state, const std::string& kind) {
  const int d = static_cast<int>(state.range(0));
  const auto C = make_compressor(spec_for(kind, d), d);
  const Vector x = bench::gaussian_vector(d);
  Rng rng(2);
  const WireFormat wire;
  Compressed c, back;
  std::size_t bytes = 0;
  for (auto _ : state) {
    bytes = bench::compress_roundtrip(*C, x, rng, wire, c, back);
    benchmark::DoNotOptimize(back.value.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * d * 8);
  state.counters["wire_bytes"] = static_cast<double>(bytes);
}

// Top-K at the MLP's size (d = 407,050, K = 20,000), compression alone: the per-worker,
// per-round selection of EF21 Top-20000 on the 784-512-10 network.
void BM_top_k_mlp(benchmark::State& state) {
  const int d = 407050;
  const auto C = make_compressor(CompressorSpec("top_k", 20000), d);
  const Vector x = bench::gaussian_vector(d);
  Rng rng(2);
  const WireFormat wire;
  Compressed c;
  for (auto _ : state) {
    C->compress(x, rng, wire, c);
    benchmark::DoNotOptimize(c.value.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * d * 8);
}
BENCHMARK(BM_top_k_mlp)->Name("compress_only/top_k20000_d407050")->Unit(benchmark::kMicrosecond);

void register_all() {
  for (const auto& info : compressor_registry()) {
    auto* b = benchmark::RegisterBenchmark(("compress/" + info.kind).c_str(),
                                           BM_compress_encode_decode, info.kind);
    b->Arg(1000)->Arg(100000)->Arg(10000000)->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace
}  // namespace efsim::alg

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  efsim::alg::register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
