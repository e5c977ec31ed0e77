#include "sim/text.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace efsim::sim {

std::string exact(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[40];
  if (v == std::floor(v) && std::abs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    if (v == 0 && std::signbit(v)) return "-0";
    return buf;
  }
  // %.Pg with the smallest P that reads back as v; P = the digits of the shortest round-trip
  // scientific form (std::to_chars), so one formatting instead of trying P = 1, 2, ..., 17.
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  int digits = 0;
  for (const char* c = buf; c < r.ptr && *c != 'e'; ++c) digits += *c >= '0' && *c <= '9';
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace efsim::sim
