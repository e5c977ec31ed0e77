#include "fuzz/targets.hpp"

#include <unistd.h>

#include <fstream>
#include <stdexcept>

#include "algorithms/compressors/compressor.hpp"
#include "algorithms/core/error.hpp"
#include "algorithms/problems/dataset.hpp"
#include "algorithms/problems/images.hpp"
#include "algorithms/wire/codec.hpp"
#include "compressor_examples.hpp"
#include "sim/scenario/scenario.hpp"

namespace efsim::fuzz {

namespace {

// The bytes as a file this process owns (the readers take paths).
std::string to_file(const std::string& tag, const std::uint8_t* data, std::size_t size) {
  const std::string path = "/tmp/efsim-fuzz-" + std::to_string(::getpid()) + "-" + tag;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

}  // namespace

int libsvm(const std::uint8_t* data, std::size_t size) {
  const std::string path = to_file("libsvm", data, size);
  try {
    const alg::Dataset d = alg::load_libsvm(path);
    (void)d.A.nonZeros();
  } catch (const InputError&) {
  }
  ::unlink(path.c_str());
  return 0;
}

int idx(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t split = std::min<std::size_t>(size - 2, (std::size_t{data[0]} << 8) | data[1]);
  const std::string images = to_file("images", data + 2, split);
  const std::string labels = to_file("labels", data + 2 + split, size - 2 - split);
  try {
    const alg::ImageSet s = alg::load_idx(images, labels, 64);
    (void)s.rows();
  } catch (const InputError&) {
  }
  ::unlink(images.c_str());
  ::unlink(labels.c_str());
  return 0;
}

int scenario(const std::uint8_t* data, std::size_t size) {
  const std::string path = to_file("scenario.yaml", data, size);
  try {
    (void)sim::load_scenario(path);
  } catch (const InputError&) {
  }
  ::unlink(path.c_str());
  return 0;
}

int decoders(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const auto& kinds = alg::compressor_registry();
  const std::string kind = kinds[data[0] % kinds.size()].kind;
  const int d = 1 + data[1] % 200;
  alg::WireFormat wire;
  wire.value_bits = data[2] % 3 == 0 ? 16 : data[2] % 3 == 1 ? 32 : 64;
  const alg::Message m{alg::Bytes(data + 3, data + size)};
  alg::Compressed out;
  try {
    const auto C = alg::make_compressor(test::example_spec(kind, d, 0.25, 4), d);
    alg::BitReader r(m);
    C->decode(r, d, wire, out);
  } catch (const InputError&) {
  } catch (const std::out_of_range&) {
  }
  try {
    alg::BitReader r(m);
    alg::decode(r, d, wire, out);
  } catch (const InputError&) {
  } catch (const std::out_of_range&) {
  }
  return 0;
}

const std::vector<NamedTarget>& targets() {
  static const std::vector<NamedTarget> all = {
      {"libsvm", libsvm}, {"idx", idx}, {"scenario", scenario}, {"decoders", decoders}};
  return all;
}

}  // namespace efsim::fuzz
