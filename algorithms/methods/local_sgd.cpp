// Local SGD (FedAvg with every client in every round): each worker takes tau local steps from
// the current model, then sends its model difference; the master averages the differences.
// Stich, "Local SGD Converges Fast and Communicates Little", ICLR 2019, Algorithm 1 (with
// H = tau local steps between averagings); McMahan et al., "Communication-Efficient Learning of
// Deep Networks from Decentralized Data", AISTATS 2017, FederatedAveraging with C = 1 and equal
// weights. The difference may be compressed (as in FedPAQ, Reisizadeh et al. 2020: an unbiased
// C keeps the average unbiased):
//   worker i: y_0 = x^k;  y_{t+1} = y_t - gamma g_i(y_t), t = 0..tau-1 (g_i: the full local
//             gradient, or a minibatch one with `batch`);  sends Delta_i = C(x^k - y_tau)
//   master:   x^{k+1} = x^k - (1/n) sum_i Delta_i, broadcast (1/n) sum_i Delta_i
// Delta_i is accumulated as sum_t gamma g_i(y_t) (the same value without the cancellation of
// x^k - y_tau); tau = 1 is distributed (S)GD. Compute grows with tau, rounds shrink: the
// compute/communication trade-off the time model measures.
#include "algorithms/core/cost.hpp"
#include "algorithms/methods/base.hpp"

namespace efsim::alg {

namespace {

class LocalSgdNode final : public NodeBase {
 public:
  LocalSgdNode(const Objective& f, const Compressor& C, const MethodSpec& s, const Vector& x0)
      : NodeBase(f, C, s, x0, 1.0, ModelReplica::Rule::kStep),
        gamma_(s.gamma),
        tau_(s.params.integer("local_steps")) {}
  Message step(Rng& rng) override {
    local_gradient(rng);  // g_i(y_0) at y_0 = x^k (also the observer's full gradient)
    Vector& delta = step_scratch();
    delta = gamma_ * grad_;
    const auto d = static_cast<std::int64_t>(delta.size());
    flops_ += cost::vector_op(d, 1.0);
    for (int t = 1; t < tau_; ++t) {
      y_ = replica_.x() - delta;  // y_t = x^k - sum_{s<t} gamma g_i(y_s)
      if (batch_ > 0) {
        flops_ += f_.stochastic_gradient(y_, batch_, rng, g_);
      } else {
        f_.value_and_gradient(y_, g_);
        flops_ += f_.gradient_flops();
      }
      delta.noalias() += gamma_ * g_;
      flops_ += cost::vector_op(d) + cost::vector_op(d, 1.0);
    }
    return compress_encode(delta, rng, sent_);
  }

 private:
  double gamma_;
  int tau_;
  Vector y_, g_;
  Compressed sent_;
};

class LocalSgdMaster final : public MasterBase {
 public:
  LocalSgdMaster(int n, const Compressor& C, const Vector& x0, const MethodSpec& s)
      : MasterBase(n, C, s.wire, x0, 1.0, ModelReplica::Rule::kStep) {}
};

}  // namespace

MethodInstance make_local_sgd(const MethodSpec& s, const Problem& p, const Compressor& C,
                              const Vector& x0) {
  return make_instance<LocalSgdNode, LocalSgdMaster>(s, p, C, x0);
}

}  // namespace efsim::alg
