// A small persistent pool for the workers' steps of one round (`efsim run --threads N`): the
// calling thread and N-1 helper threads, created once per run. start() publishes a batch of
// tasks and returns at once; the helpers claim tasks from the front while the calling thread
// goes on with other work (the simulation of the round's transfers); wait(k) returns when task
// k is done, running it on the calling thread if nobody has claimed it yet, and running
// unclaimed tasks from the back while a helper finishes k. No thread is created per round;
// between batches the helpers spin briefly, then sleep on a futex (std::atomic::wait). A helper
// that wakes after every task of a batch is claimed stays out of it.
//
// The pool decides only which OS thread runs a task, never what a task computes: tasks that
// touch only their own worker's state give the same bits whatever the thread count.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

namespace efsim::sim {

class StepPool {
 public:
  // threads >= 1; 1: no helper thread (every task runs in wait(), on the calling thread).
  explicit StepPool(int threads);
  ~StepPool();
  StepPool(const StepPool&) = delete;
  StepPool& operator=(const StepPool&) = delete;
  int threads() const { return static_cast<int>(helpers_.size()) + 1; }
  // Publishes tasks 0..count-1 (task(k) is called once for each k). Every task of the previous
  // batch must have been waited for. `task` must live until they all have.
  void start(int count, const std::function<void(int)>& task);
  // Returns when task k of the current batch is done; rethrows its exception, if it threw.
  void wait(int k);
  // A batch is coming soon: sleeping helpers wake now and poll, so that they are running when
  // start() publishes it (a futex wake-up takes tens of microseconds).
  void wake();
  // start(), then wait() for every task; rethrows the exception of the lowest failing task
  // after all have run.
  void run(int count, const std::function<void(int)>& task);

 private:
  enum : std::uint8_t { kFree, kClaimed, kDone };
  void helper_loop();
  bool claim(int k) {
    std::uint8_t expected = kFree;
    return state_[k].compare_exchange_strong(expected, kClaimed, std::memory_order_acquire);
  }
  void execute(int k);  // runs a claimed task, records its exception, marks it done
  void retire();        // closes the batch and waits for the helpers that joined it

  // entry_: the batch number (high 32 bits), "closed" (bit 31: no helper may join any more)
  // and the helpers that joined it (low bits). A helper joins before it reads the batch; the
  // caller closes the batch before it changes the batch's fields again.
  static constexpr std::uint64_t kClosed = std::uint64_t{1} << 31;
  static constexpr std::uint64_t kJoined = kClosed - 1;
  std::vector<std::thread> helpers_;
  std::atomic<std::uint64_t> entry_{0};
  std::atomic<std::uint32_t> wake_{0};  // bumped by start() and wake(): sleeping helpers wait on it
  std::atomic<int> front_{0};           // the helpers' next task to try
  std::atomic<int> left_{0};            // joined helpers that have left the batch
  std::atomic<bool> stop_{false};
  std::uint64_t batch_ = 0;  // the caller's batch number
  bool open_ = false;        // a batch is published and not yet retired
  int count_ = 0;
  int back_ = 0;  // the calling thread's next task to try from the back (exclusive)
  const std::function<void(int)>* task_ = nullptr;
  std::unique_ptr<std::atomic<std::uint8_t>[]> state_;
  int capacity_ = 0;
  std::vector<std::exception_ptr> errors_;
};

}  // namespace efsim::sim
