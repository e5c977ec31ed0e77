#include "algorithms/methods/client_states.hpp"

#include <cstring>
#include <stdexcept>

namespace efsim::alg {

namespace {

bool is_positive_zero(double x) {
  std::uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits == 0;
}

constexpr std::size_t kPair = sizeof(std::uint32_t) + sizeof(double);

}  // namespace

ClientStates::ClientStates(int clients, int dim)
    : dim_(dim),
      count_(static_cast<std::size_t>(clients), 0),
      data_(static_cast<std::size_t>(clients)) {
  if (clients < 0 || dim < 0) throw std::invalid_argument("ClientStates: negative size");
}

std::size_t ClientStates::bytes_of(std::uint32_t count) const {
  return count == kDense ? sizeof(double) * static_cast<std::size_t>(dim_) : kPair * count;
}

std::size_t ClientStates::kept(int i) const {
  return count_[i] == kDense ? static_cast<std::size_t>(dim_) : count_[i];
}

void ClientStates::load(int i, Vector& v) const {
  v.setZero(dim_);
  const std::uint32_t count = count_[i];
  const unsigned char* p = data_[i].get();
  if (count == kDense) {
    std::memcpy(v.data(), p, sizeof(double) * static_cast<std::size_t>(dim_));
    return;
  }
  for (std::uint32_t a = 0; a < count; ++a) {
    std::uint32_t j;
    std::memcpy(&j, p + sizeof j * a, sizeof j);
    std::memcpy(&v[j], p + sizeof j * count + sizeof(double) * a, sizeof(double));
  }
}

void ClientStates::store(int i, const Vector& v) {
  if (v.size() != dim_) throw std::invalid_argument("ClientStates::store: wrong dimension");
  std::uint32_t count = 0;
  for (int j = 0; j < dim_; ++j) count += is_positive_zero(v[j]) ? 0 : 1;
  if (kPair * count >= sizeof(double) * static_cast<std::size_t>(dim_)) count = kDense;
  const std::size_t bytes = bytes_of(count);
  if (bytes != bytes_of(count_[i])) data_[i].reset(bytes > 0 ? new unsigned char[bytes] : nullptr);
  stored_bytes_ = stored_bytes_ - bytes_of(count_[i]) + bytes;
  count_[i] = count;
  unsigned char* p = data_[i].get();
  if (count == kDense) {
    std::memcpy(p, v.data(), bytes);
    return;
  }
  std::uint32_t a = 0;
  for (int j = 0; j < dim_; ++j) {
    if (is_positive_zero(v[j])) continue;
    const auto index = static_cast<std::uint32_t>(j);
    std::memcpy(p + sizeof index * a, &index, sizeof index);
    std::memcpy(p + sizeof index * count + sizeof(double) * a, &v[j], sizeof(double));
    ++a;
  }
}

}  // namespace efsim::alg
