// The observer reuses the workers' gradients: f(x^k) and ∇f(x^k) are the mean of the
// ∇f_i(x^k) the workers compute in round k + 1 anyway. Checked against the observer's own
// evaluation: the same trace bit for bit, for every method, in both runners, and no extra
// pass over the data.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>

#include "algorithms/methods/method.hpp"
#include "algorithms/problems/glm.hpp"
#include "algorithms/runner/sync_runner.hpp"
#include "platforms/star.hpp"
#include "sim/network/simgrid_runner.hpp"
#include "sim/sweep/recorder.hpp"
#include "synthetic_problem.hpp"
#include "test_util.hpp"

namespace efsim::alg {
namespace {

// Counts the data passes of each worker's objective (full evaluations and stochastic ones).
class CountingObjective final : public Objective {
 public:
  explicit CountingObjective(const Objective& f) : f_(f) {}
  int dim() const override { return f_.dim(); }
  double value_and_gradient(const Vector& x, Vector& grad) const override {
    ++passes;
    return f_.value_and_gradient(x, grad);
  }
  double evaluate(const Vector& x, Vector& grad, long* correct) const override {
    ++passes;
    return f_.evaluate(x, grad, correct);
  }
  double value(const Vector& x) const override { return f_.value(x); }
  double gradient_flops() const override { return f_.gradient_flops(); }
  double smoothness() const override { return f_.smoothness(); }
  int num_samples() const override { return f_.num_samples(); }
  double stochastic_gradient(const Vector& x, int batch, Rng& rng, Vector& g) const override {
    ++passes;
    return f_.stochastic_gradient(x, batch, rng, g);
  }
  mutable long passes = 0;

 private:
  const Objective& f_;
};

class CountingProblem final : public Problem {
 public:
  explicit CountingProblem(std::shared_ptr<const GlmProblem> p) : p_(std::move(p)) {
    for (int i = 0; i < p_->num_workers(); ++i)
      locals_.push_back(std::make_unique<CountingObjective>(p_->local(i)));
  }
  int num_workers() const override { return p_->num_workers(); }
  int dim() const override { return p_->dim(); }
  const Objective& local(int i) const override { return *locals_[i]; }
  double smoothness() const override { return p_->smoothness(); }
  std::string describe() const override { return p_->describe(); }
  Metrics test_metrics(const Vector& x) const override { return p_->test_metrics(x); }
  long passes() const {
    long s = 0;
    for (const auto& l : locals_) s += l->passes;
    return s;
  }

 private:
  std::shared_ptr<const GlmProblem> p_;
  std::vector<std::unique_ptr<CountingObjective>> locals_;
};

std::shared_ptr<GlmProblem> logistic(int workers) {
  return test::synthetic_glm(
      {.samples = 300, .dim = 40, .nnz_per_row = 6, .workers = workers, .seed = 5});
}

struct MethodCase {
  std::string method;
  CompressorSpec compressor;
  int batch = 0;
  double eta = 1.0;
};

// Every method of the registry, with a compressor it accepts.
std::vector<MethodCase> every_method() {
  std::vector<MethodCase> out;
  for (const MethodInfo& m : method_registry()) {
    MethodCase s;
    s.method = m.name;
    s.compressor = m.name == "gd" ? CompressorSpec{"identity", 0}
                   : m.compressor == CompressorNeed::kContractive
                       ? CompressorSpec{"top_k", 4}
                       : CompressorSpec{"rand_k_unbiased", 10};
    if (m.takes("eta")) s.eta = 0.5;
    if (m.name == "ec_lsvrg_diana" || m.name == "ef21_sgd_ideal" || m.name == "ef21_sgdm_ideal")
      s.batch = 5;  // stochastic by definition
    out.push_back(s);
  }
  return out;
}

MethodInstance make(const MethodCase& s, const Problem& p, const Compressor& C,
                    const Compressor& Q) {
  MethodSpec spec;
  spec.name = s.method;
  spec.gamma = 0.5 / p.smoothness();
  spec.wire.value_bits = 64;
  spec.params.set("batch", s.batch);
  spec.params.set("eta", s.eta);
  if (find_method(s.method).takes("quantizer")) spec.params.set_compressor("quantizer", &Q);
  // Q (natural) is also contractive (alpha = 7/8): a downlink compressor.
  if (find_method(s.method).takes("downlink_compressor"))
    spec.params.set_compressor("downlink_compressor", &Q);
  if (find_method(s.method).takes("zeta")) spec.params.set("zeta", 2.0);  // some rounds skip
  // PP-MARINA: 2 of the 4 clients in compressed rounds (the others compute nothing).
  if (find_method(s.method).takes("pp_clients")) spec.params.set("pp_clients", 2);
  return find_method(s.method).make(spec, p, C, Vector::Zero(p.dim()));
}

void expect_same_trace(const std::vector<TraceRow>& a, const std::vector<TraceRow>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    EXPECT_EQ(a[k].round, b[k].round);
    EXPECT_EQ(sim::exact(a[k].f), sim::exact(b[k].f)) << "row " << k;
    EXPECT_EQ(sim::exact(a[k].grad_norm_sq), sim::exact(b[k].grad_norm_sq)) << "row " << k;
    EXPECT_EQ(sim::exact(a[k].metrics.train_accuracy), sim::exact(b[k].metrics.train_accuracy))
        << "row " << k;
    EXPECT_EQ(sim::exact(a[k].sim_time_s), sim::exact(b[k].sim_time_s)) << "row " << k;
    EXPECT_EQ(a[k].bits_up_per_worker, b[k].bits_up_per_worker) << "row " << k;
    EXPECT_EQ(a[k].bits_down_per_worker, b[k].bits_down_per_worker) << "row " << k;
  }
}

TEST(Observer, ReusingWorkerGradientsGivesTheSameTraceForEveryMethod) {
  auto glm = logistic(4);
  const CountingProblem p(glm);
  for (const MethodCase& s : every_method()) {
    SCOPED_TRACE(s.method);
    auto C = make_compressor(s.compressor, p.dim());
    auto Qp = make_compressor({"natural", 0}, p.dim());
    StopRule rule;
    rule.max_rounds = 25;
    std::vector<TraceRow> traces[2];
    long passes[2];
    for (int reuse = 0; reuse < 2; ++reuse) {
      rule.reuse_worker_gradients = reuse == 1;
      MethodInstance m = make(s, p, *C, *Qp);
      Monitor mon(p, rule);
      const long before = p.passes();
      run_sync(m, mon, 3);
      passes[reuse] = p.passes() - before;
      traces[reuse] = mon.trace();
    }
    expect_same_trace(traces[0], traces[1]);
    ASSERT_EQ(traces[1].size(), 26u);
    // The observer's own evaluation is one pass per worker and recorded row; reusing saves
    // all of them but the last row's (nobody computes at x^25), for full-gradient methods.
    const long n = p.num_workers();
    // EF21-P's workers compute at w, not at the observed x: nothing to reuse.
    if (s.method.rfind("ef21_p_", 0) == 0) {
      EXPECT_EQ(passes[0], passes[1]);
    } else if (s.batch == 0 && s.method != "ec_sgd_diana" && s.method != "powersgd" &&
               s.method != "pp_marina") {
      // (PowerSGD computes gradients in its P rounds only, every second round, and PP-MARINA's
      // clients outside I'_k compute none: fewer rows can take theirs; the traces are the same,
      // checked above.)
      EXPECT_EQ(passes[0] - passes[1], 25 * n);
    } else {
      EXPECT_LE(passes[1], passes[0]);
    }
    // A target reached mid-run: the row that hits it is completed one round later, and the
    // run stops at the same row with the same bits and time.
    rule.target_grad_norm_sq = traces[0][8].grad_norm_sq * (1 + 1e-12);
    for (int reuse = 0; reuse < 2; ++reuse) {
      rule.reuse_worker_gradients = reuse == 1;
      MethodInstance m = make(s, p, *C, *Qp);
      Monitor mon(p, rule);
      run_sync(m, mon, 3);
      traces[reuse] = mon.trace();
      EXPECT_LE(traces[reuse].size(), 9u);
    }
    expect_same_trace(traces[0], traces[1]);
  }
}

// Under SimGrid: same trace, times included, with a stop on the target (the master leaves in
// the middle of the round whose gradients complete the row).
TEST(Observer, ReusingWorkerGradientsUnderSimGridGivesTheSameTrace) {
  auto p = logistic(5);
  auto C = make_compressor({"top_k", 4}, p->dim());
  const MethodCase s{"ef21", {"top_k", 4}, 0, 1.0};
  std::string csv[2];
  double target = 0;
  for (int reuse = 0; reuse < 2; ++reuse) {
    csv[reuse] = test::run_in_child([&] {
      MethodInstance m = make(s, *p, *C, *C);
      const std::string dir = test::make_temp_dir("obs");
      sim::NetworkSetup net;
      net.model = "simgrid";
      net.platform_file = dir + "/p.xml";
      platforms::TopologySpec star;
      star.workers = 5;
      std::ofstream(net.platform_file) << platforms::star_platform_xml(star);
      net.master = platforms::master_host_name();
      for (int i = 0; i < 5; ++i) net.workers.push_back(platforms::worker_host_name(i));
      StopRule rule;
      rule.max_rounds = 40;
      rule.target_grad_norm_sq = 1e-4;
      rule.reuse_worker_gradients = reuse == 1;
      Monitor mon(*p, rule);
      sim::run_simgrid(net, m, mon, 7);
      std::filesystem::remove_all(dir);
      return sim::trace_csv(mon.trace());
    });
    ASSERT_EQ(csv[reuse].rfind("round,", 0), 0u) << csv[reuse];
  }
  EXPECT_EQ(csv[0], csv[1]);
  // The run stopped on the target, before the round limit.
  const std::string dir = test::make_temp_dir("obs");
  std::ofstream(dir + "/t.csv") << csv[1];
  const auto rows = sim::read_trace_csv(dir + "/t.csv");
  std::filesystem::remove_all(dir);
  ASSERT_FALSE(rows.empty());
  target = rows.back().grad_norm_sq;
  EXPECT_LE(target, 1e-4);
  EXPECT_LT(rows.back().round, 40);
}

}  // namespace
}  // namespace efsim::alg
