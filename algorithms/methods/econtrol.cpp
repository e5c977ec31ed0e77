// EControl: Algorithm 1 of Gao, Islamov, Stich, "EControl: Fast Distributed Optimization with
// Compression and Error Control", ICLR 2024, with a contractive compressor C and the
// error-control parameter eta (the setting econtrol_eta):
//   worker i: g_i^t = g_i(x^t)                          (full gradient, or a minibatch one)
//             Δ_i^t = C(eta e_i^t + g_i^t - h_i^t), sent
//             e_i^{t+1} = e_i^t + g_i^t - h_i^t - Δ_i^t  (the error: what should have been
//                                                        applied, g_i, minus what was, h_i + Δ_i)
//             h_i^{t+1} = h_i^t + Δ_i^t
//   master:   x^{t+1} = x^t - gamma (h^t + Δ^t),  h^{t+1} = h^t + Δ^t,  Δ^t = (1/n) sum_i Δ_i^t
// Caveat: the paper's text was not available to check this against Algorithm 1 line by line
// (searched for arXiv 2311.05645 and the ICLR 2024 version). Secondary sources agree with the rule
// above: the ICLR 2024 reviews (a reviewer notes that with h_i^0 = C(g_i^0) and eta = 0 EControl
// is EF21, which is this rule with this initialisation) and the same update in a public
// federated-learning library; they suggest the paper itself starts from h_i^0 = g_i^0 (below).
// One compressed message per worker and round feeds both the error e_i and the estimator h_i.
// The master broadcasts Δ^t; every replica sets h <- h + Δ, x <- x - gamma h with the master's
// code (ModelReplica kEstimate, as EF21's), and a worker updates e_i and h_i with the Δ_i the
// master decodes (algorithms/README.md invariant 3).
//
// Initialisation: e_i^0 = 0 and h_i^0 = 0, so round 0 sends C(g_i^0) like every other round (the
// paper also allows h_i^0 = g_i^0, a dense first upload; efsim keeps every upload compressed).
// Reductions: eta = 0 is EF21 (h plays EF21's g, shifted by one index) and the runs are
// bit-identical; an identity C keeps e_i = 0 and h_i = g_i, i.e. distributed (S)GD.
// The iterate x^t - gamma (1/n) sum e_i^t follows (S)GD exactly; eta sets how strongly the
// accumulated error is fed back (eta = 1: fully, as EF14 does).
#include "algorithms/core/cost.hpp"
#include "algorithms/methods/base.hpp"

namespace efsim::alg {

namespace {

class EcontrolNode final : public NodeBase {
 public:
  EcontrolNode(const Objective& f, const Compressor& C, const MethodSpec& s, const Vector& x0)
      : NodeBase(f, C, s, x0, s.gamma, ModelReplica::Rule::kEstimate),
        eta_(s.params.number("econtrol_eta")),
        e_i_(Vector::Zero(x0.size())),
        h_i_(Vector::Zero(x0.size())),
        diff_(x0.size()) {}
  Message step(Rng& rng) override {
    local_gradient_minus(rng, h_i_, diff_);  // diff = g_i - h_i
    Vector& v = step_scratch();
    v = diff_;
    if (eta_ != 0.0) v.noalias() += eta_ * e_i_;  // eta = 0: exactly EF21's message
    Message m = compress_encode(v, rng, delta_);
    e_i_ += diff_;
    delta_.add_to(e_i_, -1.0);  // e_i += g_i - h_i - Δ_i, with Δ_i as the master decodes it
    delta_.add_to(h_i_);        // h_i += Δ_i
    const auto d = static_cast<double>(e_i_.size());
    flops_ += d + (eta_ != 0.0 ? 2.0 * d : 0.0) + d + 4.0 * static_cast<double>(delta_.nnz());
    return m;
  }

 private:
  double eta_;
  Vector e_i_, h_i_, diff_;
  Compressed delta_;
};

class EcontrolMaster final : public MasterBase {
 public:
  EcontrolMaster(int n, const Compressor& C, const Vector& x0, const MethodSpec& s)
      : MasterBase(n, C, s.wire, x0, s.gamma, ModelReplica::Rule::kEstimate) {}
};

}  // namespace

MethodInstance make_econtrol(const MethodSpec& s, const Problem& p, const Compressor& C,
                             const Vector& x0) {
  return make_instance<EcontrolNode, EcontrolMaster>(s, p, C, x0);
}

}  // namespace efsim::alg
