// PowerSGD: Vogels, Karimireddy, Jaggi, "PowerSGD: Practical Low-Rank Gradient Compression for
// Distributed Optimization", NeurIPS 2019: Algorithm 1 (rank-r compression by one step of
// subspace iteration, warm-started) inside Algorithm 2 (error feedback), without momentum:
//   worker w: M_w = g_w + e_w                   (g_w: full or minibatch gradient at x)
//             P_w = M_w Q;        P = mean_w P_w  (all-reduce 1)
//             P^ = ORTHOGONALIZE(P)              (Gram-Schmidt, on every worker alike)
//             Q_w = M_w^T P^;     Q = mean_w Q_w  (all-reduce 2)
//             e_w = M_w - P^ Q_w^T               (DECOMPRESS of its own compressed M_w, Alg. 2)
//   every replica: x <- x - gamma P^ Q^T;  the next step starts from this Q (warm start)
// With the setting nesterov = lambda in (0, 1), Algorithm 2's momentum (its lines 12-13) on the
// decompressed mean Δ' = P^ Q^T: every replica keeps m (m^0 = 0) and steps
//   m <- lambda m + Δ',   x <- x - gamma (Δ' + m).
// (Without the setting, x <- x - gamma Δ': lines 12-13 left out. lambda -> 0 would still step
// with 2 gamma Δ', which is why 0 is not a value of the setting.)
// for every matrix block of x (powersgd.hpp: the MLP's layers, or a vector reshaped to about
// sqrt(d) x sqrt(d)); vector blocks (biases) are averaged uncompressed. Q^0 is i.i.d. standard
// normal from the run seed, the same on every worker. mean_w P^ Q_w^T = P^ Q^T, so the errors
// e_w add up to the total error either way.
//
// The two all-reduces depend on each other (Q_w needs P^), so one PowerSGD step is two efsim
// rounds: a P round (the workers compute the gradient and send P_w and the vector blocks; x
// does not move) and a Q round (they send Q_w; x moves at its end). The trace therefore has two
// rows per step, and max_rounds counts rounds. Messages are the factors' values at the wire's
// precision (no header: their shapes are known to everybody). The master (or, under
// ring_allreduce, every worker) averages them; they add up elementwise, so all-reduce moves the
// factors at their own size (sim/network/traffic.cpp), the point of the method.
#include "algorithms/methods/powersgd.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include "algorithms/core/cost.hpp"
#include "algorithms/core/error.hpp"
#include "algorithms/methods/base.hpp"
#include "algorithms/problems/softmax.hpp"

namespace efsim::alg {

namespace powersgd {

std::vector<Block> layout(const Problem& p, int rank) {
  std::vector<Block> out;
  auto add = [&](int offset, int rows, int cols, int size) {
    Block b;
    b.offset = offset;
    b.size = size;
    b.rows = rows;
    b.cols = cols;
    b.rank = rows > 1 && cols > 1 ? std::min({rank, rows, cols}) : 0;
    out.push_back(b);
  };
  if (const auto* s = dynamic_cast<const SoftmaxProblem*>(&p)) {
    for (const MatrixBlock& m : s->matrix_blocks()) add(m.offset, m.rows, m.cols, m.rows * m.cols);
    return out;
  }
  const int d = p.dim();
  const int rows = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(d))));
  add(0, rows, (d + rows - 1) / rows, d);
  return out;
}

void orthogonalize(Eigen::MatrixXd& P) {
  for (Eigen::Index j = 0; j < P.cols(); ++j) {
    for (Eigen::Index k = 0; k < j; ++k) P.col(j) -= P.col(k).dot(P.col(j)) * P.col(k);
    const double norm = P.col(j).norm();
    if (norm > 1e-300)
      P.col(j) /= norm;
    else
      P.col(j).setZero();
  }
}

Eigen::MatrixXd gather(const Vector& x, const Block& b) {
  Eigen::MatrixXd M = Eigen::MatrixXd::Zero(b.rows, b.cols);
  for (int t = 0; t < b.size; ++t) M(t / b.cols, t % b.cols) = x[b.offset + t];
  return M;
}

void scatter(const Eigen::MatrixXd& M, const Block& b, Vector& x, double scale, bool add) {
  for (int t = 0; t < b.size; ++t) {
    const double v = scale * M(t / b.cols, t % b.cols);
    x[b.offset + t] = add ? x[b.offset + t] + v : v;
  }
}

long p_values(const std::vector<Block>& blocks) {
  long n = 0;
  for (const Block& b : blocks) n += b.rank > 0 ? static_cast<long>(b.rows) * b.rank : b.size;
  return n;
}

long q_values(const std::vector<Block>& blocks) {
  long n = 0;
  for (const Block& b : blocks) n += b.rank > 0 ? static_cast<long>(b.cols) * b.rank : 0;
  return n;
}

}  // namespace powersgd

namespace {

using powersgd::Block;
using Blocks = std::vector<Block>;

constexpr std::uint64_t kQ0Purpose = 43;  // derive_seed purpose of the initial Q

// The state every replica (master and workers) holds alike: Q (warm start), P^ of the current
// step, and the averaged vector blocks; updated from the downlink's bytes with the same code.
struct Factors {
  std::vector<Eigen::MatrixXd> q, phat;
  std::vector<Vector> mean_vec;
};

Factors initial_factors(const Blocks& blocks, std::uint64_t seed) {
  Factors f;
  f.q.resize(blocks.size());
  f.phat.resize(blocks.size());
  f.mean_vec.resize(blocks.size());
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    if (blocks[b].rank == 0) continue;
    Rng rng(derive_seed(seed, b, kQ0Purpose));
    f.q[b].resize(blocks[b].cols, blocks[b].rank);
    for (Eigen::Index j = 0; j < f.q[b].cols(); ++j)
      for (Eigen::Index i = 0; i < f.q[b].rows(); ++i) f.q[b](i, j) = standard_normal(rng);
  }
  return f;
}

// Reads the mean of a P round (P per matrix block, row-major, then... in block order: P or the
// vector) and orthogonalises; returns the flops.
double read_p(BitReader& r, int bits, const Blocks& blocks, Factors& f) {
  double flops = 0.0;
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const Block& k = blocks[b];
    if (k.rank == 0) {
      f.mean_vec[b].resize(k.size);
      for (int t = 0; t < k.size; ++t) f.mean_vec[b][t] = read_value(r, bits);
      continue;
    }
    f.phat[b].resize(k.rows, k.rank);
    for (int i = 0; i < k.rows; ++i)
      for (int j = 0; j < k.rank; ++j) f.phat[b](i, j) = read_value(r, bits);
    powersgd::orthogonalize(f.phat[b]);
    flops += 4.0 * k.rows * k.rank * k.rank;
  }
  return flops;
}

void read_q(BitReader& r, int bits, const Blocks& blocks, Factors& f) {
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const Block& k = blocks[b];
    if (k.rank == 0) continue;
    f.q[b].resize(k.cols, k.rank);
    for (int i = 0; i < k.cols; ++i)
      for (int j = 0; j < k.rank; ++j) f.q[b](i, j) = read_value(r, bits);
  }
}

// x - gamma Δ', Δ' = P^ Q^T on the matrix blocks and the mean on the vector blocks.
Vector stepped(const Vector& x, double gamma, const Blocks& blocks, const Factors& f) {
  Vector out = x;
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const Block& k = blocks[b];
    if (k.rank == 0)
      out.segment(k.offset, k.size) -= gamma * f.mean_vec[b];
    else
      powersgd::scatter(f.phat[b] * f.q[b].transpose(), k, out, -gamma, true);
  }
  return out;
}

// Algorithm 2's lines 12-13: m <- lambda m + Δ'; returns x - gamma (Δ' + m).
Vector nesterov_stepped(const Vector& x, double gamma, double lambda, const Blocks& blocks,
                        const Factors& f, Vector& m) {
  Vector delta = Vector::Zero(x.size());
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const Block& k = blocks[b];
    if (k.rank == 0)
      delta.segment(k.offset, k.size) = f.mean_vec[b];
    else
      powersgd::scatter(f.phat[b] * f.q[b].transpose(), k, delta, 1.0, true);
  }
  m = lambda * m + delta;
  return x - gamma * (delta + m);
}

// The step of a replica (with momentum: m is the replica's own copy, updated on every replica
// alike; x itself may be shared, ModelReplica's copy on write).
template <class Replica>
void step_replica(Replica& replica, ReplicaKey key, double gamma, double lambda,
                  const Blocks& blocks, const Factors& f, Vector& m) {
  if (lambda <= 0.0) {
    replica.set_x_from(key, [&] { return stepped(replica.x(), gamma, blocks, f); });
    return;
  }
  const Vector next = nesterov_stepped(replica.x(), gamma, lambda, blocks, f, m);
  replica.set_x_from(key, [&]() -> const Vector& { return next; });
}

double step_flops(const Blocks& blocks, int d) {
  double flops = cost::vector_op(d);
  for (const Block& k : blocks)
    if (k.rank > 0) flops += 2.0 * k.rows * k.cols * k.rank;
  return flops;
}

// The replica update "x <- x - gamma P^ Q^T" named by the Q round's downlink: op 5.
ReplicaKey powersgd_key(const Message& m, const WireFormat& w) { return update_key(m, w, 5); }

class PowerSgdNode final : public NodeBase {
 public:
  PowerSgdNode(const Objective& f, const Compressor& C, const MethodSpec& s, const Vector& x0,
               std::shared_ptr<const Blocks> blocks, const Factors& f0)
      : NodeBase(f, C, s, x0, 1.0, ModelReplica::Rule::kStep),
        gamma_(s.gamma),
        lambda_(s.params.number("nesterov")),
        blocks_(std::move(blocks)),
        factors_(f0),
        m_(Vector::Zero(x0.size())),
        e_(Vector::Zero(x0.size())),
        momentum_(lambda_ > 0 ? Vector::Zero(x0.size()) : Vector()) {}

  void receive(const Message& down) override {
    BitReader r(down);
    const int bits = wire_.value_bits;
    if (steps_ % 2 == 1) {  // the answer to a P round: P (mean), the vectors (mean)
      flops_ += cost::codec(powersgd::p_values(*blocks_));
      flops_ += read_p(r, bits, *blocks_, factors_);
      return;
    }
    flops_ += cost::codec(powersgd::q_values(*blocks_));  // the answer to a Q round: Q (mean)
    read_q(r, bits, *blocks_, factors_);
    step_replica(replica_, powersgd_key(down, wire_), gamma_, lambda_, *blocks_, factors_,
                 momentum_);
    flops_ += step_flops(*blocks_, f_.dim()) + (lambda_ > 0 ? cost::vector_op(f_.dim(), 4.0) : 0);
  }

  Message step(Rng& rng) override {
    const int bits = wire_.value_bits;
    const auto d = static_cast<std::int64_t>(m_.size());
    BitWriter w;
    if (steps_++ % 2 == 0) {  // P round: M_w = g_w + e_w; send P_w = M_w Q and the vectors
      local_gradient(rng);
      m_ = grad_ + e_;
      flops_ += cost::vector_op(d, 1.0);
      for (std::size_t b = 0; b < blocks_->size(); ++b) {
        const Block& k = (*blocks_)[b];
        if (k.rank == 0) {
          for (int t = 0; t < k.size; ++t) write_value(w, m_[k.offset + t], bits);
          continue;
        }
        const Eigen::MatrixXd P = powersgd::gather(m_, k) * factors_.q[b];
        flops_ += 2.0 * k.rows * k.cols * k.rank;
        for (int i = 0; i < k.rows; ++i)
          for (int j = 0; j < k.rank; ++j) write_value(w, P(i, j), bits);
      }
      Message msg = w.finish();
      // The vectors go uncompressed: their error is the wire's rounding only.
      BitReader back(msg);
      for (const Block& k : *blocks_) {
        if (k.rank == 0) {
          for (int t = 0; t < k.size; ++t)
            e_[k.offset + t] = m_[k.offset + t] - read_value(back, bits);
        } else {
          for (long t = 0; t < static_cast<long>(k.rows) * k.rank; ++t) read_value(back, bits);
        }
      }
      flops_ += 2.0 * cost::codec(powersgd::p_values(*blocks_));
      return msg;
    }
    // Q round: send Q_w = M_w^T P^; e_w = M_w - P^ Q_w^T with Q_w as the others decode it.
    std::vector<Eigen::MatrixXd> qw(blocks_->size());
    for (std::size_t b = 0; b < blocks_->size(); ++b) {
      const Block& k = (*blocks_)[b];
      if (k.rank == 0) continue;
      qw[b] = powersgd::gather(m_, k).transpose() * factors_.phat[b];
      for (int i = 0; i < k.cols; ++i)
        for (int j = 0; j < k.rank; ++j) write_value(w, qw[b](i, j), bits);
      flops_ += 2.0 * k.rows * k.cols * k.rank;
    }
    Message msg = w.finish();
    BitReader back(msg);
    for (std::size_t b = 0; b < blocks_->size(); ++b) {
      const Block& k = (*blocks_)[b];
      if (k.rank == 0) continue;
      for (int i = 0; i < k.cols; ++i)
        for (int j = 0; j < k.rank; ++j) qw[b](i, j) = read_value(back, bits);
      powersgd::scatter(powersgd::gather(m_, k) - factors_.phat[b] * qw[b].transpose(), k, e_);
      flops_ += 2.0 * k.rows * k.cols * k.rank + static_cast<double>(k.size);
    }
    flops_ += 2.0 * cost::codec(powersgd::q_values(*blocks_));
    return msg;
  }

 private:
  double gamma_;
  double lambda_;  // Algorithm 2's momentum (0: none)
  std::shared_ptr<const Blocks> blocks_;
  Factors factors_;
  Vector m_;         // M_w = g_w + e_w of the current step
  Vector e_;         // the error e_w
  Vector momentum_;  // Algorithm 2's m, as every replica holds it
  long steps_ = 0;   // rounds stepped: even = P round next
};

class PowerSgdMaster final : public MasterBase {
 public:
  PowerSgdMaster(int n, const Compressor& C, const Vector& x0, const MethodSpec& s,
                 std::shared_ptr<const Blocks> blocks, const Factors& f0)
      : MasterBase(n, C, s.wire, x0, 1.0, ModelReplica::Rule::kStep),
        gamma_(s.gamma),
        lambda_(s.params.number("nesterov")),
        blocks_(std::move(blocks)),
        factors_(f0),
        momentum_(lambda_ > 0 ? Vector::Zero(x0.size()) : Vector()) {}

  void absorb(int, const Message& up) override {
    const long values =
        round_ % 2 == 0 ? powersgd::p_values(*blocks_) : powersgd::q_values(*blocks_);
    if (static_cast<long>(sum_.size()) != values) sum_ = Vector::Zero(values);
    BitReader r(up);
    for (long t = 0; t < values; ++t) sum_[t] += read_value(r, wire_.value_bits);
    flops_ += 2.0 * static_cast<double>(values);
  }

  void finish_round() override {
    const bool p_round = round_++ % 2 == 0;
    const int bits = wire_.value_bits;
    BitWriter w;
    for (Eigen::Index t = 0; t < sum_.size(); ++t) write_value(w, sum_[t] / n_, bits);
    flops_ += 2.0 * static_cast<double>(sum_.size());
    sum_.setZero();
    down_ = w.finish();
    BitReader r(down_);  // the master applies what the workers decode, with their code
    if (p_round) {
      flops_ += read_p(r, bits, *blocks_, factors_);
      return;
    }
    read_q(r, bits, *blocks_, factors_);
    step_replica(replica_, powersgd_key(down_, wire_), gamma_, lambda_, *blocks_, factors_,
                 momentum_);
    flops_ += step_flops(*blocks_, dim_) + (lambda_ > 0 ? cost::vector_op(dim_, 4.0) : 0);
  }
  bool send_model() override { return false; }

 private:
  double gamma_;
  double lambda_;
  std::shared_ptr<const Blocks> blocks_;
  Factors factors_;
  Vector momentum_;
  Vector sum_;
  long round_ = 0;
};

}  // namespace

MethodInstance make_powersgd(const MethodSpec& s, const Problem& p, const Compressor& C,
                             const Vector& x0) {
  if (s.params.integer("batch_init") > 0)
    throw InputError("method powersgd takes no batch_init (every step uses batch)");
  auto blocks = std::make_shared<const Blocks>(powersgd::layout(p, s.params.integer("rank")));
  const Factors f0 = initial_factors(*blocks, s.seed);
  MethodInstance m;
  m.master = std::make_unique<PowerSgdMaster>(p.num_workers(), C, x0, s, blocks, f0);
  for (int i = 0; i < p.num_workers(); ++i)
    m.nodes.push_back(std::make_unique<PowerSgdNode>(p.local(i), C, s, x0, blocks, f0));
  m.summable_uploads = true;
  return m;
}

}  // namespace efsim::alg
