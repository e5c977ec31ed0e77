// Fuzz targets: untrusted bytes into every reader and decoder. Each returns 0; a crash, a
// sanitizer report or a hang is the failure. Input errors (InputError, std::out_of_range from a
// decoder reading past the message) are the expected outcome for garbage.
//   libsvm:    the bytes as a LIBSVM file
//   idx:       an IDX image file and an IDX label file (the first 2 bytes give the split)
//   scenario:  the bytes as a scenario YAML file (parsed and validated only)
//   decoders:  the bytes as a message for one compressor's decoder and the generic decoder
//              (byte 0 picks the compressor, byte 1 the dimension, byte 2 the value width)
// Built into libFuzzer binaries by tests/fuzz/fuzz_*.cpp (./run.sh fuzz) and replayed over the
// kept inputs of tests/fuzz/corpus/ by the test suite (FuzzRegression).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace efsim::fuzz {

int libsvm(const std::uint8_t* data, std::size_t size);
int idx(const std::uint8_t* data, std::size_t size);
int scenario(const std::uint8_t* data, std::size_t size);
int decoders(const std::uint8_t* data, std::size_t size);

using Target = int (*)(const std::uint8_t*, std::size_t);
struct NamedTarget {
  std::string name;
  Target run;
};
const std::vector<NamedTarget>& targets();

}  // namespace efsim::fuzz
