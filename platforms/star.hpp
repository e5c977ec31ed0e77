// Star (parameter-server) platform generated from a scenario: a master host and n worker hosts,
// each behind its own full-duplex link to one central switch. Emitted as SimGrid XML so a user
// can read and reuse it. Routes: master -> worker-i uses master-link (UP) then worker-i's link
// (DOWN); worker-i -> master the reverse. Names: "master", "worker-0" .. "worker-(n-1)".
#pragma once

#include <string>
#include <vector>

namespace efsim::platforms {

struct StarSpec {
  int workers = 1;
  double worker_bandwidth_Bps = 12.5e6;  // bytes per second (100 Mbps)
  double worker_latency_s = 1e-3;
  double master_bandwidth_Bps = 1.25e9;  // 10 Gbps
  double master_latency_s = 1e-4;
  double worker_speed_flops = 1e9;  // flop/s
  double master_speed_flops = 1e10;
};

// A number for a platform XML attribute: every digit of the double ("%.17g").
std::string xml_number(double v);

std::string master_host_name();
std::string worker_host_name(int i);
// The star as a topology of kind star (one switch), for the graph analysis and the ns-3 form.
struct TopologySpec;
TopologySpec star_topology(const StarSpec& spec);

// The SimGrid platform XML (version 4.1) for the star.
std::string star_platform_xml(const StarSpec& spec);

}  // namespace efsim::platforms
