#include "algorithms/problems/glm.hpp"

#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include "algorithms/core/cost.hpp"
#include "algorithms/core/error.hpp"
#include "algorithms/core/log1p.hpp"

namespace efsim::alg {

namespace {

// log(1 + exp(t)), stable for large |t|.
double log1pexp(double t) { return t > 0 ? t + std::log1p(std::exp(-t)) : std::log1p(std::exp(t)); }

// log(1 + exp(t)) and the sigmoid 1 / (1 + exp(-t)), stable, from one exponential: the
// textbook two-branch sigmoid, and log1pexp(t) up to log1p_unit's last bit. Written with
// selects, not branches (the signs of real margins are unpredictable): (t >= 0 ? 1 : e) /
// (1 + e) is the sigmoid's two branches, and 0 + log1p(e) = log1p(e) exactly. The fused pass
// (GlmObjective::evaluate) computes the same per block of rows.
inline double log1pexp_and_sigmoid(double t, double* sigmoid) {
  const double e = std::exp(-std::abs(t));  // exp(-t) for t >= 0, exp(t) otherwise
  *sigmoid = (t >= 0 ? 1.0 : e) / (1.0 + e);
  return (t > 0 ? t : 0.0) + log1p_unit(e);
}

double curvature(Loss loss) { return loss == Loss::kLogistic ? 0.25 : 2.0; }

// The stored values of a row layout: none (every value is 1), or an array.
struct Ones {
  double operator[](std::int64_t) const { return 1.0; }
};
struct Constant {
  double v;
  double operator[](std::int64_t) const { return v; }
};
template <class V>
struct Values {
  const V* v;
  double operator[](std::int64_t p) const { return static_cast<double>(v[p]); }
};

// The fused gradient pass over rows [first, first + rows), in blocks of kBlock rows: the margins
// z_j = sum_p a_jp x_{k_p} of the block's rows (in storage order), their coefficients
// c_j = d phi(z_j, y_j) / dz / N_i (coefficients(j0, m, z, c): the block's loss math in
// straight loops that vectorize), then g_{k_p} += a_jp c_j row by row while the block (a few KB)
// is still in L1. The sums are formed in exactly the order of the two-pass formula
// s = A x; g = A^T c (Eigen's row-major products: each margin over its row in storage order,
// each g_k over the rows in ascending order), so the gradient has the same bits; only the
// memory traffic differs (one pass over the data instead of two, and for 0/1 features no
// values and 32-bit indices: a9a's 451,592 non-zeros are 1.8 MB instead of 7.2 MB).
constexpr int kBlock = 64;

template <class Index, class Vals, class Coefficients>
void fused_pass(const std::int64_t* start, const Index* __restrict index, Vals value, int first,
                int rows, const double* __restrict x, double* __restrict g,
                Coefficients&& coefficients) {
  alignas(64) double z[kBlock];
  alignas(64) double c[kBlock];
  for (int j0 = 0; j0 < rows; j0 += kBlock) {
    const int m = std::min(kBlock, rows - j0);
    const std::int64_t* row = start + first + j0;
    // Four rows at a time (four independent chains of additions; each row's own sum keeps its
    // order), then the rest of each row, then the block's last rows one by one.
    int j = 0;
    for (; j + 4 <= m; j += 4) {
      const std::int64_t* b = row + j;
      const std::int64_t common =
          std::min(std::min(b[1] - b[0], b[2] - b[1]), std::min(b[3] - b[2], b[4] - b[3]));
      double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
      for (std::int64_t q = 0; q < common; ++q) {
        s0 += value[b[0] + q] * x[index[b[0] + q]];
        s1 += value[b[1] + q] * x[index[b[1] + q]];
        s2 += value[b[2] + q] * x[index[b[2] + q]];
        s3 += value[b[3] + q] * x[index[b[3] + q]];
      }
      for (std::int64_t p = b[0] + common; p < b[1]; ++p) s0 += value[p] * x[index[p]];
      for (std::int64_t p = b[1] + common; p < b[2]; ++p) s1 += value[p] * x[index[p]];
      for (std::int64_t p = b[2] + common; p < b[3]; ++p) s2 += value[p] * x[index[p]];
      for (std::int64_t p = b[3] + common; p < b[4]; ++p) s3 += value[p] * x[index[p]];
      z[j] = s0;
      z[j + 1] = s1;
      z[j + 2] = s2;
      z[j + 3] = s3;
    }
    for (; j < m; ++j) {
      double sum = 0.0;
      for (std::int64_t p = row[j]; p < row[j + 1]; ++p) sum += value[p] * x[index[p]];
      z[j] = sum;
    }
    coefficients(j0, m, z, c);
    for (int j = 0; j < m; ++j)
      for (std::int64_t p = row[j]; p < row[j + 1]; ++p) g[index[p]] += value[p] * c[j];
  }
}

}  // namespace

// The rows of a data set for the fused pass: the CSR row starts, and column indices and values
// in the narrowest exact form (see glm.hpp).
struct FusedRows {
  enum class Kind { kPattern, kConstant, kFloat, kDouble };
  Kind kind = Kind::kDouble;
  double constant = 1.0;                  // kConstant: the one value of every entry
  std::shared_ptr<const Dataset> data;    // owns the arrays start, index64, value64 point into
  SparseMatrix compressed;                // a compressed copy, only if data's matrix is not
  const std::int64_t* start = nullptr;    // N + 1 row starts
  std::vector<std::int32_t> index;        // kPattern, kConstant, kFloat: 32-bit column indices
  std::vector<float> value;               // kFloat
  const std::int64_t* index64 = nullptr;  // kDouble: the matrix's own arrays
  const double* value64 = nullptr;

  template <class F>
  void visit(F&& f) const {
    switch (kind) {
      case Kind::kPattern:
        return f(index.data(), Ones{});
      case Kind::kConstant:
        return f(index.data(), Constant{constant});
      case Kind::kFloat:
        return f(index.data(), Values<float>{value.data()});
      case Kind::kDouble:
        return f(index64, Values<double>{value64});
    }
  }
};

const char* fused_rows_layout(const FusedRows& rows) {
  switch (rows.kind) {
    case FusedRows::Kind::kPattern:
      return "pattern";
    case FusedRows::Kind::kConstant:
      return "constant";
    case FusedRows::Kind::kFloat:
      return "float";
    case FusedRows::Kind::kDouble:
      return "double";
  }
  return "?";
}

std::shared_ptr<const FusedRows> make_fused_rows(std::shared_ptr<const Dataset> data) {
  auto r = std::make_shared<FusedRows>();
  const SparseMatrix* A = &data->A;
  if (!A->isCompressed()) {
    r->compressed = *A;
    r->compressed.makeCompressed();
    A = &r->compressed;
  }
  const std::int64_t nnz = A->nonZeros();
  const double* v = A->valuePtr();
  bool same = true, floats = true;  // every value the first one; every value a float exactly
  for (std::int64_t p = 0; p < nnz && (same || floats); ++p) {
    same = same && v[p] == v[0] && !std::signbit(v[p]) == !std::signbit(v[0]);
    floats = floats && static_cast<double>(static_cast<float>(v[p])) == v[p];
  }
  const bool narrow = A->cols() <= std::numeric_limits<std::int32_t>::max();
  using Kind = FusedRows::Kind;
  r->kind = !narrow                          ? Kind::kDouble
            : same && nnz > 0 && v[0] == 1.0 ? Kind::kPattern
            : same && nnz > 0                ? Kind::kConstant
            : floats                         ? Kind::kFloat
                                             : Kind::kDouble;
  if (r->kind == Kind::kConstant) r->constant = v[0];
  r->start = A->outerIndexPtr();
  if (r->kind == FusedRows::Kind::kDouble) {
    r->index64 = A->innerIndexPtr();
    r->value64 = v;
  } else {
    r->index.assign(A->innerIndexPtr(), A->innerIndexPtr() + nnz);
    if (r->kind == FusedRows::Kind::kFloat) r->value.assign(v, v + nnz);
  }
  r->data = std::move(data);
  return r;
}

GlmObjective::GlmObjective(std::shared_ptr<const Dataset> data, int first_row, int rows, Loss loss,
                           double lambda, std::shared_ptr<const FusedRows> fused)
    : data_(std::move(data)),
      fused_(fused ? std::move(fused) : make_fused_rows(data_)),
      first_(first_row),
      rows_(rows),
      loss_(loss),
      lambda_(lambda) {
  if (fused_->data != data_) throw std::logic_error("GlmObjective: rows of another data set");
  const auto b = block();
  flops_ = cost::glm_gradient(b.nonZeros(), rows_, data_->dim(), loss_ == Loss::kLogistic,
                              lambda_ != 0.0);
  const double top = largest_eigenvalue(
      data_->dim(), [this](const Vector& v, Vector& out) { hessian_bound_apply(v, out); });
  L_ = top + 2.0 * lambda_;
}

void GlmObjective::hessian_bound_apply(const Vector& v, Vector& out) const {
  const auto b = block();
  const Vector z = b * v;
  out = b.transpose() * z;
  out *= curvature(loss_) / rows_;
}

double GlmObjective::loss(double z, double y, double* slope) const {
  if (loss_ == Loss::kSquares) {
    *slope = 2.0 * (z - y);
    return (z - y) * (z - y);
  }
  double s = 0.0;
  const double value = log1pexp_and_sigmoid(-y * z, &s);
  *slope = -y * s;
  return value;
}

double GlmObjective::regulariser(const Vector& x, Vector* grad) const {
  if (lambda_ == 0.0) return 0.0;
  double reg = 0.0;
  for (Eigen::Index k = 0; k < x.size(); ++k) {
    const double xk = x[k];
    const double q = 1.0 + xk * xk;
    reg += xk * xk / q;
    if (grad) (*grad)[k] += lambda_ * 2.0 * xk / (q * q);
  }
  return lambda_ * reg;
}

double GlmObjective::value_and_gradient(const Vector& x, Vector& grad) const {
  return evaluate(x, grad, nullptr);
}

double GlmObjective::evaluate(const Vector& x, Vector& grad, long* correct) const {
  // One fused pass (fused_pass above): the gradient has the same bits as the two-pass formula
  // s = A_i x; s_j <- phi'(s_j, y_j) / N_i; grad = A_i^T s. The logistic loss value sums
  // log1p_unit's log1p, which can differ from glibc's in the last bit.
  const double* y = data_->y.data() + first_;
  grad.setZero(x.size());
  double total = 0.0;
  long right = 0;
  const double n = rows_;
  const auto pass = [&](auto coefficient) {
    fused_->visit([&](const auto* index, auto value) {
      fused_pass(fused_->start, index, value, first_, rows_, x.data(), grad.data(), coefficient);
    });
  };
  if (loss_ == Loss::kLogistic) {
    pass([&](int j0, int m, const double* z, double* c) {
      // phi = log(1 + exp(t)), t = -y z, and its slope -y sigmoid(t) (log1pexp_and_sigmoid's
      // math, split so that the part after glibc's exp vectorizes: log1p_unit, see its header).
      alignas(64) double e[kBlock];
      alignas(64) double value[kBlock];
      const double* yb = y + j0;
      for (int j = 0; j < m; ++j) e[j] = std::exp(-std::abs(-yb[j] * z[j]));
      int j = 0;
#if defined(__SSE2__)
      // Two rows at a time, the selects as masks: the same operations as the scalar loop below.
      const __m128d one = _mm_set1_pd(1.0), zero = _mm_setzero_pd(), n2 = _mm_set1_pd(n);
      for (; j + 2 <= m; j += 2) {
        const __m128d ny = _mm_xor_pd(_mm_loadu_pd(yb + j), _mm_set1_pd(-0.0));  // -y
        const __m128d t = _mm_mul_pd(ny, _mm_load_pd(z + j));
        const __m128d ej = _mm_load_pd(e + j);
        const __m128d ge = _mm_cmpge_pd(t, zero);
        const __m128d sigmoid =
            _mm_div_pd(_mm_or_pd(_mm_and_pd(ge, one), _mm_andnot_pd(ge, ej)), _mm_add_pd(one, ej));
        _mm_store_pd(value + j, _mm_add_pd(_mm_and_pd(_mm_cmpgt_pd(t, zero), t), log1p_unit(ej)));
        _mm_store_pd(c + j, _mm_div_pd(_mm_mul_pd(ny, sigmoid), n2));
      }
#endif
      for (; j < m; ++j) {
        const double t = -yb[j] * z[j];
        const double sigmoid = (t >= 0 ? 1.0 : e[j]) / (1.0 + e[j]);
        value[j] = (t > 0 ? t : 0.0) + log1p_unit(e[j]);
        c[j] = -yb[j] * sigmoid / n;
      }
      for (int j = 0; j < m; ++j) {  // in row order, as before
        right += (z[j] >= 0 ? 1.0 : -1.0) == yb[j];
        total += value[j];
      }
    });
  } else {
    pass([&](int j0, int m, const double* z, double* c) {
      const double* yb = y + j0;
      for (int j = 0; j < m; ++j) {
        right += (z[j] >= 0 ? 1.0 : -1.0) == yb[j];
        total += (z[j] - yb[j]) * (z[j] - yb[j]);
        c[j] = 2.0 * (z[j] - yb[j]) / n;
      }
    });
  }
  if (correct != nullptr) *correct = right;
  return total / rows_ + regulariser(x, &grad);
}

double GlmObjective::value(const Vector& x) const {
  Vector g(x.size());
  return value_and_gradient(x, g);
}

double GlmObjective::stochastic_gradient(const Vector& x, int batch, Rng& rng, Vector& grad) const {
  if (batch <= 0 || batch >= rows_) {
    value_and_gradient(x, grad);
    return flops_;
  }
  // Rows drawn uniformly without replacement, visited in ascending order.
  const std::vector<std::int32_t> picked = sample_without_replacement(rng, rows_, batch);
  grad.setZero(x.size());
  std::int64_t nnz = 0;
  for (const std::int32_t r : picked) {
    const auto row = data_->A.row(first_ + r);
    double slope = 0.0;
    loss(row.dot(x), data_->y[first_ + r], &slope);
    slope /= batch;
    for (SparseMatrix::InnerIterator it(data_->A, first_ + r); it; ++it)
      grad[it.index()] += slope * it.value();
    nnz += row.nonZeros();
  }
  regulariser(x, &grad);
  return cost::glm_minibatch_gradient(nnz, batch, x.size(), loss_ == Loss::kLogistic,
                                      lambda_ != 0.0);
}

GlmProblem::GlmProblem(std::shared_ptr<const Dataset> data, int workers, Loss loss, double lambda)
    : data_(std::move(data)),
      loss_(loss),
      lambda_(lambda),
      f_star_(std::numeric_limits<double>::quiet_NaN()),
      mu_(std::numeric_limits<double>::quiet_NaN()) {
  if (workers < 1) throw InputError("number of workers must be >= 1");
  if (workers > data_->rows())
    throw InputError("more workers (" + std::to_string(workers) + ") than samples (" +
                     std::to_string(data_->rows()) + ") in " + data_->source);
  const auto fused = make_fused_rows(data_);
  for (int i = 0; i < workers; ++i) {
    const auto [first, rows] = worker_rows(data_->rows(), workers, i);
    locals_.push_back(std::make_unique<GlmObjective>(data_, first, rows, loss_, lambda_, fused));
  }
  const double top = largest_eigenvalue(data_->dim(), [this](const Vector& v, Vector& out) {
    out.setZero(v.size());
    Vector part(v.size());
    for (const auto& l : locals_) {
      l->hessian_bound_apply(v, part);
      out += part;
    }
    out /= static_cast<double>(locals_.size());
  });
  L_ = top + 2.0 * lambda_;
  if (loss_ == Loss::kSquares && lambda_ == 0.0 && dim() <= 2000) {
    // f = (1/n) sum_i (1/N_i) ||A_i x - y_i||^2: minimise through (sum_i A_i^T A_i / N_i) x =
    // sum_i A_i^T y_i / N_i (a least-squares solution also when the system is singular).
    Eigen::MatrixXd H = Eigen::MatrixXd::Zero(dim(), dim());
    Vector rhs = Vector::Zero(dim());
    for (int i = 0; i < workers; ++i) {
      const auto [first, rows] = worker_rows(data_->rows(), workers, i);
      const Eigen::MatrixXd Ai = Eigen::MatrixXd(data_->A.middleRows(first, rows));
      H += Ai.transpose() * Ai / rows;
      rhs += Ai.transpose() * data_->y.segment(first, rows) / rows;
    }
    const Vector x_star = H.completeOrthogonalDecomposition().solve(rhs);
    // The Hessian of f is (2/n) H. Least squares is PL with mu = its smallest *positive*
    // eigenvalue (f - f* and ∇f live in its range), even when H is singular (collinear features).
    const Vector eig =
        Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(H, Eigen::EigenvaluesOnly).eigenvalues();
    const double tol = 1e-10 * eig.maxCoeff();
    for (Eigen::Index k = 0; k < eig.size(); ++k)
      if (eig[k] > tol) {
        mu_ = 2.0 * eig[k] / workers;
        break;
      }
    Vector g(dim());
    f_star_ = value_and_gradient(x_star, g);
  }
}

void GlmProblem::set_test(std::shared_ptr<const Dataset> test) {
  if (test->dim() != dim())
    throw InputError(test->source + ": the test set has d = " + std::to_string(test->dim()) +
                     " but the training set has d = " + std::to_string(dim()) +
                     " (give problem.dim)");
  test_ = std::move(test);
}

namespace {
// Mean loss (without the regulariser) and sign accuracy of x on a whole data set.
std::pair<double, double> loss_and_accuracy(const Dataset& d, Loss loss, const Vector& x) {
  const Vector z = d.A * x;
  double total = 0.0;
  long correct = 0;
  for (Eigen::Index j = 0; j < z.size(); ++j) {
    const double y = d.y[j];
    total += loss == Loss::kSquares ? (z[j] - y) * (z[j] - y) : log1pexp(-y * z[j]);
    correct += (z[j] >= 0 ? 1.0 : -1.0) == y;
  }
  return {total / static_cast<double>(z.size()),
          static_cast<double>(correct) / static_cast<double>(z.size())};
}
}  // namespace

Metrics GlmProblem::test_metrics(const Vector& x) const {
  Metrics m;
  if (test_) std::tie(m.test_loss, m.test_accuracy) = loss_and_accuracy(*test_, loss_, x);
  return m;
}

int GlmProblem::min_rows() const {
  int m = data_->rows();
  for (int i = 0; i < num_workers(); ++i)
    m = std::min(m, worker_rows(data_->rows(), num_workers(), i).second);
  return m;
}

std::string GlmProblem::describe() const {
  std::ostringstream os;
  if (loss_ == Loss::kLogistic)
    os << "logistic regression, nonconvex regulariser lambda=" << lambda_;
  else
    os << "least squares"
       << (lambda_ > 0 ? ", nonconvex regulariser lambda=" + std::to_string(lambda_) : "");
  os << ", " << data_->source << " (N=" << data_->rows() << ", d=" << data_->dim()
     << ", nnz=" << data_->A.nonZeros() << "), n=" << num_workers();
  return os.str();
}

}  // namespace efsim::alg
