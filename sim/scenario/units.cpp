#include "sim/scenario/units.hpp"

#include <cmath>
#include <cstdlib>
#include <map>

namespace efsim::sim {

namespace {

double prefix_factor(const std::string& p, bool* ok) {
  static const std::map<std::string, double> factors = {
      {"", 1.0},         {"k", 1e3},           {"M", 1e6},
      {"G", 1e9},        {"T", 1e12},          {"Ki", 1024.0},
      {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {"Ti", 1099511627776.0}};
  auto it = factors.find(p);
  *ok = it != factors.end();
  return *ok ? it->second : 0.0;
}

}  // namespace

std::optional<double> parse_quantity(const std::string& text, Unit unit, std::string* why) {
  const char* begin = text.c_str();
  char* end = nullptr;
  const double number = std::strtod(begin, &end);
  if (end == begin) {
    *why = "'" + text + "' is not a number";
    return std::nullopt;
  }
  if (!std::isfinite(number) || number < 0) {
    *why = "'" + text + "' must be a finite, non-negative quantity";
    return std::nullopt;
  }
  const std::string suffix(end);
  if (suffix.empty()) return number;
  bool ok = false;
  switch (unit) {
    case Unit::kBandwidthBps: {
      // Longest unit first: "bps" (bits) or "Bps" (bytes).
      for (const auto& [u, scale] : {std::pair<std::string, double>{"bps", 0.125}, {"Bps", 1.0}}) {
        if (suffix.size() >= u.size() &&
            suffix.compare(suffix.size() - u.size(), u.size(), u) == 0) {
          const double f = prefix_factor(suffix.substr(0, suffix.size() - u.size()), &ok);
          if (ok) return number * f * scale;
        }
      }
      *why = "'" + text + "': bandwidth unit must be like 100Mbps (bits/s) or 12.5MBps (bytes/s)";
      return std::nullopt;
    }
    case Unit::kSeconds: {
      static const std::map<std::string, double> units = {
          {"s", 1.0}, {"ms", 1e-3}, {"us", 1e-6}, {"ns", 1e-9}, {"min", 60.0}, {"h", 3600.0}};
      auto it = units.find(suffix);
      if (it != units.end()) return number * it->second;
      *why = "'" + text + "': time unit must be one of s, ms, us, ns, min, h";
      return std::nullopt;
    }
    case Unit::kFlops: {
      if (suffix.back() == 'f') {
        const double f = prefix_factor(suffix.substr(0, suffix.size() - 1), &ok);
        if (ok) return number * f;
      }
      *why = "'" + text + "': speed unit must be like 1Gf (flop/s)";
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace efsim::sim
