#include "sim/network/step_pool.hpp"

#include <chrono>

namespace efsim::sim {

namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// How long a helper keeps polling for the next batch before it sleeps: a round's master work
// and simulated transfers between two batches take tens to hundreds of microseconds, and a
// futex wake-up costs about as much, so a short spin keeps the hand-over cheap without burning
// a core while the simulation is elsewhere.
constexpr auto kSpin = std::chrono::microseconds(50);

}  // namespace

StepPool::StepPool(int threads) {
  for (int t = 1; t < threads; ++t) helpers_.emplace_back([this] { helper_loop(); });
}

StepPool::~StepPool() {
  retire();
  stop_.store(true, std::memory_order_relaxed);
  entry_.store((batch_ + 1) << 32, std::memory_order_release);
  wake();
  for (auto& h : helpers_) h.join();
}

void StepPool::execute(int k) {
  try {
    (*task_)(k);
  } catch (...) {
    errors_[static_cast<std::size_t>(k)] = std::current_exception();
  }
  state_[k].store(kDone, std::memory_order_release);
}

void StepPool::helper_loop() {
  std::uint64_t seen = 0;  // the last batch number this helper has seen
  for (;;) {
    std::uint64_t e = entry_.load(std::memory_order_acquire);
    auto until = std::chrono::steady_clock::now() + kSpin;
    for (int spins = 0; (e >> 32) == seen; ++spins) {
      cpu_relax();
      if ((spins & 63) == 63 && std::chrono::steady_clock::now() > until) {
        // Sleep until start() or wake(): read wake_ before the last look at entry_, so that a
        // batch published after that look has changed wake_ and the wait returns at once.
        const std::uint32_t w = wake_.load(std::memory_order_acquire);
        e = entry_.load(std::memory_order_acquire);
        if ((e >> 32) != seen) break;
        wake_.wait(w, std::memory_order_acquire);
        until = std::chrono::steady_clock::now() + kSpin;
      }
      e = entry_.load(std::memory_order_acquire);
    }
    seen = e >> 32;
    if (stop_.load(std::memory_order_relaxed)) return;
    bool joined = false;
    while (!joined && (e >> 32) == seen && (e & kClosed) == 0)
      joined = entry_.compare_exchange_weak(e, e + 1, std::memory_order_acq_rel,
                                            std::memory_order_acquire);
    if (!joined) continue;  // the batch is over, or it is already a newer one
    for (int k; (k = front_.fetch_add(1, std::memory_order_relaxed)) < count_;)
      if (claim(k)) execute(k);
    left_.fetch_add(1, std::memory_order_release);
  }
}

void StepPool::retire() {
  if (!open_) return;
  open_ = false;
  std::uint64_t e = entry_.load(std::memory_order_acquire);
  while (!entry_.compare_exchange_weak(e, e | kClosed, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
  }
  const int joined = static_cast<int>(e & kJoined);
  for (int spins = 0; left_.load(std::memory_order_acquire) < joined; ++spins) {
    cpu_relax();
    if ((spins & 1023) == 1023) std::this_thread::yield();
  }
}

void StepPool::start(int count, const std::function<void(int)>& task) {
  retire();
  count_ = count;
  back_ = count;
  task_ = &task;
  if (count > capacity_) {
    capacity_ = count;
    state_ = std::make_unique<std::atomic<std::uint8_t>[]>(static_cast<std::size_t>(count));
  }
  for (int k = 0; k < count; ++k) state_[k].store(kFree, std::memory_order_relaxed);
  errors_.assign(static_cast<std::size_t>(count), nullptr);
  if (helpers_.empty() || count <= 1) return;  // the calling thread runs them in wait()
  front_.store(0, std::memory_order_relaxed);
  left_.store(0, std::memory_order_relaxed);
  ++batch_;
  open_ = true;
  entry_.store(batch_ << 32, std::memory_order_release);  // publishes the batch
  wake();
}

void StepPool::wake() {
  wake_.fetch_add(1, std::memory_order_release);
  wake_.notify_all();
}

void StepPool::wait(int k) {
  if (claim(k)) {
    execute(k);
  } else {
    // A helper runs k: meanwhile take unclaimed tasks from the back (the helpers take them
    // from the front), then wait.
    for (int spins = 0; state_[k].load(std::memory_order_acquire) != kDone;) {
      while (back_ > 0 && state_[back_ - 1].load(std::memory_order_relaxed) != kFree) --back_;
      if (back_ > 0 && claim(back_ - 1)) {
        execute(--back_);
        continue;
      }
      cpu_relax();
      if ((++spins & 1023) == 1023) std::this_thread::yield();
    }
  }
  if (errors_[static_cast<std::size_t>(k)])
    std::rethrow_exception(errors_[static_cast<std::size_t>(k)]);
}

void StepPool::run(int count, const std::function<void(int)>& task) {
  start(count, task);
  std::exception_ptr first;
  for (int k = 0; k < count; ++k) {
    try {
      wait(k);
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  retire();
  if (first) std::rethrow_exception(first);
}

}  // namespace efsim::sim
