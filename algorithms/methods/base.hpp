// Shared pieces of the methods: the replicated model update, and node/master helpers for
// gradients, compression and the wire. Internal to algorithms/.
#pragma once

#include <cassert>
#include <cstdint>
#include <memory>
#include <utility>

#include "algorithms/methods/method.hpp"

namespace efsim::alg {

// How a broadcast aggregate Δ moves the model; the same code runs on the master and on every
// node, so all replicas of x stay bit-identical.
//
// Replicas that hold the same content share it (copy on write): replicas built from the same x0
// with the same rule start out sharing one state, and an update named by a key (the message's
// serial and how it was decoded) is computed by the first replica that receives it; the others
// adopt that result instead of repeating it. A large model is then held once per distinct
// state, not once per simulated worker, and each broadcast is applied once on the host. The
// cost model still charges every replica for its update.
// Names a replica update: equal keys mean equal updates (serial 0: unnamed, never shared).
struct ReplicaKey {
  std::uint64_t serial = 0;  // Message::serial of the bytes the update was decoded from
  int kind = 0;              // what the bytes are (a Δ, a model) and how they were decoded
  bool operator==(const ReplicaKey& o) const { return serial == o.serial && kind == o.kind; }
};

class ModelReplica {
 public:
  enum class Rule {
    kStep,      // x <- x - gamma * Δ            (GD, DCGD: Δ = mean of (compressed) gradients)
    kEstimate,  // g <- g + Δ; x <- x - gamma * g (EF21: Δ = mean of the c_i, g = mean g_i)
    kShift,     // x <- x - gamma (h + Δ); h <- h + alpha Δ (DIANA: h = mean h_i)
  };
  using Key = ReplicaKey;
  // beta: heavy-ball momentum for kStep (m <- beta m + Δ; x <- x - gamma m); 0 = none.
  // alpha: the shift stepsize of kShift.
  ModelReplica(const Vector& x0, double gamma, Rule rule, double beta = 0.0, double alpha = 0.0);
  // Returns the flops spent.
  double apply(const Compressed& delta, Key key = {});
  const Vector& x() const { return state_->x; }
  void set_x(const Vector& x, Key key = {}) {
    set_x_from(key, [&x]() -> const Vector& { return x; });
  }
  // x <- make(), where make() is called only when no sharing replica already made update `key`.
  template <class Make>
  void set_x_from(Key key, Make&& make) {
    if (!adopt_or_own(key)) state_->x = make();
  }
  // True when this replica and `other` share their state (tests).
  bool shares_with(const ModelReplica& other) const { return state_ == other.state_; }

 private:
  struct State {
    State(Vector x0, Vector g0, double gamma_, Rule rule_, double beta_, double alpha_,
          bool pristine_)
        : x(std::move(x0)),
          g(std::move(g0)),
          gamma(gamma_),
          rule(rule_),
          beta(beta_),
          alpha(alpha_),
          pristine(pristine_) {}
    Vector x;
    Vector g;  // kEstimate: the aggregate estimator; kStep with beta > 0: the momentum buffer
    double gamma;
    Rule rule;
    double beta;
    double alpha;
    bool pristine = true;          // still (x0, g = 0) as constructed
    std::uint64_t generation = 0;  // bumped by every change made in place
    Key next_key;                  // the update that produced `next` from this state ...
    std::weak_ptr<State> next;     // ... (valid while next->generation == next_generation)
    std::uint64_t next_generation = 0;
  };
  // Points state_ at the result of update `key` when another replica already made it from the
  // same state (returns true), else makes state_ writable for this replica (returns false).
  bool adopt_or_own(Key key);
  double flops(std::int64_t nnz) const;
  std::shared_ptr<State> state_;
};

// The key of the replica update decoded from message m with wire format w; op names the update
// (1: an aggregate Δ, 2: the dense model; a method with its own update uses another number).
ModelReplica::Key update_key(const Message& m, const WireFormat& w, int op);

// The broadcast as decoded. Every node, and the master that sent it, decodes the same bytes:
// they are decoded once per message on the host (the cost model still charges each decoder).
const Compressed& decoded_broadcast(const Message& down, int dim, const WireFormat& wire);

class NodeBase : public Node {
 protected:
  // replica_gamma: the stepsize of the model update (1 when the messages already carry it).
  NodeBase(const Objective& f, const Compressor& C, const MethodSpec& spec, const Vector& x0,
           double replica_gamma, ModelReplica::Rule rule, double shift_alpha = 0.0);
  void receive(const Message& down) override;
  void receive_model(const Message& model) override;
  // grad_ = ∇f_i(x), or a minibatch stochastic gradient when spec.batch > 0 (round 0 uses
  // batch_init when set).
  void local_gradient(Rng& rng);
  // out = the same gradient minus shift, in one pass where the objective allows it (minibatch
  // gradients; the full gradient still lands in grad_ for the observer).
  void local_gradient_minus(Rng& rng, const Vector& shift, Vector& out);
  // One per-thread vector for a value that lives only within one step() (EF21's v, DIANA's
  // difference). The simulated workers step one after another on the host, so they can share
  // it: one warm buffer instead of a cold d-vector per worker (MLP: 407,050 doubles each).
  static Vector& step_scratch();
  // The message carrying C(v) (after an optional header of header_bits bits); `out` is set to
  // exactly what the master decodes from it (algorithms/README.md invariant 3).
  Message compress_encode(const Vector& v, Rng& rng, Compressed& out, int header_bits = 0,
                          std::uint64_t header = 0);

  const Objective& f_;
  const Compressor& C_;
  WireFormat wire_;
  int batch_, batch_init_;
  bool first_step_ = true;
  ModelReplica replica_;
  Vector grad_;
};

class MasterBase : public Master {
 public:
  const Message& broadcast() const override { return down_; }
  const Message& model() const override { return model_; }
  void absorb(int i, const Message& up) override;
  void finish_round() override;
  const Vector& x() const override { return replica_.x(); }
  bool send_model() override {
    model_downlink_ = true;
    return true;
  }

 protected:
  MasterBase(int n, const Compressor& C, const WireFormat& wire, const Vector& x0, double gamma,
             ModelReplica::Rule rule, double beta = 0.0, double shift_alpha = 0.0);
  // Partial participation: reweight worker i by 1/p_i and keep the dense model for joiners.
  void enable_partial(const Sampling& sampling);
  // Decodes the compressed vector of a message (after its header has been read from r).
  void decode_body(BitReader& r, Compressed& out);
  // model_ = the dense x as sent on the wire, and the replica's x set to what it decodes to
  // (partial participation, the model downlink).
  void publish_model();

  const Compressor& C_;
  int n_;
  int dim_;
  WireFormat wire_;
  ModelReplica replica_;
  Aggregator sum_;
  Compressed scratch_;
  Message down_;
  Message model_;  // dense x, kept under partial participation and with the model downlink
  std::vector<double> weight_;  // 1/p_i: the unbiased reweighting of partial participation
  bool partial_ = false;
  bool model_downlink_ = false;
};

// The factory of a method whose master is MasterT(n, C, x0, spec) and whose worker i is
// NodeT(f_i, C, spec, x0): one master and n nodes.
template <class NodeT, class MasterT>
MethodInstance make_instance(const MethodSpec& s, const Problem& p, const Compressor& C,
                             const Vector& x0) {
  MethodInstance m;
  m.master = std::make_unique<MasterT>(p.num_workers(), C, x0, s);
  for (int i = 0; i < p.num_workers(); ++i)
    m.nodes.push_back(std::make_unique<NodeT>(p.local(i), C, s, x0));
  return m;
}

}  // namespace efsim::alg
