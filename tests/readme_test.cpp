// The README's tables of methods, settings and compressors are kept in step with the tables the
// code is driven by (algorithms/methods/registry.cpp, params.cpp, compressors/registry.cpp), and
// `efsim methods` / `efsim compressors` print every row of them with its help.
#include <gtest/gtest.h>

#include <string>

#include "algorithms/compressors/compressor.hpp"
#include "algorithms/methods/method.hpp"
#include "test_util.hpp"

namespace efsim::alg {
namespace {

std::string readme() { return test::slurp(std::string(EFSIM_SOURCE_DIR) + "/README.md"); }

TEST(Readme, ListsEveryMethodSettingAndCompressorOfTheRegistries) {
  const std::string text = readme();
  for (const auto& m : method_registry())
    EXPECT_NE(text.find("`" + m.name + "`"), std::string::npos) << "method " << m.name;
  for (const auto& p : method_parameters())
    EXPECT_NE(text.find("- `" + p.name + "`"), std::string::npos) << "setting " << p.name;
  for (const auto& c : compressor_registry()) {
    EXPECT_NE(text.find("| `" + c.kind + "` |"), std::string::npos) << "compressor " << c.kind;
    for (const auto& p : c.params)
      EXPECT_NE(text.find(p.name), std::string::npos) << c.kind << "." << p.name;
  }
}

TEST(Readme, EfsimMethodsAndCompressorsPrintTheTables) {
  const auto methods = test::run_efsim("methods");
  ASSERT_EQ(methods.status, 0);
  for (const auto& m : method_registry()) {
    EXPECT_NE(methods.output.find("  " + m.name + " "), std::string::npos) << m.name;
    for (const auto& p : m.params)
      EXPECT_NE(methods.output.find(p + std::string(15 - std::min<std::size_t>(14, p.size()), ' ') +
                                    find_parameter(p).help),
                std::string::npos)
          << m.name << " " << p;
  }
  const auto compressors = test::run_efsim("compressors");
  ASSERT_EQ(compressors.status, 0);
  for (const auto& c : compressor_registry())
    for (const auto& p : c.params)
      EXPECT_NE(compressors.output.find(p.help), std::string::npos) << c.kind << " " << p.name;
}

}  // namespace
}  // namespace efsim::alg
