#include "sim/sweep/process_pool.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <stdexcept>
#include <thread>

namespace efsim::sim {

namespace {

std::string duration_text(double s) {
  char buf[32];
  const long t = std::lround(s);
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  return buf;
}

class Progress {
 public:
  Progress(std::size_t total, std::size_t done, bool quiet)
      : total_(total),
        done_(done),
        quiet_(quiet),
        tty_(::isatty(2) != 0),
        start_(std::chrono::steady_clock::now()) {
    draw("");
  }
  void finished(const std::string& line) {
    ++done_;
    ++ran_;
    draw(line);
  }
  void end() {
    if (!quiet_ && tty_) std::cerr << "\n";
  }

 private:
  void draw(const std::string& line) {
    if (quiet_) return;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::string eta = "--:--";
    if (ran_ > 0 && done_ < total_)
      eta = duration_text(elapsed / ran_ * static_cast<double>(total_ - done_));
    if (done_ == total_) eta = "0:00";
    if (tty_) {
      const int width = 30;
      const int filled = total_ ? static_cast<int>(width * done_ / total_) : width;
      if (!line.empty()) std::cerr << "\r\033[K" << line << "\n";
      std::cerr << "\r\033[Kefsim: [" << std::string(filled, '#')
                << std::string(width - filled, '-') << "] " << done_ << "/" << total_
                << " runs, elapsed " << duration_text(elapsed) << ", ETA " << eta << std::flush;
    } else if (!line.empty()) {
      std::cerr << line << "  [" << done_ << "/" << total_ << ", ETA " << eta << "]\n";
    }
  }
  std::size_t total_, done_, ran_ = 0;
  bool quiet_, tty_;
  std::chrono::steady_clock::time_point start_;
};

using Clock = std::chrono::steady_clock;

// Starts work(i) in a child process; returns its pid.
pid_t start_child(std::size_t i, const std::function<int(std::size_t)>& work) {
  std::cout.flush();
  std::cerr.flush();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int code = work(i);
    std::cerr.flush();
    ::_exit(code);
  }
  return pid;
}

}  // namespace

PoolOutcome run_pool(const std::vector<std::size_t>& queue, const PoolOptions& options,
                     std::size_t total, std::size_t done,
                     const std::function<int(std::size_t)>& work,
                     const std::function<std::string(std::size_t, int, bool, double)>& line) {
  Progress progress(total, done, options.quiet);
  std::map<pid_t, std::pair<std::size_t, Clock::time_point>> running;
  PoolOutcome out;
  std::size_t next = 0;
  while (next < queue.size() || !running.empty()) {
    while (!out.input_error && next < queue.size() &&
           static_cast<int>(running.size()) < options.jobs) {
      const std::size_t i = queue[next++];
      running[start_child(i, work)] = {i, Clock::now()};
    }
    if (running.empty()) break;
    int status = 0;
    pid_t pid = 0;
    if (options.run_timeout_s > 0) {
      // Poll, and kill children over their wall-clock budget.
      pid = ::waitpid(-1, &status, WNOHANG);
      if (pid == 0) {
        const auto now = Clock::now();
        for (const auto& [p, info] : running)
          if (std::chrono::duration<double>(now - info.second).count() > options.run_timeout_s &&
              out.timed_out.insert(info.first).second)
            ::kill(p, SIGKILL);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
    } else {
      pid = ::waitpid(-1, &status, 0);
    }
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("waitpid failed");
    }
    auto it = running.find(pid);
    if (it == running.end()) continue;
    const auto [i, start] = it->second;
    running.erase(it);
    const double host_s = std::chrono::duration<double>(Clock::now() - start).count();
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    const bool timeout = out.timed_out.count(i) > 0;
    if (!timeout && code != 0) {
      out.failed.insert(i);
      if (code == 2) out.input_error = true;  // bad input: every run would fail the same way
    }
    progress.finished(line(i, code, timeout, host_s));
  }
  progress.end();
  return out;
}

}  // namespace efsim::sim
