// The per-client state vectors of a population (participation `materialize: sampled`): EF21-PP's
// g_i, DIANA's shift h_i. Both start at zero (EF21: g_i^0 = 0 before the initialising round;
// DIANA: h_i^0 = 0), and a client changes its vector only in the rounds it is sampled, where a
// sparse compressor touches a few coordinates. So a client keeps only the coordinates whose bits
// differ from +0.0, as (index, value) pairs holding the current value itself (not a sum of
// changes: loading gives back the very vector stored, bit for bit), or the whole vector when
// that is smaller; a client never sampled keeps nothing. 12 bytes per client besides.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "algorithms/core/types.hpp"

namespace efsim::alg {

class ClientStates {
 public:
  ClientStates(int clients, int dim);
  // v = the state of client i (resized to dim): what store(i, .) kept last, zero before.
  void load(int i, Vector& v) const;
  // Keeps v (of size dim) as the state of client i.
  void store(int i, const Vector& v);
  // The coordinates client i keeps: 0 (zero), up to the pairs' break-even, or dim (whole).
  std::size_t kept(int i) const;
  bool dense(int i) const { return count_[i] == kDense; }
  // The bytes held for the clients' vectors (the per-client 12 bytes not included).
  std::size_t stored_bytes() const { return stored_bytes_; }

 private:
  static constexpr std::uint32_t kDense = 0xffffffffu;
  std::size_t bytes_of(std::uint32_t count) const;
  int dim_;
  std::vector<std::uint32_t> count_;  // per client: pairs kept, or kDense
  std::vector<std::unique_ptr<unsigned char[]>>
      data_;  // indices (uint32) then values; or dim values
  std::size_t stored_bytes_ = 0;
};

}  // namespace efsim::alg
