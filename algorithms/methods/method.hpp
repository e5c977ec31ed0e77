// Methods as message-passing state machines (algorithms/README.md). One synchronous round:
//   master:  down = master.broadcast()                      (empty in round 0: x0 is known)
//   workers: node_i.receive(down) (rounds >= 1); up_i = node_i.step(rng_i)
//   master:  master.absorb(i, up_i) for i = 0..n-1 in order; master.finish_round()
// After round k (k = 1, 2, ...) the master holds x^k. What goes down in round k+1 is the
// aggregate the master formed in round k; every node applies it with the same code as the
// master, so the replicas of x agree bit for bit. Nothing here knows about time or hosts.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "algorithms/compressors/compressor.hpp"
#include "algorithms/methods/params.hpp"
#include "algorithms/methods/participation.hpp"
#include "algorithms/methods/stragglers.hpp"
#include "algorithms/problems/problem.hpp"
#include "algorithms/wire/codec.hpp"

namespace efsim::alg {

// Flops spent since the last take (the cost model charges them as simulated compute time).
class FlopCounter {
 public:
  // Returns the flops counted since the last call and resets the counter.
  double take_flops() {
    const double f = flops_;
    flops_ = 0.0;
    return f;
  }

 protected:
  double flops_ = 0.0;
};

class Node : public FlopCounter {
 public:
  virtual ~Node() = default;
  virtual void receive(const Message& down) = 0;
  // Under partial participation a worker that takes part gets the current model instead of the
  // aggregates it may have missed (dense x).
  virtual void receive_model(const Message& model) = 0;
  virtual Message step(Rng& rng) = 0;
  // Round deadlines and availability (sim/network/dynamic_runner): the upload of the last step()
  // never reached the master; the worker's own state returns to what it was before that step
  // (MethodInfo::missing_upload says what that means for the method). Only called for methods
  // that define it.
  virtual void drop_last_upload() {}
  // One round's work: forgets the last evaluation, then step().
  Message run_step(Rng& rng) {
    evaluation_.valid = false;
    return step(rng);
  }
  // The observer's tap (never read by a method): when the last run_step() computed the exact
  // local f_i and ∇f_i at the node's model x (a full, not a stochastic, gradient), they are
  // here, valid until the node's next receive or step. The monitor reuses them instead of
  // evaluating f at x itself (metrics cost no extra pass over the data).
  const LocalEvaluation& last_evaluation() const { return evaluation_; }

 protected:
  LocalEvaluation evaluation_;
};

class Master : public FlopCounter {
 public:
  virtual ~Master() = default;
  virtual const Message& broadcast() const = 0;
  // The current model x as a dense message (for workers joining under partial participation).
  virtual const Message& model() const = 0;
  virtual void absorb(int i, const Message& up) = 0;
  virtual void finish_round() = 0;
  // Round deadlines and availability: `count` uploads reach the master this round (called
  // before their absorb()). A method whose aggregate is the mean of the round's uploads rescales
  // to the realised set (DCGD); others ignore it.
  virtual void realised_uploads(int count) { (void)count; }
  virtual const Vector& x() const = 0;
  // Downlink "model": from now on model() carries the dense x after every round, and that is
  // what the workers receive (instead of the aggregate). Returns false if the method cannot.
  virtual bool send_model() { return false; }
};

struct MethodSpec {
  std::string name;  // a key of method_registry()
  double gamma = 0;  // stepsize, > 0
  WireFormat wire;
  ParticipationSpec participation;  // partial participation (methods with partial_participation)
  std::uint64_t seed = 1;           // the run's seed (the sampling of partial participation)
  MethodParams params;              // the method's own settings (params.hpp), by name
};

struct MethodInstance {
  std::unique_ptr<Master> master;
  std::vector<std::unique_ptr<Node>> nodes;
  // Who takes part in each round (null or full: everybody). With partial participation, the
  // workers of a round receive master->model() and the others do nothing.
  std::shared_ptr<const Sampling> sampling;
  // Slow workers (compute time only); null: none.
  std::shared_ptr<const Stragglers> stragglers;
  // The downlink carries the dense model x every round (Master::send_model was accepted).
  bool model_downlink = false;
  // The uploads add up elementwise (PowerSGD's factors): ring_allreduce moves chunks of the
  // upload's own size instead of the dense aggregate's.
  bool summable_uploads = false;
  // A population (ParticipationSpec::sampled_only): `nodes` is empty and make_node(i, stepped)
  // builds worker i for a round it is sampled in; stepped: it has taken part before. Its random
  // stream is the runner's to keep (worker_rng). Valid while the problem, compressor and
  // spec it was made from live.
  std::function<std::unique_ptr<Node>(int, bool)> make_node;
  // A population's client leaving its round: node (made by make_node(i, .)) hands over what it
  // carries to its next round (EF21's g_i, DIANA's h_i; ClientStates). Null: nothing to keep.
  std::function<void(int, Node&)> park_node;
};

struct MethodInfo {
  std::string name;
  std::string summary;  // one line: what it is and its source (paper, algorithm)
  CompressorNeed compressor = CompressorNeed::kAny;
  std::vector<std::string> params;     // the settings it takes (names in method_parameters())
  bool partial_participation = false;  // a `participation` entry is allowed
  // `participation: {materialize: sampled}` is allowed: a worker is rebuilt for each round it is
  // sampled in (MethodInstance::make_node), carrying over its random stream and, compactly, its
  // state vector (EF21-PP's g_i, DIANA's h_i).
  bool population = false;
  bool model_downlink = true;  // `downlink: model` is allowed
  // The method compresses by itself (PowerSGD): a `compressor` entry is refused.
  bool own_compression = false;
  // Its uploads add up elementwise (MethodInstance::summable_uploads): ring_allreduce moves them
  // at their own size, and ring_allgather (which forwards every upload whole) is refused.
  bool summable_uploads = false;
  // A worker may send nothing in a round (an empty Message: no bytes, no time; lazy
  // aggregation). Its traces count the skipped uploads; ring_allreduce cannot skip and is refused.
  bool skips_uploads = false;
  // What a missing upload means (a round deadline passed, the worker went off), following the
  // method's paper; "" = no paper semantics: deadlines and availability are refused.
  std::string missing_upload;
  // theory(name, C, p): its theoretical stepsize (throws InputError when it has none for C);
  // null: none in efsim (the scenario must give an absolute gamma).
  double (*theory)(const std::string&, const Compressor&, const Problem&) = nullptr;
  // A theoretical stepsize that depends on the run's settings (e.g. LAG's trigger zeta); used
  // instead of `theory` when set.
  double (*param_theory)(const std::string&, const Compressor&, const Problem&,
                         const MethodParams&) = nullptr;
  bool has_theory() const { return theory != nullptr || param_theory != nullptr; }
  // When the theoretical stepsize holds only on some problems: which (for `efsim methods`).
  std::string theory_scope;
  // Its stepsize under the PL condition (EF21 paper, Theorem 3); null: none.
  double (*pl_theory)(const std::string&, const Compressor&, const Problem&) = nullptr;
  MethodInstance (*make)(const MethodSpec&, const Problem&, const Compressor&,
                         const Vector& x0) = nullptr;

  bool takes(const std::string& param) const;
};

const std::vector<MethodInfo>& method_registry();
const MethodInfo& find_method(const std::string& name);  // throws InputError listing valid names
// "a, b and c": the methods that take `param` (for error messages and help).
std::string methods_taking(const std::string& param);

// Throws InputError (saying why) unless C is what `need` asks for at dimension d; `what` names
// the compressor in the message (e.g. "method ef21", "the quantizer").
void check_compressor(CompressorNeed need, const Compressor& C, int d, const std::string& what);

// EF21 theoretical stepsize (EF21 paper, Theorem 2): gamma = 1 / (L + L̃ sqrt(beta/theta)),
// theta = 1 - sqrt(1 - alpha), beta = (1 - alpha) / (1 - sqrt(1 - alpha)). alpha = 1 gives 1/L.
double ef21_theory_gamma(double L, double L_tilde, double alpha);

// DCSGD theoretical stepsize for an unbiased compressor in U(delta) (Horváth & Richtárik,
// ICLR 2021, Theorem 4): gamma = 1 / (2 delta_n L), delta_n = (delta - 1)/n + 1.
double dcsgd_theory_gamma(double L, double delta, int n);

// The theoretical stepsize of `method` with compressor C on problem p:
//   dcgd with an unbiased C: dcsgd_theory_gamma;
//   otherwise (gd, and every method with a contractive C, or an unbiased one with delta < 2,
//   which is contractive with alpha = 2 - delta): ef21_theory_gamma with C's alpha.
// Throws InputError when the method needs a contractive compressor and C is not one.
// `params`: the run's settings (for a method whose rule depends on them).
double theory_gamma(const std::string& method, const Compressor& C, const Problem& p,
                    const MethodParams& params = MethodParams());

// EF21's stepsize under the PL condition (EF21 paper, Theorem 3):
// gamma = min{(L + L̃ sqrt(2 beta/theta))^-1, theta / (2 mu)}. Throws InputError when the
// problem's PL constant mu is unknown or the method has no such theorem here.
double pl_theory_gamma(const std::string& method, const Compressor& C, const Problem& p);

}  // namespace efsim::alg
