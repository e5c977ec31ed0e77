// Star (parameter-server) platform generated from a scenario: a master host and n worker hosts,
// each behind its own full-duplex link to one central switch. Emitted as SimGrid XML so a user
// can read and reuse it. Routes: master -> worker-i uses master-link (UP) then worker-i's link
// (DOWN); worker-i -> master the reverse. Names: "master", "worker-0" .. "worker-(n-1)".
#pragma once

#include <string>
#include <vector>

#include "platforms/topology.hpp"

namespace efsim::platforms {

// A number for a platform XML attribute: every digit of the double ("%.17g").
std::string xml_number(double v);

std::string master_host_name();
std::string worker_host_name(int i);
// A star's description: kind star with the default links and speeds (100 Mbps / 1 ms workers,
// a 10 Gbps / 0.1 ms master, 1 and 10 Gflop/s); the same TopologySpec describes every kind.
TopologySpec star_spec();

// The SimGrid platform XML (version 4.1) of a star (spec.kind star): a Cluster zone.
std::string star_platform_xml(const TopologySpec& spec);

}  // namespace efsim::platforms
