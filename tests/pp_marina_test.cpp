// PP-MARINA (Gorbunov, Burlachenko, Li, Richtárik, ICML 2021, Algorithm 4: MARINA with partial
// participation) against what it reduces to and what its theorem promises: r = n clients is
// MARINA bit for bit; a reference recurrence written here from the paper's update (with the
// exact Q) gives the same iterates for r < n; exactly n - r uploads are skipped in every
// compressed round and none in full rounds; Theorem 4.1's stepsize equals a hand computation and
// converges; SimGrid changes time, never the math; the scenario layer learns pp_clients from the
// settings table and refuses what does not fit.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>

#include "algorithms/core/error.hpp"
#include "algorithms/methods/method.hpp"
#include "algorithms/problems/glm.hpp"
#include "algorithms/runner/sync_runner.hpp"
#include "method_run.hpp"
#include "platforms/star.hpp"
#include "sim/network/simgrid_runner.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/sweep/recorder.hpp"
#include "sim/text.hpp"
#include "simgrid_star_run.hpp"
#include "synthetic_problem.hpp"
#include "test_util.hpp"

namespace efsim::alg {
namespace {

std::shared_ptr<GlmProblem> logistic(int workers = 4, int dim = 30) {
  return test::synthetic_glm(test::method_spec(workers, dim));
}

MethodSpec spec(const std::string& name, double gamma, int clients, double marina_p = 0,
                int bits = 64) {
  MethodSpec s;
  s.name = name;
  s.gamma = gamma;
  s.seed = 3;
  s.wire.value_bits = bits;
  if (marina_p > 0) s.params.set("marina_p", marina_p);
  if (clients > 0) s.params.set("pp_clients", clients);
  return s;
}

// Every client in every round: MARINA's iterates, bits and bytes, bit for bit, at both wire
// widths, with the default p (r/((omega + 1) n) = 1/(omega + 1)) and a given one.
TEST(PpMarina, AllClientsIsMarinaBitForBit) {
  auto p = logistic();
  RandK rand3(3, true);
  const double gamma = theory_gamma("marina", rand3, *p);
  for (int bits : {64, 32}) {
    for (double prob : {0.0, 0.3}) {
      SCOPED_TRACE(std::to_string(bits) + " bits, marina_p " + std::to_string(prob));
      const Outcome marina = run(spec("marina", gamma, 0, prob, bits), *p, rand3, 200);
      const Outcome pp = run(spec("pp_marina", gamma, 4, prob, bits), *p, rand3, 200);
      ASSERT_EQ(marina.trace.size(), pp.trace.size());
      for (std::size_t k = 0; k < pp.trace.size(); ++k) {
        EXPECT_EQ(std::bit_cast<std::uint64_t>(marina.trace[k].f),
                  std::bit_cast<std::uint64_t>(pp.trace[k].f))
            << k;
        EXPECT_EQ(marina.trace[k].bits_up_per_worker, pp.trace[k].bits_up_per_worker) << k;
        EXPECT_EQ(marina.trace[k].bits_down_per_worker, pp.trace[k].bits_down_per_worker) << k;
        EXPECT_EQ(pp.trace[k].uploads_skipped, 0) << k;
      }
      EXPECT_TRUE(same_bits(marina.x, pp.x));
    }
  }
}

// The paper's update, written out here with the exact Q (the identity): the clients of I'_k are
// read off the messages (the ones that are not empty), then
//   full round:        g = mean_i ∇f_i(x^{k+1})
//   compressed round:  g = g + (1/r) sum_{i in I'_k} (∇f_i(x^{k+1}) - ∇f_i(x^k))
//   x^{k+1} = x^k - gamma g.
// Matching it to rounding checks the 1/r weight and that a client drawn after sitting a round
// out differences against ∇f_i at the right x^k.
TEST(PpMarina, MatchesThePapersRecurrence) {
  auto p = logistic(5, 30);
  Identity exact;
  const int n = 5, r = 2;
  const double gamma = 0.5 / p->smoothness();
  MethodSpec s = spec("pp_marina", gamma, r, 0.2);
  MethodInstance m = find_method("pp_marina").make(s, *p, exact, Vector::Zero(p->dim()));
  auto rngs = worker_rngs(7, n);
  auto grad = [&](int i, const Vector& x) {
    Vector g(p->dim());
    p->local(i).value_and_gradient(x, g);
    return g;
  };
  Vector x = Vector::Zero(p->dim()), x_prev = x, g = Vector::Zero(p->dim());
  int full_rounds = 0, compressed_rounds = 0, catch_ups = 0;
  std::vector<char> was_in(n, 1);
  for (long round = 0; round < 120; ++round) {
    std::vector<Message> up(n);
    std::vector<char> in(n, 0);
    int uploads = 0;
    for (int i = 0; i < n; ++i) {
      if (round > 0) m.nodes[i]->receive(m.master->broadcast());
      up[i] = m.nodes[i]->run_step(rngs[i]);
      in[i] = !up[i].empty();
      uploads += in[i];
    }
    for (int i = 0; i < n; ++i) m.master->absorb(i, up[i]);
    m.master->finish_round();
    if (uploads == n) {  // a full round (r < n, so never a compressed one)
      ++full_rounds;
      g.setZero();
      for (int i = 0; i < n; ++i) g += grad(i, x);
      g /= n;
    } else {
      ASSERT_EQ(uploads, r) << "round " << round;
      ++compressed_rounds;
      Vector sum = Vector::Zero(p->dim());
      for (int i = 0; i < n; ++i)
        if (in[i]) {
          sum += grad(i, x) - grad(i, x_prev);
          catch_ups += !was_in[i];
        }
      g += sum / r;
    }
    was_in = in;
    x_prev = x;
    x = x - gamma * g;
    ASSERT_LT((m.master->x() - x).norm(), 1e-12 * std::max(1.0, x.norm())) << "round " << round;
  }
  EXPECT_GT(full_rounds, 10);
  EXPECT_GT(compressed_rounds, 60);
  EXPECT_GT(catch_ups, 20);  // clients drawn after sitting out: the catch-up gradient ran
}

// Theorem 4.1 by hand: n = 4, Rand-3 of d = 30 (omega = 30/3 - 1 = 9), r = 2, the default
// p = r / ((omega + 1) n) = 2/40 = 0.05: (1 - p)(1 + omega)/(p r) = 0.95 * 10 / 0.1 = 95, so
// gamma = 1/(L + L̃ sqrt(95)). With marina_p = 0.5: 0.5 * 10 / 1 = 5, gamma = 1/(L + L̃ sqrt(5)).
// MARINA's Theorem 2.1 with marina_p = 0.5: (1 - p) omega / (p n) = 0.5 * 9 / 2 = 2.25, gamma =
// 1/(L + 1.5 L̃) (the run's p now, no longer only the default's).
TEST(PpMarina, TheoryStepsizeByHand) {
  auto p = logistic(4, 30);
  RandK rand3(3, true);
  const double L = p->smoothness(), Lt = p->smoothness_tilde();
  MethodParams two;
  two.set("pp_clients", 2);
  EXPECT_NEAR(theory_gamma("pp_marina", rand3, *p, two), 1.0 / (L + Lt * std::sqrt(95.0)),
              1e-14 / L);
  two.set("marina_p", 0.5);
  EXPECT_NEAR(theory_gamma("pp_marina", rand3, *p, two), 1.0 / (L + Lt * std::sqrt(5.0)),
              1e-14 / L);
  MethodParams half;
  half.set("marina_p", 0.5);
  EXPECT_NEAR(theory_gamma("marina", rand3, *p, half), 1.0 / (L + 1.5 * Lt), 1e-14 / L);
  // The default p: 1/(L + L̃ omega/sqrt(n)) as before.
  EXPECT_DOUBLE_EQ(theory_gamma("marina", rand3, *p), 1.0 / (L + Lt * 9.0 / 2.0));
  MethodParams too_many;
  too_many.set("pp_clients", 5);
  EXPECT_THROW(theory_gamma("pp_marina", rand3, *p, too_many), InputError);
  Identity id;  // not unbiased: refused with the reason
  EXPECT_THROW(theory_gamma("pp_marina", id, *p, two), InputError);
}

// At Theorem 4.1's stepsize, 2 of 4 clients a compressed round: ||∇f||^2 falls by orders of
// magnitude on this strongly convex problem; every compressed round skips exactly n - r = 2
// uploads and full rounds none; each client takes part in some compressed rounds and sits out
// others; a worker uploads fewer bits than MARINA's over the same rounds.
TEST(PpMarina, ConvergesAtTheoryStepsizeSkippingUploads) {
  auto p = logistic(4, 30);
  RandK rand3(3, true);
  MethodParams params;
  params.set("pp_clients", 2);
  const double gamma = theory_gamma("pp_marina", rand3, *p, params);
  const Outcome pp = run(spec("pp_marina", gamma, 2), *p, rand3, 4000);
  const double g0 = pp.trace.front().grad_norm_sq, g_end = pp.trace.back().grad_norm_sq;
  EXPECT_LT(g_end, 1e-8 * g0) << "from " << g0 << " to " << g_end;
  int full = 0, compressed = 0;
  for (std::size_t k = 1; k < pp.trace.size(); ++k) {
    const long skipped = pp.trace[k].uploads_skipped - pp.trace[k - 1].uploads_skipped;
    ASSERT_TRUE(skipped == 0 || skipped == 2) << "round " << k << ": " << skipped;
    (skipped == 0 ? full : compressed)++;
  }
  // p = 0.05: about 200 full rounds of 4000.
  EXPECT_GT(full, 100);
  EXPECT_LT(full, 300);
  const Outcome marina = run(spec("marina", gamma, 0), *p, rand3, 4000);
  EXPECT_LT(pp.trace.back().bits_up_per_worker, marina.trace.back().bits_up_per_worker);
  // Who takes part: every client both uploads and sits out compressed rounds.
  MethodInstance m =
      find_method("pp_marina").make(spec("pp_marina", gamma, 2), *p, rand3, Vector::Zero(p->dim()));
  auto rngs = worker_rngs(7, 4);
  std::vector<int> ins(4, 0), outs(4, 0);
  for (long round = 0; round < 200; ++round) {
    std::vector<Message> up(4);
    for (int i = 0; i < 4; ++i) {
      if (round > 0) m.nodes[i]->receive(m.master->broadcast());
      up[i] = m.nodes[i]->run_step(rngs[i]);
    }
    int uploads = 0;
    for (const auto& u : up) uploads += !u.empty();
    for (int i = 0; i < 4; ++i) {
      if (uploads < 4) (up[i].empty() ? outs : ins)[i]++;
      m.master->absorb(i, up[i]);
    }
    m.master->finish_round();
  }
  for (int i = 0; i < 4; ++i) {
    EXPECT_GT(ins[i], 40) << i;
    EXPECT_GT(outs[i], 40) << i;
  }
}

// Minibatches are VR-MARINA's (method marina with batch), not Algorithm 4's.
TEST(PpMarina, RefusesMinibatches) {
  auto p = logistic();
  RandK rand3(3, true);
  MethodSpec s = spec("pp_marina", 0.01, 2);
  s.params.set("batch", 10);
  EXPECT_THROW(find_method("pp_marina").make(s, *p, rand3, Vector::Zero(p->dim())), InputError);
}

// algorithms/README.md invariant 2: SimGrid changes time, never PP-MARINA's math; a skipped
// upload costs no bytes in either runner.
TEST(PpMarina, SimGridSameIteratesAsSyncRunner) {
  auto make = [](const Problem& p, const Compressor& C) {
    MethodParams params;
    params.set("pp_clients", 2);
    MethodSpec s = spec("pp_marina", theory_gamma("pp_marina", C, p, params), 2, 0.3, 32);
    return find_method("pp_marina").make(s, p, C, Vector::Zero(p.dim()));
  };
  const long rounds = 40;
  const std::string sg = test::run_in_child([&] {
    auto p = logistic(4, 30);
    RandK rand3(3, true);
    MethodInstance m = make(*p, rand3);
    return test::simgrid_star_trace(m, *p, rounds, test::wire32(), sim::Pattern::kParameterServer,
                                    true);
  });
  ASSERT_EQ(sg.rfind("round,", 0), 0u) << sg;
  auto p = logistic(4, 30);
  RandK rand3(3, true);
  MethodInstance m = make(*p, rand3);
  const auto sync = test::sync_trace(m, *p, rounds);
  test::expect_same_math(test::parse_trace(sg), sync);
  EXPECT_GT(sync.back().uploads_skipped, 0);
}

class PpMarinaScenario : public test::TempDirTest {
 protected:
  std::string error_of(const std::string& name, const std::string& text) {
    try {
      sim::load_scenario(write(name, text));
    } catch (const InputError& e) {
      return e.what();
    }
    ADD_FAILURE() << "loaded: " << text;
    return "";
  }
};

// The settings table teaches the parser pp_clients: required, in the run id, at most n, refused
// on other methods; ring_allreduce is refused (it moves the dense sum whoever skips).
TEST_F(PpMarinaScenario, ParserLearnsPpClients) {
  const sim::Scenario s = sim::load_scenario(write("ok.yaml",
                                                   "problem: {dataset: synthetic, workers: 4}\n"
                                                   "runs:\n"
                                                   "  - method: pp_marina\n"
                                                   "    compressor: {kind: rand_k_unbiased, k: 2}\n"
                                                   "    pp_clients: [1, 4]\n"));
  ASSERT_EQ(s.runs.size(), 2u);
  EXPECT_NE(s.runs[0].id.find("-pc1"), std::string::npos) << s.runs[0].id;
  EXPECT_NE(s.runs[1].id.find("-pc4"), std::string::npos) << s.runs[1].id;

  const std::string missing =
      error_of("missing.yaml",
               "problem: {dataset: synthetic, workers: 4}\n"
               "runs: [{method: pp_marina, compressor: {kind: rand_k_unbiased, k: 2}}]\n");
  EXPECT_NE(missing.find("missing.yaml:2:"), std::string::npos) << missing;
  EXPECT_NE(missing.find("'runs.0.pp_clients'"), std::string::npos) << missing;
  EXPECT_NE(missing.find("required"), std::string::npos) << missing;

  const std::string too_many = error_of("many.yaml",
                                        "problem: {dataset: synthetic, workers: 4}\n"
                                        "runs:\n"
                                        "  - method: pp_marina\n"
                                        "    compressor: {kind: rand_k_unbiased, k: 2}\n"
                                        "    pp_clients: 5\n");
  EXPECT_NE(too_many.find("many.yaml:5:"), std::string::npos) << too_many;
  EXPECT_NE(too_many.find("'runs.0.pp_clients'"), std::string::npos) << too_many;
  EXPECT_NE(too_many.find("4 workers"), std::string::npos) << too_many;

  const std::string on_marina = error_of("marina.yaml",
                                         "problem: {dataset: synthetic, workers: 4}\n"
                                         "runs:\n"
                                         "  - method: marina\n"
                                         "    compressor: {kind: rand_k_unbiased, k: 2}\n"
                                         "    pp_clients: 2\n");
  EXPECT_NE(on_marina.find("marina.yaml:5:"), std::string::npos) << on_marina;
  EXPECT_NE(on_marina.find("takes no pp_clients"), std::string::npos) << on_marina;

  const std::string ring = error_of("ring.yaml",
                                    "problem: {dataset: synthetic, workers: 4}\n"
                                    "runs:\n"
                                    "  - method: pp_marina\n"
                                    "    compressor: {kind: rand_k_unbiased, k: 2}\n"
                                    "    pp_clients: 2\n"
                                    "    pattern: ring_allreduce\n");
  EXPECT_NE(ring.find("ring.yaml:6:"), std::string::npos) << ring;
  EXPECT_NE(ring.find("skips uploads"), std::string::npos) << ring;
}

}  // namespace
}  // namespace efsim::alg
