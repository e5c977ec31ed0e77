// Every kept fuzz input (tests/fuzz/corpus/<target>/: seeds and the inputs that once crashed)
// replayed through its target: no crash, no hang, and, in the sanitizer build (./run.sh
// sanitize), no memory error or undefined behaviour.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "fuzz/targets.hpp"

namespace fs = std::filesystem;

TEST(FuzzRegression, KeptInputsReplayCleanly) {
  const fs::path root = fs::path(EFSIM_SOURCE_DIR) / "tests" / "fuzz" / "corpus";
  std::size_t replayed = 0;
  for (const auto& t : efsim::fuzz::targets()) {
    const fs::path dir = root / t.name;
    ASSERT_TRUE(fs::is_directory(dir)) << dir;
    std::size_t mine = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
      std::ifstream in(e.path(), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), {});
      SCOPED_TRACE(e.path().string());
      EXPECT_EQ(t.run(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), 0);
      ++mine;
    }
    EXPECT_GE(mine, 2u) << t.name << ": keep at least a valid seed and a broken one";
    replayed += mine;
  }
  EXPECT_GE(replayed, 8u);
}
