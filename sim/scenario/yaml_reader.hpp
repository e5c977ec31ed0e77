// Reading YAML scenario files: every value is read through a Reader, whose errors name the file,
// the line and the key (or the --set override that gave the value), with "did you mean" for a
// misspelt key or choice. Exit code 2 comes from the InputError it throws, caught once in main.
#pragma once

#include <yaml-cpp/yaml.h>

#include <set>
#include <string>
#include <vector>

#include "sim/scenario/units.hpp"

namespace efsim::sim {

// ", did you mean 'x'?" for the closest candidate within a third of the word's length (>= 1).
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

// Reads YAML nodes with error messages that name the file, line and key.
class Reader {
 public:
  Reader(std::string file, std::set<std::string> overridden)
      : file_(std::move(file)), overridden_(std::move(overridden)) {}

  [[noreturn]] void fail(const YAML::Node& node, const std::string& key,
                         const std::string& msg) const;

  std::string location(const YAML::Node& node, const std::string& key) const;

  void require_map(const YAML::Node& node, const std::string& key) const;

  void check_keys(const YAML::Node& map, const std::string& path,
                  const std::vector<std::string>& allowed) const;

  static std::string join(const std::string& path, const std::string& key);

  std::string scalar(const YAML::Node& n, const std::string& key) const;

  double number(const YAML::Node& n, const std::string& key, double lo, double hi) const;

  long integer(const YAML::Node& n, const std::string& key, long lo, long hi) const;

  double quantity(const YAML::Node& n, const std::string& key, Unit unit, bool positive) const;

  std::string choice(const YAML::Node& n, const std::string& key,
                     const std::vector<std::string>& valid) const;

  // A scalar or a list of scalars, as a list (the cartesian-product axes of `runs`).
  std::vector<YAML::Node> axis(const YAML::Node& n, const std::string& key) const;

  const std::string& file() const { return file_; }

  static std::string fmt(double v);

 private:
  std::string file_;
  std::set<std::string> overridden_;
};

// Applies "a.b.c=value" (value in YAML syntax) to the tree; returns the key path.
std::string apply_override(YAML::Node& root, const std::string& file, const std::string& text);

}  // namespace efsim::sim
