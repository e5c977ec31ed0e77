#include "sim/network/pattern.hpp"

#include "algorithms/core/error.hpp"

namespace efsim::sim {

std::string to_string(Pattern p) {
  switch (p) {
    case Pattern::kParameterServer:
      return "parameter_server";
    case Pattern::kTree:
      return "tree";
    case Pattern::kRingAllGather:
      return "ring_allgather";
    case Pattern::kRingAllReduce:
      return "ring_allreduce";
  }
  return "?";
}

const std::vector<std::string>& pattern_names() {
  static const std::vector<std::string> names = {"parameter_server", "tree", "ring_allgather",
                                                 "ring_allreduce"};
  return names;
}

Pattern parse_pattern(const std::string& name) {
  for (Pattern p : {Pattern::kParameterServer, Pattern::kTree, Pattern::kRingAllGather,
                    Pattern::kRingAllReduce})
    if (to_string(p) == name) return p;
  throw InputError("unknown communication pattern '" + name + "'");
}

const std::vector<std::string>& network_model_names() {
  static const std::vector<std::string> names = {"simgrid", "cm02", "textbook", "ns3", "analytic"};
  return names;
}

std::vector<int> tree_children(int i, int n) {
  std::vector<int> c;
  for (int k : {2 * i + 2, 2 * i + 3})
    if (k < n) c.push_back(k);
  return c;
}

std::vector<std::pair<int, int>> peer_pairs(int n) {
  std::vector<std::pair<int, int>> pairs;
  for (int i = 0; i < n; ++i) {
    if (tree_parent(i) >= 0) pairs.emplace_back(tree_parent(i), i);
    if (n > 2 || i == 0) pairs.emplace_back(i, (i + 1) % n);
  }
  return pairs;
}

}  // namespace efsim::sim
