// SCAFFOLD: Algorithm 1 of Karimireddy, Kale, Mohri, Reddi, Stich, Suresh, "SCAFFOLD: Stochastic
// Controlled Averaging for Federated Learning", ICML 2020, with every client in every round
// (S = all n clients) and the run's gamma as the local stepsize eta_l:
//   server: x, c (c^0 = 0);  client i: c_i (c_i^0 = 0)
//   client i: y_i <- x;  for k = 1..K:  y_i <- y_i - eta_l (g_i(y_i) - c_i + c)
//             c_i^+ = c_i - c + (x - y_i) / (K eta_l)                  (option II)
//             sends (Δy_i, Δc_i) = (y_i - x, c_i^+ - c_i);  c_i <- c_i^+
//   server:   (Δx, Δc) = (1/n) sum_i (Δy_i, Δc_i);  x <- x + eta_g Δx;  c <- c + (|S|/N) Δc
// K is the setting local_steps (tau), eta_g the setting eta_g (default 1). g_i is the full local
// gradient, or a minibatch one with `batch`. Option II (the control variate from the local
// steps already taken) is the cheap choice: option I would need one more gradient at x per
// round (with full gradients it is the first local step's, and both options coincide for K = 1).
//
// On the wire: the upload is Δy_i then Δc_i, each encoded by the run's compressor C (the paper's
// algorithm is C = identity: dense d values at the wire's precision, twice local SGD's upload). A
// compressor other than the identity compresses both (as local_sgd does with Δy_i, FedPAQ-style);
// the worker then keeps c_i <- c_i + C(Δc_i) as the master decodes it, so c = mean c_i still
// holds, but the x step no longer equals the paper's. The downlink carries (Δx, Δc), the same
// information as the paper's (x, c) for workers that hold the previous ones; every replica
// applies x <- x + eta_g Δx, c <- c + Δc with the master's code, so replicas agree bit for bit.
// A worker updates c_i with the Δc_i the master decodes (algorithms/README.md invariant 3), so
// c stays the mean of the c_i when the wire rounds to float32.
//
// With K = 1 and full participation, c = mean c_i, and the step is
// x <- x - eta_g eta_l mean_i ∇f_i(x): distributed GD with stepsize eta_g eta_l (up to rounding).
// On heterogeneous workers local SGD (K > 1) converges to a biased point (client drift);
// SCAFFOLD's correction -c_i + c removes it (tests/scaffold_test.cpp checks both in closed form).
#include "algorithms/core/cost.hpp"
#include "algorithms/methods/base.hpp"

namespace efsim::alg {

namespace {

// SCAFFOLD's replica update (x <- x + eta_g Δx from a (Δx, Δc) downlink): op 4 of update_key.
ReplicaKey scaffold_key(const Message& m, const WireFormat& w) { return update_key(m, w, 4); }

class ScaffoldNode final : public NodeBase {
 public:
  ScaffoldNode(const Objective& f, const Compressor& C, const MethodSpec& s, const Vector& x0)
      : NodeBase(f, C, s, x0, -s.params.number("eta_g"), ModelReplica::Rule::kStep),
        gamma_(s.gamma),
        tau_(s.params.integer("local_steps")),
        c_(Vector::Zero(x0.size())),
        c_i_(Vector::Zero(x0.size())) {}

  void receive(const Message& down) override {
    BitReader r(down);
    decode(r, f_.dim(), wire_, dx_);
    decode(r, f_.dim(), wire_, dc_);
    flops_ += cost::codec(static_cast<std::int64_t>(dx_.nnz() + dc_.nnz()));
    flops_ += replica_.apply(dx_, scaffold_key(down, wire_));  // x <- x + eta_g Δx
    dc_.add_to(c_);                                            // c <- c + Δc
    flops_ += cost::vector_op(static_cast<std::int64_t>(dc_.nnz()), 1.0);
  }

  Message step(Rng& rng) override {
    const auto d = static_cast<std::int64_t>(c_.size());
    Vector& corr = corr_;
    corr = c_ - c_i_;     // the correction -c_i + c, the same in every local step
    local_gradient(rng);  // g_i(y_0) at y_0 = x (also the observer's full gradient)
    Vector& delta = step_scratch();
    delta = gamma_ * (grad_ + corr);  // x - y_1
    flops_ += cost::vector_op(d, 1.0) + cost::vector_op(d, 2.0);
    for (int k = 1; k < tau_; ++k) {
      y_ = replica_.x() - delta;  // y_k = x - sum_{j<k} eta_l (g_i(y_j) - c_i + c)
      if (batch_ > 0) {
        flops_ += f_.stochastic_gradient(y_, batch_, rng, g_);
      } else {
        f_.value_and_gradient(y_, g_);
        flops_ += f_.gradient_flops();
      }
      delta.noalias() += gamma_ * (g_ + corr);
      flops_ += cost::vector_op(d) + cost::vector_op(d, 3.0);
    }
    // Δy_i = y_K - x = -delta;  Δc_i = c_i^+ - c_i = -c + (x - y_K) / (K eta_l) (option II).
    y_ = -delta;
    g_ = delta / (tau_ * gamma_) - c_;
    flops_ += cost::vector_op(d, 3.0);
    BitWriter w;
    C_.compress(y_, rng, wire_, sent_y_);
    C_.encode(sent_y_, wire_, w);
    C_.compress(g_, rng, wire_, sent_c_);
    C_.encode(sent_c_, wire_, w);
    Message m = w.finish();
    BitReader back(m);  // what the master decodes
    C_.decode(back, f_.dim(), wire_, sent_y_);
    C_.decode(back, f_.dim(), wire_, sent_c_);
    sent_c_.add_to(c_i_);  // c_i <- c_i^+ (c_i + Δc_i as decoded)
    const auto ny = static_cast<std::int64_t>(sent_y_.nnz()),
               nc = static_cast<std::int64_t>(sent_c_.nnz());
    flops_ += 2.0 * C_.flops(f_.dim()) + cost::codec(ny + nc) + C_.decode_flops(f_.dim(), ny) +
              C_.decode_flops(f_.dim(), nc) + cost::vector_op(nc, 1.0);
    return m;
  }

 private:
  double gamma_;
  int tau_;
  Vector c_;    // replica of the server's control variate c
  Vector c_i_;  // this client's control variate
  Vector corr_, y_, g_;
  Compressed dx_, dc_, sent_y_, sent_c_;
};

class ScaffoldMaster final : public MasterBase {
 public:
  ScaffoldMaster(int n, const Compressor& C, const Vector& x0, const MethodSpec& s)
      : MasterBase(n, C, s.wire, x0, -s.params.number("eta_g"), ModelReplica::Rule::kStep),
        sum_c_(dim_) {}

  void absorb(int, const Message& up) override {
    BitReader r(up);
    decode_body(r, scratch_);  // Δy_i
    sum_.add(scratch_, 1.0);
    decode_body(r, scratch_);  // Δc_i
    sum_c_.add(scratch_, 1.0);
  }

  void finish_round() override {
    flops_ += sum_.flops() + sum_c_.flops();
    sum_.take(dx_);  // Δx = (1/n) sum_i Δy_i
    sum_c_.take(dc_);
    for (auto& v : dx_.value) v /= n_;
    for (auto& v : dc_.value) v /= n_;  // Δc with |S|/N = 1: every client takes part
    compact(dx_, wire_);
    compact(dc_, wire_);
    BitWriter w;
    encode(w, dx_, wire_);
    encode(w, dc_, wire_);
    down_ = w.finish();
    BitReader back(down_);  // apply exactly what the nodes decode
    decode(back, dim_, wire_, dx_);
    decode(back, dim_, wire_, dc_);
    flops_ += 2.0 * cost::codec(static_cast<std::int64_t>(dx_.nnz() + dc_.nnz()));
    flops_ += replica_.apply(dx_, scaffold_key(down_, wire_));  // x <- x + eta_g Δx
  }

 private:
  Aggregator sum_c_;
  Compressed dx_, dc_;
};

}  // namespace

MethodInstance make_scaffold(const MethodSpec& s, const Problem& p, const Compressor& C,
                             const Vector& x0) {
  return make_instance<ScaffoldNode, ScaffoldMaster>(s, p, C, x0);
}

}  // namespace efsim::alg
