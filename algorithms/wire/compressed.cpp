#include "algorithms/wire/compressed.hpp"

#include <algorithm>
#include <cassert>
#include <utility>

#include "algorithms/core/cost.hpp"

namespace efsim::alg {

void Compressed::set_dense(const Vector& v) {
  dim = static_cast<int>(v.size());
  dense = true;
  index.clear();
  seed = 0;
  scale = 0.0;
  parts.clear();
  value.assign(v.data(), v.data() + v.size());
}

Compressed Compressed::sparse(int d, std::vector<std::int32_t> index, std::vector<double> value) {
  Compressed c;
  c.clear_sparse(d);
  c.index = std::move(index);
  c.value = std::move(value);
  return c;
}

void Compressed::clear_sparse(int d) { resize_sparse(d, 0); }

void Compressed::add_to(Vector& target, double scale) const {
  assert(target.size() == dim);
  if (dense) {
    for (int j = 0; j < dim; ++j) target[j] += scale * value[j];
  } else {
    for (std::size_t t = 0; t < index.size(); ++t) target[index[t]] += scale * value[t];
  }
}

Vector Compressed::to_dense() const {
  Vector v = Vector::Zero(dim);
  add_to(v);
  return v;
}

void Compressed::resize_sparse(int d, std::size_t n) {
  dim = d;
  dense = false;
  index.resize(n);
  value.resize(n);
  seed = 0;
  scale = 0.0;
  parts.clear();
}

Compressed sum(const Compressed& a, const Compressed& b) {
  assert(a.dim == b.dim);
  Compressed out;
  if (a.dense || b.dense) {
    Vector v = a.to_dense();
    b.add_to(v);
    out.set_dense(v);
    return out;
  }
  out.clear_sparse(a.dim);
  std::size_t i = 0, j = 0;
  while (i < a.index.size() || j < b.index.size()) {
    if (j == b.index.size() || (i < a.index.size() && a.index[i] < b.index[j])) {
      out.index.push_back(a.index[i]);
      out.value.push_back(a.value[i++]);
    } else if (i == a.index.size() || b.index[j] < a.index[i]) {
      out.index.push_back(b.index[j]);
      out.value.push_back(b.value[j++]);
    } else {
      out.index.push_back(a.index[i]);
      out.value.push_back(a.value[i++] + b.value[j++]);
    }
  }
  return out;
}

Aggregator::Aggregator(int dim)
    : sum_(Vector::Zero(dim)),
      touched_(dim, 0),
      support_(static_cast<std::size_t>(dim) + 1) {}  // + 1: touch() writes one past a full list

void Aggregator::touch(std::int32_t j) {  // branch-free: j is listed, the count moves if new
  support_[support_size_] = j;
  support_size_ += touched_[j] ^ 1u;
  touched_[j] = 1;
}

void Aggregator::add(const Compressed& c, double weight) {
  assert(c.dim == sum_.size());
  if (c.dense) {
    for (int j = 0; j < c.dim; ++j) {
      touch(j);
      sum_[j] += weight * c.value[j];
    }
  } else {
    for (std::size_t t = 0; t < c.index.size(); ++t) {
      touch(c.index[t]);
      sum_[c.index[t]] += weight * c.value[t];
    }
  }
  flops_ += cost::vector_op(static_cast<std::int64_t>(c.nnz()));
}

void Aggregator::add_dense(const Vector& v, double weight) {
  for (Eigen::Index j = 0; j < v.size(); ++j) {
    if (v[j] != 0.0) {
      touch(static_cast<std::int32_t>(j));
      sum_[j] += weight * v[j];
    }
  }
  flops_ += cost::vector_op(v.size());
}

void Aggregator::take(Compressed& out) {
  // Ascending support: a scan of the touched flags when the support is a large share of d (one
  // pass over d bytes beats sorting), a sort otherwise. Both give the same list.
  const auto n = support_size_;
  if (n * 16 > touched_.size()) {
    std::size_t listed = 0;
    for (std::size_t j = 0; j < touched_.size(); ++j) {
      support_[listed] = static_cast<std::int32_t>(j);
      listed += touched_[j];
    }
  } else {
    std::sort(support_.begin(), support_.begin() + static_cast<std::ptrdiff_t>(n));
  }
  out.resize_sparse(static_cast<int>(sum_.size()), n);
  for (std::size_t t = 0; t < n; ++t) {
    const std::int32_t j = support_[t];
    out.index[t] = j;
    out.value[t] = sum_[j];
    sum_[j] = 0.0;
    touched_[j] = 0;
  }
  support_size_ = 0;
  flops_ = 0.0;
}

}  // namespace efsim::alg
