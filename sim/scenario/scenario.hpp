// Scenario files: parse, validate and expand a YAML scenario into plain structs
// (algorithms/README.md, invariant 5: config flows one way; unknown keys are errors; every value is
// range-checked with a message naming the file, line and key). The format is documented in
// README.md.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "algorithms/compressors/compressor.hpp"
#include "algorithms/methods/participation.hpp"
#include "algorithms/methods/stragglers.hpp"
#include "algorithms/problems/dataset.hpp"
#include "algorithms/runner/monitor.hpp"
#include "algorithms/wire/codec.hpp"
#include "platforms/star.hpp"
#include "platforms/topology.hpp"
#include "sim/scenario/dynamics.hpp"

namespace efsim::sim {

struct PlatformSpec {
  std::string name;           // with `platforms:` (a list): tags the run ids as <id>@<name>
  std::string kind = "star";  // star | file | tree | ring | torus | fat_tree | dragonfly | edge
  std::string network_model = "simgrid";  // how its links carry bytes (network_model_names())
  // star and the generated kinds (tree | ring | torus | fat_tree | dragonfly | edge): one
  // description; topology.workers = problem.workers
  platforms::TopologySpec topology = platforms::star_spec();
  alg::StragglerSpec stragglers;     // any kind: slow workers (compute time only)
  DynamicsSpec dynamics;             // generated kinds: round_deadline, dynamics, master_power
  std::string file;                  // kind == file: absolute or relative to the scenario's folder
  std::string master;                // kind == file: master host name
  std::vector<std::string> workers;  // kind == file: worker host names, in worker order
  std::string workers_glob;          // kind == file: or a '*' pattern, hosts sorted by name
  std::string file_origin;           // kind == file: "file:line" and key of `file`, for errors
  std::string file_key;
};

struct ProblemSpec {
  std::string kind = "logistic";      // logistic | beznosikov
  std::string dataset = "synthetic";  // "synthetic" or a LIBSVM path (resolved)
  int dim = 0;                        // explicit d for a LIBSVM file (0: from the data);
                                      // noisy_quadratic: d
  double sigma = 1.0;                 // noisy_quadratic: gradient noise
  bool skewed_noise = false;          // noisy_quadratic: gaussian | skewed
  std::string test_dataset;           // logistic/least_squares: a held-out LIBSVM file (resolved)
  int train_samples = 0;              // multiclass_logistic: first N training images (0: all)
  bool test = true;                   // multiclass_logistic: evaluate on the test images
  bool split_by_label = false;        // multiclass_logistic: split | iid
  int hidden = 0;                     // mlp: hidden units (default 512)
  alg::SyntheticSpec synthetic;
  double lambda = 0.1;
  int workers = 10;
  std::string x0_kind = "zeros";  // zeros | constant | list | random (mlp: He initialisation)
  double x0_value = 0.0;
  std::vector<double> x0_list;
};

struct StepsizeSpec {
  bool theory = true;  // gamma = value * the theoretical stepsize (alg::theory_gamma); else value
  double value = 1.0;
  bool tuned = false;  // part of a `tune` grid
  bool pl = false;     // theory: pl -- EF21's Theorem 3 stepsize (needs the PL constant)
};

struct RunSpec {
  std::string id;  // stable, from the resolved parameters
  std::string method;
  alg::CompressorSpec compressor;
  StepsizeSpec stepsize;
  std::string origin;         // "file:line" of the runs entry it came from
  std::string tune_group;     // stepsize tuning: runs of one group compete ("" = not tuned)
  int platform = 0;           // index into Scenario::platforms
  std::string platform_name;  // its name ("" with a single `platform`)
  // The method's own settings (alg::method_parameters()) that the entry gives, by name.
  std::map<std::string, double> params;
  std::map<std::string, alg::CompressorSpec> compressor_params;  // e.g. the quantizer
  // A numeric setting: the entry's value or the table's fallback.
  double param(const std::string& name) const;
  alg::ParticipationSpec participation;      // partial participation (gd, dcgd)
  std::string pattern = "parameter_server";  // how messages travel (sim::pattern_names())
  std::string downlink = "aggregate";        // aggregate | model: what the workers receive
};

struct Scenario {
  std::string path;  // the scenario file
  std::string name;  // `name`, or the file's stem
  std::uint64_t seed = 1;
  std::string network_model = "simgrid";  // the models, comma-separated (each platform has one)
  PlatformSpec platform;                  // the first of `platforms`
  std::vector<PlatformSpec> platforms;    // every run runs on each
  ProblemSpec problem;
  alg::WireFormat wire;
  alg::StopRule stop;
  std::vector<RunSpec> runs;
};

// Reads and validates `path`, applying `overrides` ("key.path=value", value in YAML syntax)
// first. Throws InputError naming file, line and key.
Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides = {});

}  // namespace efsim::sim
