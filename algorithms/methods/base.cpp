#include "algorithms/methods/base.hpp"

#include <cmath>
#include <cstring>

#include "algorithms/core/cost.hpp"
#include "algorithms/core/error.hpp"

namespace efsim::alg {

// The replica update decoded from message m with wire format w: op 1 = an aggregate Δ,
// op 2 = the dense model.
ModelReplica::Key update_key(const Message& m, const WireFormat& w, int op) {
  return {m.serial, (op << 16) | (w.value_bits << 8) | w.index_bits};
}

// The broadcast as decoded. Every node, and the master that sent it, decodes the same bytes:
// they are decoded once per message on the host (the cost model still charges each decoder).
const Compressed& decoded_broadcast(const Message& down, int dim, const WireFormat& wire) {
  struct Decoded {
    std::uint64_t serial = 0;
    int dim = 0;
    WireFormat wire;
    Compressed delta;
  };
  static Decoded cache;
  if (down.serial == 0 || cache.serial != down.serial || cache.dim != dim ||
      cache.wire.value_bits != wire.value_bits || cache.wire.index_bits != wire.index_bits) {
    cache.serial = 0;  // invalid until decoded (decode may throw)
    BitReader r(down);
    decode(r, dim, wire, cache.delta);
    cache.serial = down.serial;
    cache.dim = dim;
    cache.wire = wire;
  }
  return cache.delta;
}

namespace {}  // namespace

ModelReplica::ModelReplica(const Vector& x0, double gamma, Rule rule, double beta, double alpha) {
  // Share with the last replica built on this thread if it is still pristine and identical.
  thread_local std::weak_ptr<State> last;
  if (auto s = last.lock(); s && s->pristine && s->gamma == gamma && s->rule == rule &&
                            s->beta == beta && s->alpha == alpha && s->x.size() == x0.size() &&
                            std::memcmp(s->x.data(), x0.data(), sizeof(double) * x0.size()) == 0) {
    state_ = std::move(s);
    return;
  }
  state_ = std::make_shared<State>(x0, Vector::Zero(x0.size()), gamma, rule, beta, alpha, true);
  last = state_;
}

bool ModelReplica::adopt_or_own(Key key) {
  State& s = *state_;
  if (key.serial != 0 && s.next_key == key) {
    if (auto n = s.next.lock(); n && n->generation == s.next_generation) {
      state_ = std::move(n);
      return true;
    }
  }
  if (state_.use_count() == 1) {  // nobody else sees this state: change it in place
    ++s.generation;
    s.pristine = false;
    s.next.reset();
    s.next_key = {};
    return false;
  }
  auto n = std::make_shared<State>(s.x, s.g, s.gamma, s.rule, s.beta, s.alpha, false);
  if (key.serial != 0) {
    s.next_key = key;
    s.next = n;
    s.next_generation = n->generation;
  }
  state_ = std::move(n);
  return false;
}

double ModelReplica::flops(std::int64_t nnz) const {
  const State& s = *state_;
  if (s.rule == Rule::kStep && s.beta == 0.0) return cost::vector_op(nnz);
  if (s.rule == Rule::kShift) return cost::vector_op(s.x.size()) + cost::vector_op(nnz, 4.0);
  if (s.rule == Rule::kStep) return cost::vector_op(s.x.size(), 4.0);
  return cost::vector_op(nnz) + cost::vector_op(s.x.size());
}

double ModelReplica::apply(const Compressed& delta, Key key) {
  const double spent = flops(static_cast<std::int64_t>(delta.nnz()));
  if (adopt_or_own(key)) return spent;
  State& s = *state_;
  if (s.rule == Rule::kStep && s.beta == 0.0) {
    delta.add_to(s.x, -s.gamma);
  } else if (s.rule == Rule::kShift) {  // x <- x - gamma (h + Δ); h <- h + alpha Δ
    s.x.noalias() -= s.gamma * s.g;
    delta.add_to(s.x, -s.gamma);
    delta.add_to(s.g, s.alpha);
  } else if (s.rule == Rule::kStep) {  // heavy ball: m <- beta m + Δ; x <- x - gamma m
    s.g *= s.beta;
    delta.add_to(s.g);
    s.x.noalias() -= s.gamma * s.g;
  } else {
    delta.add_to(s.g);
    s.x.noalias() -= s.gamma * s.g;
  }
  return spent;
}

NodeBase::NodeBase(const Objective& f, const Compressor& C, const MethodSpec& spec,
                   const Vector& x0, double replica_gamma, ModelReplica::Rule rule,
                   double shift_alpha)
    : f_(f),
      C_(C),
      wire_(spec.wire),
      batch_(spec.params.integer("batch")),
      batch_init_(spec.params.integer("batch_init") > 0 ? spec.params.integer("batch_init")
                                                        : spec.params.integer("batch")),
      replica_(x0, replica_gamma, rule, spec.params.number("beta"), shift_alpha),
      grad_(x0.size()) {}

void NodeBase::receive(const Message& down) {
  const Compressed& delta = decoded_broadcast(down, f_.dim(), wire_);
  flops_ += cost::codec(static_cast<std::int64_t>(delta.nnz()));
  flops_ += replica_.apply(delta, update_key(down, wire_, 1));
}

void NodeBase::receive_model(const Message& model) {
  flops_ += cost::codec(f_.dim());
  replica_.set_x_from(update_key(model, wire_, 2), [&] {  // decoded only if not adopted
    BitReader r(model);
    Compressed x;
    decode(r, f_.dim(), wire_, x);
    return x.to_dense();
  });
}

void NodeBase::local_gradient(Rng& rng) {
  const int batch = first_step_ ? batch_init_ : batch_;
  first_step_ = false;
  if (batch > 0) {
    flops_ += f_.stochastic_gradient(replica_.x(), batch, rng, grad_);
  } else {
    evaluation_.f = f_.evaluate(replica_.x(), grad_, &evaluation_.correct);
    evaluation_.grad = &grad_;
    evaluation_.valid = true;
    flops_ += f_.gradient_flops();
  }
}

Vector& NodeBase::step_scratch() {
  thread_local Vector v;
  return v;
}

void NodeBase::local_gradient_minus(Rng& rng, const Vector& shift, Vector& out) {
  const int batch = first_step_ ? batch_init_ : batch_;
  if (batch > 0) {
    first_step_ = false;
    flops_ += f_.stochastic_gradient_minus(replica_.x(), batch, rng, shift, out);
    return;
  }
  local_gradient(rng);
  out = grad_ - shift;
}

Message NodeBase::compress_encode(const Vector& v, Rng& rng, Compressed& out, int header_bits,
                                  std::uint64_t header) {
  C_.compress(v, rng, wire_, out);
  BitWriter w;
  w.write(header, header_bits);
  C_.encode(out, wire_, w);
  Message m = w.finish();
  BitReader r(m);
  r.read(header_bits);
  C_.decode(r, f_.dim(), wire_, out);
  const auto values = static_cast<std::int64_t>(out.nnz());
  flops_ += C_.flops(f_.dim()) + cost::codec(values) + C_.decode_flops(f_.dim(), values);
  return m;
}

MasterBase::MasterBase(int n, const Compressor& C, const WireFormat& wire, const Vector& x0,
                       double gamma, ModelReplica::Rule rule, double beta, double shift_alpha)
    : C_(C),
      n_(n),
      dim_(static_cast<int>(x0.size())),
      wire_(wire),
      replica_(x0, gamma, rule, beta, shift_alpha),
      sum_(dim_) {}

void MasterBase::decode_body(BitReader& r, Compressed& out) {
  C_.decode(r, dim_, wire_, out);
  flops_ += C_.decode_flops(dim_, static_cast<std::int64_t>(out.nnz()));
}

void MasterBase::enable_partial(const Sampling& sampling) {
  partial_ = true;
  weight_.resize(n_);
  for (int i = 0; i < n_; ++i) weight_[i] = 1.0 / sampling.probability(i);
}

void MasterBase::absorb(int i, const Message& up) {
  BitReader r(up);
  decode_body(r, scratch_);
  sum_.add(scratch_, weight_.empty() ? 1.0 : weight_[i]);
}

void MasterBase::finish_round() {
  flops_ += sum_.flops();
  Compressed& delta = scratch_;
  sum_.take(delta);
  for (auto& v : delta.value) v /= n_;
  compact(delta, wire_);
  BitWriter w;
  encode(w, delta, wire_);
  down_ = w.finish();
  // Apply exactly what the nodes will decode.
  const Compressed& sent = decoded_broadcast(down_, dim_, wire_);
  flops_ += cost::codec(static_cast<std::int64_t>(sent.nnz())) +
            replica_.apply(sent, update_key(down_, wire_, 1));
  if (partial_ || model_downlink_) publish_model();
}

void MasterBase::publish_model() {  // the workers get x itself, as sent on the wire
  Compressed x;
  x.set_dense(replica_.x());
  BitWriter m;
  encode(m, x, wire_);
  model_ = m.finish();
  BitReader back(model_);
  decode(back, dim_, wire_, x);
  replica_.set_x(x.to_dense(), update_key(model_, wire_, 2));
  flops_ += cost::codec(dim_);
}

double ef21_theory_gamma(double L, double L_tilde, double alpha) {
  if (!(alpha > 0.0 && alpha <= 1.0))
    throw InputError(
        "the theoretical stepsize needs a contractive compressor (alpha in (0, 1]), got alpha = " +
        std::to_string(alpha) + "; give an absolute gamma instead");
  const double root = std::sqrt(1.0 - alpha);
  const double theta = 1.0 - root;
  const double beta = (1.0 - alpha) / (1.0 - root);
  return 1.0 / (L + L_tilde * std::sqrt(beta / theta));
}

}  // namespace efsim::alg
