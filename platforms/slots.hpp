// A population's platform (participation `materialize: sampled`): instead of one host and link
// per client, a pool of slot hosts that each round's sampled clients occupy. A client's link and
// speed are those of its class (kind edge: LinkClass, assigned as edge_worker_classes() assigns
// them to the workers of the full platform; kind star: one class, the star's links and worker
// speed), so the pool holds, for each of the round's `slots` places, one host per class with
// exactly that class's link and speed: a client sits on the host of its place and class, and its
// transfers and compute see the very numbers its own host would have had.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "platforms/topology.hpp"

namespace efsim::platforms {

class ClientClasses {
 public:
  // spec.kind star or edge; clients: the population.
  ClientClasses(const TopologySpec& spec, int clients);
  int classes() const { return static_cast<int>(links_.size()); }
  int class_of(int client) const { return class_.empty() ? 0 : class_[client]; }
  // The class's link and speed (speed resolved: worker_speed when the class gives none).
  const LinkClass& link(int c) const { return links_[c]; }

 private:
  std::vector<LinkClass> links_;
  std::vector<std::uint8_t> class_;  // per client (edge); empty: one class
};

// Host names: slot_host_name(place, class).
std::string slot_host_name(int place, int cls);

// The SimGrid XML (version 4.1) of the pool: the master and, for each of `slots` places and
// each class, a host behind its own full-duplex link to one switch: a Cluster zone, as the
// generated star (star.hpp).
std::string slots_platform_xml(const TopologySpec& spec, const ClientClasses& classes, int slots);

}  // namespace efsim::platforms
