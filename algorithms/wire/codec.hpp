// Wire formats: compressed vectors become real, bit-packed bytes; the simulated transfer size
// is the byte count of the buffer (algorithms/README.md, invariant 3).
//
// Layout of an encoded Compressed (bits, most significant first within the stream):
//   1 bit   layout: 0 = dense, 1 = sparse
//   dense:  d values of `value_bits` each
//   sparse: 32-bit count K, then K indices of `index_bits` each (ascending), then K values
// Values are IEEE-754 binary64 (value_bits = 64), binary32 (32) or binary16 (16), rounded to
// nearest (ties to even). index_bits = 0 means ceil(log2 d) (at least 1). The buffer is padded
// to whole bytes. This generic vector codec carries the downlink aggregate and the compressors
// whose output is plain dense or sparse; other compressors define their own wire formats on top
// of the primitives below (compressor.hpp).
#pragma once

#include <bit>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "algorithms/wire/compressed.hpp"

namespace efsim::alg {

struct WireFormat {
  int value_bits = 32;  // 16, 32 or 64
  int index_bits = 0;   // 0 = ceil(log2 d); otherwise 1..32
  int index_bits_for(int dim) const;
};

// A byte buffer that resize() leaves uninitialised (the writer overwrites every byte it keeps):
// no zero-filling of megabyte broadcasts.
template <class T>
struct UninitialisedAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = UninitialisedAllocator<U>;
  };
  UninitialisedAllocator() = default;
  template <class U>
  UninitialisedAllocator(const UninitialisedAllocator<U>&) noexcept {}
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
using Bytes = std::vector<std::uint8_t, UninitialisedAllocator<std::uint8_t>>;

// A real encoded message. A message of no bytes is no message: the runners move nothing and
// charge no time for it (a lazy worker that skips its upload, a master with nothing to send).
// Every encoded vector has at least its layout bit, so no encoded value is ever empty.
struct Message {
  Bytes bytes;
  // Which BitWriter::finish() made these bytes (0: not made by one); copies keep it. Lets a
  // receiver recognise bytes it has already decoded (NodeBase::receive: every worker decodes
  // the same broadcast).
  std::uint64_t serial = 0;
  std::size_t size_bytes() const { return bytes.size(); }
  bool empty() const { return bytes.empty(); }
};

class BitWriter {
 public:
  // Appends the low `bits` (0..64) bits of value, most significant first. Inline: the codecs
  // call it once or twice per coordinate. Bits gather in a 64-bit word that goes out whole.
  void write(std::uint64_t value, int bits) {
    if (bits <= 0) return;
    if (bits < 64) value &= (std::uint64_t{1} << bits) - 1;
    bits_ += static_cast<std::size_t>(bits);
    const int room = 64 - acc_bits_;  // 1..64
    if (bits < room) {
      acc_ = (acc_ << bits) | value;
      acc_bits_ += bits;
      return;
    }
    const int rest = bits - room;  // the bits of value that do not fit: 0..63
    put_word(room == 64 ? value : (acc_ << room) | (value >> rest));
    acc_ = value;  // only its low `rest` bits count (acc_'s bits above acc_bits_ are ignored)
    acc_bits_ = rest;
  }
  Message finish();
  std::size_t bit_count() const { return bits_; }
  // Room for `more` further bits without reallocating (a hint; the bytes do not change).
  void reserve_bits(std::size_t more) { ensure((bits_ + more + 7) / 8 - len_ + 8); }

 private:
  void put_word(std::uint64_t word) {
    ensure(8);
    word = __builtin_bswap64(word);  // most significant byte first
    std::memcpy(buf_.data() + len_, &word, 8);
    len_ += 8;
  }
  void ensure(std::size_t more) {
    if (len_ + more > buf_.size()) grow(more);
  }
  void grow(std::size_t more);
  Bytes buf_;  // whole 64-bit words written: buf_[0..len_)
  std::size_t len_ = 0;
  std::uint64_t acc_ = 0;  // its low acc_bits_ bits: the bits not yet in a whole word
  int acc_bits_ = 0;
  std::size_t bits_ = 0;
};

class BitReader {
 public:
  explicit BitReader(const Message& m) : buf_(m.bytes) {}
  // The next `bits` (0..64) bits; throws std::out_of_range past the end. The common case (a
  // field within the next 8 bytes) is inline: one unaligned big-endian word.
  std::uint64_t read(int bits) {
    const std::size_t byte = pos_ / 8;
    if (bits > 0 && bits <= 56 && byte + 8 <= buf_.size()) {
      std::uint64_t word;
      std::memcpy(&word, buf_.data() + byte, 8);
      word = __builtin_bswap64(word);
      const std::uint64_t v = (word << (pos_ % 8)) >> (64 - bits);
      pos_ += static_cast<std::size_t>(bits);
      return v;
    }
    return read_slow(bits);
  }
  // True when no whole byte is left unread (only padding remains).
  bool at_end() const { return (pos_ + 7) / 8 >= buf_.size(); }

 private:
  std::uint64_t read_slow(int bits);
  const Bytes& buf_;
  std::size_t pos_ = 0;
};

// binary16 halves of the value functions below (out of line: rare and long).
std::uint16_t to_half_bits(double v);
double from_half_bits(std::uint16_t h);

// One value at `value_bits` (16, 32, 64): IEEE binary16/32/64, round to nearest even. Inline:
// the codecs call these once per coordinate.
inline void write_value(BitWriter& w, double v, int value_bits) {
  if (value_bits == 64) return w.write(std::bit_cast<std::uint64_t>(v), 64);
  if (value_bits == 32) return w.write(std::bit_cast<std::uint32_t>(static_cast<float>(v)), 32);
  assert(value_bits == 16 && "value_bits must be 16, 32 or 64");
  w.write(to_half_bits(v), 16);
}
inline double read_value(BitReader& r, int value_bits) {
  if (value_bits == 64) return std::bit_cast<double>(r.read(64));
  if (value_bits == 32)
    return static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(r.read(32))));
  assert(value_bits == 16 && "value_bits must be 16, 32 or 64");
  return from_half_bits(static_cast<std::uint16_t>(r.read(16)));
}
// v rounded to the nearest value representable at value_bits (what read_value returns).
inline double round_value(double v, int value_bits) {
  if (value_bits == 64) return v;
  if (value_bits == 32) return static_cast<double>(static_cast<float>(v));
  assert(value_bits == 16 && "value_bits must be 16, 32 or 64");
  return from_half_bits(to_half_bits(v));
}
// The smallest representable value >= v (>= 0): scales sent once per message are rounded up,
// so |x_j| / scale <= 1 holds after rounding.
double round_value_up(double v, int value_bits);
// Elias gamma code of n >= 1: floor(log2 n) zeros, then n in binary (2 floor(log2 n) + 1 bits).
void write_elias_gamma(BitWriter& w, std::uint64_t n);
std::uint64_t read_elias_gamma(BitReader& r);
std::size_t elias_gamma_bits(std::uint64_t n);

// Encoded size of c in bits (including the layout bit, excluding padding).
std::size_t encoded_bits(const Compressed& c, const WireFormat& wire);
// Converts c to whichever layout is smaller on the wire (the downlink aggregate uses this).
void compact(Compressed& c, const WireFormat& wire);
void encode(BitWriter& w, const Compressed& c, const WireFormat& wire);
// Reads one coordinate index of `bits` bits; an index >= dim (untrusted bytes: ceil(log2 d)
// bits can say more than d - 1) throws std::out_of_range, like a read past the end.
[[noreturn]] void throw_bad_index(std::uint64_t j, int dim);
inline std::int32_t read_index(BitReader& r, int bits, int dim) {
  const std::uint64_t j = r.read(bits);
  if (j >= static_cast<std::uint64_t>(dim)) throw_bad_index(j, dim);
  return static_cast<std::int32_t>(j);
}

// The size of a dense vector of dimension dim encoded by encode() (e.g. one all-reduce buffer).
std::size_t dense_message_bytes(Eigen::Index dim, const WireFormat& wire);
void decode(BitReader& r, int dim, const WireFormat& wire, Compressed& out);

}  // namespace efsim::alg
