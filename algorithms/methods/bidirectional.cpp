// Bidirectional compression: the master compresses its broadcast with C_down, the run's setting
// downlink_compressor (a contractive compressor; its own wire format, so the downlink's bytes are
// C_down's encoded message), and error feedback keeps what the workers hold consistent.
//
// EF21-BC: Fatkhullin, Sokolov, Gorbunov, Li, Richtárik, "EF21 with Bells & Whistles: Practical
// Algorithmic Extensions of Modern Error Feedback", 2021, §EF21-BC (compression in the dual
// space, on both sides; C_W: the run's contractive compressor, C_M = C_down):
//   x^{t+1} = x^t - gamma g^t                                  (master and every worker)
//   worker:  c_i^t = C_W(∇f_i(x^{t+1}) - g̃_i^t);  g̃_i^{t+1} = g̃_i^t + c_i^t;  sends c_i^t
//   master:  g̃^{t+1} = g̃^t + (1/n) sum_i c_i^t;  b^{t+1} = C_M(g̃^{t+1} - g^t);
//            g^{t+1} = g^t + b^{t+1};  broadcasts b^{t+1}
//   worker:  g^{t+1} = g^t + b^{t+1}
// Round 0 starts from g̃_i = g̃ = g = 0 (so g̃_i^0 = C_W(∇f_i(x^0)), g^0 = C_M(g̃^0)). Every
// replica applies b with EF21's rule (g <- g + b; x <- x - gamma g), so x agrees everywhere.
// With C_M the identity, b = g̃ - g and g^{t+1} = g^t + (g̃^{t+1} - g^t), which is EF21's g̃^{t+1}
// up to one rounding per round (a + (b - a) need not be b in floating point).
//
// EF21-P: Gruntkowska, Tyurin, Richtárik, "EF21-P and Friends: Improved Theoretical Communication
// Complexity for Distributed Optimization with Bidirectional Compression", ICML 2023
// (compression in the primal space: the master sends C^P(x - w), the workers compute at w):
//   EF21-P + DCGD (their Algorithm with DCGD on the uplink; C_i: the run's compressor):
//     worker:  m_i^t = C_i(∇f_i(w^t));  sends m_i^t
//     master:  g^t = (1/n) sum_i m_i^t;  x^{t+1} = x^t - gamma g^t
//   EF21-P + DIANA (C_i unbiased; shift stepsize beta = the setting alpha, default 1/(omega+1)):
//     worker:  m_i^t = C_i(∇f_i(w^t) - h_i^t);  h_i^{t+1} = h_i^t + beta m_i^t;  sends m_i^t
//     master:  m^t = (1/n) sum_i m_i^t;  g^t = h^t + m^t;  x^{t+1} = x^t - gamma g^t;
//              h^{t+1} = h^t + beta m^t
//   then, both:  p^{t+1} = C^P(x^{t+1} - w^t);  w^{t+1} = w^t + p^{t+1};  broadcasts p^{t+1};
//                every worker: w^{t+1} = w^t + p^{t+1}
// w^0 = x^0, h_i^0 = 0. The observed iterate (trace, target) is the master's x^t; the workers'
// gradients are taken at w^t, so the observer evaluates f at x^t itself. With C^P the identity,
// w^{t+1} = w^t + (x^{t+1} - w^t) equals x^{t+1} up to one rounding, and the method is DCGD
// (DIANA) up to that rounding.
//
// C_down's randomness (rand_k, ...) comes from the master's own stream, derived from the run seed.
//
// Theoretical stepsizes: EF21-P + DIANA has the EF21-P paper's Theorem F.2 (convex f_i, shift
// stepsize beta = 1/(omega + 1)): gamma = min{n / (160 omega L_max), alpha / (100 L)}, alpha of
// C_down, omega of the uplink Q, L_max = max_i L_i (Theorem 5.1 adds 1/((omega + 1) mu) for a
// mu-strongly convex f; F.2's bound holds for any convex f). EF21-P + DCGD's nonconvex theorems
// (6.2, 6.4) set gamma from the horizon T and the accuracy epsilon, or from a strong-growth
// constant D, which a run does not know; EF21-BC's theorem is in the appendix of the Bells &
// Whistles paper, not reproduced here: both need an absolute gamma.
#include <algorithm>
#include <cmath>
#include <string>

#include "algorithms/core/cost.hpp"
#include "algorithms/core/error.hpp"
#include "algorithms/methods/base.hpp"

namespace efsim::alg {

namespace {

constexpr std::uint64_t kDownPurpose = 43;  // derive_seed purpose of the master's C_down stream
constexpr int kBcKey = 4;                   // update_key ops of EF21-BC's b and EF21-P's p
constexpr int kPrimalKey = 5;

const Compressor& downlink_compressor(const MethodSpec& s) {
  const Compressor* c = s.params.compressor("downlink_compressor");
  if (c == nullptr)
    throw InputError("method " + s.name + " needs a downlink_compressor (a compressor entry)");
  return *c;
}

// The downlink as C_down decodes it: every node, and the master that sent it, decodes the same
// bytes, once per message on the host (the cost model charges every decoder).
const Compressed& decoded_down(const Compressor& C, const Message& m, int dim,
                               const WireFormat& wire) {
  struct Decoded {
    std::uint64_t serial = 0;
    const Compressor* C = nullptr;
    int dim = 0;
    WireFormat wire;
    Compressed value;
  };
  thread_local Decoded cache;
  if (m.serial == 0 || cache.serial != m.serial || cache.C != &C || cache.dim != dim ||
      cache.wire.value_bits != wire.value_bits || cache.wire.index_bits != wire.index_bits) {
    cache.serial = 0;  // invalid until decoded (decode may throw)
    BitReader r(m);
    C.decode(r, dim, wire, cache.value);
    cache.serial = m.serial;
    cache.C = &C;
    cache.dim = dim;
    cache.wire = wire;
  }
  return cache.value;
}

// The master's downlink: C_down(v) encoded with C_down's codec into `down`. Returns what the
// workers decode from it; adds the flops to `flops`.
const Compressed& compress_down(const Compressor& C, const Vector& v, Rng& rng,
                                const WireFormat& wire, Compressed& scratch, Message& down,
                                double& flops) {
  C.compress(v, rng, wire, scratch);
  BitWriter w;
  C.encode(scratch, wire, w);
  down = w.finish();
  const int d = static_cast<int>(v.size());
  const Compressed& sent = decoded_down(C, down, d, wire);
  const auto values = static_cast<std::int64_t>(sent.nnz());
  flops += C.flops(d) + cost::codec(values) + C.decode_flops(d, values);  // as compress_encode
  return sent;
}

// ---- EF21-BC ----

class Ef21BcNode final : public NodeBase {
 public:
  Ef21BcNode(const Objective& f, const Compressor& C, const MethodSpec& s, const Vector& x0)
      : NodeBase(f, C, s, x0, s.gamma, ModelReplica::Rule::kEstimate),
        down_(downlink_compressor(s)),
        g_i_(Vector::Zero(x0.size())) {}
  void receive(const Message& down) override {
    const Compressed& b = decoded_down(down_, down, f_.dim(), wire_);
    flops_ += down_.decode_flops(f_.dim(), static_cast<std::int64_t>(b.nnz()));
    flops_ += replica_.apply(b, update_key(down, wire_, kBcKey));  // g += b; x -= gamma g
  }
  Message step(Rng& rng) override {
    Vector& v = step_scratch();
    local_gradient_minus(rng, g_i_, v);  // v = ∇f_i(x^{t+1}) - g̃_i
    Message m = compress_encode(v, rng, c_);
    c_.add_to(g_i_);  // g̃_i += c_i, exactly as the master decodes it
    flops_ += static_cast<double>(v.size()) + 2.0 * static_cast<double>(c_.nnz());
    return m;
  }

 private:
  const Compressor& down_;
  Vector g_i_;
  Compressed c_;
};

class Ef21BcMaster final : public MasterBase {
 public:
  Ef21BcMaster(int n, const Compressor& C, const Vector& x0, const MethodSpec& s)
      : MasterBase(n, C, s.wire, x0, s.gamma, ModelReplica::Rule::kEstimate),
        down_c_(downlink_compressor(s)),
        rng_(derive_seed(s.seed, 0, kDownPurpose)),
        g_tilde_(Vector::Zero(x0.size())),
        g_(Vector::Zero(x0.size())) {}
  void finish_round() override {
    flops_ += sum_.flops();
    sum_.take(scratch_);
    for (auto& v : scratch_.value) v /= n_;
    scratch_.add_to(g_tilde_);  // g̃^{t+1} = g̃^t + (1/n) sum c_i
    diff_ = g_tilde_ - g_;      // what C_M compresses
    flops_ +=
        cost::vector_op(static_cast<std::int64_t>(scratch_.nnz()), 1.0) + static_cast<double>(dim_);
    const Compressed& b = compress_down(down_c_, diff_, rng_, wire_, b_, down_, flops_);
    b.add_to(g_);  // g^{t+1} = g^t + b^{t+1}, as every worker forms it
    flops_ += cost::vector_op(static_cast<std::int64_t>(b.nnz()), 1.0);
    flops_ += replica_.apply(b, update_key(down_, wire_, kBcKey));
  }

 private:
  const Compressor& down_c_;
  Rng rng_;
  Vector g_tilde_, g_, diff_;
  Compressed b_;
};

// ---- EF21-P + DCGD, EF21-P + DIANA ----

// Workers: the replica holds w (rule kStep with gamma = -1: w <- w + p exactly).
class Ef21PNode final : public NodeBase {
 public:
  Ef21PNode(const Objective& f, const Compressor& C, const MethodSpec& s, const Vector& x0,
            double shift)
      : NodeBase(f, C, s, x0, -1.0, ModelReplica::Rule::kStep),
        down_(downlink_compressor(s)),
        shift_(shift) {
    if (shift_ > 0) h_i_ = Vector::Zero(x0.size());
  }
  void receive(const Message& down) override {
    const Compressed& p = decoded_down(down_, down, f_.dim(), wire_);
    flops_ += down_.decode_flops(f_.dim(), static_cast<std::int64_t>(p.nnz()));
    flops_ += replica_.apply(p, update_key(down, wire_, kPrimalKey));  // w += p
  }
  Message step(Rng& rng) override {
    Message m;
    if (shift_ > 0) {  // DIANA: m_i = C_i(∇f_i(w) - h_i); h_i += beta m_i
      Vector& diff = step_scratch();
      local_gradient_minus(rng, h_i_, diff);
      m = compress_encode(diff, rng, c_);
      c_.add_to(h_i_, shift_);
      flops_ += static_cast<double>(diff.size()) + 2.0 * static_cast<double>(c_.nnz());
    } else {  // DCGD: m_i = C_i(∇f_i(w))
      local_gradient(rng);
      m = compress_encode(grad_, rng, c_);
    }
    evaluation_.valid = false;  // taken at w, not at the observed x
    return m;
  }

 private:
  const Compressor& down_;
  double shift_;  // DIANA's beta; 0: DCGD
  Vector h_i_;
  Compressed c_;
};

// The master: x and (DIANA) h of its own, and the replica of w that the workers hold.
class Ef21PMaster final : public MasterBase {
 public:
  Ef21PMaster(int n, const Compressor& C, const Vector& x0, const MethodSpec& s, double shift)
      : MasterBase(n, C, s.wire, x0, -1.0, ModelReplica::Rule::kStep),
        down_c_(downlink_compressor(s)),
        rng_(derive_seed(s.seed, 0, kDownPurpose)),
        gamma_(s.gamma),
        shift_(shift),
        x_(x0) {
    if (shift_ > 0) h_ = Vector::Zero(x0.size());
  }
  const Vector& x() const override { return x_; }
  void finish_round() override {
    flops_ += sum_.flops();
    sum_.take(scratch_);
    for (auto& v : scratch_.value) v /= n_;
    const auto nnz = static_cast<std::int64_t>(scratch_.nnz());
    if (shift_ > 0) {  // x -= gamma (h + m); h += beta m
      x_.noalias() -= gamma_ * h_;
      scratch_.add_to(x_, -gamma_);
      scratch_.add_to(h_, shift_);
      flops_ += cost::vector_op(dim_) + cost::vector_op(nnz, 4.0);
    } else {  // x -= gamma g
      scratch_.add_to(x_, -gamma_);
      flops_ += cost::vector_op(nnz);
    }
    diff_ = x_ - replica_.x();  // x^{t+1} - w^t
    flops_ += static_cast<double>(dim_);
    const Compressed& p = compress_down(down_c_, diff_, rng_, wire_, p_, down_, flops_);
    flops_ += replica_.apply(p, update_key(down_, wire_, kPrimalKey));  // w^{t+1} = w^t + p
  }

 private:
  const Compressor& down_c_;
  Rng rng_;
  double gamma_, shift_;
  Vector x_, h_, diff_;
  Compressed p_;
};

MethodInstance make_ef21_p(const MethodSpec& s, const Problem& p, const Compressor& C,
                           const Vector& x0, double shift) {
  MethodInstance m;
  m.master = std::make_unique<Ef21PMaster>(p.num_workers(), C, x0, s, shift);
  for (int i = 0; i < p.num_workers(); ++i)
    m.nodes.push_back(std::make_unique<Ef21PNode>(p.local(i), C, s, x0, shift));
  return m;
}

}  // namespace

MethodInstance make_ef21_bc(const MethodSpec& s, const Problem& p, const Compressor& C,
                            const Vector& x0) {
  return make_instance<Ef21BcNode, Ef21BcMaster>(s, p, C, x0);
}

MethodInstance make_ef21_p_dcgd(const MethodSpec& s, const Problem& p, const Compressor& C,
                                const Vector& x0) {
  return make_ef21_p(s, p, C, x0, 0.0);
}

// EF21-P paper, Theorem F.2 (above).
double ef21_p_diana_theory_gamma(const std::string& method, const Compressor& Q, const Problem& p,
                                 const MethodParams& params) {
  if (!p.convex())
    throw InputError(
        "method " + method +
        ": the theory stepsize (EF21-P paper, Theorem F.2) needs convex f_i (least squares, "
        "logistic regression with lambda = 0, quadratics), not " +
        p.describe() + "; give an absolute one: stepsize: {gamma: ...}");
  if (!std::isfinite(p.smoothness()))
    throw InputError("no smoothness constant is known for " + p.describe() +
                     ", so no theoretical stepsize; give an absolute one: stepsize: {gamma: ...}");
  check_compressor(CompressorNeed::kUnbiased, Q, p.dim(), "method " + method);
  const Compressor* down = params.compressor("downlink_compressor");
  if (down == nullptr)
    throw InputError("method " + method + " needs a downlink_compressor (a compressor entry)");
  const double omega = std::max(0.0, Q.delta(p.dim()) - 1.0);
  const double beta = params.number("alpha");
  if (beta > 0 && std::abs(beta * (omega + 1.0) - 1.0) > 1e-12)
    throw InputError("method " + method +
                     ": Theorem F.2 of the EF21-P paper takes the shift stepsize alpha = 1/(omega "
                     "+ 1) (the default); with alpha = " +
                     std::to_string(beta) + " give an absolute stepsize: stepsize: {gamma: ...}");
  double L_max = 0;
  for (int i = 0; i < p.num_workers(); ++i) L_max = std::max(L_max, p.local(i).smoothness());
  const double primal = down->alpha(p.dim()) / (100.0 * p.smoothness());
  if (omega == 0.0) return primal;  // an exact uplink: n / (160 omega L_max) is infinite
  return std::min(p.num_workers() / (160.0 * omega * L_max), primal);
}

MethodInstance make_ef21_p_diana(const MethodSpec& s, const Problem& p, const Compressor& Q,
                                 const Vector& x0) {
  const double delta = Q.delta(p.dim());  // omega + 1 (an unbiased Q: the parser asks for one)
  const double beta = s.params.number("alpha") > 0 ? s.params.number("alpha")
                      : delta >= 1.0               ? 1.0 / delta
                                                   : 1.0;
  return make_ef21_p(s, p, Q, x0, beta);
}

}  // namespace efsim::alg
