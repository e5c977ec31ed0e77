// DIANA and its error-compensated variants.
//
// DIANA (Mishchenko, Gorbunov, Takáč, Richtárik, "Distributed learning with compressed gradient
// differences", 2019), with an unbiased compressor Q (the run's compressor):
//   worker: Δ_i = Q(g_i - h_i);  h_i <- h_i + alpha Δ_i;  sends Δ_i
//   master: Δ = (1/n) sum Δ_i;  x <- x - gamma (h + Δ);  h <- h + alpha Δ   (h = mean h_i)
// EC-SGD-DIANA (Gorbunov, Kovalev, Makarenko, Richtárik, "Linearly converging error compensated
// SGD", NeurIPS 2020), with a contractive C (the run's compressor) and an unbiased Q (the run's
// quantizer), as in the authors' experiment code (the paper's algorithm box was not available):
//   worker: g_i = ĝ_i - h_i + h;  v_i = C(e_i + gamma g_i);  e_i <- e_i + gamma g_i - v_i;
//           q_i = Q(ĝ_i - h_i);  h_i <- h_i + alpha q_i;  sends v_i and q_i
//   master: x <- x - (1/n) sum v_i;  h <- h + alpha (1/n) sum q_i
// EC-LSVRG-DIANA: the same with the L-SVRG estimator ĝ_i = ∇f_ij(x) - ∇f_ij(w_i) + ∇f_i(w_i)
// (the same minibatch j at both points) and w_i <- x with probability p.
// h_i^0 = 0, e_i^0 = 0; alpha defaults to 1/(omega + 1) = 1/delta_Q. The master broadcasts the
// aggregates (both of them for the EC variants); every node applies them to its replica of x
// and h with the master's code.
#include "algorithms/methods/base.hpp"
#include "algorithms/methods/client_states.hpp"

namespace efsim::alg {

namespace {

double default_alpha(const MethodSpec& s, const Compressor& Q, int d) {
  return s.params.number("alpha") > 0 ? s.params.number("alpha") : 1.0 / Q.delta(d);
}

// ---- DIANA ----

class DianaNode final : public NodeBase {
 public:
  DianaNode(const Objective& f, const Compressor& Q, const MethodSpec& s, const Vector& x0,
            double alpha)
      : NodeBase(f, Q, s, x0, s.gamma, ModelReplica::Rule::kShift, alpha),
        alpha_(alpha),
        h_i_(Vector::Zero(x0.size())) {}
  Message step(Rng& rng) override {
    // h_i <- h_i + alpha Δ_i, applied at the next step: a Δ_i that never reached the master
    // leaves h_i unchanged.
    if (pending_) q_.add_to(h_i_, alpha_);
    Vector& diff = step_scratch();
    local_gradient_minus(rng, h_i_, diff);  // ∇f_i - h_i
    Message m = compress_encode(diff, rng, q_);
    pending_ = true;
    flops_ += static_cast<double>(diff.size()) + 2.0 * static_cast<double>(q_.nnz());
    return m;
  }
  void drop_last_upload() override { pending_ = false; }
  // A population's client (MethodInstance::make_node) rebuilt for a later round of its own:
  // past its first step, with the h_i it left with.
  void resume(const ClientStates& states, int i) {
    first_step_ = false;
    states.load(i, h_i_);
  }
  // The client leaves its round: h_i with its last alpha Δ_i added, the very addition its next
  // step would make first (so the h_i it resumes with is bit-identical to a node kept whole).
  void park(ClientStates& states, int i) {
    if (pending_) q_.add_to(h_i_, alpha_);
    pending_ = false;
    states.store(i, h_i_);
  }

 private:
  double alpha_;
  Vector h_i_;
  Compressed q_;
  bool pending_ = false;  // q_ is yet to be added to h_i
};

class DianaMaster final : public MasterBase {
 public:
  DianaMaster(int n, const Compressor& Q, const Vector& x0, const MethodSpec& s, double alpha)
      : MasterBase(n, Q, s.wire, x0, s.gamma, ModelReplica::Rule::kShift, 0.0, alpha) {}
};

// ---- EC-SGD-DIANA and EC-LSVRG-DIANA ----

// The shared state every replica keeps: x and the mean shift h.
struct EcState {
  Vector x, h;
  double alpha;
  // x <- x - v;  h <- h + alpha q. Returns the flops.
  double apply(const Compressed& v, const Compressed& q) {
    v.add_to(x, -1.0);
    q.add_to(h, alpha);
    return 2.0 * static_cast<double>(v.nnz() + q.nnz());
  }
};

// The downlink / uplink of the EC variants: two compressed vectors, one after the other.
void read_pair(const Message& m, const Compressor& first, const Compressor& second, int d,
               const WireFormat& wire, Compressed& a, Compressed& b) {
  BitReader r(m);
  first.decode(r, d, wire, a);
  second.decode(r, d, wire, b);
}

class EcDianaNode final : public Node {
 public:
  EcDianaNode(const Objective& f, const Compressor& C, const Compressor& Q, const MethodSpec& s,
              const Vector& x0, double alpha, bool lsvrg)
      : f_(f),
        C_(C),
        Q_(Q),
        wire_(s.wire),
        gamma_(s.gamma),
        batch_(s.params.integer("batch")),
        lsvrg_(lsvrg),
        state_{x0, Vector::Zero(x0.size()), alpha},
        e_(Vector::Zero(x0.size())),
        h_i_(Vector::Zero(x0.size())),
        grad_(x0.size()),
        tmp_(x0.size()) {
    if (lsvrg_) {
      const int m = f.num_samples();
      p_ = s.params.number("lsvrg_p") > 0
               ? s.params.number("lsvrg_p")
               : (m > 0 && batch_ > 0 ? std::min(1.0, static_cast<double>(batch_) / m) : 1.0);
      w_ = x0;
      mu_w_.resize(x0.size());
      f_.value_and_gradient(w_, mu_w_);
      flops_ += f_.gradient_flops();
    }
  }
  void receive(const Message& down) override {
    Compressed v, q;
    read_pair(down, generic_, generic_, f_.dim(), wire_, v, q);
    flops_ += state_.apply(v, q);
  }
  void receive_model(const Message&) override { assert(false && "no partial participation"); }
  Message step(Rng& rng) override {
    estimate(rng);                                   // grad_ = ĝ_i
    tmp_ = e_ + gamma_ * (grad_ - h_i_ + state_.h);  // e_i + gamma g_i
    C_.compress(tmp_, rng, wire_, v_);
    Vector shift_diff = grad_ - h_i_;
    Q_.compress(shift_diff, rng, wire_, q_);
    BitWriter w;
    C_.encode(v_, wire_, w);
    Q_.encode(q_, wire_, w);
    Message m = w.finish();
    read_pair(m, C_, Q_, f_.dim(), wire_, v_, q_);  // exactly what the master decodes
    e_ = tmp_;
    v_.add_to(e_, -1.0);
    q_.add_to(h_i_, state_.alpha);
    flops_ += C_.flops(f_.dim()) + Q_.flops(f_.dim()) + 10.0 * static_cast<double>(tmp_.size());
    return m;
  }

 private:
  void estimate(Rng& rng) {
    if (!lsvrg_) {
      if (batch_ > 0)
        flops_ += f_.stochastic_gradient(state_.x, batch_, rng, grad_);
      else {
        f_.value_and_gradient(state_.x, grad_);
        flops_ += f_.gradient_flops();
      }
      return;
    }
    // L-SVRG: the same minibatch at x and at w_i (a copy of the stream draws the same rows).
    Rng same = rng;
    flops_ += f_.stochastic_gradient(state_.x, batch_, rng, grad_);
    Vector at_w(grad_.size());
    flops_ += f_.stochastic_gradient(w_, batch_, same, at_w);
    grad_ += mu_w_ - at_w;
    if (uniform01(rng) < p_) {
      w_ = state_.x;
      f_.value_and_gradient(w_, mu_w_);
      flops_ += f_.gradient_flops();
    }
  }
  const Objective& f_;
  const Compressor& C_;
  const Compressor& Q_;
  Identity generic_;  // the downlink aggregates travel with the generic vector codec
  WireFormat wire_;
  double gamma_;
  int batch_;
  bool lsvrg_;
  double p_ = 1.0;
  EcState state_;
  Vector e_, h_i_, grad_, tmp_, w_, mu_w_;
  Compressed v_, q_;
};

class EcDianaMaster final : public Master {
 public:
  EcDianaMaster(int n, const Compressor& C, const Compressor& Q, const MethodSpec& s,
                const Vector& x0, double alpha)
      : n_(n),
        C_(C),
        Q_(Q),
        wire_(s.wire),
        state_{x0, Vector::Zero(x0.size()), alpha},
        sum_v_(static_cast<int>(x0.size())),
        sum_q_(static_cast<int>(x0.size())) {}
  const Message& broadcast() const override { return down_; }
  const Message& model() const override { return down_; }
  void absorb(int, const Message& up) override {
    Compressed v, q;
    read_pair(up, C_, Q_, static_cast<int>(state_.x.size()), wire_, v, q);
    sum_v_.add(v, 1.0);
    sum_q_.add(q, 1.0);
    flops_ += 2.0 * static_cast<double>(v.nnz() + q.nnz());
  }
  void finish_round() override {
    flops_ += sum_v_.flops() + sum_q_.flops();
    Compressed v, q;
    sum_v_.take(v);
    sum_q_.take(q);
    for (auto& x : v.value) x /= n_;
    for (auto& x : q.value) x /= n_;
    compact(v, wire_);
    compact(q, wire_);
    BitWriter w;
    encode(w, v, wire_);
    encode(w, q, wire_);
    down_ = w.finish();
    const Identity generic;
    read_pair(down_, generic, generic, static_cast<int>(state_.x.size()), wire_, v, q);
    flops_ += state_.apply(v, q);
  }
  const Vector& x() const override { return state_.x; }

 private:
  int n_;
  const Compressor& C_;
  const Compressor& Q_;
  WireFormat wire_;
  EcState state_;
  Aggregator sum_v_, sum_q_;
  Message down_;
};

MethodInstance make_ec(const MethodSpec& s, const Problem& p, const Compressor& C, const Vector& x0,
                       bool lsvrg) {
  assert(s.params.compressor("quantizer") != nullptr);
  const Compressor& Q = *s.params.compressor("quantizer");
  const double alpha = default_alpha(s, Q, p.dim());
  MethodInstance m;
  m.master = std::make_unique<EcDianaMaster>(p.num_workers(), C, Q, s, x0, alpha);
  for (int i = 0; i < p.num_workers(); ++i)
    m.nodes.push_back(std::make_unique<EcDianaNode>(p.local(i), C, Q, s, x0, alpha, lsvrg));
  return m;
}

}  // namespace

MethodInstance make_diana(const MethodSpec& s, const Problem& p, const Compressor& Q,
                          const Vector& x0) {
  const double alpha = default_alpha(s, Q, p.dim());
  MethodInstance m;
  m.master = std::make_unique<DianaMaster>(p.num_workers(), Q, x0, s, alpha);
  if (!s.participation.full()) {
    // Partial participation with the shifts unchanged: a worker outside S^k keeps h_i and
    // counts as Δ_i = 0, x <- x - gamma (h + (1/n) sum_{i in S^k} Δ_i),
    // h <- h + alpha (1/n) sum_{i in S^k} Δ_i (no reweighting). Whoever takes part gets x.
    m.sampling = std::make_shared<Sampling>(s.participation, p.num_workers(), s.seed);
    m.master->send_model();
  }
  if (s.participation.sampled_only) {
    // A population: a client's node exists in its rounds only; between them it keeps h_i
    // (ClientStates), and the model it receives when sampled is all it needs of x.
    auto states = std::make_shared<ClientStates>(p.num_workers(), p.dim());
    m.make_node = [&p, &Q, s, x0, alpha, states](int i, bool stepped) -> std::unique_ptr<Node> {
      auto node = std::make_unique<DianaNode>(p.local(i), Q, s, x0, alpha);
      if (stepped) node->resume(*states, i);
      return node;
    };
    m.park_node = [states](int i, Node& node) { static_cast<DianaNode&>(node).park(*states, i); };
    return m;
  }
  for (int i = 0; i < p.num_workers(); ++i)
    m.nodes.push_back(std::make_unique<DianaNode>(p.local(i), Q, s, x0, alpha));
  return m;
}

MethodInstance make_ec_sgd_diana(const MethodSpec& s, const Problem& p, const Compressor& C,
                                 const Vector& x0) {
  return make_ec(s, p, C, x0, false);
}

MethodInstance make_ec_lsvrg_diana(const MethodSpec& s, const Problem& p, const Compressor& C,
                                   const Vector& x0) {
  return make_ec(s, p, C, x0, true);
}

}  // namespace efsim::alg
