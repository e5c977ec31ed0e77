#include "sim/network/ns3_setup.hpp"

// Single ns-3 headers only: <ns3/core-module.h> does not compile as C++20 (singleton.h).
#include <ns3/config.h>
#include <ns3/queue-size.h>
#include <ns3/uinteger.h>

#include <simgrid/kernel/routing/NetPoint.hpp>
#include <simgrid/kernel/routing/NetZoneImpl.hpp>

#include "algorithms/core/error.hpp"

namespace efsim::sim {

void configure_ns3() {
  ns3::Config::SetDefault("ns3::TcpSocket::SndBufSize", ns3::UintegerValue(1U << 30));
  ns3::Config::SetDefault("ns3::TcpSocket::RcvBufSize", ns3::UintegerValue(1U << 30));
  ns3::Config::SetDefault("ns3::DropTailQueue<Packet>::MaxSize",
                          ns3::QueueSizeValue(ns3::QueueSize("1000p")));
}

Ns3LinkedHosts::Ns3LinkedHosts() {
  namespace routing = simgrid::kernel::routing;
  routing::NetZoneImpl::on_route_creation.connect(
      [this](bool, routing::NetPoint* src, routing::NetPoint* dst, routing::NetPoint*,
             routing::NetPoint*,
             const std::vector<simgrid::kernel::resource::StandardLinkImpl*>& links) {
        if (links.size() != 1 || src == nullptr || dst == nullptr) return;
        linked_.insert(src->get_name());
        linked_.insert(dst->get_name());
      });
}

void Ns3LinkedHosts::check(const std::string& platform_file,
                           const std::vector<std::string>& hosts) const {
  for (const auto& h : hosts)
    if (!linked_.count(h))
      throw InputError(
          platform_file + ": network_model ns3: host '" + h +
          "' has no single-link route, so SimGrid's ns-3 binding cannot place it (it builds "
          "ns-3 links from routes of one link only, and aborts otherwise). Describe the network "
          "in a Full, Floyd or Dijkstra zone with a <router> per switch and one "
          "<route symmetrical=\"YES\"> of one <link_ctn> per link (efsim generates this form "
          "for its own platform kinds); Cluster zones and <cluster> are not supported");
}

}  // namespace efsim::sim
