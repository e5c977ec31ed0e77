// EF21+: Richtárik, Sokolov, Fatkhullin, EF21 (NeurIPS 2021 poster, "EF21+: an improved
// variant"). Each worker forms both candidates for its new estimator
//   b_i = C(∇f_i(x^{t+1}))               (plain compression)
//   m_i = g_i^t + C(∇f_i(x^{t+1}) - g_i^t) (EF21's Markov compressor)
// and keeps the one closer to ∇f_i(x^{t+1}) (m_i on ties). It sends a 1-bit flag and the
// compressed vector it chose; the master keeps every g_i to apply the choice, and broadcasts
// Δ = (1/n) sum_i (g_i^{t+1} - g_i^t). The model update is EF21's: x^{t+1} = x^t - gamma g^t.
#include "algorithms/methods/base.hpp"

namespace efsim::alg {

namespace {

constexpr std::uint64_t kMarkov = 0;
constexpr std::uint64_t kPlain = 1;

class Ef21PlusNode final : public NodeBase {
 public:
  Ef21PlusNode(const Objective& f, const Compressor& C, const MethodSpec& s, const Vector& x0)
      : NodeBase(f, C, s, x0, s.gamma, ModelReplica::Rule::kEstimate),
        g_i_(Vector::Zero(x0.size())),
        v_(x0.size()) {}
  Message step(Rng& rng) override {
    local_gradient(rng);
    Message plain = compress_encode(grad_, rng, b_, 1, kPlain);
    v_ = grad_ - g_i_;
    Message markov = compress_encode(v_, rng, c_, 1, kMarkov);
    // M = ||g_i + c - grad||^2 = ||c - v||^2;  B = ||b - grad||^2 (decoded values).
    const double M = distortion(c_, v_);
    const double B = distortion(b_, grad_);
    flops_ += 8.0 * static_cast<double>(v_.size());
    if (M <= B) {
      c_.add_to(g_i_);
      return markov;
    }
    g_i_.setZero();
    b_.add_to(g_i_);
    return plain;
  }

 private:
  // ||c - v||^2 for sparse or dense c.
  static double distortion(const Compressed& c, const Vector& v) {
    Vector diff = v;
    c.add_to(diff, -1.0);
    return diff.squaredNorm();
  }
  Vector g_i_;
  Vector v_;
  Compressed b_;
  Compressed c_;
};

class Ef21PlusMaster final : public MasterBase {
 public:
  Ef21PlusMaster(int n, const Compressor& C, const Vector& x0, const MethodSpec& s)
      : MasterBase(n, C, s.wire, x0, s.gamma, ModelReplica::Rule::kEstimate),
        g_(n, Vector::Zero(x0.size())) {}
  void absorb(int i, const Message& up) override {
    BitReader r(up);
    const std::uint64_t choice = r.read(1);
    decode_body(r, scratch_);
    if (choice == kMarkov) {
      scratch_.add_to(g_[i]);
      sum_.add(scratch_, 1.0);
      return;
    }
    // g_i <- b: the change is b - g_i.
    Vector b = scratch_.to_dense();
    const Vector change = b - g_[i];
    g_[i] = std::move(b);
    sum_.add_dense(change, 1.0);
    flops_ += 3.0 * static_cast<double>(dim_);
  }

 private:
  std::vector<Vector> g_;
};

}  // namespace

MethodInstance make_ef21_plus(const MethodSpec& s, const Problem& p, const Compressor& C,
                              const Vector& x0) {
  return make_instance<Ef21PlusNode, Ef21PlusMaster>(s, p, C, x0);
}

}  // namespace efsim::alg
