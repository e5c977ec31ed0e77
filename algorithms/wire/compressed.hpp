// A compressed vector as it travels: dense values, or sparse (ascending index, value) pairs.
#pragma once

#include <cstdint>
#include <vector>

#include "algorithms/core/types.hpp"

namespace efsim::alg {

struct Compressed {
  int dim = 0;
  bool dense = false;
  std::vector<std::int32_t> index;  // sparse: ascending, unique; dense: empty
  std::vector<double> value;        // sparse: one per index; dense: dim values
  // Side information some wire formats carry (see each compressor's codec):
  std::uint64_t seed = 0;         // seeded sparsifiers: the support is drawn from this seed
  double scale = 0.0;             // quantizers: the norm (as sent, rounded to the wire)
  std::vector<Compressed> parts;  // induced compressor: C1(x) and C2(x - C1(x)), as sent

  // The sparse vector of dimension d with these (ascending) indices and values.
  static Compressed sparse(int d, std::vector<std::int32_t> index, std::vector<double> value);
  std::size_t nnz() const { return value.size(); }
  void set_dense(const Vector& v);
  void clear_sparse(int d);
  // Sparse with n entries of unspecified content, for a writer that fills them all (vectors
  // reused at the same size are not zero-filled again).
  void resize_sparse(int d, std::size_t n);
  // target += scale * this
  void add_to(Vector& target, double scale = 1.0) const;
  Vector to_dense() const;
};

// a + b, sparse over the union of supports when both are sparse, dense otherwise.
Compressed sum(const Compressed& a, const Compressed& b);

// Sums weighted compressed vectors and returns their weighted sum restricted to the union of the
// supports (sparse), so the downlink can carry only what changed.
class Aggregator {
 public:
  explicit Aggregator(int dim);
  void add(const Compressed& c, double weight);
  // Adds a dense vector; its support is where it is non-zero.
  void add_dense(const Vector& v, double weight);
  // Writes the sum so far (sparse over the union of supports) and resets to zero.
  void take(Compressed& out);
  // Flops of the adds since the last take (cost model).
  double flops() const { return flops_; }

 private:
  void touch(std::int32_t j);
  Vector sum_;
  std::vector<std::uint8_t> touched_;  // 1 where the support has j
  std::vector<std::int32_t> support_;  // the support in its first support_size_ entries (d + 1)
  std::size_t support_size_ = 0;
  double flops_ = 0.0;
};

}  // namespace efsim::alg
