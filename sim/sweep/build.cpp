#include "sim/sweep/build.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "algorithms/core/error.hpp"
#include "algorithms/problems/glm.hpp"
#include "algorithms/problems/quadratic.hpp"
#include "algorithms/problems/softmax.hpp"
#include "platforms/star.hpp"
#include "platforms/topology.hpp"
#include "sim/network/pattern.hpp"
#include "sim/sweep/profiles.hpp"
#include "sim/sweep/recorder.hpp"

namespace efsim::sim {

namespace {

std::string methods_with_missing_upload() {
  std::string out;
  for (const auto& m : alg::method_registry())
    if (!m.missing_upload.empty()) out += (out.empty() ? "" : ", ") + m.name;
  return out;
}

bool setup_dynamic(const ResolvedRun& run) { return run.dynamic_rounds; }

}  // namespace

ProblemSetup build_problem(const Scenario& s) {
  const ProblemSpec& p = s.problem;
  ProblemSetup setup;
  if (p.kind == "beznosikov") {
    setup.problem = alg::make_beznosikov_problem();
  } else if (p.kind == "noisy_quadratic") {
    setup.problem = alg::make_noisy_quadratic_problem(
        p.dim, p.workers, p.sigma,
        p.skewed_noise ? alg::QuadraticObjective::Noise::kSkewed
                       : alg::QuadraticObjective::Noise::kGaussian);
  } else if (p.kind == "multiclass_logistic" || p.kind == "mlp") {
    const std::string dir = p.dataset + "/";
    auto train = std::make_shared<alg::ImageSet>(alg::load_idx(
        dir + "train-images-idx3-ubyte.gz", dir + "train-labels-idx1-ubyte.gz", p.train_samples));
    std::shared_ptr<alg::ImageSet> test;
    if (p.test)
      test = std::make_shared<alg::ImageSet>(
          alg::load_idx(dir + "t10k-images-idx3-ubyte.gz", dir + "t10k-labels-idx1-ubyte.gz"));
    alg::SoftmaxSpec spec;
    spec.lambda = p.lambda;
    spec.split_by_label = p.split_by_label;
    spec.seed = s.seed;
    spec.hidden = p.hidden;
    setup.problem = std::make_shared<alg::SoftmaxProblem>(train, test, p.workers, spec);
    if (p.x0_kind == "random")
      setup.x0 = alg::initial_model(train->features(), train->classes, p.hidden, s.seed);
  } else {
    std::shared_ptr<alg::Dataset> data;
    if (p.dataset == "synthetic") {
      data = std::make_shared<alg::Dataset>(alg::make_synthetic(p.synthetic));
    } else {
      std::optional<int> dim;
      if (p.dim > 0) dim = p.dim;
      data = std::make_shared<alg::Dataset>(alg::load_libsvm(p.dataset, dim));
    }
    if (p.workers > data->rows())
      throw InputError(s.path + ": key 'problem.workers': " + std::to_string(p.workers) +
                       " workers but the dataset has only " + std::to_string(data->rows()) +
                       " samples");
    const auto loss = p.kind == "least_squares" ? alg::Loss::kSquares : alg::Loss::kLogistic;
    auto glm = std::make_shared<alg::GlmProblem>(data, p.workers, loss, p.lambda);
    if (!p.test_dataset.empty()) {
      std::optional<int> dim = data->dim();
      glm->set_test(std::make_shared<alg::Dataset>(alg::load_libsvm(p.test_dataset, dim)));
    }
    setup.problem = glm;
  }
  const int d = setup.problem->dim();
  if (p.x0_kind == "random") {
    // set above, with the model
  } else if (p.x0_kind == "zeros") {
    setup.x0 = alg::Vector::Zero(d);
  } else if (p.x0_kind == "constant") {
    setup.x0 = alg::Vector::Constant(d, p.x0_value);
  } else {
    if (static_cast<int>(p.x0_list.size()) != d)
      throw InputError(s.path + ": key 'problem.x0': list has " + std::to_string(p.x0_list.size()) +
                       " values but d = " + std::to_string(d));
    setup.x0 = Eigen::Map<const alg::Vector>(p.x0_list.data(), d);
  }
  setup.L = setup.problem->smoothness();
  setup.L_tilde = setup.problem->smoothness_tilde();
  return setup;
}

ResolvedRun resolve_run(const Scenario& s, const ProblemSetup& setup, const RunSpec& run) {
  (void)s;
  ResolvedRun r;
  r.spec = run;
  const int d = setup.problem->dim();
  try {
    const alg::MethodInfo& info = alg::find_method(run.method);
    r.compressor = alg::make_compressor(run.compressor, d);
    r.alpha = r.compressor->alpha(d);
    alg::check_compressor(info.compressor, *r.compressor, d, "method " + run.method);
    for (const auto& [name, spec] : run.compressor_params) {
      auto c = alg::make_compressor(spec, d);
      alg::check_compressor(alg::find_parameter(name).need, *c, d, "the " + name);
      r.compressor_params[name] = std::move(c);
    }
    if (!run.stepsize.theory)
      r.gamma = run.stepsize.value;
    else if (run.stepsize.pl)
      r.gamma =
          run.stepsize.value * alg::pl_theory_gamma(run.method, *r.compressor, *setup.problem);
    else {
      alg::MethodParams params;
      for (const auto& [name, value] : run.params) params.set(name, value);
      for (const auto& [name, c] : r.compressor_params) params.set_compressor(name, c.get());
      r.gamma =
          run.stepsize.value * alg::theory_gamma(run.method, *r.compressor, *setup.problem, params);
    }
  } catch (const InputError& e) {
    throw InputError(run.origin + ": run '" + run.id + "': " + e.what());
  }
  r.method.name = run.method;
  r.method.gamma = r.gamma;
  r.method.wire = s.wire;
  for (const auto& [name, value] : run.params) r.method.params.set(name, value);
  for (const auto& [name, c] : r.compressor_params) r.method.params.set_compressor(name, c.get());
  r.method.seed = s.seed;
  r.method.participation = run.participation;
  r.stragglers = s.platforms[run.platform].stragglers;
  r.dynamic_rounds = s.platforms[run.platform].dynamics.active();
  const DynamicsSpec& dyn = s.platforms[run.platform].dynamics;
  if (dyn.active()) {
    const alg::MethodInfo& info = alg::find_method(run.method);
    const std::string what = dyn.has_deadline() ? "round_deadline" : "availability";
    const std::string where = dyn.has_deadline() ? dyn.deadline_origin : dyn.entries[0].origin;
    if (info.missing_upload.empty())
      throw InputError(where + ": run '" + run.id + "': method '" + run.method +
                       "' has no paper semantics for a missing upload, so " + what +
                       " cannot apply to it (methods that have: " + methods_with_missing_upload() +
                       ")");
    if (run.pattern != "parameter_server")
      throw InputError(where + ": run '" + run.id + "': " + what +
                       " needs pattern parameter_server");
    if (s.platforms[run.platform].network_model == "ns3")
      throw InputError(where + ": run '" + run.id + "': " + what +
                       " needs a flow network model (simgrid, textbook, cm02), not ns3");
  }
  r.seed = s.seed;
  if (const auto* glm = dynamic_cast<const alg::GlmProblem*>(setup.problem.get())) {
    for (int b : {static_cast<int>(run.param("batch")), static_cast<int>(run.param("batch_init"))})
      if (b > glm->min_rows())
        throw InputError(run.origin + ": run '" + run.id + "': batch " + std::to_string(b) +
                         " exceeds the " + std::to_string(glm->min_rows()) +
                         " rows of the smallest worker");
  }
  return r;
}

alg::MethodInstance instantiate(const ResolvedRun& run, const ProblemSetup& setup) {
  const auto& info = alg::find_method(run.method.name);
  alg::MethodInstance m = info.make(run.method, *setup.problem, *run.compressor, setup.x0);
  if (run.spec.downlink == "model") {
    if (!m.master->send_model())
      throw InputError(run.spec.origin + ": method '" + run.spec.method +
                       "' cannot send the model downlink");
    m.model_downlink = true;
  }
  if (setup_dynamic(run)) {  // workers may miss rounds: whoever takes part gets the model x
    if (!m.master->send_model())
      throw InputError(run.spec.origin + ": method '" + run.spec.method +
                       "' cannot send the model, which deadlines and availability need");
    m.model_downlink = true;
  }
  if (run.stragglers.fraction > 0)
    m.stragglers =
        std::make_shared<alg::Stragglers>(run.stragglers, setup.problem->num_workers(), run.seed);
  return m;
}

std::string platform_xml(const PlatformSpec& p) {
  std::ostringstream os;
  write_platform_xml(os, p);
  return os.str();
}

void write_platform_xml(std::ostream& os, const PlatformSpec& p) {
  if (p.kind == "file") return;
  if (p.network_model == "ns3")  // the single-link-route form SimGrid's ns-3 binding accepts
    os << platforms::topology_xml_ns3(platforms::make_topology(p.topology));
  else if (p.kind == "star")
    os << platforms::star_platform_xml(p.topology);
  else  // streamed: an edge fleet of 10^6 clients is hundreds of MB of XML
    platforms::write_topology_xml(os, platforms::make_topology(p.topology),
                                  peer_pairs(p.topology.workers));
}

std::string platform_summary(const PlatformSpec& p) {
  if (p.kind == "file") return "file " + p.file;
  if (p.kind != "star") return platforms::make_topology(p.topology).description;
  const auto& st = p.topology;
  char buf[256];
  if (st.downlink_bandwidth_Bps > 0) {
    std::snprintf(buf, sizeof buf,
                  "star: %d workers, %g Mbps up / %g Mbps down / %g ms links, master %g Mbps, %g "
                  "Gflop/s workers",
                  st.workers, st.bandwidth_Bps * 8 / 1e6, st.downlink_bandwidth_Bps * 8 / 1e6,
                  st.latency_s * 1e3, st.master_bandwidth_Bps * 8 / 1e6,
                  st.worker_speed_flops / 1e9);
    return buf;
  }
  std::snprintf(buf, sizeof buf,
                "star: %d workers, %g Mbps / %g ms links, master %g Mbps, %g Gflop/s workers",
                st.workers, st.bandwidth_Bps * 8 / 1e6, st.latency_s * 1e3,
                st.master_bandwidth_Bps * 8 / 1e6, st.worker_speed_flops / 1e9);
  return buf;
}

NetworkSetup network_setup(const Scenario& s, const PlatformSpec& p, const std::string& xml_path) {
  NetworkSetup net;
  net.model = p.network_model;
  net.wire = s.wire;
  if (p.kind != "file") {
    net.platform_file = xml_path;
    write_file_atomic(net.platform_file,
                      apply_dynamics(platform_xml(p), p, s.seed,
                                     std::filesystem::path(xml_path).parent_path().string()));
    net.round_deadline_s = p.dynamics.round_deadline_s;
    net.round_quantile = p.dynamics.round_quantile;
    net.availability = p.dynamics.has_availability();
    for (const DynamicsEntry& e : p.dynamics.entries)
      if (e.speed.active()) net.speed_profiles = true;
    if (p.dynamics.has_power()) {
      net.energy = true;
      net.transfer_W = worker_transfer_watts(p);
      for (const WorkerNominal& w : worker_nominals(p)) net.worker_class.push_back(w.worker_class);
    }
    net.master = platforms::master_host_name();
    for (int i = 0; i < s.problem.workers; ++i)
      net.workers.push_back(platforms::worker_host_name(i));
  } else {
    net.round_deadline_s = p.dynamics.round_deadline_s;
    net.round_quantile = p.dynamics.round_quantile;
    net.platform_file = p.file;
    net.master = p.master;
    net.workers = p.workers;
    net.workers_glob = p.workers_glob;
  }
  return net;
}

void check_platform_files(const Scenario& s) {
  for (const PlatformSpec& p : s.platforms) {
    if (p.kind != "file" || p.network_model != "ns3") continue;
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
    std::cout.flush();
    std::cerr.flush();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {  // the check needs a SimGrid engine of its own
      ::close(fds[0]);
      std::string why;
      try {
        (void)load_routes(network_setup(s, p, ""));
      } catch (const std::exception& e) {
        why = e.what();
      }
      const ssize_t written = ::write(fds[1], why.data(), why.size());
      ::_exit(written == static_cast<ssize_t>(why.size()) ? 0 : 1);
    }
    ::close(fds[1]);
    std::string why;
    char buf[4096];
    for (ssize_t got; (got = ::read(fds[0], buf, sizeof buf)) > 0;) why.append(buf, got);
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!why.empty()) throw InputError(p.file_origin + ": key '" + p.file_key + "': " + why);
  }
}

}  // namespace efsim::sim
