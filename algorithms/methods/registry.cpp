// The methods a scenario can name: one line each.
#include <algorithm>
#include <cmath>

#include "algorithms/core/error.hpp"
#include "algorithms/methods/method.hpp"

namespace efsim::alg {

// The methods' factories and theory stepsizes, defined in their own files.
using Maker = MethodInstance(const MethodSpec&, const Problem&, const Compressor&, const Vector&);
using TheoryGamma = double(const std::string&, const Compressor&, const Problem&,
                           const MethodParams&);
Maker make_diana, make_ec_sgd_diana, make_ec_lsvrg_diana, make_dcgd, make_ef, make_ef21,
    make_ef21_plus, make_ef21_sgdm, make_ef21_sgd2m, make_ef21_sgd_ideal, make_ef21_sgdm_ideal,
    make_local_sgd, make_marina, make_econtrol, make_powersgd, make_scaffold, make_pp_marina,
    make_clag, make_ef21_bc, make_ef21_p_dcgd, make_ef21_p_diana;
TheoryGamma marina_theory_gamma, lazy_theory_gamma, ef21_p_diana_theory_gamma;

namespace {

// The contractive rule (EF21 paper, Theorem 2) with C's alpha; an unbiased C with delta < 2 is
// contractive with alpha = 2 - delta. Throws the reason when C is not contractive.
double contractive_gamma(const std::string& method, const Compressor& C, const Problem& p) {
  if (!std::isfinite(p.smoothness()))
    throw InputError("no smoothness constant is known for " + p.describe() +
                     ", so no theoretical stepsize; give an absolute one: stepsize: {gamma: ...}");
  check_compressor(CompressorNeed::kContractive, C, p.dim(), "method " + method);
  return ef21_theory_gamma(p.smoothness(), p.smoothness_tilde(), C.alpha(p.dim()));
}

// DCGD: DCSGD's rule for an unbiased C (Horváth & Richtárik, Theorem 4), else the contractive one.
double dcgd_gamma(const std::string& method, const Compressor& C, const Problem& p) {
  if (C.klass() == CompressorClass::kUnbiased)
    return dcsgd_theory_gamma(p.smoothness(), C.delta(p.dim()), p.num_workers());
  return contractive_gamma(method, C, p);
}

// EF21's Theorem 3 (and EF21+'s Theorem 4): gamma = min{(L + L̃ sqrt(2 beta/theta))^-1,
// theta / (2 mu)}.
double ef21_pl_gamma(const std::string& method, const Compressor& C, const Problem& p) {
  const double mu = p.pl_constant();
  if (!std::isfinite(mu))
    throw InputError(
        "theory: pl needs the PL constant mu, which is known for least squares (lambda = 0, "
        "d <= 2000) and quadratics only; " +
        p.describe() + " has none");
  const double alpha = C.alpha(p.dim());
  if (!(alpha > 0.0)) return contractive_gamma(method, C, p);  // throws the reason
  const double root = std::sqrt(1.0 - alpha), theta = 1.0 - root,
               beta = (1.0 - alpha) / (1.0 - root);
  return std::min(1.0 / (p.smoothness() + p.smoothness_tilde() * std::sqrt(2.0 * beta / theta)),
                  theta / (2.0 * mu));
}

MethodInfo method(
    std::string name, std::string summary, CompressorNeed need, std::vector<std::string> params,
    MethodInstance (*make)(const MethodSpec&, const Problem&, const Compressor&, const Vector&),
    double (*theory)(const std::string&, const Compressor&, const Problem&) = contractive_gamma) {
  MethodInfo m;
  m.name = std::move(name);
  m.summary = std::move(summary);
  m.compressor = need;
  m.params = {"batch", "batch_init"};  // every method takes stochastic gradients
  m.params.insert(m.params.end(), params.begin(), params.end());
  m.make = make;
  m.theory = theory;
  return m;
}

}  // namespace

const std::vector<MethodInfo>& method_registry() {
  using N = CompressorNeed;
  static const std::vector<MethodInfo> registry = [] {
    std::vector<MethodInfo> r = {
        method("gd", "distributed gradient descent (compressor must be identity)", N::kIdentity,
               {"beta"}, make_dcgd),
        method("dcgd", "compressed (S)GD, no error feedback (Horvath & Richtarik, Alg. 1)", N::kAny,
               {"beta"}, make_dcgd, dcgd_gamma),
        method("ef", "error feedback EF14 (Horvath & Richtarik, Alg. 2; EF14-SGD with batch)",
               N::kContractive, {"beta"}, make_ef),
        method("ef21", "EF21 (Richtarik, Sokolov, Fatkhullin 2021, Alg. 2; EF21-SGD with batch)",
               N::kContractive, {}, make_ef21),
        method("ef21_plus", "EF21+ (best of C and EF21's Markov compressor)", N::kContractive, {},
               make_ef21_plus),
        method("ef21_sgdm", "EF21-SGDM (Fatkhullin, Tyurin, Richtarik 2023, Alg. 1)",
               N::kContractive, {"eta"}, make_ef21_sgdm),
        method("ef21_sgd2m", "EF21-SGD2M: double momentum before compression (same paper)",
               N::kContractive, {"eta"}, make_ef21_sgd2m),
        method("ef21_sgd_ideal",
               "EF21-SGD-ideal: g_i = grad f_i + C(sto. grad - grad f_i) (study only)",
               N::kContractive, {}, make_ef21_sgd_ideal),
        method("ef21_sgdm_ideal", "EF21-SGDM-ideal: momentum-damped noise (study only)",
               N::kContractive, {"eta"}, make_ef21_sgdm_ideal),
        method("diana", "DIANA: shifts h_i learn grad f_i(x*) (Mishchenko et al. 2019)",
               N::kUnbiased, {"alpha"}, make_diana, nullptr),
        method("ec_sgd_diana", "EC-SGD-DIANA: error feedback + DIANA shifts (Gorbunov et al. 2020)",
               N::kContractive, {"quantizer", "alpha"}, make_ec_sgd_diana, nullptr),
        method("ec_lsvrg_diana",
               "EC-LSVRG-DIANA: EC-SGD-DIANA with L-SVRG gradients (Gorbunov et al. 2020)",
               N::kContractive, {"quantizer", "alpha", "lsvrg_p"}, make_ec_lsvrg_diana, nullptr),
        method("local_sgd",
               "local SGD / FedAvg, every client: tau local steps, then the averaged model "
               "difference, optionally compressed (Stich 2019, Alg. 1; McMahan et al. 2017)",
               N::kAny, {"local_steps"}, make_local_sgd, nullptr),
        method("marina",
               "MARINA: compressed gradient differences, full gradients with probability p "
               "(Gorbunov et al. 2021, Alg. 1; VR-MARINA with batch)",
               N::kUnbiased, {"marina_p"}, make_marina, nullptr),
        method("pp_marina",
               "PP-MARINA: MARINA with partial participation, r = pp_clients of the n workers "
               "upload in compressed rounds (Gorbunov et al. 2021, Alg. 4)",
               N::kUnbiased, {"marina_p", "pp_clients"}, make_pp_marina, nullptr),
        method("econtrol",
               "EControl: one message C(eta e_i + g_i - h_i) feeds the error e_i and the "
               "estimator h_i (Gao, Islamov, Stich 2024, Alg. 1; eta = 0 is EF21)",
               N::kContractive, {"econtrol_eta"}, make_econtrol, nullptr),
        method("scaffold",
               "SCAFFOLD, every client: tau local steps corrected by control variates, then "
               "(Delta y_i, Delta c_i), optionally compressed (Karimireddy et al. 2020, Alg. 1, "
               "option II)",
               N::kAny, {"local_steps", "eta_g"}, make_scaffold, nullptr),
        method("powersgd",
               "PowerSGD: rank-r factors P, Q of the error-corrected gradient by one warm-started "
               "power iteration, all-reduced (Vogels, Karimireddy, Jaggi 2019, Alg. 1 and 2)",
               N::kAny, {"rank", "nesterov"}, make_powersgd, nullptr),
        method("ef21_bc",
               "EF21-BC: EF21 both ways, the master compresses g~ - g with downlink_compressor "
               "(Fatkhullin et al. 2021, EF21 with Bells & Whistles)",
               N::kContractive, {"downlink_compressor"}, make_ef21_bc, nullptr),
        method("ef21_p_dcgd",
               "EF21-P + DCGD: the master sends C_down(x - w), workers compute at w (Gruntkowska, "
               "Tyurin, Richtarik, ICML 2023)",
               N::kAny, {"downlink_compressor"}, make_ef21_p_dcgd, nullptr),
        method("ef21_p_diana", "EF21-P + DIANA: EF21-P downlink, DIANA shifts uplink (same paper)",
               N::kUnbiased, {"downlink_compressor", "alpha"}, make_ef21_p_diana, nullptr),
        method("clag",
               "CLAG: EF21 that uploads only when ||grad - g_i||^2 > zeta ||grad - prev grad||^2 "
               "(Richtarik et al., 3PC, ICML 2022)",
               N::kContractive, {"zeta"}, make_clag, nullptr),
        method("lag",
               "LAG: lazily aggregated exact gradients, CLAG with the identity (Chen et al. 2018; "
               "3PC form)",
               N::kIdentity, {"zeta"}, make_clag, nullptr),
        method("lag_wk",
               "LAG-WK: LAG with the original worker-side trigger over the last D model "
               "differences (Chen, Giannakis, Sun, Yin, NeurIPS 2018)",
               N::kIdentity, {"lag_window", "lag_xi"}, make_clag, nullptr),
    };
    for (auto& m : r) {
      // Partial participation: DCGD and GD (Horváth & Richtárik, §4.2), EF21-PP (EF21 with
      // Bells & Whistles) and DIANA with its shifts unchanged outside the sampled set.
      m.partial_participation =
          m.name == "gd" || m.name == "dcgd" || m.name == "ef21" || m.name == "diana";
      // Populations (materialize: sampled): GD and DCGD workers carry only their random stream
      // between rounds, EF21-PP's and DIANA's also g_i / h_i, kept compactly (ClientStates).
      m.population = m.partial_participation;
      // The EC-*-DIANA workers keep shifts the model alone cannot restore.
      // So do SCAFFOLD's (c_i, and the replica of c).
      // PowerSGD's workers keep the warm-start Q and P^ between its two rounds.
      // EF21-P and EF21-BC compress their own downlink.
      m.model_downlink = !m.takes("quantizer") && !m.takes("downlink_compressor") &&
                         m.name != "scaffold" && m.name != "powersgd";
      m.own_compression = m.summable_uploads = m.name == "powersgd";
      // PP-MARINA's workers outside I'_k send nothing in compressed rounds.
      m.skips_uploads = m.takes("zeta") || m.takes("lag_window") || m.name == "pp_marina";
      if (m.takes("zeta")) m.param_theory = lazy_theory_gamma;
      // MARINA's Theorem 2.1 and PP-MARINA's Theorem 4.1 with the run's marina_p and pp_clients.
      if (m.takes("marina_p")) m.param_theory = marina_theory_gamma;
      if (m.name == "gd" || m.name == "dcgd")
        m.missing_upload =
            "partial participation with the realised set S: the master averages the uploads that "
            "arrived, x <- x - gamma (1/|S|) sum_{i in S} C(grad f_i) (Horvath & Richtarik, "
            "ICLR 2021, sec. 4.2, with S the workers that made it)";
      else if (m.name == "ef21")
        m.missing_upload =
            "EF21-PP (Fatkhullin et al., EF21 with Bells & Whistles, 2021, Alg. EF21-PP): a "
            "missing worker keeps its stale g_i, g <- g + (1/n) sum_{i in S} c_i";
      else if (m.name == "diana")
        m.missing_upload =
            "shifts unchanged: a missing worker keeps h_i (its contribution is h_i, as if "
            "Delta_i = 0); x <- x - gamma (h + (1/n) sum_{i in S} Delta_i), h <- h + alpha "
            "(1/n) sum_{i in S} Delta_i";
      // EF21-P + DIANA: the EF21-P paper's Theorem F.2 (convex f_i).
      if (m.name == "ef21_p_diana") {
        m.param_theory = ef21_p_diana_theory_gamma;
        m.theory_scope = "convex problems";
      }
      // EF21's Theorem 3 and EF21+'s Theorem 4 (PL); GD is EF21 with the identity.
      if (m.name == "gd" || m.name == "ef21" || m.name == "ef21_plus") m.pl_theory = ef21_pl_gamma;
    }
    return r;
  }();
  return registry;
}

bool MethodInfo::takes(const std::string& param) const {
  return std::find(params.begin(), params.end(), param) != params.end();
}

const MethodInfo& find_method(const std::string& name) {
  std::string names;
  for (const auto& info : method_registry()) {
    if (info.name == name) return info;
    names += (names.empty() ? "" : ", ") + info.name;
  }
  throw InputError("unknown method '" + name + "' (valid: " + names + ")");
}

std::string methods_taking(const std::string& param) {
  std::vector<std::string> names;
  for (const auto& m : method_registry())
    if (m.takes(param)) names.push_back(m.name);
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i)
    out += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + names[i];
  return out;
}

void check_compressor(CompressorNeed need, const Compressor& C, int d, const std::string& what) {
  if (need == CompressorNeed::kUnbiased && C.klass() != CompressorClass::kUnbiased)
    throw InputError(what +
                     " needs an unbiased compressor (natural, qsgd, rand_k_unbiased, ...), "
                     "not " +
                     C.label());
  if (need != CompressorNeed::kContractive || C.alpha(d) > 0.0) return;
  std::string why = C.label() + " is not contractive";
  if (C.klass() == CompressorClass::kUnbiased)
    why = C.label() + " is unbiased with delta = " + std::to_string(C.delta(d)) +
          " >= 2, so not contractive";
  throw InputError(what + " needs a contractive compressor (alpha > 0): " + why +
                   "; use a contractive one (top_k, rand_k, scaled_sign, ...) or dcgd");
}

double dcsgd_theory_gamma(double L, double delta, int n) {
  const double delta_n = (delta - 1.0) / n + 1.0;
  return 1.0 / (2.0 * delta_n * L);
}

double theory_gamma(const std::string& method, const Compressor& C, const Problem& p,
                    const MethodParams& params) {
  const MethodInfo& m = find_method(method);
  if (m.param_theory != nullptr) return m.param_theory(method, C, p, params);
  if (m.theory == nullptr)
    throw InputError(
        "method " + method +
        " has no theoretical stepsize in efsim; give an absolute one: stepsize: {gamma: ...}");
  return m.theory(method, C, p);
}

double pl_theory_gamma(const std::string& method, const Compressor& C, const Problem& p) {
  const MethodInfo& m = find_method(method);
  if (m.pl_theory == nullptr) {
    std::string names;
    for (const auto& info : method_registry())
      if (info.pl_theory != nullptr) names += (names.empty() ? "" : ", ") + info.name;
    throw InputError("theory: pl is EF21's Theorem 3 (and EF21+'s Theorem 4): methods " + names +
                     ", not " + method);
  }
  return m.pl_theory(method, C, p);
}

}  // namespace efsim::alg
