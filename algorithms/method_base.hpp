// Shared pieces of the methods: the replicated model update, and node/master helpers for
// gradients, compression and the wire. Internal to algorithms/.
#pragma once

#include <cassert>

#include "algorithms/method.hpp"

namespace efsim::alg {

// How a broadcast aggregate Δ moves the model; the same code runs on the master and on every
// node, so all replicas of x stay bit-identical.
class ModelReplica {
 public:
  enum class Rule {
    kStep,      // x <- x - gamma * Δ            (GD, DCGD: Δ = mean of (compressed) gradients)
    kEstimate,  // g <- g + Δ; x <- x - gamma * g (EF21: Δ = mean of the c_i, g = mean g_i)
    kShift,     // x <- x - gamma (h + Δ); h <- h + alpha Δ (DIANA: h = mean h_i)
  };
  // beta: heavy-ball momentum for kStep (m <- beta m + Δ; x <- x - gamma m); 0 = none.
  // alpha: the shift stepsize of kShift.
  ModelReplica(const Vector& x0, double gamma, Rule rule, double beta = 0.0, double alpha = 0.0);
  // Returns the flops spent.
  double apply(const Compressed& delta);
  const Vector& x() const { return x_; }
  void set_x(const Vector& x) { x_ = x; }

 private:
  Vector x_;
  Vector g_;  // kEstimate: the aggregate estimator; kStep with beta > 0: the momentum buffer
  double gamma_;
  Rule rule_;
  double beta_;
  double alpha_;
};

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
  // The message carrying C(v) (after an optional header of header_bits bits); `out` is set to
  // exactly what the master decodes from it (DESIGN.md invariant 3).
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

}  // namespace efsim::alg
