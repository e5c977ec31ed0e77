// Communication patterns: how a round's messages travel between the master and the workers.
// Names and shapes only (no SimGrid); sim/simgrid_runner.cpp moves the bytes.
//   parameter_server  worker i pulls the downlink from the master and pushes its upload to it;
//   tree              a binary tree in heap order over (master, worker 0, ..., worker n-1);
//   ring_allgather    n-1 steps around the ring of workers, each passing on a whole message;
//   ring_allreduce    reduce-scatter then all-gather of the dense aggregate in n chunks.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace efsim::sim {

enum class Pattern { kParameterServer, kTree, kRingAllGather, kRingAllReduce };
std::string to_string(Pattern p);
Pattern parse_pattern(const std::string& name);  // throws InputError
const std::vector<std::string>& pattern_names();

// The network models a scenario can name (network_model):
//   simgrid   SimGrid's LV08 flow model, calibrated against TCP (latency x 13.01, bandwidth x
//             0.97, a TCP window cap);
//   cm02      the flow model without calibration (latency + size / bandwidth per flow, shared);
//   textbook  exactly latency + size / bandwidth (CM02, cross-traffic and window cap off);
//   ns3       packet-level TCP in ns-3 (SimGrid's binding; a new connection per message).
const std::vector<std::string>& network_model_names();

// The tree pattern's binary tree, in heap order over (master, worker 0, ..., worker n-1):
// worker i's parent worker (-1: the master) and its children among n workers.
inline int tree_parent(int i) { return i / 2 - 1; }
std::vector<int> tree_children(int i, int n);

// The worker pairs (a, b) that some pattern connects directly besides master <-> worker: each
// worker and its tree parent, each worker and the next on the ring. A generated platform holds a
// route for each (both directions).
std::vector<std::pair<int, int>> peer_pairs(int n);

}  // namespace efsim::sim
