// Distributed (compressed) gradient descent.
//   GD:   x^{k+1} = x^k - gamma (1/n) sum_i ∇f_i(x^k)           (dense uplink)
//   DCGD: x^{k+1} = x^k - gamma (1/n) sum_i C(∇f_i(x^k))         (no error feedback)
// DCGD is Algorithm 1 (DCSGD) of Horváth & Richtárik, "A Better Alternative to Error Feedback
// for Communication-Efficient Distributed Learning", ICLR 2021, with eta^k = gamma and
// g_i^k = ∇f_i(x^k), or a minibatch stochastic gradient with `batch` (DCSGD). With beta > 0 the
// aggregate drives heavy-ball momentum (their §5.4): m <- beta m + Δ, x <- x - gamma m. With a
// biased C (e.g. Top-1) it can diverge (Beznosikov et al. 2020 example, §5.5 of that paper).
#include "algorithms/methods/base.hpp"

namespace efsim::alg {

namespace {

class DcgdNode final : public NodeBase {
 public:
  DcgdNode(const Objective& f, const Compressor& C, const MethodSpec& s, const Vector& x0)
      : NodeBase(f, C, s, x0, s.gamma, ModelReplica::Rule::kStep) {}
  Message step(Rng& rng) override {
    local_gradient(rng);
    return compress_encode(grad_, rng, c_);
  }
  // A worker rebuilt for a later round of its own (MethodInstance::make_node): past its first
  // step (batch_init), the only thing a DCGD worker carries between rounds besides its stream.
  void resume() { first_step_ = false; }

 private:
  Compressed c_;
};

class DcgdMaster final : public MasterBase {
 public:
  using MasterBase::enable_partial;
  DcgdMaster(int n, const Compressor& C, const MethodSpec& s, const Vector& x0)
      : MasterBase(n, C, s.wire, x0, s.gamma, ModelReplica::Rule::kStep, s.params.number("beta")) {}
  // The mean over the uploads that arrived: each weighs n/|S| in the sum the master divides by n.
  void realised_uploads(int count) override {
    weight_.assign(n_, count > 0 ? static_cast<double>(n_) / count : 1.0);
  }
};

}  // namespace

MethodInstance make_dcgd(const MethodSpec& s, const Problem& p, const Compressor& C,
                         const Vector& x0) {
  MethodInstance m;
  auto master = std::make_unique<DcgdMaster>(p.num_workers(), C, s, x0);
  if (!s.participation.full()) {  // Horváth & Richtárik §4.2
    auto sampling = std::make_shared<Sampling>(s.participation, p.num_workers(), s.seed);
    master->enable_partial(*sampling);
    m.sampling = sampling;
  }
  m.master = std::move(master);
  if (s.participation.sampled_only) {
    // A population: each round's workers are built when sampled (under partial participation a
    // worker receives the model, so its own replica carries nothing over).
    m.make_node = [&p, &C, s, x0](int i, bool stepped) -> std::unique_ptr<Node> {
      auto node = std::make_unique<DcgdNode>(p.local(i), C, s, x0);
      if (stepped) node->resume();
      return node;
    };
    return m;
  }
  for (int i = 0; i < p.num_workers(); ++i)
    m.nodes.push_back(std::make_unique<DcgdNode>(p.local(i), C, s, x0));
  return m;
}

}  // namespace efsim::alg
