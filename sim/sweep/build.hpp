// Builders: Scenario (plain structs) -> objects. The dataset is loaded once per sweep; each run
// then resolves its compressor and stepsize against the problem's constants.
#pragma once

#include <map>
#include <memory>
#include <ostream>
#include <string>

#include "algorithms/methods/method.hpp"
#include "sim/network/simgrid_runner.hpp"
#include "sim/scenario/scenario.hpp"

namespace efsim::sim {

struct ProblemSetup {
  std::shared_ptr<const alg::Problem> problem;
  alg::Vector x0;
  double L = 0;        // smoothness of f
  double L_tilde = 0;  // sqrt(mean L_i^2)
};

// Loads or generates the data and splits it over the workers. Throws InputError.
ProblemSetup build_problem(const Scenario& scenario);

struct ResolvedRun {
  RunSpec spec;
  std::unique_ptr<alg::Compressor> compressor;
  // The compressor-valued method settings (e.g. EC-*-DIANA's quantizer), built, by name.
  std::map<std::string, std::unique_ptr<alg::Compressor>> compressor_params;
  double alpha = 1;  // contraction of the compressor at this d
  double gamma = 0;  // resolved stepsize
  alg::MethodSpec method;
  alg::StragglerSpec stragglers;
  bool dynamic_rounds = false;  // a round deadline or worker availability (dynamic_runner.hpp)
  std::uint64_t seed = 1;
};

// Checks the run against the problem (k <= d, theory stepsize needs alpha > 0) and resolves its
// stepsize. Throws InputError naming the run's origin.
ResolvedRun resolve_run(const Scenario& scenario, const ProblemSetup& setup, const RunSpec& run);

// The SimGrid XML of a generated platform, in the form its network model needs ("" for kind:
// file), and one line describing the platform.
std::string platform_xml(const PlatformSpec& p);
// The same, written to `os` as it is generated.
void write_platform_xml(std::ostream& os, const PlatformSpec& p);
std::string platform_summary(const PlatformSpec& p);

// The network of a run on platform p (its model, platform file and hosts); a generated platform's
// XML is written to xml_path.
NetworkSetup network_setup(const Scenario& s, const PlatformSpec& p, const std::string& xml_path);

// A platform file under ns-3 must have the form the binding accepts: checked in a child process
// (one SimGrid engine per process) before any run starts. Throws InputError naming the
// scenario's file, line and key.
void check_platform_files(const Scenario& s);

// Builds the method's master and nodes for a resolved run.
alg::MethodInstance instantiate(const ResolvedRun& run, const ProblemSetup& setup);

}  // namespace efsim::sim
