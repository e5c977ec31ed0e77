// The one error type for bad user input (scenario, dataset, platform, CLI). Thrown anywhere,
// caught once in main, reported with exit code 2. Broken internal invariants assert instead.
#pragma once

#include <stdexcept>
#include <string>

namespace efsim {

class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace efsim
