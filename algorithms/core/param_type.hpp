// The kinds of value a method or compressor setting takes (methods/params.hpp,
// compressors/compressor.hpp): the scenario parser reads each by its type.
#pragma once

namespace efsim::alg {

enum class ParamType {
  kInteger,    // a whole number
  kReal,       // a real number
  kChoice,     // one of a list of words
  kCompressor  // a compressor entry ({kind: ..., ...})
};

}  // namespace efsim::alg
