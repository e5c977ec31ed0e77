#include "algorithms/problems/images.hpp"

#include <zlib.h>

#include <algorithm>
#include <memory>

#include "algorithms/core/error.hpp"

namespace efsim::alg {

namespace {

class GzFile {
 public:
  explicit GzFile(const std::string& path) : path_(path), f_(gzopen(path.c_str(), "rb")) {
    if (f_ == nullptr) throw InputError(path + ": cannot open IDX file");
  }
  ~GzFile() {
    if (f_) gzclose(f_);
  }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;
  void read(void* out, std::size_t bytes, const char* what) {
    auto* p = static_cast<unsigned char*>(out);
    while (bytes > 0) {
      const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(bytes, 1u << 30));
      const int got = gzread(f_, p, chunk);
      if (got <= 0) throw InputError(path_ + ": truncated IDX file (reading " + what + ")");
      p += got;
      bytes -= static_cast<std::size_t>(got);
    }
  }
  // `bytes` bytes, read in chunks: memory grows only as the file delivers.
  std::vector<unsigned char> read_all(std::uint64_t bytes, const char* what) {
    std::vector<unsigned char> out;
    constexpr std::uint64_t kChunk = 1 << 22;
    while (out.size() < bytes) {
      const std::size_t at = out.size();
      const auto chunk = static_cast<std::size_t>(std::min<std::uint64_t>(bytes - at, kChunk));
      out.resize(at + chunk);
      read(out.data() + at, chunk, what);
    }
    return out;
  }
  std::uint32_t u32(const char* what) {
    unsigned char b[4];
    read(b, 4, what);
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
           b[3];
  }

 private:
  std::string path_;
  gzFile f_;
};

}  // namespace

ImageSet load_idx(const std::string& images_path, const std::string& labels_path, int limit) {
  GzFile images(images_path), labels(labels_path);
  const std::uint32_t magic_images = images.u32("the magic number");
  if (magic_images != 0x00000803)
    throw InputError(images_path + ": not an IDX images file (magic number " +
                     std::to_string(magic_images) + ", expected 2051)");
  const std::uint32_t magic_labels = labels.u32("the magic number");
  if (magic_labels != 0x00000801)
    throw InputError(labels_path + ": not an IDX labels file (magic number " +
                     std::to_string(magic_labels) + ", expected 2049)");
  const std::uint32_t count = images.u32("the image count");
  const std::uint32_t height = images.u32("the row count"), width = images.u32("the column count");
  const std::uint32_t label_count = labels.u32("the label count");
  if (count != label_count)
    throw InputError(images_path + ": " + std::to_string(count) + " images but " + labels_path +
                     " has " + std::to_string(label_count) + " labels");
  // In 64 bits: 65536 x 65536 is 0 in 32 (found by fuzzing).
  const std::uint64_t pixels = std::uint64_t{height} * width;
  if (count == 0 || height == 0 || width == 0 || pixels > 1'000'000)
    throw InputError(images_path + ": implausible image dimensions (" + std::to_string(height) +
                     " x " + std::to_string(width) + ")");
  const std::uint32_t n =
      limit > 0 ? std::min<std::uint32_t>(count, static_cast<std::uint32_t>(limit)) : count;
  // Read before allocating it all: a header claiming 4e9 images in a short file is truncated,
  // not a request for terabytes.
  const std::vector<unsigned char> bytes = images.read_all(std::uint64_t{n} * pixels, "pixels");
  ImageSet set;
  set.pixels =
      Eigen::Map<const decltype(set.pixels)>(bytes.data(), n, static_cast<Eigen::Index>(pixels));
  const std::vector<unsigned char> raw = labels.read_all(n, "labels");
  set.labels.assign(raw.begin(), raw.end());
  set.classes = 1 + *std::max_element(set.labels.begin(), set.labels.end());
  set.source = images_path;
  return set;
}

}  // namespace efsim::alg
