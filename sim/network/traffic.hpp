// How one round's messages travel between the SimGrid hosts: one class per communication
// pattern (pattern.hpp), called by the worker and master actors of simgrid_runner.cpp. A class
// moves bytes with blocking host-to-host transfers and orders them with semaphores; the math is
// the parameter server's in every pattern (the runner's actors do it), only traffic and time
// differ.
#pragma once

#include <cstddef>
#include <memory>
#include <simgrid/s4u.hpp>
#include <utility>
#include <vector>

#include "algorithms/wire/codec.hpp"
#include "sim/network/pattern.hpp"

namespace efsim::sim {

// What the actors share about the current round.
struct RoundMessages {
  long round = 0;
  const alg::Message* down = nullptr;  // what the master sends down (rounds >= 1)
  std::vector<alg::Message> up;        // worker i's upload, alive until absorbed
};

class Traffic {
 public:
  Traffic(simgrid::s4u::Host* master, std::vector<simgrid::s4u::Host*> workers,
          std::size_t min_bytes)
      : master_(master), workers_(std::move(workers)), min_bytes_(min_bytes) {}
  virtual ~Traffic() = default;

  // The master, at the start of a round (before it releases the workers).
  virtual void begin_round(const RoundMessages&) {}
  // Worker i obtains the round's downlink (rounds >= 1).
  virtual void downlink(int i, const RoundMessages& m) = 0;
  // Worker i's upload reaches whoever aggregates it; returns when worker i's part is done.
  virtual void uplink(int i, RoundMessages& m) = 0;
  // Bits of the round: all workers' sends, and what one worker receives on average (workers
  // taking part: in[i] != 0).
  virtual void bits(const RoundMessages& m, const std::vector<char>& in, double* up_bits,
                    double* down_bits_per_worker) const = 0;
  // The host pairs it sends between (-1: the master, i >= 0: worker i), to check routes.
  virtual std::vector<std::pair<int, int>> routes() const = 0;
  // Whether the workers form the aggregate themselves (the master's math is timed on the
  // slowest worker host instead of the master's).
  virtual bool aggregates_on_workers() const { return false; }

 protected:
  // A blocking transfer between hosts (-1: the master); under ns-3 at least min_bytes. Zero
  // bytes is no message (a skipped upload, an empty broadcast): no transfer at all, in every
  // pattern and network model.
  void send(int from, int to, std::size_t bytes) const;
  int workers() const { return static_cast<int>(workers_.size()); }

 private:
  simgrid::s4u::Host* host(int i) const { return i < 0 ? master_ : workers_[i]; }
  simgrid::s4u::Host* master_;
  std::vector<simgrid::s4u::Host*> workers_;
  std::size_t min_bytes_;
};

// The pattern's traffic; chunk_bytes: ring_allreduce's chunk (one n-th of the dense aggregate),
// unless summable_uploads: the uploads add up elementwise (PowerSGD's factors), and the chunk is
// one n-th of the round's upload.
std::unique_ptr<Traffic> make_traffic(Pattern pattern, simgrid::s4u::Host* master,
                                      std::vector<simgrid::s4u::Host*> workers,
                                      std::size_t min_bytes, std::size_t chunk_bytes,
                                      bool summable_uploads = false);

}  // namespace efsim::sim
