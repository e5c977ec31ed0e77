// Quantities with units in scenario files, in SimGrid's spelling:
//   bandwidth: "100Mbps" (bits/s), "12.5MBps" (bytes/s); prefixes k M G T (decimal) and
//              Ki Mi Gi Ti (binary); a bare number is bytes/s.
//   latency / time: "1ms", "50us", "2s", "10ns"; a bare number is seconds.
//   speed: "1Gf" (flop/s); a bare number is flop/s; or a device profile's name (below).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace efsim::sim {

enum class Unit { kBandwidthBps, kSeconds, kFlops };

// Returns the value in base units (bytes/s, s, flop/s), or nullopt if the text is not a valid
// positive or zero quantity of that kind. The reason goes to `why`.
std::optional<double> parse_quantity(const std::string& text, Unit unit, std::string* why);

// A named host speed (`worker_speed: phone`): flop-equivalents per second in the cost model's
// unit (algorithms/core/cost.hpp: the reference host runs at 2.8 G/s), and where the figure
// comes from.
struct DeviceProfile {
  std::string name;
  double flops;
  std::string source;
};
const std::vector<DeviceProfile>& device_profiles();

}  // namespace efsim::sim
