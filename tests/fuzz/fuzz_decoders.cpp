// libFuzzer entry point of the decoders target (see targets.hpp; ./run.sh fuzz).
#include "fuzz/targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return efsim::fuzz::decoders(data, size);
}
