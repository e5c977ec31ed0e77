// CLAG and LAG: the lazy three-point compressors of Richtárik, Sokolov, Fatkhullin, Gasanov, Li,
// Gorbunov, "3PC: Three Point Compressors for Communication-Efficient Distributed Training and a
// Better Theory for Lazy Aggregation", ICML 2022. Their Algorithm 1 (the 3PC method):
//   x^{t+1} = x^t - gamma g^t,  g^t = (1/n) sum_i g_i^t
//   worker: g_i^{t+1} = C_{g_i^t, ∇f_i(x^t)}(∇f_i(x^{t+1}))
// with CLAG's three-point compressor (C: the run's contractive compressor, zeta >= 0 the trigger)
//   C_{h,y}(x) = h + C(x - h)   if ||x - h||^2 > zeta ||x - y||^2,
//              = h              otherwise (the worker sends nothing),
// and LAG's, the same with C the identity (C_{h,y}(x) = x or h): the lazy aggregation rule of
// Chen, Giannakis, Sun, Yin, "LAG: Lazily Aggregated Gradient for Communication-Efficient
// Distributed Learning", NeurIPS 2018, in the 3PC paper's form (their LAG-WK trigger compares
// against a weighted sum of D past model differences; the 3PC form compares against the change of
// the worker's own gradient, ||∇f_i(x^{t+1}) - ∇f_i(x^t)||^2).
// Round 0 always uploads: c_i = C(∇f_i(x^0)), g_i^0 = c_i (EF21's start; LAG's g_i^0 = ∇f_i(x^0)).
// When a worker uploads it sends c_i = C(∇f_i(x^{t+1}) - g_i^t) and sets g_i += c_i; the master
// adds (1/n) sum of the c_i it received to g and broadcasts that aggregate, and every replica
// steps x <- x - gamma g (ModelReplica::kEstimate, as EF21). A worker that skips sends an empty
// Message: no bytes, no transfer, no time on any network (codec.hpp); the master adds nothing for
// it. If nobody uploaded, the aggregate is zero and the master sends nothing either (the workers
// step with the unchanged g); the round then costs compute time only. With zeta = 0 the trigger
// fires whenever ∇f_i(x^{t+1}) != g_i, and CLAG is EF21 (LAG is GD) iterate for iterate.
//
// LAG-WK, the original worker-side trigger of Chen et al. (their LAG-WK condition): worker i
// uploads only when
//   ||∇f_i(x^{t+1}) - g_i||^2 > (xi / (D gamma^2)) sum_{d=1..D} ||x^{t+2-d} - x^{t+1-d}||^2,
// i.e. their (1/(alpha^2 M^2)) sum_d xi_d ||θ^{k+1-d} - θ^{k-d}||^2 with xi_d = xi/D, written for
// efsim's mean aggregate (their θ <- θ - alpha sum_m ∇, so gamma = alpha M); g_i is the gradient
// it last uploaded, and the aggregate is LAG's (the identity compressor, as method lag). Model
// differences before x^0 count as 0. The authors' experiments use D = 10 and xi_d = 1/D (xi = 1).
// The settings lag_window (D) and lag_xi (xi); no theoretical stepsize here (give gamma).
//
// Theoretical stepsize (3PC paper, Theorem 5.3): gamma = 1 / (L + L̃ sqrt(B / A)) for a 3PC with
// constants (A, B); LAG has A = 1, B = zeta; CLAG has A = 1 - (1 - alpha)(1 + s),
// B = max{(1 - alpha)(1 + 1/s), zeta} for any s > 0, taken at EF21's s = 1/sqrt(1 - alpha) - 1:
// A = theta = 1 - sqrt(1 - alpha), B = max{beta, zeta}, beta = (1 - alpha)/(1 - sqrt(1 - alpha)).
#include <algorithm>
#include <cmath>
#include <vector>

#include "algorithms/core/cost.hpp"
#include "algorithms/core/error.hpp"
#include "algorithms/methods/base.hpp"

namespace efsim::alg {

namespace {

class ClagNode final : public NodeBase {
 public:
  ClagNode(const Objective& f, const Compressor& C, const MethodSpec& s, const Vector& x0)
      : NodeBase(f, C, s, x0, s.gamma, ModelReplica::Rule::kEstimate),
        zeta_(s.params.number("zeta")),
        wk_(s.name == "lag_wk"),
        window_(wk_ ? s.params.integer("lag_window") : 0),
        xi_(s.params.number("lag_xi")),
        gamma_(s.gamma),
        g_i_(Vector::Zero(x0.size())),
        prev_(x0.size()) {}

  void receive(const Message& down) override {
    if (wk_) x_before_ = replica_.x();  // LAG-WK: the model difference of this round
    if (!down.empty()) {
      NodeBase::receive(down);
    } else {
      none_.clear_sparse(f_.dim());  // nobody uploaded: g unchanged, x <- x - gamma g
      flops_ += replica_.apply(none_);
    }
    if (wk_) {
      moves_.push_back((replica_.x() - x_before_).squaredNorm());
      if (static_cast<int>(moves_.size()) > window_) moves_.erase(moves_.begin());
      flops_ += cost::vector_op(f_.dim(), 3.0);
    }
  }

  Message step(Rng& rng) override {
    const bool stochastic = (first_step_ ? batch_init_ : batch_) > 0;
    Vector& v = step_scratch();
    local_gradient_minus(rng, g_i_, v);  // v = ∇f_i(x^{t+1}) - g_i^t
    const auto d = static_cast<std::int64_t>(v.size());
    // x = ∇f_i(x^{t+1}): exactly grad_ with full gradients; a minibatch one is v + g_i.
    if (stochastic) cur_ = v + g_i_;
    const Vector& x = stochastic ? cur_ : grad_;
    bool upload = first_;
    if (!first_ && wk_) {  // LAG-WK: ||x - g_i||^2 > xi / (D gamma^2) sum of the last D moves
      double moved = 0;
      for (double m : moves_) moved += m;
      upload = v.squaredNorm() > xi_ / (window_ * gamma_ * gamma_) * moved;
      flops_ += cost::vector_op(d, 2.0);
    } else if (!first_) {  // ||x - h||^2 > zeta ||x - y||^2, h = g_i^t, y = ∇f_i(x^t)
      upload = v.squaredNorm() > zeta_ * (x - prev_).squaredNorm();
      flops_ += cost::vector_op(d, 2.0) + cost::vector_op(d, 3.0);
    }
    first_ = false;
    prev_ = x;
    if (!upload) return Message{};
    Message m = compress_encode(v, rng, c_);
    c_.add_to(g_i_);  // g_i^{t+1} = g_i^t + c_i^t, c_i^t exactly as the master decodes it
    flops_ += static_cast<double>(d) + 2.0 * static_cast<double>(c_.nnz());
    return m;
  }

 private:
  double zeta_;
  bool wk_;     // LAG-WK's trigger instead of the 3PC one
  int window_;  // LAG-WK: D
  double xi_;   // LAG-WK: xi (xi_d = xi / D)
  double gamma_;
  std::vector<double> moves_;  // LAG-WK: ||x^{s+1} - x^s||^2 of the last D rounds, oldest first
  Vector x_before_;
  bool first_ = true;
  Vector g_i_;
  Vector prev_;  // ∇f_i(x^t), the 3PC's y
  Vector cur_;
  Compressed c_, none_;
};

class ClagMaster final : public MasterBase {
 public:
  ClagMaster(int n, const Compressor& C, const Vector& x0, const MethodSpec& s)
      : MasterBase(n, C, s.wire, x0, s.gamma, ModelReplica::Rule::kEstimate) {}

  void absorb(int i, const Message& up) override {
    if (up.empty()) return;  // worker i kept g_i: nothing to add
    ++uploads_;
    MasterBase::absorb(i, up);
  }

  void finish_round() override {
    if (uploads_ > 0) {
      uploads_ = 0;
      return MasterBase::finish_round();
    }
    down_ = Message{};  // nothing changed: no broadcast
    none_.clear_sparse(dim_);
    flops_ += replica_.apply(none_);
    if (model_downlink_) publish_model();
  }

 private:
  int uploads_ = 0;
  Compressed none_;
};

}  // namespace

MethodInstance make_clag(const MethodSpec& s, const Problem& p, const Compressor& C,
                         const Vector& x0) {
  return make_instance<ClagNode, ClagMaster>(s, p, C, x0);
}

// 3PC paper, Theorem 5.3 with LAG's (A, B) = (1, zeta) and CLAG's (theta, max{beta, zeta}).
double lazy_theory_gamma(const std::string& method, const Compressor& C, const Problem& p,
                         const MethodParams& params) {
  if (!std::isfinite(p.smoothness()))
    throw InputError("no smoothness constant is known for " + p.describe() +
                     ", so no theoretical stepsize; give an absolute one: stepsize: {gamma: ...}");
  const double zeta = params.number("zeta");
  double A = 1.0, B = zeta;
  if (method != "lag") {
    check_compressor(CompressorNeed::kContractive, C, p.dim(), "method " + method);
    const double alpha = C.alpha(p.dim());
    const double root = std::sqrt(1.0 - alpha);
    A = 1.0 - root;
    B = std::max(alpha < 1.0 ? (1.0 - alpha) / (1.0 - root) : 0.0, zeta);
  }
  return 1.0 / (p.smoothness() + p.smoothness_tilde() * std::sqrt(B / A));
}

}  // namespace efsim::alg
