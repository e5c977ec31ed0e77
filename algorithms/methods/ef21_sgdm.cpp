// EF21 with stochastic gradients and momentum, from Fatkhullin, Tyurin, Richtárik, "Momentum
// Provably Improves Error Feedback!" (NeurIPS 2023; poster 000):
//   EF21-SGDM (Algorithm 1):  v_i <- (1 - eta) v_i + eta ∇f_i(x, ξ);  c_i = C(v_i - g_i);
//                             g_i <- g_i + c_i;  master: g <- g + (1/n) sum c_i; x <- x - gamma g
//   EF21-SGD2M:               v_i as above; u_i <- (1 - eta) u_i + eta v_i; c_i = C(u_i - g_i)
//   EF21-SGD-ideal:           g_i = ∇f_i(x) + C(∇f_i(x, ξ) - ∇f_i(x))
//   EF21-SGDM-ideal:          v_i = ∇f_i(x) + eta (∇f_i(x, ξ) - ∇f_i(x));
//                             g_i = ∇f_i(x) + C(v_i - ∇f_i(x))
// EF21-SGD itself is `ef21` with a minibatch (g_i <- g_i + C(∇f_i(x, ξ) - g_i)).
// Initialisation (round 0): v_i = u_i = ∇f_i(x^0, ξ) with the initial batch B_init, and
// g_i^0 = C(v_i) as in EF21. With eta = 1, EF21-SGDM is EF21-SGD exactly.
// The ideal variants are thought experiments (they need ∇f_i(x) at the master): the worker sends
// c_i = C(...) only, and the master is handed ∇f_i(x) for free from the problem, at no simulated
// cost. They are for studies of the noise floor, not for timing.
#include "algorithms/methods/base.hpp"

namespace efsim::alg {

namespace {

class Ef21SgdmNode final : public NodeBase {
 public:
  Ef21SgdmNode(const Objective& f, const Compressor& C, const MethodSpec& s, const Vector& x0,
               bool double_momentum)
      : NodeBase(f, C, s, x0, s.gamma, ModelReplica::Rule::kEstimate),
        eta_(s.params.number("eta")),
        double_(double_momentum),
        v_(Vector::Zero(x0.size())),
        u_(Vector::Zero(x0.size())),
        g_i_(Vector::Zero(x0.size())),
        diff_(x0.size()) {}
  Message step(Rng& rng) override {
    const bool first = first_step_;
    local_gradient(rng);
    if (first) {
      v_ = grad_;
      u_ = grad_;
    } else {
      v_ = (1.0 - eta_) * v_ + eta_ * grad_;
      if (double_) u_ = (1.0 - eta_) * u_ + eta_ * v_;
    }
    diff_ = (double_ ? u_ : v_) - g_i_;
    Message m = compress_encode(diff_, rng, c_);
    c_.add_to(g_i_);
    flops_ += (double_ ? 8.0 : 5.0) * static_cast<double>(v_.size()) +
              2.0 * static_cast<double>(c_.nnz());
    return m;
  }

 private:
  double eta_;
  bool double_;
  Vector v_, u_, g_i_, diff_;
  Compressed c_;
};

class Ef21Master final : public MasterBase {
 public:
  Ef21Master(int n, const Compressor& C, const Vector& x0, const MethodSpec& s)
      : MasterBase(n, C, s.wire, x0, s.gamma, ModelReplica::Rule::kEstimate) {}
};

// Ideal variants: the worker needs the exact local gradient too.
class IdealNode final : public NodeBase {
 public:
  IdealNode(const Objective& f, const Compressor& C, const MethodSpec& s, const Vector& x0,
            bool momentum)
      : NodeBase(f, C, s, x0, s.gamma, ModelReplica::Rule::kEstimate),
        eta_(momentum ? s.params.number("eta") : 1.0),
        exact_(x0.size()),
        diff_(x0.size()) {}
  Message step(Rng& rng) override {
    local_gradient(rng);  // ∇f_i(x, ξ)
    f_.value_and_gradient(replica_.x(), exact_);
    flops_ += f_.gradient_flops();
    diff_ = eta_ * (grad_ - exact_);  // v_i - ∇f_i(x)
    Message m = compress_encode(diff_, rng, c_);
    flops_ += 3.0 * static_cast<double>(diff_.size());
    return m;
  }

 private:
  double eta_;
  Vector exact_, diff_;
  Compressed c_;
};

// g = (1/n) sum_i (∇f_i(x) + c_i), with ∇f_i(x) handed to the master; broadcasts g's change.
class IdealMaster final : public MasterBase {
 public:
  IdealMaster(const Problem& p, const Compressor& C, const Vector& x0, const MethodSpec& s)
      : MasterBase(p.num_workers(), C, s.wire, x0, s.gamma, ModelReplica::Rule::kEstimate),
        p_(p),
        g_new_(Vector::Zero(x0.size())),
        g_old_(Vector::Zero(x0.size())),
        grad_(x0.size()) {}
  void absorb(int i, const Message& up) override {
    BitReader r(up);
    decode_body(r, scratch_);
    p_.local(i).value_and_gradient(x(), grad_);  // the idealisation: free and exact
    g_new_ += grad_ / n_;
    scratch_.add_to(g_new_, 1.0 / n_);
  }
  void finish_round() override {
    sum_.add_dense(g_new_ - g_old_, static_cast<double>(n_));  // finish_round divides by n
    g_old_ = g_new_;
    g_new_.setZero();
    MasterBase::finish_round();
  }

 private:
  const Problem& p_;
  Vector g_new_, g_old_, grad_;
};

template <bool kDouble>
MethodInstance make_sgdm(const MethodSpec& s, const Problem& p, const Compressor& C,
                         const Vector& x0) {
  MethodInstance m;
  m.master = std::make_unique<Ef21Master>(p.num_workers(), C, x0, s);
  for (int i = 0; i < p.num_workers(); ++i)
    m.nodes.push_back(std::make_unique<Ef21SgdmNode>(p.local(i), C, s, x0, kDouble));
  return m;
}

template <bool kMomentum>
MethodInstance make_ideal(const MethodSpec& s, const Problem& p, const Compressor& C,
                          const Vector& x0) {
  MethodInstance m;
  m.master = std::make_unique<IdealMaster>(p, C, x0, s);
  for (int i = 0; i < p.num_workers(); ++i)
    m.nodes.push_back(std::make_unique<IdealNode>(p.local(i), C, s, x0, kMomentum));
  return m;
}

}  // namespace

MethodInstance make_ef21_sgdm(const MethodSpec& s, const Problem& p, const Compressor& C,
                              const Vector& x0) {
  return make_sgdm<false>(s, p, C, x0);
}
MethodInstance make_ef21_sgd2m(const MethodSpec& s, const Problem& p, const Compressor& C,
                               const Vector& x0) {
  return make_sgdm<true>(s, p, C, x0);
}
MethodInstance make_ef21_sgd_ideal(const MethodSpec& s, const Problem& p, const Compressor& C,
                                   const Vector& x0) {
  return make_ideal<false>(s, p, C, x0);
}
MethodInstance make_ef21_sgdm_ideal(const MethodSpec& s, const Problem& p, const Compressor& C,
                                    const Vector& x0) {
  return make_ideal<true>(s, p, C, x0);
}

}  // namespace efsim::alg
