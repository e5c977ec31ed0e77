#include "algorithms/methods/params.hpp"

#include <cassert>

namespace efsim::alg {

namespace {

// A setting's range: [lo, hi], an end excluded when open.
struct Range {
  double lo, hi;
  bool lo_open, hi_open;
};
constexpr Range kAnyCompressor{0, 0, false, false};  // compressor-valued: no numeric range

// What a table row says besides its range and fallback (ParamInfo's flags).
enum Trait : unsigned {
  kRequired = 1u << 0,          // every method that takes it needs it
  kIdAlways = 1u << 1,          // in every run id of a method that takes it
  kAfter020 = 1u << 2,          // added after 0.2.0: in the fingerprints of its methods only
  kFingerprintIfSet = 1u << 3,  // added to a method with results: in its fingerprints if set
  kAtMostWorkers = 1u << 4,     // a count of workers: at most problem.workers
};

ParamInfo row(std::string name, ParamType type, Range range, double fallback, std::string tag,
              unsigned traits, std::string help, CompressorNeed need = CompressorNeed::kAny) {
  ParamInfo p;
  p.name = std::move(name);
  p.type = type;
  p.lo = range.lo;
  p.hi = range.hi;
  p.lo_open = range.lo_open;
  p.hi_open = range.hi_open;
  p.fallback = fallback;
  p.id_tag = std::move(tag);
  p.help = std::move(help);
  p.required = (traits & kRequired) != 0;
  p.id_always = (traits & kIdAlways) != 0;
  p.in_every_fingerprint = (traits & kAfter020) == 0;
  p.fingerprint_if_set = (traits & kFingerprintIfSet) != 0;
  p.at_most_workers = (traits & kAtMostWorkers) != 0;
  p.need = need;
  return p;
}

}  // namespace

const std::vector<ParamInfo>& method_parameters() {
  using T = ParamType;
  using N = CompressorNeed;
  static const std::vector<ParamInfo> table = {
      row("batch", T::kInteger, {0, 1e9, false, false}, 0, "b", 0,
          "minibatch size of the local stochastic gradients (default 0: full gradients)"),
      row("batch_init", T::kInteger, {1, 1e9, false, false}, 0, "bi", 0,
          "minibatch size in round 0, e.g. EF21-SGDM's B_init (default: batch)"),
      row("eta", T::kReal, {0, 1, true, false}, 1, "eta", kIdAlways,
          "momentum parameter in (0, 1] (default 1: no momentum)"),
      row("beta", T::kReal, {0, 1, false, true}, 0, "beta", 0,
          "heavy-ball momentum in [0, 1) (default 0)"),
      row("quantizer", T::kCompressor, kAnyCompressor, 0, "q", kRequired,
          "the shifts' unbiased compressor, a compressor entry, e.g. {kind: natural}",
          N::kUnbiased),
      row("alpha", T::kReal, {0, 1, true, false}, 0, "a", 0,
          "shift stepsize in (0, 1] (default 1/delta_Q = 1/(omega + 1))"),
      row("lsvrg_p", T::kReal, {0, 1, true, false}, 0, "p", 0,
          "L-SVRG reference-point probability in (0, 1] (default batch / N_i)"),
      row("local_steps", T::kInteger, {1, 1e6, false, false}, 1, "ls", kAfter020,
          "local steps tau between communications (default 1: (S)GD)"),
      row("marina_p", T::kReal, {0, 1, true, false}, 0, "mp", kAfter020,
          "MARINA's probability of a full-gradient round, in (0, 1] "
          "(default 1/(omega + 1), i.e. K/d for rand_k_unbiased)"),
      row("pp_clients", T::kInteger, {1, 1e6, false, false}, 0, "pc",
          kAfter020 | kRequired | kIdAlways | kAtMostWorkers,
          "PP-MARINA's clients per compressed round r, 1..n (required); r = n is MARINA"),
      row("eta_g", T::kReal, {0, 1e6, true, false}, 1, "eg", kAfter020,
          "SCAFFOLD's global stepsize eta_g > 0 (default 1); gamma is the local stepsize eta_l"),
      row("econtrol_eta", T::kReal, {0, 1, false, false}, 0, "ee",
          kAfter020 | kRequired | kIdAlways,
          "EControl's error-control parameter eta in [0, 1] (required; 0 is EF21, 1 feeds the "
          "whole error back)"),
      row("rank", T::kInteger, {1, 1e6, false, false}, 2, "r", kAfter020 | kIdAlways,
          "PowerSGD's rank r (default 2; at most min(rows, cols) of a matrix)"),
      // powersgd had results before nesterov: their fingerprints stay as they were.
      row("nesterov", T::kReal, {0, 1, true, true}, 0, "nm", kAfter020 | kFingerprintIfSet,
          "PowerSGD's momentum lambda in (0, 1): Algorithm 2's m <- lambda m + Δ', x <- x - "
          "gamma (Δ' + m) (default: no momentum)"),
      row("zeta", T::kReal, {0, 1e12, false, false}, 0, "z", kAfter020 | kRequired | kIdAlways,
          "lazy-aggregation trigger zeta >= 0: worker i uploads only if ||grad f_i(x^{t+1}) - "
          "g_i||^2 > zeta ||grad f_i(x^{t+1}) - grad f_i(x^t)||^2 (0: always; required)"),
      row("lag_window", T::kInteger, {1, 1e6, false, false}, 10, "lw", kAfter020,
          "LAG-WK's window D of past model differences (default 10)"),
      row("lag_xi", T::kReal, {0, 1e12, false, false}, 1, "lx", kAfter020,
          "LAG-WK's trigger weight xi >= 0, xi_d = xi / D (default 1, the authors' xi_d = 1/D; "
          "0: always upload)"),
      row("downlink_compressor", T::kCompressor, kAnyCompressor, 0, "dc", kAfter020 | kRequired,
          "the master's contractive downlink compressor C_down, a compressor entry like "
          "`compressor`, e.g. {kind: top_k, k: 100} (required)",
          N::kContractive),
  };
  return table;
}

const ParamInfo& find_parameter(const std::string& name) {
  for (const auto& p : method_parameters())
    if (p.name == name) return p;
  assert(false && "unknown method parameter");
  return method_parameters().front();
}

double MethodParams::number(const std::string& name) const {
  const auto it = numbers_.find(name);
  return it != numbers_.end() ? it->second : find_parameter(name).fallback;
}

const Compressor* MethodParams::compressor(const std::string& name) const {
  const auto it = compressors_.find(name);
  return it != compressors_.end() ? it->second : nullptr;
}

}  // namespace efsim::alg
