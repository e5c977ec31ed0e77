#include "sim/network/traffic.hpp"

#include <algorithm>

namespace efsim::sim {

namespace sg4 = simgrid::s4u;

void Traffic::send(int from, int to, std::size_t bytes) const {
  if (bytes == 0) return;  // no message (codec.hpp): nothing on the network, no time
  sg4::Comm::sendto(host(from), host(to), std::max(bytes, min_bytes_));
}

namespace {

std::vector<sg4::SemaphorePtr> semaphores(int n) {
  std::vector<sg4::SemaphorePtr> s;
  for (int i = 0; i < n; ++i) s.push_back(sg4::Semaphore::create(0));
  return s;
}

// Worker i pulls the downlink from the master and pushes its upload to it.
class ParameterServer final : public Traffic {
 public:
  using Traffic::Traffic;
  void downlink(int i, const RoundMessages& m) override { send(-1, i, m.down->size_bytes()); }
  void uplink(int i, RoundMessages& m) override { send(i, -1, m.up[i].size_bytes()); }
  void bits(const RoundMessages& m, const std::vector<char>& in, double* up_bits,
            double* down_bits) const override {
    double sent = 0.0, received = 0.0;
    for (int i = 0; i < workers(); ++i) {
      if (!in[i]) continue;
      sent += static_cast<double>(m.up[i].size_bytes());
      received += m.round > 0 ? static_cast<double>(m.down->size_bytes()) : 0.0;
    }
    *up_bits = 8.0 * sent;
    *down_bits = 8.0 * received / workers();
  }
  std::vector<std::pair<int, int>> routes() const override {
    std::vector<std::pair<int, int>> r;
    for (int i = 0; i < workers(); ++i) {
      r.emplace_back(-1, i);
      r.emplace_back(i, -1);
    }
    return r;
  }
};

// A binary tree in heap order over (master, worker 0, ..., worker n-1): the downlink flows from
// the master down the tree (each worker pulls it from its parent), uploads flow up (each worker
// forwards its subtree's messages: compressed messages do not add up in place).
class Tree final : public Traffic {
 public:
  Tree(sg4::Host* master, std::vector<sg4::Host*> w, std::size_t min_bytes)
      : Traffic(master, std::move(w), min_bytes),
        have_down_(semaphores(workers())),
        have_up_(semaphores(workers())),
        subtree_bytes_(workers(), 0) {}
  void begin_round(const RoundMessages& m) override {
    if (m.round > 0)  // the master holds the downlink
      for (int c : {0, 1})
        if (c < workers()) have_down_[c]->release();
  }
  void downlink(int i, const RoundMessages& m) override {
    have_down_[i]->acquire();
    send(tree_parent(i), i, m.down->size_bytes());
    for (int c : tree_children(i, workers())) have_down_[c]->release();
  }
  void uplink(int i, RoundMessages& m) override {
    const std::vector<int> children = tree_children(i, workers());
    for (std::size_t c = 0; c < children.size(); ++c) have_up_[i]->acquire();  // all arrived
    std::size_t bytes = m.up[i].size_bytes();
    for (int c : children) bytes += subtree_bytes_[c];
    subtree_bytes_[i] = bytes;
    const int p = tree_parent(i);
    send(i, p, bytes);
    if (p >= 0) have_up_[p]->release();
  }
  void bits(const RoundMessages& m, const std::vector<char>& in, double* up_bits,
            double* down_bits) const override {
    double sent = 0.0, received = 0.0;
    for (int i = 0; i < workers(); ++i) {
      if (!in[i]) continue;
      sent += static_cast<double>(subtree_bytes_[i]);
      received += m.round > 0 ? static_cast<double>(m.down->size_bytes()) : 0.0;
    }
    *up_bits = 8.0 * sent;
    *down_bits = 8.0 * received / workers();
  }
  std::vector<std::pair<int, int>> routes() const override {
    std::vector<std::pair<int, int>> r;
    for (int i = 0; i < workers(); ++i) {
      r.emplace_back(tree_parent(i), i);
      r.emplace_back(i, tree_parent(i));
    }
    return r;
  }

 private:
  // have_down[i] once worker i's parent holds the downlink; have_up[i] once per child that has
  // pushed its subtree to worker i; subtree_bytes[i]: what worker i pushes up.
  std::vector<sg4::SemaphorePtr> have_down_, have_up_;
  std::vector<std::size_t> subtree_bytes_;
};

// Around the ring of workers, worker i passing blocks to worker i + 1 (got[i]: once per block
// worker i has received). All-gather: n - 1 steps, each passing on the whole message it got last
// (its own first); afterwards everybody holds every message and aggregates. All-reduce:
// reduce-scatter then all-gather of the dense aggregate in n chunks, 2 (n - 1) steps of one
// chunk each. No downlink: every worker formed the aggregate itself at the end of the last round.
class Ring final : public Traffic {
 public:
  Ring(sg4::Host* master, std::vector<sg4::Host*> w, std::size_t min_bytes, bool gather,
       std::size_t chunk_bytes, bool summable)
      : Traffic(master, std::move(w), min_bytes),
        gather_(gather),
        summable_(summable),
        chunk_bytes_(chunk_bytes),
        got_(semaphores(workers())) {}
  void downlink(int, const RoundMessages&) override {}
  void uplink(int i, RoundMessages& m) override {
    const int n = workers();
    if (n <= 1) return;
    const int next = (i + 1) % n;
    const int steps = gather_ ? n - 1 : 2 * (n - 1);
    for (int s = 0; s < steps; ++s) {
      if (s > 0) got_[i]->acquire();  // the block to pass on has arrived
      const std::size_t bytes = gather_ ? m.up[((i - s) % n + n) % n].size_bytes() : chunk(m, i);
      send(i, next, bytes);
      got_[next]->release();
    }
    got_[i]->acquire();  // the last block
  }
  void bits(const RoundMessages& m, const std::vector<char>& in, double* up_bits,
            double* down_bits) const override {
    const int n = workers();
    double sent = 0.0, received = 0.0;
    std::size_t all = 0;
    for (int i = 0; i < n; ++i)
      if (in[i]) all += m.up[i].size_bytes();
    for (int i = 0; i < n; ++i) {
      if (!in[i]) continue;
      if (gather_) {  // every message but its own passes through each worker
        sent += static_cast<double>(all - m.up[(i + 1) % n].size_bytes());
        received += static_cast<double>(all - m.up[i].size_bytes());
      } else {
        sent += 2.0 * (n - 1) * static_cast<double>(chunk(m, i));
        received += 2.0 * (n - 1) * static_cast<double>(chunk(m, i));
      }
    }
    *up_bits = 8.0 * sent;
    *down_bits = 8.0 * received / n;
  }
  std::vector<std::pair<int, int>> routes() const override {
    std::vector<std::pair<int, int>> r;
    if (workers() > 1)
      for (int i = 0; i < workers(); ++i) r.emplace_back(i, (i + 1) % workers());
    return r;
  }
  bool aggregates_on_workers() const override { return true; }

 private:
  // All-reduce's chunk: one n-th of the dense aggregate, or of worker i's upload when the uploads
  // add up elementwise (every worker's has the same size then).
  std::size_t chunk(const RoundMessages& m, int i) const {
    if (!summable_) return chunk_bytes_;
    const auto n = static_cast<std::size_t>(workers());
    return (m.up[i].size_bytes() + n - 1) / n;
  }
  bool gather_;
  bool summable_;
  std::size_t chunk_bytes_;
  std::vector<sg4::SemaphorePtr> got_;
};

}  // namespace

std::unique_ptr<Traffic> make_traffic(Pattern pattern, sg4::Host* master,
                                      std::vector<sg4::Host*> workers, std::size_t min_bytes,
                                      std::size_t chunk_bytes, bool summable_uploads) {
  switch (pattern) {
    case Pattern::kParameterServer:
      return std::make_unique<ParameterServer>(master, std::move(workers), min_bytes);
    case Pattern::kTree:
      return std::make_unique<Tree>(master, std::move(workers), min_bytes);
    case Pattern::kRingAllGather:
    case Pattern::kRingAllReduce:
      return std::make_unique<Ring>(master, std::move(workers), min_bytes,
                                    pattern == Pattern::kRingAllGather, chunk_bytes,
                                    summable_uploads);
  }
  return nullptr;
}

}  // namespace efsim::sim
