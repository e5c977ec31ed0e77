// Number formatting shared by the result files and run ids.
#pragma once

#include <string>

namespace efsim::sim {

// The shortest decimal text that reads back to the same double: integers below 1e15 in plain
// digits, others via "%.<p>g" with the smallest exact p; "nan", "inf", "-inf".
std::string exact(double v);

// A JSON string literal of v (quotes, backslashes and control characters escaped).
std::string json_quote(const std::string& v);

}  // namespace efsim::sim
