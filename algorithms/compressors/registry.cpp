// The induced compressor, and the registry: what a scenario can name, with its constant.
#include <algorithm>
#include <cmath>

#include "algorithms/compressors/compressor.hpp"
#include "algorithms/core/cost.hpp"
#include "algorithms/core/error.hpp"

namespace efsim::alg {

// ---- Induced compressor (Horváth & Richtárik, ICLR 2021, Theorem 3) ----

Induced::Induced(std::unique_ptr<Compressor> c1, std::unique_ptr<Compressor> c2)
    : c1_(std::move(c1)), c2_(std::move(c2)) {}

void Induced::compress(const Vector& x, Rng& rng, const WireFormat& wire, Compressed& out) const {
  Compressed first, second;
  c1_->compress(x, rng, wire, first);
  roundtrip(*c1_, wire, first);  // the residual is taken against what the receiver gets
  Vector residual = x;
  first.add_to(residual, -1.0);
  c2_->compress(residual, rng, wire, second);
  roundtrip(*c2_, wire, second);
  out = sum(first, second);
  out.parts = {std::move(first), std::move(second)};
}

void Induced::encode(const Compressed& c, const WireFormat& wire, BitWriter& w) const {
  c1_->encode(c.parts.at(0), wire, w);
  c2_->encode(c.parts.at(1), wire, w);
}

void Induced::decode(BitReader& r, int d, const WireFormat& wire, Compressed& out) const {
  Compressed first, second;
  c1_->decode(r, d, wire, first);
  c2_->decode(r, d, wire, second);
  out = sum(first, second);
  out.parts = {std::move(first), std::move(second)};
}

double Induced::delta(int d) const {
  const double inv_delta1 = c1_->alpha(d);  // delta_1 = 1 / alpha_1
  return c2_->delta(d) * (1.0 - inv_delta1) + inv_delta1;
}

double Induced::flops(int d) const {  // both parts compressed and round-tripped, the residual
  return c1_->flops(d) + c2_->flops(d) + decode_flops(d, 0) + 2.0 * d;
}

double Induced::decode_flops(int d, std::int64_t values) const {
  return c1_->decode_flops(d, 0) + c2_->decode_flops(d, 0) + cost::codec(values);
}

std::string Induced::label() const { return "induced_" + c1_->label() + "+" + c2_->label(); }

namespace {

void check_k(const CompressorSpec& spec, int d) {
  if (spec.k < 1 || spec.k > d)
    throw InputError("compressor " + spec.kind + ": k = " + std::to_string(spec.k) +
                     " must be in 1.." + std::to_string(d) + " (d)");
}

void check_s(const CompressorSpec& spec) {
  if (spec.s < 1 || spec.s > 62)
    throw InputError("compressor " + spec.kind + ": s = " + std::to_string(spec.s) +
                     " must be in 1..62");
}

bool natural_values(const CompressorSpec& spec) {
  if (spec.values.empty()) return false;
  if (spec.values == "natural") return true;
  throw InputError("compressor " + spec.kind + ": values '" + spec.values +
                   "' is not one of: natural");
}

}  // namespace

std::string CompressorSpec::label() const {
  if (kind == "induced" && c1 && c2) return "induced_" + c1->label() + "+" + c2->label();
  std::string out = kind;
  if (k > 0) out += std::to_string(k);
  if (s > 0) out += std::to_string(s);
  if (coding == "elias") out += "e";
  if (!values.empty()) out += "_" + values;
  return out;
}

// ---- Registry ----

namespace {

CompressorParam param(std::string name, ParamType type, bool required, std::string help) {
  CompressorParam p;
  p.name = std::move(name);
  p.type = type;
  p.required = required;
  p.help = std::move(help);
  return p;
}

CompressorParam k_param(std::string help) {
  CompressorParam p = param(std::string(1, 'k'), ParamType::kInteger, true, std::move(help));
  p.integer = &CompressorSpec::k;
  return p;
}

CompressorParam s_param() {
  CompressorParam p =
      param(std::string(1, 's'), ParamType::kInteger, true, "quantization levels, 1..62");
  p.integer = &CompressorSpec::s;
  return p;
}

CompressorParam choice_param(std::string name, std::vector<std::string> choices, std::string help) {
  CompressorParam p = param(std::move(name), ParamType::kChoice, false, std::move(help));
  p.choices = std::move(choices);
  p.text = p.name == "coding" ? &CompressorSpec::coding : &CompressorSpec::values;
  return p;
}

CompressorParam values_param() {
  return choice_param("values", {"none", "natural"},
                      "natural: natural compression of the kept values (default none)");
}

CompressorParam sub_param(std::string name, std::string help) {
  CompressorParam p = param(std::move(name), ParamType::kCompressor, true, std::move(help));
  p.sub = p.name == "c1" ? &CompressorSpec::c1 : &CompressorSpec::c2;
  return p;
}

}  // namespace

const std::vector<CompressorInfo>& compressor_registry() {
  using C = CompressorClass;
  using P = std::vector<CompressorParam>;
  static const std::vector<CompressorInfo> registry = {
      {"identity",
       {},
       C::kContractive,
       "alpha = 1",
       "no compression; dense values",
       [](const CompressorSpec&, int) -> std::unique_ptr<Compressor> {
         return std::make_unique<Identity>();
       }},
      {"top_k", P{k_param("entries kept, 1..d"), values_param()}, C::kContractive,
       "alpha = k/d (values: natural -> 7/8 k/d)",
       "the k largest |x_j|, ties to the smaller index; sparse (index, value); values: natural "
       "sends 9-bit natural-compressed values",
       [](const CompressorSpec& spec, int d) -> std::unique_ptr<Compressor> {
         return check_k(spec, d), std::make_unique<TopK>(spec.k, natural_values(spec));
       }},
      {"rand_k", P{k_param("entries kept, 1..d"), values_param()}, C::kContractive,
       "alpha = k/d (values: natural -> 7/8 k/d)",
       "k uniform coordinates, unscaled; only a 64-bit seed and the k values travel",
       [](const CompressorSpec& spec, int d) -> std::unique_ptr<Compressor> {
         return check_k(spec, d), std::make_unique<RandK>(spec.k, false, natural_values(spec));
       }},
      {"rand_k_unbiased", P{k_param("entries kept, 1..d"), values_param()}, C::kUnbiased,
       "delta = d/k (values: natural -> 9/8 d/k)",
       "k uniform coordinates scaled by d/k (Horvath & Richtarik); seed + k values",
       [](const CompressorSpec& spec, int d) -> std::unique_ptr<Compressor> {
         return check_k(spec, d), std::make_unique<RandK>(spec.k, true, natural_values(spec));
       }},
      {"wangni", P{k_param("expected entries kept, 1..d")}, C::kUnbiased, "delta = 1 + d/k",
       "gradient sparsification (Wangni et al. 2018): keep x_j w.p. min(1, lambda|x_j|), "
       "expected k kept, rescaled; sparse (index, value)",
       [](const CompressorSpec& spec, int d) -> std::unique_ptr<Compressor> {
         return check_k(spec, d), std::make_unique<Wangni>(spec.k);
       }},
      {"nu_rand_k", P{k_param("draws, 1..d")}, C::kUnbiased, "delta = 1 + (d-1)/k",
       "k draws of j w.p. |x_j|/||x||_1 (NU Rand-1 of Horvath & Richtarik for k = 1); ||x||_1 + k "
       "(index, sign)",
       [](const CompressorSpec& spec, int d) -> std::unique_ptr<Compressor> {
         return check_k(spec, d), std::make_unique<NuRandK>(spec.k);
       }},
      {"scaled_sign",
       {},
       C::kContractive,
       "alpha = 1/d",
       "(||x||_1/d) sign(x) (Karimireddy et al. 2019); one scale + d sign bits",
       [](const CompressorSpec&, int) -> std::unique_ptr<Compressor> {
         return std::make_unique<ScaledSign>();
       }},
      {"natural",
       {},
       C::kUnbiased,
       "delta = 9/8",
       "natural compression (Horvath et al. 2019): unbiased rounding to a power of two; 9 bits a "
       "value",
       [](const CompressorSpec&, int) -> std::unique_ptr<Compressor> {
         return std::make_unique<Natural>();
       }},
      {"natural_dithering", P{s_param()}, C::kUnbiased,
       "delta = 9/8 + min(sqrt(d)/2^(s-1), d/4^(s-1))",
       "levels 2^(t-s) of ||x||_2 (Horvath et al. 2019); norm + sign + ceil(log2(s+1)) bits each",
       [](const CompressorSpec& spec, int) -> std::unique_ptr<Compressor> {
         return check_s(spec), std::make_unique<NaturalDithering>(spec.s);
       }},
      {"qsgd",
       P{s_param(), choice_param("coding", {"fixed", "elias"},
                                 "fixed: sign + level bits; elias: Elias-gamma levels")},
       C::kUnbiased, "delta = 1 + min(d/s^2, sqrt(d)/s)",
       "QSGD with s levels (Alistarh et al. 2017); coding: fixed (sign + level bits) or elias",
       [](const CompressorSpec& spec, int) -> std::unique_ptr<Compressor> {
         check_s(spec);
         if (!spec.coding.empty() && spec.coding != "fixed" && spec.coding != "elias")
           throw InputError("compressor qsgd: coding '" + spec.coding +
                            "' is not one of: fixed, elias");
         return std::make_unique<Qsgd>(spec.s, spec.coding == "elias");
       }},
      {"terngrad",
       {},
       C::kUnbiased,
       "delta = (1 + sqrt(d))/2",
       "TernGrad (Wen et al. 2017): ||x||_inf sign(x_j) Bernoulli(|x_j|/||x||_inf); 2 bits each",
       [](const CompressorSpec&, int) -> std::unique_ptr<Compressor> {
         return std::make_unique<TernGrad>();
       }},
      {"induced",
       P{sub_param("c1", "the contractive compressor C1 (a compressor entry)"),
         sub_param("c2", "the unbiased compressor C2 (a compressor entry)")},
       C::kUnbiased, "delta = delta2 (1 - alpha1) + alpha1",
       "C1(x) + C2(x - C1(x)) for contractive c1 and unbiased c2 (Horvath & Richtarik, Thm 3)",
       [](const CompressorSpec& spec, int d) -> std::unique_ptr<Compressor> {
         if (!spec.c1 || !spec.c2)
           throw InputError("compressor induced: needs c1 (contractive) and c2 (unbiased)");
         auto c1 = make_compressor(*spec.c1, d);
         auto c2 = make_compressor(*spec.c2, d);
         if (c1->klass() != CompressorClass::kContractive || !(c1->alpha(d) > 0))
           throw InputError("compressor induced: c1 (" + c1->label() + ") must be contractive");
         if (c2->klass() != CompressorClass::kUnbiased)
           throw InputError("compressor induced: c2 (" + c2->label() + ") must be unbiased");
         return std::make_unique<Induced>(std::move(c1), std::move(c2));
       }},
  };
  return registry;
}

const CompressorInfo* find_compressor(const std::string& kind) {
  for (const auto& info : compressor_registry())
    if (info.kind == kind) return &info;
  return nullptr;
}

const CompressorParam* CompressorInfo::param(const std::string& name) const {
  for (const auto& p : params)
    if (p.name == name) return &p;
  return nullptr;
}

std::unique_ptr<Compressor> make_compressor(const CompressorSpec& spec, int d) {
  if (const CompressorInfo* info = find_compressor(spec.kind)) return info->make(spec, d);
  std::string kinds;
  for (const auto& info : compressor_registry()) kinds += (kinds.empty() ? "" : ", ") + info.kind;
  throw InputError("unknown compressor kind '" + spec.kind + "' (valid: " + kinds + ")");
}

}  // namespace efsim::alg
