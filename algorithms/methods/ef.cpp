// EF ("error feedback", EF14): DCSGD with Error Feedback, Algorithm 2 of Horváth & Richtárik,
// "A Better Alternative to Error Feedback for Communication-Efficient Distributed Learning",
// ICLR 2021 (after Seide et al. 2014, Stich & Karimireddy 2019), with full local gradients
// g_i^k = ∇f_i(x^k) and eta^k = gamma:
//   worker i: Δ_i^k = C(gamma g_i^k + e_i^k);  e_i^{k+1} = gamma g_i^k + e_i^k - Δ_i^k;  e_i^0 = 0
//   master:   Δ^k = (1/n) sum_i Δ_i^k, broadcast;  x^{k+1} = x^k - Δ^k
// The worker keeps the error against the Δ_i the master actually decodes.
#include "algorithms/methods/base.hpp"

namespace efsim::alg {

namespace {

class EfNode final : public NodeBase {
 public:
  EfNode(const Objective& f, const Compressor& C, const MethodSpec& s, const Vector& x0)
      : NodeBase(f, C, s, x0, 1.0, ModelReplica::Rule::kStep),
        gamma_(s.gamma),
        e_(Vector::Zero(x0.size())) {}
  Message step(Rng& rng) override {
    local_gradient(rng);
    e_.noalias() += gamma_ * grad_;  // e now holds gamma g_i^k + e_i^k
    Message m = compress_encode(e_, rng, delta_);
    delta_.add_to(e_, -1.0);  // e_i^{k+1} = gamma g_i^k + e_i^k - Δ_i^k
    flops_ += 2.0 * static_cast<double>(e_.size()) + 2.0 * static_cast<double>(delta_.nnz());
    return m;
  }

 private:
  double gamma_;
  Vector e_;
  Compressed delta_;
};

class EfMaster final : public MasterBase {
 public:
  EfMaster(int n, const Compressor& C, const Vector& x0, const MethodSpec& s)
      : MasterBase(n, C, s.wire, x0, 1.0, ModelReplica::Rule::kStep, s.params.number("beta")) {}
};

}  // namespace

MethodInstance make_ef(const MethodSpec& s, const Problem& p, const Compressor& C,
                       const Vector& x0) {
  return make_instance<EfNode, EfMaster>(s, p, C, x0);
}

}  // namespace efsim::alg
