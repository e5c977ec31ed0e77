#include "algorithms/problems/softmax.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

#include "algorithms/core/cost.hpp"
#include "algorithms/core/error.hpp"
#include "algorithms/problems/dataset.hpp"

namespace efsim::alg {

namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
constexpr int kChunk = 256;

// Cross entropy of the logits in the first m rows of Z (samples rows[start..start+m)): adds the
// correct predictions to *correct, overwrites Z with (d loss / d logits) * scale, returns the
// summed loss.
double softmax_rows(const ImageSet& data, const std::vector<int>& rows, std::size_t start, int m,
                    RowMatrix& Z, long* correct, double scale) {
  double loss = 0.0;
  for (int r = 0; r < m; ++r) {
    const int y = data.labels[rows[start + r]];
    auto z = Z.row(r);
    Eigen::Index best = 0;
    const double top = z.maxCoeff(&best);
    if (correct && best == y) ++*correct;
    const double sum = (z.array() - top).exp().sum();
    loss += std::log(sum) + top - z(y);
    z = (z.array() - top).exp() / sum;  // softmax probabilities
    z(y) -= 1.0;                        // d loss / d logits
    z *= scale;
  }
  return loss;
}

// Per-thread scratch of the chunked passes: sized once for the largest chunk seen, so a
// minibatch gradient allocates nothing (fresh megabyte buffers cost page faults every call).
struct Scratch {
  RowMatrix A, H, Z, dH;
  void reserve(Eigen::Index m, Eigen::Index l, Eigen::Index h, Eigen::Index c) {
    if (A.rows() < m || A.cols() != l) A.resize(m, l);
    if (H.rows() < m || H.cols() != h) H.resize(m, h);
    if (dH.rows() < m || dH.cols() != h) dH.resize(m, h);
    if (Z.rows() < m || Z.cols() != c) Z.resize(m, c);
  }
};

Scratch& scratch(std::size_t rows, int l, int h, int c) {
  thread_local Scratch s;
  s.reserve(static_cast<Eigen::Index>(std::min<std::size_t>(kChunk, rows)), l, h, c);
  return s;
}

// Scaled pixels of rows[start..start+m) into the first m rows of A.
void load_rows(const ImageSet& data, const std::vector<int>& rows, std::size_t start, int m,
               RowMatrix& A) {
  for (int r = 0; r < m; ++r) A.row(r) = data.pixels.row(rows[start + r]).cast<double>() / 255.0;
}

// One pass over `rows` (in chunks, pixels scaled on the fly): the mean cross entropy, its
// gradient (if grad; added to *grad when accumulate), and the number of correct predictions (if
// correct). The 1/n of the mean is
// applied to d loss / d logits (c numbers per sample), so every gradient product accumulates
// straight into grad.
double cross_entropy(const ImageSet& data, const std::vector<int>& rows, const Vector& x,
                     Vector* grad, long* correct, bool accumulate) {
  const int c = data.classes, l = data.features();
  const Eigen::Map<const RowMatrix> X(x.data(), c, l);
  Eigen::Map<RowMatrix> G(grad ? grad->data() : nullptr, grad ? c : 0, grad ? l : 0);
  if (grad && !accumulate) G.setZero();
  Scratch& s = scratch(rows.size(), l, 0, c);
  double loss = 0.0;
  const double n = static_cast<double>(rows.size());
  for (std::size_t start = 0; start < rows.size(); start += kChunk) {
    const int m = static_cast<int>(std::min<std::size_t>(kChunk, rows.size() - start));
    load_rows(data, rows, start, m, s.A);
    s.Z.topRows(m).noalias() = s.A.topRows(m) * X.transpose();
    loss += softmax_rows(data, rows, start, m, s.Z, correct, 1.0 / n);
    if (grad) G.noalias() += s.Z.topRows(m).transpose() * s.A.topRows(m);
  }
  return loss / n;
}

// The same for the l-h-c MLP with ReLU (backpropagation).
double mlp_cross_entropy(const ImageSet& data, const std::vector<int>& rows, const Vector& x, int h,
                         Vector* grad, long* correct, bool accumulate) {
  const int c = data.classes, l = data.features();
  const Eigen::Map<const RowMatrix> W1(x.data(), h, l);
  const Eigen::Map<const Vector> b1(x.data() + h * l, h);
  const Eigen::Map<const RowMatrix> W2(x.data() + h * l + h, c, h);
  const Eigen::Map<const Vector> b2(x.data() + h * l + h + c * h, c);
  double* g = grad ? grad->data() : nullptr;
  Eigen::Map<RowMatrix> gW1(g, grad ? h : 0, grad ? l : 0);
  Eigen::Map<Vector> gb1(grad ? g + h * l : nullptr, grad ? h : 0);
  Eigen::Map<RowMatrix> gW2(grad ? g + h * l + h : nullptr, grad ? c : 0, grad ? h : 0);
  Eigen::Map<Vector> gb2(grad ? g + h * l + h + c * h : nullptr, grad ? c : 0);
  if (grad && !accumulate) grad->setZero();
  Scratch& s = scratch(rows.size(), l, h, c);
  double loss = 0.0;
  const double n = static_cast<double>(rows.size());
  for (std::size_t start = 0; start < rows.size(); start += kChunk) {
    const int m = static_cast<int>(std::min<std::size_t>(kChunk, rows.size() - start));
    load_rows(data, rows, start, m, s.A);
    auto A = s.A.topRows(m);
    auto H = s.H.topRows(m);
    auto Z = s.Z.topRows(m);
    H.noalias() = A * W1.transpose();
    H.rowwise() += b1.transpose();
    H = H.cwiseMax(0.0);  // ReLU
    Z.noalias() = H * W2.transpose();
    Z.rowwise() += b2.transpose();
    loss += softmax_rows(data, rows, start, m, s.Z, correct, 1.0 / n);
    if (!grad) continue;
    gW2.noalias() += Z.transpose() * H;
    gb2 += Z.colwise().sum().transpose();
    auto dH = s.dH.topRows(m);
    dH.noalias() = Z * W2;  // back through the second layer, then the ReLU
    dH = dH.cwiseProduct((H.array() > 0.0).cast<double>().matrix());
    gW1.noalias() += dH.transpose() * A;
    gb1 += dH.colwise().sum().transpose();
  }
  return loss / n;
}

double model_cross_entropy(const ImageSet& data, const std::vector<int>& rows, const Vector& x,
                           int hidden, Vector* grad, long* correct, bool accumulate = false) {
  return hidden > 0 ? mlp_cross_entropy(data, rows, x, hidden, grad, correct, accumulate)
                    : cross_entropy(data, rows, x, grad, correct, accumulate);
}

double regulariser(double lambda, const Vector& x, Vector* grad) {
  if (lambda == 0.0) return 0.0;
  double reg = 0.0;
  for (Eigen::Index k = 0; k < x.size(); ++k) {
    const double q = 1.0 + x[k] * x[k];
    reg += x[k] * x[k] / q;
    if (grad) (*grad)[k] += lambda * 2.0 * x[k] / (q * q);
  }
  return lambda * reg;
}

}  // namespace

int model_dim(int features, int classes, int hidden) {
  return hidden > 0 ? hidden * features + hidden + classes * hidden + classes : classes * features;
}

Vector initial_model(int features, int classes, int hidden, std::uint64_t seed) {
  Vector x = Vector::Zero(model_dim(features, classes, hidden));
  if (hidden == 0) return x;
  Rng rng(derive_seed(seed, 0, 17));
  const double s1 = std::sqrt(2.0 / features), s2 = std::sqrt(2.0 / hidden);
  for (int k = 0; k < hidden * features; ++k) x[k] = s1 * standard_normal(rng);
  const int w2 = hidden * features + hidden;
  for (int k = 0; k < classes * hidden; ++k) x[w2 + k] = s2 * standard_normal(rng);
  return x;
}

SoftmaxObjective::SoftmaxObjective(std::shared_ptr<const ImageSet> data, std::vector<int> rows,
                                   double lambda, int hidden)
    : data_(std::move(data)), rows_(std::move(rows)), lambda_(lambda), hidden_(hidden) {
  const double c = data_->classes, l = data_->features();
  if (hidden_ > 0) {
    // forward (2 n h l + 2 n h c), backward (2 n c h twice, 2 n h l), elementwise terms
    row_flops_ = cost::dense(cost::kMlpRate,
                             4.0 * hidden_ * l + 6.0 * hidden_ * c + 10.0 * hidden_ + 30.0 * c);
    coord_flops_ = cost::dense(cost::kMlpRate, 8.0 * dim());
    L_ = std::numeric_limits<double>::quiet_NaN();
  } else {
    row_flops_ = cost::dense(cost::kSoftmaxRate, 4.0 * c * l + 30.0 * c);
    coord_flops_ = cost::dense(cost::kSoftmaxRate, 8.0 * c * l);
    L_ = largest_eigenvalue(data_->features(),
                            [this](const Vector& v, Vector& out) { gram_apply(v, out); }) /
             2.0 +
         2.0 * lambda_;
  }
}

int SoftmaxObjective::dim() const { return model_dim(data_->features(), data_->classes, hidden_); }

void SoftmaxObjective::gram_apply(const Vector& v, Vector& out) const {
  out.setZero(v.size());
  for (int r : rows_) {
    const Vector a = data_->pixels.row(r).cast<double>().transpose() / 255.0;
    out += a * a.dot(v);
  }
  out /= static_cast<double>(rows_.size());
}

double SoftmaxObjective::value_and_gradient(const Vector& x, Vector& grad) const {
  return evaluate(x, grad, nullptr);
}

double SoftmaxObjective::evaluate(const Vector& x, Vector& grad, long* correct) const {
  grad.resize(x.size());
  if (correct != nullptr) *correct = 0;
  const double loss = model_cross_entropy(*data_, rows_, x, hidden_, &grad, correct);
  return loss + regulariser(lambda_, x, &grad);
}

double SoftmaxObjective::value(const Vector& x) const {
  return model_cross_entropy(*data_, rows_, x, hidden_, nullptr, nullptr) +
         regulariser(lambda_, x, nullptr);
}

double SoftmaxObjective::minibatch_flops(int batch) const {
  return cost::sample_indices(batch) + row_flops_ * batch + coord_flops_;
}

double SoftmaxObjective::stochastic_gradient(const Vector& x, int batch, Rng& rng,
                                             Vector& grad) const {
  if (batch <= 0 || batch >= static_cast<int>(rows_.size())) {
    value_and_gradient(x, grad);
    return gradient_flops();
  }
  grad.resize(x.size());
  model_cross_entropy(*data_, pick(batch, rng), x, hidden_, &grad, nullptr);
  regulariser(lambda_, x, &grad);
  return minibatch_flops(batch);
}

double SoftmaxObjective::stochastic_gradient_minus(const Vector& x, int batch, Rng& rng,
                                                   const Vector& shift, Vector& out) const {
  if (batch <= 0 || batch >= static_cast<int>(rows_.size()))
    return Objective::stochastic_gradient_minus(x, batch, rng, shift, out);
  out.noalias() = -shift;  // the gradient's products accumulate onto -shift
  model_cross_entropy(*data_, pick(batch, rng), x, hidden_, &out, nullptr, true);
  regulariser(lambda_, x, &out);
  return minibatch_flops(batch);
}

std::vector<int> SoftmaxObjective::pick(int batch, Rng& rng) const {
  std::vector<int> picked;
  picked.reserve(batch);
  for (std::int32_t r : sample_without_replacement(rng, static_cast<int>(rows_.size()), batch))
    picked.push_back(rows_[r]);
  return picked;
}

Evaluation evaluate_softmax(const ImageSet& data, const Vector& x, int hidden) {
  std::vector<int> all(data.rows());
  std::iota(all.begin(), all.end(), 0);
  long correct = 0;
  Evaluation e;
  e.loss = model_cross_entropy(data, all, x, hidden, nullptr, &correct);
  e.accuracy = static_cast<double>(correct) / data.rows();
  return e;
}

std::vector<MatrixBlock> SoftmaxProblem::matrix_blocks() const {
  const int l = train_->features(), c = train_->classes, h = spec_.hidden;
  if (h == 0) return {{0, c, l}};
  return {{0, h, l}, {h * l, h, 1}, {h * l + h, c, h}, {h * l + h + c * h, c, 1}};
}

SoftmaxProblem::SoftmaxProblem(std::shared_ptr<const ImageSet> train,
                               std::shared_ptr<const ImageSet> test, int workers,
                               const SoftmaxSpec& spec)
    : train_(std::move(train)), test_(std::move(test)), spec_(spec) {
  if (workers < 1 || workers > train_->rows())
    throw InputError("problem.workers: " + std::to_string(workers) + " workers for " +
                     std::to_string(train_->rows()) + " samples");
  if (test_ && (test_->features() != train_->features() || test_->classes > train_->classes))
    throw InputError(test_->source +
                     ": test images do not match the training set (features or classes)");
  std::vector<int> order(train_->rows());
  std::iota(order.begin(), order.end(), 0);
  if (spec.split_by_label) {
    std::stable_sort(order.begin(), order.end(),
                     [this](int a, int b) { return train_->labels[a] < train_->labels[b]; });
  } else {
    Rng rng(derive_seed(spec.seed, 0, 13));
    for (int i = static_cast<int>(order.size()) - 1; i > 0; --i)
      std::swap(order[i], order[uniform_below(rng, static_cast<std::uint64_t>(i) + 1)]);
  }
  for (int i = 0; i < workers; ++i) {
    const auto [first, count] = worker_rows(train_->rows(), workers, i);
    std::vector<int> rows(order.begin() + first, order.begin() + first + count);
    std::sort(rows.begin(), rows.end());
    locals_.push_back(
        std::make_unique<SoftmaxObjective>(train_, std::move(rows), spec.lambda, spec.hidden));
  }
  if (spec.hidden > 0) {
    L_ = std::numeric_limits<double>::quiet_NaN();
    return;
  }
  L_ = largest_eigenvalue(train_->features(),
                          [this](const Vector& v, Vector& out) {
                            out.setZero(v.size());
                            Vector part(v.size());
                            for (const auto& l : locals_) {
                              l->gram_apply(v, part);
                              out += part;
                            }
                            out /= static_cast<double>(locals_.size());
                          }) /
           2.0 +
       2.0 * spec.lambda;
}

int SoftmaxProblem::min_rows() const {
  int m = train_->rows();
  for (const auto& l : locals_) m = std::min(m, l->num_samples());
  return m;
}

Metrics SoftmaxProblem::test_metrics(const Vector& x) const {
  Metrics m;
  if (test_) {
    const Evaluation e = evaluate_softmax(*test_, x, spec_.hidden);
    m.test_loss = e.loss;
    m.test_accuracy = e.accuracy;
  }
  return m;
}

std::string SoftmaxProblem::describe() const {
  std::ostringstream os;
  if (spec_.hidden > 0)
    os << "MLP " << train_->features() << "-" << spec_.hidden << "-" << train_->classes
       << " (ReLU), lambda=" << spec_.lambda << ", " << train_->source;
  else
    os << "multiclass logistic regression, nonconvex regulariser lambda=" << spec_.lambda << ", "
       << train_->source << " (N=" << train_->rows() << ", l=" << train_->features()
       << ", c=" << train_->classes << ", d=" << dim() << ")"
       << (test_ ? ", test N=" + std::to_string(test_->rows()) : std::string())
       << ", n=" << num_workers() << (spec_.split_by_label ? ", split by label" : ", iid split");
  return os.str();
}

}  // namespace efsim::alg
