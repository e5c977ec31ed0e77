#include "sim/sweep/execute.hpp"

#include <unistd.h>

#include <filesystem>
#include <memory>

#include "algorithms/core/error.hpp"
#include "algorithms/runner/population_runner.hpp"
#include "algorithms/runner/sync_runner.hpp"
#include "platforms/slots.hpp"
#include "platforms/star.hpp"
#include "sim/network/simgrid_runner.hpp"
#include "sim/network/slot_runner.hpp"
#include "sim/network/star_fluid.hpp"

namespace efsim::sim {

namespace fs = std::filesystem;

void execute_run(const Scenario& s, const ProblemSetup& setup, const ResolvedRun& run,
                 const std::string& fingerprint, const std::string& out_dir, int threads) {
  const fs::path final_dir = fs::path(out_dir) / "runs" / run.spec.id;
  const fs::path tmp_dir =
      fs::path(out_dir) / "runs" / (".tmp-" + run.spec.id + "-" + std::to_string(::getpid()));
  fs::remove_all(tmp_dir);
  fs::create_directories(tmp_dir);

  const PlatformSpec& platform = s.platforms[run.spec.platform];
  // A population (participation materialize: sampled) runs on a pool of slot hosts
  // (slot_runner.hpp); network_model analytic without SimGrid (star_fluid.hpp). Neither takes
  // dynamics (the scenario refuses them).
  const bool population = run.spec.participation.sampled_only;
  const bool analytic = platform.network_model == "analytic";
  NetworkSetup net;
  std::unique_ptr<platforms::ClientClasses> classes;
  if (population) {
    classes =
        std::make_unique<platforms::ClientClasses>(platform.topology, setup.problem->num_workers());
    net.model = platform.network_model;
    net.wire = s.wire;
    net.platform_file = (tmp_dir / "platform.xml").string();
    write_file_atomic(net.platform_file, platforms::slots_platform_xml(platform.topology, *classes,
                                                                       run.spec.participation.tau));
  } else {
    net = network_setup(s, platform, (tmp_dir / "platform.xml").string());
    net.pattern = parse_pattern(run.spec.pattern);
    net.threads = threads;
  }

  alg::MethodInstance method = instantiate(run, setup);
  alg::Monitor monitor(*setup.problem, s.stop);
  alg::StopReason reason;
  EnergyReport energy;
  try {
    if (population && analytic) {
      FluidStarClock clock(platform.topology, setup.problem->num_workers());
      reason = alg::run_sync_population(method, monitor, s.seed, &clock);
    } else if (population) {
      reason =
          run_simgrid_slots(net, *classes, run.spec.participation.tau, method, monitor, s.seed);
    } else if (analytic) {
      FluidStarClock clock(platform.topology, setup.problem->num_workers());
      reason = alg::run_sync(method, monitor, s.seed, &clock);
    } else {
      reason = run_simgrid(net, method, monitor, s.seed, &energy);
    }
  } catch (const InputError& e) {
    throw InputError(s.path + ": key 'platform': " + e.what());
  }

  RunRecord rec = run_record(s, setup, run);
  rec.fingerprint = fingerprint;
  rec.stop_reason = alg::to_string(reason);
  const auto& last = monitor.trace().back();
  rec.rounds = last.round;
  rec.sim_time_s = last.sim_time_s;
  rec.final_f = last.f;
  rec.final_grad_norm_sq = last.grad_norm_sq;
  if (net.energy) {
    rec.has_energy = true;
    rec.energy_J = energy.total_J;
    rec.energy_master_J = energy.master_J;
    rec.energy_workers_J = energy.workers_J;
    rec.energy_by_class_J = energy.by_class_J;
  }

  write_file_atomic((tmp_dir / "trace.csv").string(),
                    trace_csv(monitor.trace(), alg::find_method(run.spec.method).skips_uploads,
                              run.dynamic_rounds, net.energy));
  write_file_atomic((tmp_dir / "run.json").string(), run_json(rec));
  fs::remove_all(final_dir);
  fs::rename(tmp_dir, final_dir);
}

RunRecord run_record(const Scenario& s, const ProblemSetup& setup, const ResolvedRun& run) {
  RunRecord rec;
  const PlatformSpec& platform = s.platforms[run.spec.platform];
  rec.id = run.spec.id;
  rec.tune_group = run.spec.tune_group;
  rec.scenario = s.name;
  rec.method = run.spec.method;
  rec.compressor = run.compressor->label();
  rec.delta = run.compressor->delta(setup.problem->dim());
  rec.k = run.spec.compressor.k;
  rec.stepsize = !run.spec.stepsize.theory ? "gamma"
                 : run.spec.stepsize.pl    ? "pl_theory_multiplier"
                                           : "theory_multiplier";
  rec.stepsize_value = run.spec.stepsize.value;
  rec.gamma = run.gamma;
  rec.batch = static_cast<int>(run.spec.param("batch"));
  rec.batch_init = static_cast<int>(run.spec.param("batch_init"));
  rec.eta = run.spec.param("eta");
  rec.beta = run.spec.param("beta");
  rec.f_star = setup.problem->optimal_value();
  rec.alpha = run.alpha;
  rec.L = setup.L;
  rec.L_tilde = setup.L_tilde;
  rec.seed = s.seed;
  rec.network_model = platform.network_model;
  rec.platform = platform_summary(platform);
  rec.platform_name = platform.name;
  rec.problem = setup.problem->describe();
  rec.workers = setup.problem->num_workers();
  rec.dim = setup.problem->dim();
  rec.value_bits = s.wire.value_bits;
  rec.index_bits = s.wire.index_bits_for(rec.dim);
  rec.stop = s.stop;
  return rec;
}

}  // namespace efsim::sim
