#include "algorithms/methods/params.hpp"

#include <cassert>

namespace efsim::alg {

const std::vector<ParamInfo>& method_parameters() {
  using T = ParamType;
  auto number = [](std::string name, T type, double lo, double hi, bool lo_open, bool hi_open,
                   double fallback, std::string tag, std::string help) {
    ParamInfo p;
    p.name = std::move(name);
    p.type = type;
    p.lo = lo;
    p.hi = hi;
    p.lo_open = lo_open;
    p.hi_open = hi_open;
    p.fallback = fallback;
    p.id_tag = std::move(tag);
    p.help = std::move(help);
    p.in_every_fingerprint = true;
    return p;
  };
  static const std::vector<ParamInfo> table = [&] {
    std::vector<ParamInfo> t = {
        number("batch", T::kInteger, 0, 1e9, false, false, 0, "b",
               "minibatch size of the local stochastic gradients (default 0: full gradients)"),
        number("batch_init", T::kInteger, 1, 1e9, false, false, 0, "bi",
               "minibatch size in round 0, e.g. EF21-SGDM's B_init (default: batch)"),
        number("eta", T::kReal, 0, 1, true, false, 1, "eta",
               "momentum parameter in (0, 1] (default 1: no momentum)"),
        number("beta", T::kReal, 0, 1, false, true, 0, "beta",
               "heavy-ball momentum in [0, 1) (default 0)"),
    };
    ParamInfo q =
        number("quantizer", T::kCompressor, 0, 0, false, false, 0, "q",
               "the shifts' unbiased compressor, a compressor entry, e.g. {kind: natural}");
    q.required = true;
    q.need = CompressorNeed::kUnbiased;
    t.push_back(q);
    t.push_back(number("alpha", T::kReal, 0, 1, true, false, 0, "a",
                       "shift stepsize in (0, 1] (default 1/delta_Q = 1/(omega + 1))"));
    t.push_back(number("lsvrg_p", T::kReal, 0, 1, true, false, 0, "p",
                       "L-SVRG reference-point probability in (0, 1] (default batch / N_i)"));
    t[2].id_always = true;  // eta: part of every id of a method that takes it
    // Settings added after 0.2.0: in the fingerprints of the methods that take them only.
    ParamInfo local = number("local_steps", T::kInteger, 1, 1e6, false, false, 1, "ls",
                             "local steps tau between communications (default 1: (S)GD)");
    local.in_every_fingerprint = false;
    t.push_back(local);
    ParamInfo marina = number("marina_p", T::kReal, 0, 1, true, false, 0, "mp",
                              "MARINA's probability of a full-gradient round, in (0, 1] "
                              "(default 1/(omega + 1), i.e. K/d for rand_k_unbiased)");
    marina.in_every_fingerprint = false;
    t.push_back(marina);
    ParamInfo clients = number("pp_clients", T::kInteger, 1, 1e6, false, false, 0, "pc",
                               "PP-MARINA's clients per compressed round r, 1..n (required); "
                               "r = n is MARINA");
    clients.in_every_fingerprint = false;
    clients.required = true;
    clients.id_always = true;
    clients.at_most_workers = true;
    t.push_back(clients);
    ParamInfo eta_g = number("eta_g", T::kReal, 0, 1e6, true, false, 1, "eg",
                             "SCAFFOLD's global stepsize eta_g > 0 (default 1); gamma is the "
                             "local stepsize eta_l");
    eta_g.in_every_fingerprint = false;
    t.push_back(eta_g);
    ParamInfo econtrol = number("econtrol_eta", T::kReal, 0, 1, false, false, 0, "ee",
                                "EControl's error-control parameter eta in [0, 1] (required; "
                                "0 is EF21, 1 feeds the whole error back)");
    econtrol.in_every_fingerprint = false;
    econtrol.required = true;
    econtrol.id_always = true;
    t.push_back(econtrol);
    ParamInfo rank = number("rank", T::kInteger, 1, 1e6, false, false, 2, "r",
                            "PowerSGD's rank r (default 2; at most min(rows, cols) of a matrix)");
    rank.in_every_fingerprint = false;
    rank.id_always = true;  // the rank is part of every PowerSGD run id
    t.push_back(rank);
    ParamInfo nesterov = number("nesterov", T::kReal, 0, 1, true, true, 0, "nm",
                                "PowerSGD's momentum lambda in (0, 1): Algorithm 2's m <- lambda m "
                                "+ Δ', x <- x - gamma (Δ' + m) (default: no momentum)");
    nesterov.in_every_fingerprint = false;
    nesterov.fingerprint_if_set = true;  // powersgd's results before it keep their fingerprints
    t.push_back(nesterov);
    ParamInfo zeta =
        number("zeta", T::kReal, 0, 1e12, false, false, 0, "z",
               "lazy-aggregation trigger zeta >= 0: worker i uploads only if ||grad f_i(x^{t+1}) "
               "- g_i||^2 > zeta ||grad f_i(x^{t+1}) - grad f_i(x^t)||^2 (0: always; required)");
    zeta.in_every_fingerprint = false;
    zeta.required = true;
    zeta.id_always = true;
    t.push_back(zeta);
    ParamInfo window = number("lag_window", T::kInteger, 1, 1e6, false, false, 10, "lw",
                              "LAG-WK's window D of past model differences (default 10)");
    window.in_every_fingerprint = false;
    t.push_back(window);
    ParamInfo xi = number("lag_xi", T::kReal, 0, 1e12, false, false, 1, "lx",
                          "LAG-WK's trigger weight xi >= 0, xi_d = xi / D (default 1, the "
                          "authors' xi_d = 1/D; 0: always upload)");
    xi.in_every_fingerprint = false;
    t.push_back(xi);
    ParamInfo down = number("downlink_compressor", T::kCompressor, 0, 0, false, false, 0, "dc",
                            "the master's contractive downlink compressor C_down, a compressor "
                            "entry like `compressor`, e.g. {kind: top_k, k: 100} (required)");
    down.in_every_fingerprint = false;
    down.required = true;
    down.need = CompressorNeed::kContractive;
    t.push_back(down);
    return t;
  }();
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
