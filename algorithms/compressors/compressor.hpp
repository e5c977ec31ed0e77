// Compression operators C: R^d -> R^d, each with its wire format (encode/decode) and its
// declared constant:
//   contractive, alpha in (0, 1]:  E ||C(x) - x||^2 <= (1 - alpha) ||x||^2  (EF21 paper, eq. (2))
//   unbiased, delta >= 1:          E C(x) = x,  E ||C(x)||^2 <= delta ||x||^2
//                                  (Horváth & Richtárik, ICLR 2021, Definition 1; omega = delta-1)
// An unbiased C with delta < 2 is also contractive with alpha = 2 - delta, since
// E ||C(x) - x||^2 = E ||C(x)||^2 - ||x||^2 <= (delta - 1) ||x||^2.
//
// Randomness comes only from the Rng passed in: the run's seeded stream for that worker.
// Non-finite input gives a non-finite output (never a crash), so the run ends as diverged.
// compress() returns exactly the value the receiver decodes from encode(): the method applies
// decode(encode(C(x))), and the tests hold compress == decode(encode) bit for bit.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "algorithms/core/cost.hpp"
#include "algorithms/core/param_type.hpp"
#include "algorithms/core/types.hpp"
#include "algorithms/wire/codec.hpp"
#include "algorithms/wire/compressed.hpp"

namespace efsim::alg {

enum class CompressorClass { kContractive, kUnbiased };

// What a compressor must be, for a method's own compressor or a compressor-valued setting.
enum class CompressorNeed {
  kAny,
  kIdentity,     // the method sends exact gradients (gd): the entry's compressor is replaced
  kContractive,  // alpha > 0 (EF-type methods)
  kUnbiased      // E C(x) = x (DIANA's compressor, the EC-*-DIANA quantizer)
};

class Compressor {
 public:
  virtual ~Compressor() = default;
  // out = C(x), with the side information its encoder needs (seed, scale, parts).
  virtual void compress(const Vector& x, Rng& rng, const WireFormat& wire,
                        Compressed& out) const = 0;
  // Default wire format: the generic dense/sparse vector codec (codec.hpp).
  virtual void encode(const Compressed& c, const WireFormat& wire, BitWriter& w) const;
  virtual void decode(BitReader& r, int d, const WireFormat& wire, Compressed& out) const;
  virtual CompressorClass klass() const = 0;
  // Contraction constant (0: not contractive). For unbiased operators: max(0, 2 - delta).
  virtual double alpha(int d) const;
  // Second-moment bound of an unbiased operator (contractive ones: 0, meaning none).
  virtual double delta(int d) const;
  // Flops of compress (flops) and of decoding a message of `values` packed values (decode_flops:
  // one per value unless the receiver has more to do, e.g. regenerate a random support).
  virtual double flops(int d) const = 0;
  virtual double decode_flops(int d, std::int64_t values) const;
  virtual bool deterministic() const = 0;
  // Canonical short label, part of run ids: e.g. top_k10, qsgd4e, induced(top_k5+wangni5).
  virtual std::string label() const = 0;
};

// Encodes c with C, decodes it back into c: afterwards c holds exactly what a receiver sees.
void roundtrip(const Compressor& C, const WireFormat& wire, Compressed& c);

// What a scenario may say about a compressor.
struct CompressorSpec {
  CompressorSpec() = default;
  CompressorSpec(std::string kind_, int k_ = 0, int s_ = 0)
      : kind(std::move(kind_)), k(k_), s(s_) {}
  std::string kind = "identity";
  int k = 0;           // sparsifiers: entries kept (budget for wangni, draws for nu_rand_k)
  int s = 0;           // quantizers: levels
  std::string coding;  // qsgd: fixed | elias
  std::string values;  // top_k, rand_k: "" | natural (natural compression of kept values)
  std::shared_ptr<CompressorSpec> c1, c2;  // induced: contractive C1, unbiased C2
  std::string label() const;               // canonical, e.g. "qsgd4e", "induced(top_k5+wangni5)"
};

// One parameter of a compressor kind, and where its value goes in a CompressorSpec.
struct CompressorParam {
  std::string name;
  ParamType type = ParamType::kInteger;  // kInteger | kChoice | kCompressor
  long lo = 1, hi = 1'000'000'000L;      // kInteger: the range a scenario may give
  // kChoice: the values; the first is the default and is stored as "".
  std::vector<std::string> choices;
  bool required = false;
  std::string help;
  int CompressorSpec::*integer = nullptr;                          // kInteger
  std::string CompressorSpec::*text = nullptr;                     // kChoice
  std::shared_ptr<CompressorSpec> CompressorSpec::*sub = nullptr;  // kCompressor
};

struct CompressorInfo {
  std::string kind;
  std::vector<CompressorParam> params;  // besides `kind`, in the order of run-grid expansion
  CompressorClass klass;
  std::string constant;  // the declared constant as a formula
  std::string summary;   // what it does, its wire format, its source
  // Builds it for dimension d; throws InputError on bad parameters (k in 1..d, ...).
  std::unique_ptr<Compressor> (*make)(const CompressorSpec&, int d) = nullptr;

  const CompressorParam* param(const std::string& name) const;  // null: not taken
};

// The compressors a scenario can name, in display order.
const std::vector<CompressorInfo>& compressor_registry();
const CompressorInfo* find_compressor(const std::string& kind);
// Builds a compressor for dimension d; throws InputError on bad parameters (K in 1..d, s >= 1,
// induced needs a contractive C1 and an unbiased C2, ...).
std::unique_ptr<Compressor> make_compressor(const CompressorSpec& spec, int d);

// ---- The operators. Sources are cited at each definition (compressor_*.cpp). ----

// C(x) = x. alpha = 1. Dense values.
class Identity final : public Compressor {
 public:
  void compress(const Vector& x, Rng& rng, const WireFormat& wire, Compressed& out) const override;
  CompressorClass klass() const override { return CompressorClass::kContractive; }
  double alpha(int) const override { return 1.0; }
  double flops(int d) const override { return cost::per_coordinate(d, cost::kRoundFlops); }
  bool deterministic() const override { return true; }
  std::string label() const override { return "identity"; }
};

// Top-K: the K largest |x_j| (ties: smaller index; NaN counts as largest). alpha = K/d.
// With natural values: the kept values go through natural compression, alpha = (7/8) K/d.
class TopK final : public Compressor {
 public:
  explicit TopK(int k, bool natural_values = false) : k_(k), natural_(natural_values) {}
  void compress(const Vector& x, Rng& rng, const WireFormat& wire, Compressed& out) const override;
  void encode(const Compressed& c, const WireFormat& wire, BitWriter& w) const override;
  void decode(BitReader& r, int d, const WireFormat& wire, Compressed& out) const override;
  CompressorClass klass() const override { return CompressorClass::kContractive; }
  double alpha(int d) const override;
  double flops(int d) const override;
  bool deterministic() const override { return !natural_; }
  std::string label() const override;

 private:
  int k_;
  bool natural_;
};

// Rand-K: K coordinates drawn uniformly without replacement from a seed the sender draws and
// sends (64 bits), so only the K values travel. Unscaled: contractive, alpha = K/d.
// Scaled by d/K (unbiased = true): unbiased, delta = d/K.
class RandK final : public Compressor {
 public:
  RandK(int k, bool unbiased, bool natural_values = false)
      : k_(k), unbiased_(unbiased), natural_(natural_values) {}
  void compress(const Vector& x, Rng& rng, const WireFormat& wire, Compressed& out) const override;
  void encode(const Compressed& c, const WireFormat& wire, BitWriter& w) const override;
  void decode(BitReader& r, int d, const WireFormat& wire, Compressed& out) const override;
  CompressorClass klass() const override;
  double alpha(int d) const override;
  double delta(int d) const override;
  double flops(int d) const override;
  double decode_flops(int d, std::int64_t values) const override;
  bool deterministic() const override { return false; }
  std::string label() const override;

 private:
  int k_;
  bool unbiased_;
  bool natural_;
};

// Gradient sparsification of Wangni et al. (2018): keeps x_j with probability
// p_j = min(1, lambda |x_j|), lambda set so that sum p_j = K, and sends x_j / p_j.
// Unbiased, delta = 1 + d/K. Sparse index/value on the wire (the support is random).
class Wangni final : public Compressor {
 public:
  explicit Wangni(int k) : k_(k) {}
  void compress(const Vector& x, Rng& rng, const WireFormat& wire, Compressed& out) const override;
  CompressorClass klass() const override { return CompressorClass::kUnbiased; }
  double delta(int d) const override;
  double flops(int d) const override;
  bool deterministic() const override { return false; }
  std::string label() const override { return "wangni" + std::to_string(k_); }

 private:
  int k_;
};

// Non-uniform Rand-K (Horváth & Richtárik §5.5 for K = 1): K independent draws of a coordinate j
// with probability |x_j| / ||x||_1; C(x) = (||x||_1 / K) sum_draws sign(x_j) e_j.
// Unbiased, delta = 1 + (d - 1)/K. Wire: ||x||_1, then K (index, sign) pairs.
class NuRandK final : public Compressor {
 public:
  explicit NuRandK(int k) : k_(k) {}
  void compress(const Vector& x, Rng& rng, const WireFormat& wire, Compressed& out) const override;
  void encode(const Compressed& c, const WireFormat& wire, BitWriter& w) const override;
  void decode(BitReader& r, int d, const WireFormat& wire, Compressed& out) const override;
  CompressorClass klass() const override { return CompressorClass::kUnbiased; }
  double delta(int d) const override;
  double flops(int d) const override;
  bool deterministic() const override { return false; }
  std::string label() const override { return "nu_rand_k" + std::to_string(k_); }

 private:
  int k_;
};

// Scaled sign (Karimireddy et al. 2019): C(x) = (||x||_1 / d) sign(x), sign(0) = +1.
// Contractive, alpha = 1/d (exactly ||x||_1^2 / (d ||x||^2) >= 1/d). Wire: the scale, d sign bits.
class ScaledSign final : public Compressor {
 public:
  void compress(const Vector& x, Rng& rng, const WireFormat& wire, Compressed& out) const override;
  void encode(const Compressed& c, const WireFormat& wire, BitWriter& w) const override;
  void decode(BitReader& r, int d, const WireFormat& wire, Compressed& out) const override;
  CompressorClass klass() const override { return CompressorClass::kContractive; }
  double alpha(int d) const override { return 1.0 / d; }
  double flops(int d) const override { return cost::per_coordinate(d, cost::kScaledSignFlops); }
  bool deterministic() const override { return true; }
  std::string label() const override { return "scaled_sign"; }
};

// Natural compression (Horváth et al. 2019, "Natural compression for distributed deep
// learning"): each value is rounded to one of the two nearest powers of two, unbiasedly.
// delta = 9/8. Wire: 9 bits a value, sign + 8-bit binary32 exponent (code 0 = zero).
class Natural final : public Compressor {
 public:
  void compress(const Vector& x, Rng& rng, const WireFormat& wire, Compressed& out) const override;
  void encode(const Compressed& c, const WireFormat& wire, BitWriter& w) const override;
  void decode(BitReader& r, int d, const WireFormat& wire, Compressed& out) const override;
  CompressorClass klass() const override { return CompressorClass::kUnbiased; }
  double delta(int) const override { return 9.0 / 8.0; }
  double flops(int d) const override { return cost::per_coordinate(d, cost::kNaturalFlops); }
  bool deterministic() const override { return false; }
  std::string label() const override { return "natural"; }
};

// Natural dithering (Horváth et al. 2019): |x_j| / ||x||_2 is rounded unbiasedly between the
// levels 0, 2^(1-s), ..., 1/2, 1. delta = 1 + 1/8 + min(sqrt(d) / 2^(s-1), d / 2^(2(s-1))).
// Wire: ||x||_2, then per coordinate a sign bit and a level index of ceil(log2(s+1)) bits.
class NaturalDithering final : public Compressor {
 public:
  explicit NaturalDithering(int s) : s_(s) {}
  void compress(const Vector& x, Rng& rng, const WireFormat& wire, Compressed& out) const override;
  void encode(const Compressed& c, const WireFormat& wire, BitWriter& w) const override;
  void decode(BitReader& r, int d, const WireFormat& wire, Compressed& out) const override;
  CompressorClass klass() const override { return CompressorClass::kUnbiased; }
  double delta(int d) const override;
  double flops(int d) const override {
    return cost::per_coordinate(d, cost::kNaturalDitheringFlops);
  }
  bool deterministic() const override { return false; }
  std::string label() const override { return "natural_dithering" + std::to_string(s_); }

 private:
  int s_;
};

// QSGD with s levels (Alistarh et al. 2017): |x_j| / ||x||_2 rounded unbiasedly to l/s.
// delta = 1 + min(d/s^2, sqrt(d)/s). Wire: ||x||_2, then either fixed width (sign +
// ceil(log2(s+1)) bits per coordinate) or the paper's Elias coding (Elias gamma of the number of
// non-zeros + 1, then per non-zero: Elias gamma of the index gap, a sign bit, Elias gamma of l).
class Qsgd final : public Compressor {
 public:
  Qsgd(int s, bool elias) : s_(s), elias_(elias) {}
  void compress(const Vector& x, Rng& rng, const WireFormat& wire, Compressed& out) const override;
  void encode(const Compressed& c, const WireFormat& wire, BitWriter& w) const override;
  void decode(BitReader& r, int d, const WireFormat& wire, Compressed& out) const override;
  CompressorClass klass() const override { return CompressorClass::kUnbiased; }
  double delta(int d) const override;
  double flops(int d) const override { return cost::per_coordinate(d, cost::kQsgdFlops); }
  bool deterministic() const override { return false; }
  std::string label() const override { return "qsgd" + std::to_string(s_) + (elias_ ? "e" : ""); }

 private:
  int s_;
  bool elias_;
};

// TernGrad (Wen et al. 2017), QSGD with the infinity norm and one level:
// C(x)_j = ||x||_inf sign(x_j) b_j, b_j ~ Bernoulli(|x_j| / ||x||_inf).
// delta = (1 + sqrt(d)) / 2 (tight bound of ||x||_inf ||x||_1 / ||x||^2). Wire: the scale, then
// 2 bits per coordinate (0, +1, -1).
class TernGrad final : public Compressor {
 public:
  void compress(const Vector& x, Rng& rng, const WireFormat& wire, Compressed& out) const override;
  void encode(const Compressed& c, const WireFormat& wire, BitWriter& w) const override;
  void decode(BitReader& r, int d, const WireFormat& wire, Compressed& out) const override;
  CompressorClass klass() const override { return CompressorClass::kUnbiased; }
  double delta(int d) const override;
  double flops(int d) const override { return cost::per_coordinate(d, cost::kTernGradFlops); }
  bool deterministic() const override { return false; }
  std::string label() const override { return "terngrad"; }
};

// The induced compressor of Horváth & Richtárik (ICLR 2021, Theorem 3):
// C(x) = C1(x) + C2(x - C1(x)) for a contractive C1 (delta_1 = 1/alpha_1) and an unbiased C2;
// unbiased with delta = delta_2 (1 - 1/delta_1) + 1/delta_1. Wire: C1's message, then C2's.
class Induced final : public Compressor {
 public:
  Induced(std::unique_ptr<Compressor> c1, std::unique_ptr<Compressor> c2);
  void compress(const Vector& x, Rng& rng, const WireFormat& wire, Compressed& out) const override;
  void encode(const Compressed& c, const WireFormat& wire, BitWriter& w) const override;
  void decode(BitReader& r, int d, const WireFormat& wire, Compressed& out) const override;
  CompressorClass klass() const override { return CompressorClass::kUnbiased; }
  double delta(int d) const override;
  double flops(int d) const override;
  double decode_flops(int d, std::int64_t values) const override;
  bool deterministic() const override { return false; }
  std::string label() const override;

 private:
  std::unique_ptr<Compressor> c1_, c2_;
};

// C(x)_j = w_j x_j with fixed weights w_j in [0, 1] (a fixed coordinate mask when w is 0/1):
// deterministic, positively homogeneous and additive -- the class of Theorem 1 of the EF21
// paper (EF and EF21 give the same iterates). alpha = 1 - max_j (1 - w_j)^2. For tests.
class Diagonal final : public Compressor {
 public:
  explicit Diagonal(Vector weights);
  void compress(const Vector& x, Rng& rng, const WireFormat& wire, Compressed& out) const override;
  CompressorClass klass() const override { return CompressorClass::kContractive; }
  double alpha(int d) const override;
  double flops(int d) const override { return static_cast<double>(d); }
  bool deterministic() const override { return true; }
  std::string label() const override { return "diagonal"; }

 private:
  Vector w_;
};

}  // namespace efsim::alg
