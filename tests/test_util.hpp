// Helpers shared by the tests.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <string>

#include "algorithms/problems/dataset.hpp"

namespace efsim::test {

// Runs fn in a forked child (SimGrid allows one engine per process) and returns what it
// returned. A child that throws or crashes fails the calling test.
inline std::string run_in_child(const std::function<std::string()>& fn) {
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    std::string out;
    int code = 0;
    try {
      out = fn();
    } catch (const std::exception& e) {
      out = std::string("child exception: ") + e.what();
      code = 1;
    }
    std::size_t off = 0;
    while (off < out.size()) {
      const ssize_t w = ::write(fds[1], out.data() + off, out.size() - off);
      if (w <= 0) break;
      off += static_cast<std::size_t>(w);
    }
    ::close(fds[1]);
    ::_exit(code);
  }
  ::close(fds[1]);
  std::string out;
  char buf[65536];
  ssize_t r;
  while ((r = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(r));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "CHILD FAILED: " + out;
  return out;
}

// The shared LIBSVM datasets (../shared/datasets beside the project), or "" if absent.
inline std::string shared_dataset(const std::string& name) {
  const std::filesystem::path p =
      std::filesystem::path(EFSIM_SOURCE_DIR) / ".." / "shared" / "datasets" / name;
  return std::filesystem::exists(p) ? p.string() : std::string();
}

// A small temporary directory, removed by the caller if wanted.
inline std::string make_temp_dir(const std::string& tag) {
  std::string tmpl =
      (std::filesystem::temp_directory_path() / ("efsim-" + tag + "-XXXXXX")).string();
  char* made = ::mkdtemp(tmpl.data());
  return made ? std::string(made) : std::string();
}

// The real CLI, run through the shell: its exit status and its stdout + stderr.
struct Result {
  int status = -1;  // exit status (WEXITSTATUS), or -1 if not exited normally
  std::string output;
};

inline std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

inline Result run_efsim(const std::string& args) {
  const std::string cmd = quoted(EFSIM_BINARY) + " " + args + " 2>&1";
  Result r;
  std::fflush(nullptr);
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = ::pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// The text without AddressSanitizer's notes (./run.sh sanitize): every process that switches
// SimGrid stacks prints a warning with its pid, which would make outputs differ.
inline std::string without_sanitizer_notes(const std::string& text) {
  std::string out, line;
  std::istringstream in(text);
  while (std::getline(in, line))
    if (line.rfind("==", 0) != 0 && line != "False positive error reports may follow" &&
        line.rfind("For details see https://github.com/google/sanitizers", 0) != 0)
      out += line + "\n";
  return out;
}

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << p;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A fixture owning a fresh temporary directory, removed after the test.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("test");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // Writes `content` byte for byte (no newline translation) and returns the path.
  std::string write(const std::string& name, const std::string& content) {
    const std::string path = (dir_ / name).string();
    std::ofstream out(path, std::ios::binary);
    out << content;
    return path;
  }
  std::filesystem::path dir_;
};

}  // namespace efsim::test
