// EF21: Algorithm 2 (multiple nodes) of Richtárik, Sokolov, Fatkhullin, "EF21: A New, Simpler,
// Theoretically Better, and Practically Faster Error Feedback", NeurIPS 2021:
//   g_i^0 = C(∇f_i(x^0)),  g^0 = (1/n) sum_i g_i^0
//   master: x^{t+1} = x^t - gamma g^t, broadcast
//   worker: c_i^t = C(∇f_i(x^{t+1}) - g_i^t), send;  g_i^{t+1} = g_i^t + c_i^t
//   master: g^{t+1} = g^t + (1/n) sum_i c_i^t
// Round 0 is the initialisation (with g_i = 0, c_i = C(∇f_i(x^0)) = g_i^0). The master
// broadcasts the aggregate (1/n) sum_i c_i (support: the union of the workers' supports);
// each node keeps a replica of g and x and applies the same update as the master.
#include "algorithms/methods/base.hpp"

namespace efsim::alg {

namespace {

class Ef21Node final : public NodeBase {
 public:
  Ef21Node(const Objective& f, const Compressor& C, const MethodSpec& s, const Vector& x0)
      : NodeBase(f, C, s, x0, s.gamma, ModelReplica::Rule::kEstimate),
        g_i_(Vector::Zero(x0.size())) {}
  Message step(Rng& rng) override {
    Vector& v = step_scratch();
    local_gradient_minus(rng, g_i_, v);  // v = ∇f_i - g_i
    Message m = compress_encode(v, rng, c_);
    c_.add_to(g_i_);  // g_i^{t+1} = g_i^t + c_i^t, with c_i^t exactly as the master decodes it
    flops_ += static_cast<double>(v.size()) + 2.0 * static_cast<double>(c_.nnz());
    return m;
  }

 private:
  Vector g_i_;
  Compressed c_;
};

class Ef21Master final : public MasterBase {
 public:
  Ef21Master(int n, const Compressor& C, const Vector& x0, const MethodSpec& s)
      : MasterBase(n, C, s.wire, x0, s.gamma, ModelReplica::Rule::kEstimate) {}
};

}  // namespace

MethodInstance make_ef21(const MethodSpec& s, const Problem& p, const Compressor& C,
                         const Vector& x0) {
  return make_instance<Ef21Node, Ef21Master>(s, p, C, x0);
}

}  // namespace efsim::alg
