// MARINA: Algorithm 1 of Gorbunov, Burlachenko, Li, Richtárik, "MARINA: Faster Non-Convex
// Distributed Learning with Compression", ICML 2021, with an unbiased compressor Q (the run's
// compressor, omega = delta - 1):
//   g^0 = ∇f(x^0)                                     (round 0: every worker sends ∇f_i(x^0))
//   x^{k+1} = x^k - gamma g^k;  c_k ~ Bernoulli(p), one coin for all workers
//   c_k = 1: g_i^{k+1} = ∇f_i(x^{k+1})                (sent dense)
//   c_k = 0: g_i^{k+1} = g^k + Q(∇f_i(x^{k+1}) - ∇f_i(x^k))   (only the Q(...) is sent)
//   g^{k+1} = (1/n) sum_i g_i^{k+1}
// The coin of round r (r >= 1; round 0 is always full) is drawn from the run seed and r alone
// (derive_seed), so the master and every worker agree on it without a message. The downlink
// carries what the workers need to form g^{k+1} from g^k: the mean of the gradients after a full
// round, the mean of the decoded Q(differences) after a compressed one (as EF21's aggregate;
// the paper broadcasts g^k itself, which is the same information). Every replica then sets
// g <- G or g <- g + Δ and steps x <- x - gamma g with the master's code, so the replicas of x
// agree bit for bit. With p = 1 every round is full and the x update is GD's, bit for bit.
//
// p: the setting marina_p, else the paper's choice p = zeta_Q / d (Corollary 2.1), taken here as
// p = 1/(omega + 1), which is zeta_Q / d for rand_k_unbiased (K/d) and the paper's p for Rand-K.
// Theoretical stepsize (Theorem 2.1): gamma = 1 / (L + L̃ sqrt((1 - p) omega / (p n))), with
// that default p (the theory rule of the registry sees the compressor and the problem, not the
// run's settings: a scenario that sets marina_p should give an absolute gamma).
//
// With `batch` b > 0 this is VR-MARINA for finite sums (Algorithm 2 of the same paper): full
// rounds still send the full ∇f_i(x^{k+1}); compressed rounds send Q of the minibatch difference
// (1/b) sum_{j in I} (∇f_ij(x^{k+1}) - ∇f_ij(x^k)), the same rows I at both points. The
// stepsize rule above is Theorem 2.1's (full gradients), not VR-MARINA's smaller one.
// `batch_init` has no meaning here (round 0 is a full round) and is refused.
//
// PP-MARINA (the same paper, Algorithm 4, partial participation): full rounds as above (every
// worker sends ∇f_i(x^{k+1}) dense); in a compressed round only the clients of I'_k, r of the n
// (the setting pp_clients), upload Q(∇f_i(x^{k+1}) - ∇f_i(x^k)), and
//   g^{k+1} = g^k + (1/r) sum_{i in I'_k} Q(∇f_i(x^{k+1}) - ∇f_i(x^k)).
// The master broadcasts to every worker (every worker keeps x and g); a client outside I'_k sends
// nothing (an empty Message: no bytes, no time, counted in the trace's uploads_skipped) and
// computes nothing. I'_k is r distinct clients drawn uniformly (r-nice sampling) from the run seed
// and the round alone, so the master and every worker agree on it without a message; with r = n
// every client is in every round and PP-MARINA is MARINA bit for bit. A client drawn after a
// round it sat out has no ∇f_i(x^k) yet: it computes it on receiving the broadcast, before its
// replica moves to x^{k+1} (two gradients that round, as in the paper).
// Theoretical stepsize (Theorem 4.1): gamma = 1 / (L + L̃ sqrt((1 - p)(1 + omega) / (p r))), with
// the paper's p = zeta_Q r / (d n) (Corollary 4.1), taken here as r / ((omega + 1) n). Theorem
// 4.1's variance bound (1 + omega)/r also holds for r-nice sampling: the sampling's own variance
// ((n - r)/(r(n - 1)) times the spread of the ∇f_i differences) plus the compression's (omega/r)
// is at most (1 + omega)/r times L̃^2 ||x^{k+1} - x^k||^2.
#include <algorithm>
#include <cmath>

#include "algorithms/core/cost.hpp"
#include "algorithms/core/error.hpp"
#include "algorithms/methods/base.hpp"

namespace efsim::alg {

namespace {

constexpr std::uint64_t kCoinPurpose = 41;     // derive_seed purpose of the shared coin
constexpr std::uint64_t kClientsPurpose = 43;  // ... and of PP-MARINA's clients I'_k

// Is round r a full-gradient round? Round 0 always; round r >= 1 iff c_{r-1} = 1.
bool full_round(std::uint64_t seed, long r, double p) {
  if (r == 0) return true;
  Rng coin(derive_seed(seed, static_cast<std::uint64_t>(r), kCoinPurpose));
  return uniform01(coin) < p;
}

// PP-MARINA: is worker i in I'_r, the r = `clients` of the n drawn for compressed round r?
// clients = 0 (MARINA) or n: everybody.
bool takes_part(std::uint64_t seed, long round, int n, int clients, int i) {
  if (clients <= 0 || clients >= n) return true;
  Rng rng(derive_seed(seed, static_cast<std::uint64_t>(round), kClientsPurpose));
  for (std::int32_t j : sample_without_replacement(rng, n, clients))
    if (j == i) return true;
  return false;
}

// The replica update "g from the aggregate of round r, then x <- x - gamma g" named by the
// downlink's bytes (op 3: no other update of base.cpp uses this kind).
// MARINA's own replica update (g = G or g += Δ, then x -= γ g): op 3 of update_key.
ReplicaKey marina_key(const Message& m, const WireFormat& w) { return update_key(m, w, 3); }

// omega of Q: delta - 1 for an unbiased Q; the identity (the only other Q the factory may be
// given, by tests: the scenario parser asks for an unbiased one) is exact, omega = 0.
double omega_of(const Compressor& Q, int d) {
  return Q.klass() == CompressorClass::kUnbiased ? std::max(0.0, Q.delta(d) - 1.0) : 0.0;
}

// p: marina_p, else MARINA's 1/(omega + 1) (clients = 0), PP-MARINA's r/((omega + 1) n).
double marina_p(const MethodParams& params, const Compressor& Q, int d, int n, int clients) {
  const double p = params.number("marina_p");
  if (p > 0) return p;
  if (clients > 0) return static_cast<double>(clients) / ((omega_of(Q, d) + 1.0) * n);
  return 1.0 / (omega_of(Q, d) + 1.0);
}

// Replica of g on a node or the master, and the x step it drives. Applies the aggregate `agg`
// of a round (full: g = agg; compressed: g += agg), then x <- x - gamma g. Returns the flops.
double apply_aggregate(const Compressed& agg, bool full, Vector& g, Compressed& g_dense,
                       ModelReplica& replica, ReplicaKey key) {
  double flops = 0.0;
  if (full) {
    g.setZero();
    agg.add_to(g);
    flops += cost::vector_op(g.size(), 1.0);
    // x <- x - gamma agg: exactly GD's update (the same decoded values, the same code).
    return flops + replica.apply(agg, key);
  }
  agg.add_to(g);
  flops += cost::vector_op(static_cast<std::int64_t>(agg.nnz()), 1.0);
  g_dense.set_dense(g);
  return flops + replica.apply(g_dense, key);
}

class MarinaNode final : public NodeBase {
 public:
  // clients: PP-MARINA's r (0: MARINA, every worker in every round); i: this worker, of n.
  MarinaNode(const Objective& f, const Compressor& Q, const MethodSpec& s, const Vector& x0,
             double p, int clients = 0, int i = 0, int n = 1)
      : NodeBase(f, Q, s, x0, s.gamma, ModelReplica::Rule::kStep),
        p_(p),
        seed_(s.seed),
        clients_(clients),
        i_(i),
        n_(n),
        g_(Vector::Zero(x0.size())),
        prev_(x0.size()) {}

  void receive_model(const Message& model) override {
    catch_up();
    NodeBase::receive_model(model);
  }

  void receive(const Message& down) override {
    catch_up();
    const Compressed& agg = decoded_broadcast(down, f_.dim(), wire_);
    flops_ += cost::codec(static_cast<std::int64_t>(agg.nnz()));
    flops_ += apply_aggregate(agg, full_round(seed_, steps_ - 1, p_), g_, g_dense_, replica_,
                              marina_key(down, wire_));
  }

  Message step(Rng& rng) override {
    const long round = steps_++;
    const bool full = full_round(seed_, round, p_);
    if (full) {
      full_gradient();
      Message m = encode_with(exact_, grad_, rng, c_);
      remember();
      return m;
    }
    if (!takes_part(seed_, round, n_, clients_, i_)) {  // PP-MARINA: not in I'_k
      prev_valid_ = false;                              // ∇f_i(x^k) moves on without this worker
      return Message{};
    }
    Vector& diff = step_scratch();
    if (batch_ > 0) {  // VR-MARINA: the same minibatch at x^{k+1} and at x^k
      diff.resize(grad_.size());
      Rng same = rng;
      flops_ += f_.stochastic_gradient(replica_.x(), batch_, rng, grad_);
      flops_ += f_.stochastic_gradient(prev_, batch_, same, diff);
      diff = grad_ - diff;
    } else {
      full_gradient();
      diff = grad_ - prev_;
    }
    flops_ += static_cast<double>(diff.size());
    Message m = encode_with(C_, diff, rng, c_);
    remember();
    return m;
  }

 private:
  // PP-MARINA: a client drawn for the coming compressed round after sitting one out needs
  // ∇f_i(x^k) at the x^k its replica still holds (before the broadcast moves it to x^{k+1}).
  void catch_up() {
    if (prev_valid_ || full_round(seed_, steps_, p_) ||
        !takes_part(seed_, steps_, n_, clients_, i_))
      return;
    (void)f_.value_and_gradient(replica_.x(), prev_);
    flops_ += f_.gradient_flops();
    prev_valid_ = true;
  }
  // grad_ = ∇f_i(x), the observer's tap set (NodeBase::local_gradient without minibatches).
  void full_gradient() {
    evaluation_.f = f_.evaluate(replica_.x(), grad_, &evaluation_.correct);
    evaluation_.grad = &grad_;
    evaluation_.valid = true;
    flops_ += f_.gradient_flops();
  }
  // What the next compressed round subtracts: ∇f_i(x^k), or x^k itself with minibatches.
  void remember() {
    prev_ = batch_ > 0 ? replica_.x() : grad_;
    prev_valid_ = true;
  }
  // NodeBase::compress_encode with compressor C: `out` is what the master decodes.
  Message encode_with(const Compressor& C, const Vector& v, Rng& rng, Compressed& out) {
    C.compress(v, rng, wire_, out);
    BitWriter w;
    C.encode(out, wire_, w);
    Message m = w.finish();
    BitReader r(m);
    C.decode(r, f_.dim(), wire_, out);
    const auto values = static_cast<std::int64_t>(out.nnz());
    flops_ += C.flops(f_.dim()) + cost::codec(values) + C.decode_flops(f_.dim(), values);
    return m;
  }

  double p_;
  std::uint64_t seed_;
  int clients_, i_, n_;
  long steps_ = 0;          // rounds stepped so far (the next step's round number)
  Identity exact_;          // full rounds send ∇f_i dense, with the generic codec (as GD does)
  Vector g_;                // replica of g^k
  Vector prev_;             // ∇f_i(x^k) (full gradients) or x^k (minibatches)
  bool prev_valid_ = true;  // prev_ is at the current x^k (PP-MARINA: false after sitting out)
  Compressed g_dense_, c_;
};

class MarinaMaster final : public MasterBase {
 public:
  MarinaMaster(int n, const Compressor& Q, const Vector& x0, const MethodSpec& s, double p,
               int clients = 0)
      : MasterBase(n, Q, s.wire, x0, s.gamma, ModelReplica::Rule::kStep),
        p_(p),
        seed_(s.seed),
        clients_(clients > 0 && clients < n ? clients : n),
        g_(Vector::Zero(x0.size())) {}

  void absorb(int, const Message& up) override {
    if (up.empty()) return;  // PP-MARINA: a worker outside I'_k
    BitReader r(up);
    if (full_round(seed_, round_, p_)) {
      exact_.decode(r, dim_, wire_, scratch_);
      flops_ += cost::codec(static_cast<std::int64_t>(scratch_.nnz()));
    } else {
      decode_body(r, scratch_);
    }
    sum_.add(scratch_, 1.0);
  }

  void finish_round() override {
    const bool full = full_round(seed_, round_++, p_);
    flops_ += sum_.flops();
    Compressed& agg = scratch_;
    sum_.take(agg);
    const int divisor = full ? n_ : clients_;  // (1/r) sum over I'_k; MARINA: r = n
    for (auto& v : agg.value) v /= divisor;
    compact(agg, wire_);
    BitWriter w;
    encode(w, agg, wire_);
    down_ = w.finish();
    // Apply exactly what the nodes will decode.
    const Compressed& sent = decoded_broadcast(down_, dim_, wire_);
    flops_ += cost::codec(static_cast<std::int64_t>(sent.nnz()));
    flops_ += apply_aggregate(sent, full, g_, g_dense_, replica_, marina_key(down_, wire_));
    if (model_downlink_) {  // the workers get x itself, as sent on the wire (MasterBase's way)
      Compressed x;
      x.set_dense(replica_.x());
      BitWriter m;
      encode(m, x, wire_);
      model_ = m.finish();
      BitReader back(model_);
      decode(back, dim_, wire_, x);
      // The key NodeBase::receive_model gives this update (op 2: the dense model).
      replica_.set_x(x.to_dense(),
                     {model_.serial, (2 << 16) | (wire_.value_bits << 8) | wire_.index_bits});
      flops_ += cost::codec(dim_);
    }
  }

 private:
  double p_;
  std::uint64_t seed_;
  int clients_;  // r: the uploads a compressed round averages (n for MARINA)
  long round_ = 0;
  Identity exact_;
  Vector g_;  // g^k, as every node holds it
  Compressed g_dense_;
};

}  // namespace

MethodInstance make_marina(const MethodSpec& s, const Problem& p, const Compressor& Q,
                           const Vector& x0) {
  if (s.params.integer("batch_init") > 0)
    throw InputError(
        "method marina takes no batch_init: round 0 sends full gradients (VR-MARINA's full "
        "rounds are full gradients); give batch only");
  const double prob = marina_p(s.params, Q, p.dim(), p.num_workers(), 0);
  MethodInstance m;
  m.master = std::make_unique<MarinaMaster>(p.num_workers(), Q, x0, s, prob);
  for (int i = 0; i < p.num_workers(); ++i)
    m.nodes.push_back(std::make_unique<MarinaNode>(p.local(i), Q, s, x0, prob));
  return m;
}

namespace {
// PP-MARINA's r, checked against the problem's n.
int pp_clients(const MethodParams& params, const Problem& p) {
  const int r = params.integer("pp_clients");
  if (r < 1 || r > p.num_workers())
    throw InputError("method pp_marina: pp_clients = " + std::to_string(r) +
                     " must be in 1..n = " + std::to_string(p.num_workers()));
  return r;
}
}  // namespace

MethodInstance make_pp_marina(const MethodSpec& s, const Problem& p, const Compressor& Q,
                              const Vector& x0) {
  if (s.params.integer("batch") > 0 || s.params.integer("batch_init") > 0)
    throw InputError(
        "method pp_marina takes full gradients (Algorithm 4 of the MARINA paper): no batch or "
        "batch_init; VR-MARINA is method marina with batch");
  const int n = p.num_workers(), r = pp_clients(s.params, p);
  const double prob = marina_p(s.params, Q, p.dim(), n, r);
  MethodInstance m;
  m.master = std::make_unique<MarinaMaster>(n, Q, x0, s, prob, r);
  for (int i = 0; i < n; ++i)
    m.nodes.push_back(std::make_unique<MarinaNode>(p.local(i), Q, s, x0, prob, r, i, n));
  return m;
}

// MARINA, Theorem 2.1: gamma = 1 / (L + L̃ sqrt((1 - p) omega / (p n))) with the run's p
// (marina_p, default 1/(omega + 1): then 1 / (L + L̃ omega / sqrt(n))).
// PP-MARINA, Theorem 4.1: gamma = 1 / (L + L̃ sqrt((1 - p)(1 + omega) / (p r))), p default
// r / ((omega + 1) n).
double marina_theory_gamma(const std::string& method, const Compressor& Q, const Problem& p,
                           const MethodParams& params) {
  if (!std::isfinite(p.smoothness()))
    throw InputError("no smoothness constant is known for " + p.describe() +
                     ", so no theoretical stepsize; give an absolute one: stepsize: {gamma: ...}");
  check_compressor(CompressorNeed::kUnbiased, Q, p.dim(), "method " + method);
  const double omega = omega_of(Q, p.dim());
  if (method == "pp_marina") {
    const int r = pp_clients(params, p);
    const double prob = marina_p(params, Q, p.dim(), p.num_workers(), r);
    return 1.0 / (p.smoothness() +
                  p.smoothness_tilde() * std::sqrt((1.0 - prob) * (1.0 + omega) / (prob * r)));
  }
  const double prob = marina_p(params, Q, p.dim(), p.num_workers(), 0);
  return 1.0 / (p.smoothness() +
                p.smoothness_tilde() * std::sqrt((1.0 - prob) * omega / (prob * p.num_workers())));
}

}  // namespace efsim::alg
