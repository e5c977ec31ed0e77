// The settings a method can take besides its compressor and stepsize, described once: the
// scenario parser, the run ids, the resume fingerprints and `efsim methods` are all driven by
// this table and by each method's list of the names it takes (registry.cpp). A new setting is
// one row here; sim/ learns it from the table.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "algorithms/compressors/compressor.hpp"
#include "algorithms/core/param_type.hpp"

namespace efsim::alg {

struct ParamInfo {
  std::string name;  // the key in a `runs` entry
  ParamType type = ParamType::kReal;
  // Allowed values: [lo, hi], with lo (hi) excluded when lo_open (hi_open). Numbers only.
  double lo = 0, hi = 0;
  bool lo_open = false, hi_open = false;
  double fallback = 0;  // the value when the entry does not give one (numbers)
  std::string help;     // one line: meaning, unit, default
  // Run ids: "-<id_tag><value>" when the value differs from `fallback`, or always (for a method
  // that takes the setting) when id_always.
  std::string id_tag;
  bool id_always = false;
  bool required = false;                       // every method that takes it needs it
  CompressorNeed need = CompressorNeed::kAny;  // kCompressor: what the compressor must be
  // Resume fingerprints list the settings of 0.2.0 for every run (their files stay valid);
  // a setting added later appears only in the runs of the methods that take it.
  bool in_every_fingerprint = false;
  // Added to a method that had results before: in its fingerprints only when not the default.
  bool fingerprint_if_set = false;
  bool at_most_workers = false;  // a count of workers: at most problem.workers
};

// Every method setting, in the order of run ids and fingerprints.
const std::vector<ParamInfo>& method_parameters();
const ParamInfo& find_parameter(const std::string& name);  // asserts it exists

// The numeric settings of one run, by name; a missing one has its table fallback.
class MethodParams {
 public:
  double number(const std::string& name) const;
  int integer(const std::string& name) const { return static_cast<int>(number(name)); }
  void set(const std::string& name, double value) { numbers_[name] = value; }
  bool has(const std::string& name) const { return numbers_.count(name) > 0; }

  // Compressor-valued settings, as built objects (owned elsewhere).
  const Compressor* compressor(const std::string& name) const;
  void set_compressor(const std::string& name, const Compressor* c) { compressors_[name] = c; }

 private:
  std::map<std::string, double> numbers_;
  std::map<std::string, const Compressor*> compressors_;
};

}  // namespace efsim::alg
