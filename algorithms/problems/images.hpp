// Labelled image data in the IDX format (MNIST, Fashion-MNIST), gzip-compressed as Debian's
// dataset-fashion-mnist installs it (/usr/share/datasets/fashion-mnist/). Pixels are kept as
// bytes (60,000 x 784 bytes = 47 MB) and scaled to [0, 1] on use.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "algorithms/core/types.hpp"

namespace efsim::alg {

struct ImageSet {
  Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> pixels;  // N x l
  std::vector<int> labels;  // N, in 0..classes-1
  int classes = 0;
  std::string source;
  int rows() const { return static_cast<int>(pixels.rows()); }
  int features() const { return static_cast<int>(pixels.cols()); }
};

// Reads an images file (magic 0x00000803: count, rows, cols, then bytes) and its labels file
// (magic 0x00000801: count, then bytes), gzip-compressed or not. `limit` > 0 keeps the first
// `limit` samples. Throws InputError naming the file on a wrong magic number, mismatched counts
// or a truncated file.
ImageSet load_idx(const std::string& images_path, const std::string& labels_path, int limit = 0);

}  // namespace efsim::alg
