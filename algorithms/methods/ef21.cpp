// EF21: Algorithm 2 (multiple nodes) of Richtárik, Sokolov, Fatkhullin, "EF21: A New, Simpler,
// Theoretically Better, and Practically Faster Error Feedback", NeurIPS 2021:
//   g_i^0 = C(∇f_i(x^0)),  g^0 = (1/n) sum_i g_i^0
//   master: x^{t+1} = x^t - gamma g^t, broadcast
//   worker: c_i^t = C(∇f_i(x^{t+1}) - g_i^t), send;  g_i^{t+1} = g_i^t + c_i^t
//   master: g^{t+1} = g^t + (1/n) sum_i c_i^t
// Round 0 is the initialisation (with g_i = 0, c_i = C(∇f_i(x^0)) = g_i^0). The master
// broadcasts the aggregate (1/n) sum_i c_i (support: the union of the workers' supports);
// each node keeps a replica of g and x and applies the same update as the master.
// With partial participation (or uploads lost to a round deadline) it is EF21-PP (see
// make_ef21).
#include "algorithms/methods/base.hpp"
#include "algorithms/methods/client_states.hpp"

namespace efsim::alg {

namespace {

class Ef21Node final : public NodeBase {
 public:
  Ef21Node(const Objective& f, const Compressor& C, const MethodSpec& s, const Vector& x0)
      : NodeBase(f, C, s, x0, s.gamma, ModelReplica::Rule::kEstimate),
        g_i_(Vector::Zero(x0.size())) {}
  Message step(Rng& rng) override {
    // g_i^{t+1} = g_i^t + c_i^t, with c_i^t exactly as the master decodes it; applied at the
    // next step, so that an upload that never arrived leaves g_i stale (EF21-PP).
    if (pending_) c_.add_to(g_i_);
    Vector& v = step_scratch();
    local_gradient_minus(rng, g_i_, v);  // v = ∇f_i - g_i
    Message m = compress_encode(v, rng, c_);
    pending_ = true;
    flops_ += static_cast<double>(v.size()) + 2.0 * static_cast<double>(c_.nnz());
    return m;
  }
  void drop_last_upload() override { pending_ = false; }
  // A population's client (MethodInstance::make_node) rebuilt for a later round of its own:
  // past its first step, with the g_i it left with.
  void resume(const ClientStates& states, int i) {
    first_step_ = false;
    states.load(i, g_i_);
  }
  // The client leaves its round: g_i with its last c_i added, the very addition its next step
  // would make first (so the g_i it resumes with is bit-identical to a node kept whole).
  void park(ClientStates& states, int i) {
    if (pending_) c_.add_to(g_i_);
    pending_ = false;
    states.store(i, g_i_);
  }

 private:
  Vector g_i_;
  Compressed c_;
  bool pending_ = false;  // c_ is yet to be added to g_i
};

class Ef21Master final : public MasterBase {
 public:
  Ef21Master(int n, const Compressor& C, const Vector& x0, const MethodSpec& s)
      : MasterBase(n, C, s.wire, x0, s.gamma, ModelReplica::Rule::kEstimate) {}
};

}  // namespace

MethodInstance make_ef21(const MethodSpec& s, const Problem& p, const Compressor& C,
                         const Vector& x0) {
  MethodInstance m;
  m.master = std::make_unique<Ef21Master>(p.num_workers(), C, x0, s);
  if (!s.participation.full()) {
    // EF21-PP (Fatkhullin, Sokolov, Gorbunov, Li, Richtárik, "EF21 with Bells & Whistles",
    // 2021, Algorithm EF21-PP): the workers of S^t update g_i, the others keep theirs, and the
    // master adds (1/n) sum_{i in S^t} c_i -- no reweighting. Whoever takes part gets x.
    m.sampling = std::make_shared<Sampling>(s.participation, p.num_workers(), s.seed);
    m.master->send_model();
  }
  if (s.participation.sampled_only) {
    // A population: a client's node exists in its rounds only; between them it keeps g_i
    // (ClientStates), and the model it receives when sampled is all it needs of x.
    auto states = std::make_shared<ClientStates>(p.num_workers(), p.dim());
    m.make_node = [&p, &C, s, x0, states](int i, bool stepped) -> std::unique_ptr<Node> {
      auto node = std::make_unique<Ef21Node>(p.local(i), C, s, x0);
      if (stepped) node->resume(*states, i);
      return node;
    };
    m.park_node = [states](int i, Node& node) { static_cast<Ef21Node&>(node).park(*states, i); };
    return m;
  }
  for (int i = 0; i < p.num_workers(); ++i)
    m.nodes.push_back(std::make_unique<Ef21Node>(p.local(i), C, s, x0));
  return m;
}

}  // namespace efsim::alg
