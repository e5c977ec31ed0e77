// The compute model against the host: every operation that takes simulated time runs for real,
// and reports the flops the model charges for it and the rate that makes them take the measured
// time. If a formula has the right shape, its operation's effective rate stays about constant
// as the operation's size changes; tests/bench/cost_model_table.py tabulates the rates and
// their spread per family.
//
// Counters: charged_flops (per call, what the simulator adds to the node's flops) and
// Gflops_effective = charged flops / real seconds per call. Everything runs on one thread and
// is timed in real time.
//
// What is charged (read from the code, not guessed):
//   GLM gradient (glm.cpp): cost::glm_gradient(nnz, rows, d, loss, regularised) = 4 nnz +
//     (50 logistic | 8 squares) rows + (1 + 2 if regularised) d; a minibatch adds
//     cost::sample_indices(b) for drawing its rows and counts its rows' nnz and b rows.
//   softmax / MLP (softmax.cpp): 4 n c l + 30 n c + 8 c l (linear), n (4 h l + 6 h c + 10 h +
//     30 c) + 8 d (MLP); a minibatch of b charges that times b / n (its 8 d term too).
//   compression at a node (NodeBase::compress_encode, base.cpp): C.flops(d) + codec(nnz) +
//     C.decode_flops(d, nnz) for compress + encode + decode (the node decodes its own message:
//     it keeps exactly what the receiver sees); the master charges C.decode_flops per decode.
//
// Families (name = cost_model/<family>/<size>):
//   logistic|least_squares/a9a            worker 0's local gradient, a9a split over n workers
//   logistic|least_squares/a9a_minibatch  minibatch gradient of worker 0 of 20 on a9a
//   logistic|least_squares/synth_dim      1,000 rows of 10 non-zeros, d = 10^3 .. 10^6
//                                         (the 8 d term)
//   logistic|least_squares/synth_rows     d = 10^4, 10 non-zeros a row, 100 .. 100,000 rows
//   logistic|least_squares/synth_nnz      d = 10^4, 10,000 rows of 2 .. 200 non-zeros
//   softmax|mlp/full                      full local gradient on N Fashion-MNIST images
//   softmax|mlp/minibatch                 minibatch gradient (what batch: b runs), N = 4,000
//   compress/<kind>[_k<p>%]               C.compress only, charged C.flops(d)
//   codec/<kind>[_k<p>%]                  encode + decode of C's message, charged codec(nnz) +
//                                         C.decode_flops(d, nnz)
//   node/<kind>[_k<p>%]                   compress + encode + decode (the node's whole charge)
// Data: ../shared/datasets/a9a beside the repository (or $EFSIM_A9A) and Debian's
// dataset-fashion-mnist; a benchmark whose data is missing reports an error and is skipped.
//   ./build/tests/bench/efsim_bench --benchmark_filter=cost_model/
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "algorithms/compressors/compressor.hpp"
#include "algorithms/core/cost.hpp"
#include "algorithms/problems/glm.hpp"
#include "algorithms/problems/images.hpp"
#include "algorithms/problems/softmax.hpp"
#include "bench_util.hpp"
#include "compressor_examples.hpp"

namespace efsim::alg {
namespace {

constexpr std::uint64_t kInputs = 8;  // distinct inputs cycled through (see below)

void report(benchmark::State& state, double charged_flops) {
  state.counters["charged_flops"] = charged_flops;
  state.counters["Gflops_effective"] =
      benchmark::Counter(charged_flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// Objects built once per process: Google Benchmark calls a benchmark function several times
// (iteration-count probing, repetitions), and building a problem runs a power iteration.
template <class T>
T& cached(const std::string& key, const std::function<std::unique_ptr<T>()>& make) {
  static std::map<std::string, std::unique_ptr<T>> cache;
  auto& slot = cache[key];
  if (!slot) slot = make();
  return *slot;
}

// Registers a benchmark timed in real time (rate counters then divide by real seconds too).
template <class F>
benchmark::internal::Benchmark* add(const std::string& name, F f) {
  return benchmark::RegisterBenchmark(name.c_str(), std::move(f))->UseRealTime();
}

// ---- Linear models ----

std::string a9a_path() {
  if (const char* env = std::getenv("EFSIM_A9A")) return env;
  return (std::filesystem::path(EFSIM_SOURCE_DIR) / ".." / "shared" / "datasets" / "a9a").string();
}

std::shared_ptr<const Dataset> a9a() {
  static std::shared_ptr<const Dataset> data;
  if (!data) data = std::make_shared<Dataset>(load_libsvm(a9a_path(), 123));
  return data;
}

// The scenario defaults: logistic lambda = 0.1, least squares lambda = 0 (scenario.cpp).
double default_lambda(Loss loss) { return loss == Loss::kLogistic ? 0.1 : 0.0; }
const char* loss_name(Loss loss) { return loss == Loss::kLogistic ? "logistic" : "least_squares"; }

std::shared_ptr<const Dataset> synthetic(int rows, int d, int nnz_per_row) {
  const std::string key =
      std::to_string(rows) + "/" + std::to_string(d) + "/" + std::to_string(nnz_per_row);
  static std::map<std::string, std::shared_ptr<const Dataset>> cache;
  auto& slot = cache[key];
  if (!slot) {
    SyntheticSpec s;
    s.samples = rows;
    s.dim = d;
    s.nnz_per_row = nnz_per_row;
    s.workers = 1;
    s.seed = 3;
    slot = std::make_shared<Dataset>(make_synthetic(s));
  }
  return slot;
}

// Worker `worker`'s objective when `data` is split over `workers` (GlmProblem's split), built
// directly: GlmProblem would also solve the normal equations of small least-squares problems.
const GlmObjective& glm(const std::string& key, std::shared_ptr<const Dataset> data, int workers,
                        int worker, Loss loss) {
  return cached<GlmObjective>(key + "/" + loss_name(loss), [&] {
    const auto [first, rows] = worker_rows(data->rows(), workers, worker);
    return std::make_unique<GlmObjective>(data, first, rows, loss, default_lambda(loss));
  });
}

void time_full_gradient(benchmark::State& state, const Objective& f) {
  // Successive calls at different points, as in a run: at one fixed x the margins' signs repeat
  // every call, and the branch predictor learns them for small N (an artefact, up to 3x).
  std::vector<Vector> xs;
  for (std::uint64_t seed = 1; seed <= kInputs; ++seed)
    xs.push_back(0.1 * bench::gaussian_vector(f.dim(), seed));
  Vector g(f.dim());
  std::size_t t = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.value_and_gradient(xs[t], g));
    benchmark::DoNotOptimize(g.data());
    t = (t + 1) % xs.size();
  }
  report(state, f.gradient_flops());
}

// Minibatch gradients: the charge is what stochastic_gradient returns (it depends on the rows
// drawn for the GLM), averaged over the timed calls.
void time_minibatch(benchmark::State& state, const Objective& f, const Vector& x, int batch) {
  Vector g(f.dim());
  Rng rng(5);
  double charged = 0.0;
  for (auto _ : state) {
    charged += f.stochastic_gradient(x, batch, rng, g);
    benchmark::DoNotOptimize(g.data());
  }
  report(state, charged / static_cast<double>(state.iterations()));
}

void glm_rows_counters(benchmark::State& state, const GlmObjective& f) {
  state.counters["rows"] = f.num_samples();
  state.counters["d"] = f.dim();
}

void register_glm() {
  for (const Loss loss : {Loss::kLogistic, Loss::kSquares}) {
    const std::string base = std::string("cost_model/") + loss_name(loss) + "/";
    for (const int workers : {1, 20}) {
      add((base + "a9a/n" + std::to_string(workers)), [loss, workers](benchmark::State& state) {
        if (!std::filesystem::exists(a9a_path())) return state.SkipWithError("no a9a");
        const auto& f = glm("a9a/" + std::to_string(workers), a9a(), workers, 0, loss);
        time_full_gradient(state, f);
        glm_rows_counters(state, f);
      });
    }
    for (const int batch : {1, 32, 256}) {
      add((base + "a9a_minibatch/b" + std::to_string(batch)),
          [loss, batch](benchmark::State& state) {
            if (!std::filesystem::exists(a9a_path())) return state.SkipWithError("no a9a");
            const auto& f = glm("a9a/20", a9a(), 20, 0, loss);
            time_minibatch(state, f, Vector::Constant(f.dim(), 0.01), batch);
          });
    }
    for (const int d : {1000, 10000, 100000, 1000000}) {
      add((base + "synth_dim/d" + std::to_string(d)), [loss, d](benchmark::State& state) {
        const auto& f = glm("dim" + std::to_string(d), synthetic(1000, d, 10), 1, 0, loss);
        time_full_gradient(state, f);
        glm_rows_counters(state, f);
      });
    }
    for (const int rows : {100, 1000, 10000, 100000}) {
      add((base + "synth_rows/N" + std::to_string(rows)), [loss, rows](benchmark::State& state) {
        const auto& f = glm("rows" + std::to_string(rows), synthetic(rows, 10000, 10), 1, 0, loss);
        time_full_gradient(state, f);
        glm_rows_counters(state, f);
      });
    }
    for (const int per_row : {2, 10, 50, 200}) {
      add((base + "synth_nnz/nnz_row" + std::to_string(per_row)),
          [loss, per_row](benchmark::State& state) {
            const auto& f =
                glm("nnz" + std::to_string(per_row), synthetic(10000, 10000, per_row), 1, 0, loss);
            time_full_gradient(state, f);
            glm_rows_counters(state, f);
          });
    }
  }
}

// ---- Fashion-MNIST: multiclass logistic regression and the 784-512-10 MLP ----

const std::string kFashion = "/usr/share/datasets/fashion-mnist/";
constexpr int kMinibatchImages = 4000;

// One worker holding the first `images` training images (SoftmaxSpec defaults: lambda = 0.001).
const SoftmaxObjective& images_objective(int images, int hidden) {
  static std::map<int, std::shared_ptr<const ImageSet>> sets;
  auto& set = sets[images];
  if (!set)
    set = std::make_shared<ImageSet>(load_idx(kFashion + "train-images-idx3-ubyte.gz",
                                              kFashion + "train-labels-idx1-ubyte.gz", images));
  const std::string key = std::to_string(images) + "/" + std::to_string(hidden);
  const auto& p = cached<SoftmaxProblem>(key, [&] {
    SoftmaxSpec spec;
    spec.hidden = hidden;
    return std::make_unique<SoftmaxProblem>(set, nullptr, 1, spec);
  });
  return static_cast<const SoftmaxObjective&>(p.local(0));
}

Vector images_x(const Objective& f, int hidden) {
  return hidden > 0 ? initial_model(784, 10, hidden, 1) : Vector::Constant(f.dim(), 0.001);
}

void register_images() {
  for (const int hidden : {0, 512}) {
    const std::string base = hidden > 0 ? "cost_model/mlp/" : "cost_model/softmax/";
    for (const int images : {250, 1000, 4000}) {
      add((base + "full/N" + std::to_string(images)), [images, hidden](benchmark::State& state) {
        if (!std::filesystem::exists(kFashion + "train-images-idx3-ubyte.gz"))
          return state.SkipWithError("Fashion-MNIST not found");
        const auto& f = images_objective(images, hidden);
        const Vector x = images_x(f, hidden);
        Vector g(f.dim());
        for (auto _ : state) {
          benchmark::DoNotOptimize(f.value_and_gradient(x, g));
          benchmark::DoNotOptimize(g.data());
        }
        report(state, f.gradient_flops());
      })->Unit(benchmark::kMillisecond);
    }
    for (const int batch : {1, 8, 32, 256}) {
      add((base + "minibatch/b" + std::to_string(batch)), [batch, hidden](benchmark::State& state) {
        if (!std::filesystem::exists(kFashion + "train-images-idx3-ubyte.gz"))
          return state.SkipWithError("Fashion-MNIST not found");
        const auto& f = images_objective(kMinibatchImages, hidden);
        time_minibatch(state, f, images_x(f, hidden), batch);
      })->Unit(benchmark::kMicrosecond);
    }
  }
}

// ---- Compressors ----

bool takes_k(const std::string& kind) {
  const CompressorInfo* info = find_compressor(kind);
  return info != nullptr && info->param("k") != nullptr;
}

// Inputs cycled through: one input compressed over and over lets the branch predictor learn its
// signs (scaled sign at d = 10^4 ran 9x faster per coordinate than at 10^5); a run compresses a
// new vector every round. 8 inputs (2 at d = 10^6, memory), all at one scale.
struct CompressorCase {
  std::unique_ptr<Compressor> C;
  std::vector<Vector> xs;
  std::vector<Compressed> messages;  // C(x) of each input, for the codec-only benchmark
};

const CompressorCase& compressor_case(const std::string& kind, int d, double keep) {
  const std::string key = kind + "/" + std::to_string(d) + "/" + std::to_string(keep);
  return cached<CompressorCase>(key, [&] {
    auto c = std::make_unique<CompressorCase>();
    c->C = make_compressor(test::example_spec(kind, d, keep), d);
    Rng rng(2);
    for (std::uint64_t seed = 1; seed <= (d >= 1000000 ? 2u : kInputs); ++seed) {
      c->xs.push_back(bench::gaussian_vector(d, seed));
      c->messages.emplace_back();
      c->C->compress(c->xs.back(), rng, WireFormat(), c->messages.back());
    }
    return c;
  });
}

enum class Part { kCompress, kCodec, kNode };

void time_compressor(benchmark::State& state, const std::string& kind, int d, double keep,
                     Part part) {
  const CompressorCase& cc = compressor_case(kind, d, keep);
  const Compressor& C = *cc.C;
  Rng rng(2);
  const WireFormat wire;
  Compressed c, back;
  std::size_t t = 0;
  const std::size_t inputs = cc.xs.size();
  if (part == Part::kCompress) {
    for (auto _ : state) {
      C.compress(cc.xs[t], rng, wire, c);
      benchmark::DoNotOptimize(c.value.data());
      t = (t + 1) % inputs;
    }
    report(state, C.flops(d));
  } else if (part == Part::kCodec) {
    for (auto _ : state) {
      BitWriter w;
      C.encode(cc.messages[t], wire, w);
      const Message m = w.finish();
      BitReader r(m);
      C.decode(r, d, wire, back);
      benchmark::DoNotOptimize(back.value.data());
      t = (t + 1) % inputs;
    }
    const auto values = static_cast<std::int64_t>(back.nnz());
    report(state, cost::codec(values) + C.decode_flops(d, values));
  } else {
    for (auto _ : state) {
      bench::compress_roundtrip(C, cc.xs[t], rng, wire, c, back);
      benchmark::DoNotOptimize(back.value.data());
      t = (t + 1) % inputs;
    }
    // NodeBase::compress_encode's charge.
    const auto values = static_cast<std::int64_t>(back.nnz());
    report(state, C.flops(d) + cost::codec(values) + C.decode_flops(d, values));
  }
  state.counters["nnz"] = static_cast<double>(back.nnz() > 0 ? back.nnz() : c.nnz());
}

void register_compressors() {
  const std::pair<Part, const char*> parts[] = {
      {Part::kCompress, "compress"}, {Part::kCodec, "codec"}, {Part::kNode, "node"}};
  for (const auto& [part, part_name] : parts) {
    for (const auto& info : compressor_registry()) {
      const std::string kind = info.kind;
      const bool k = takes_k(kind);
      for (const double keep : k ? std::vector<double>{0.01, 0.1} : std::vector<double>{0.01}) {
        const std::string family = std::string("cost_model/") + part_name + "/" + kind +
                                   (k ? (keep < 0.05 ? "_k1%" : "_k10%") : "");
        for (const int d : {10000, 100000, 1000000}) {
          const Part p = part;
          add((family + "/d" + std::to_string(d)), [kind, d, keep, p](benchmark::State& state) {
            time_compressor(state, kind, d, keep, p);
          })->Unit(benchmark::kMicrosecond);
        }
      }
    }
  }
}

const bool registered = [] {
  register_glm();
  register_images();
  register_compressors();
  return true;
}();

}  // namespace
}  // namespace efsim::alg
