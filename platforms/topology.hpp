// Network topologies for the parameter-server pattern, built as a Boost.Graph graph first
// (vertices: hosts and switches; edges: full-duplex links with bandwidth and latency), then
// emitted as a SimGrid platform: every host, every link, and one explicit route each way between
// the master and every worker (the lowest-latency path, fewer hops on ties), in a Full zone.
//
// Kinds (parameters in TopologySpec):
//   star       every worker and the master on one switch (the generated star of star.hpp)
//   tree       workers in `racks` racks; rack switches reach a core switch over `uplink` links;
//              the master hangs off the core
//   ring       switches in a ring, one worker each; the master on switch 0
//   torus      a k x k 2-D torus of switches (k = ceil(sqrt(n))), workers on the first n; the
//              master on switch (0, 0)
//   fat_tree   a k-ary fat-tree (k even: k pods of k/2 edge and k/2 aggregation switches,
//              (k/2)^2 cores, k/2 hosts per edge switch); the master is host 0
//   dragonfly  `groups` groups of `routers` routers (full mesh inside a group, one global link
//              between every two groups), `hosts_per_router` hosts each; the master is host 0
//   edge       a star whose worker links are drawn, per worker, from `classes` (e.g. 10 Mbps /
//              50 ms phones and 100 Mbps / 10 ms laptops), with a seeded assignment
// Host links use `bandwidth`/`latency`; switch-to-switch links use `uplink`/`uplink_latency`.
#pragma once

#include <boost/graph/adjacency_list.hpp>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace efsim::platforms {

struct LinkClass {
  double bandwidth_Bps = 12.5e6;
  double latency_s = 1e-3;
  double share = 1.0;      // relative frequency among the workers (edge)
  double speed_flops = 0;  // the class's compute speed (0: worker_speed): phones vs laptops
};

struct TopologySpec {
  std::string kind = "tree";
  int workers = 1;
  double bandwidth_Bps = 12.5e6;  // host links
  double latency_s = 1e-3;
  double uplink_Bps = 1.25e9;  // switch-to-switch links
  double uplink_latency_s = 1e-4;
  double worker_speed_flops = 1e9;
  double master_speed_flops = 1e10;
  double master_bandwidth_Bps = 1.25e9;  // the master's own link
  double master_latency_s = 1e-4;
  // star: the worker links' master -> worker direction (what the broadcast crosses), for
  // asymmetric access links such as consumer lines; 0: bandwidth_Bps (symmetric). bandwidth_Bps
  // is then the worker -> master direction.
  double downlink_bandwidth_Bps = 0;
  int racks = 2;                                      // tree
  int k = 4;                                          // fat_tree
  int groups = 2, routers = 2, hosts_per_router = 2;  // dragonfly
  std::vector<LinkClass> classes;                     // edge
  std::uint64_t seed = 1;                             // edge: which worker gets which class
};

struct Vertex {
  std::string name;
  bool host = false;
  double speed_flops = 0;
};

struct Link {
  std::string name;
  double bandwidth_Bps = 0;
  double latency_s = 0;
};

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, Vertex, Link>;
using VertexId = Graph::vertex_descriptor;

struct Topology {
  Graph graph;
  VertexId master = 0;
  std::vector<VertexId> workers;
  std::string description;
};

// Builds the topology; throws InputError on impossible parameters (e.g. more workers than a
// fat-tree's hosts).
Topology make_topology(const TopologySpec& spec);

// The edge kind's class of each worker (an index into spec.classes): counts by the largest
// remainder of the shares, then a seeded shuffle of who gets which class.
std::vector<int> edge_worker_classes(const TopologySpec& spec);

// The route from `from` to `to`: vertices along the lowest-latency path (fewest hops on ties).
std::vector<VertexId> route(const Topology& t, VertexId from, VertexId to);

// The SimGrid platform XML (version 4.1): hosts, SPLITDUPLEX links, master <-> worker routes,
// and routes between the workers of each pair in `peers` (indices into t.workers).
std::string topology_xml(const Topology& t, const std::vector<std::pair<int, int>>& peers = {});
// The same, written to `os` as it is generated (an edge fleet of 10^6 clients is hundreds of MB
// of XML: a digest or a file need not hold it whole).
void write_topology_xml(std::ostream& os, const Topology& t,
                        const std::vector<std::pair<int, int>>& peers = {});

// The same platform for SimGrid's packet-level ns-3 model (network_model: ns3): a Floyd zone
// with one <router> per switch and one symmetrical single-link route per link. SimGrid 3.32's
// ns-3 binding builds an ns-3 point-to-point link from each single-link route only (it ignores
// Cluster zones and longer routes, then aborts at the first transfer); ns-3 then routes packets
// itself (fewest hops), SimGrid computes the host-to-host routes from the same links.
std::string topology_xml_ns3(const Topology& t);

// Graphviz DOT of the graph (hosts as boxes, links labelled with bandwidth and latency).
std::string topology_dot(const Topology& t);

// What the graph says about one parameter-server round (each direction of every link has its
// own capacity, as with SPLITDUPLEX links).
struct Analysis {
  std::size_t hosts = 0, switches = 0, links = 0;
  std::size_t max_hops = 0;            // master <-> worker route lengths
  double max_latency_s = 0;            // of those routes
  std::vector<double> bottleneck_Bps;  // per worker: the narrowest link of its route
  std::vector<double> latency_s;       // per worker: its route's latency
  double max_flow_Bps = 0;             // master -> all workers (= workers -> master)
};
Analysis analyse(const Topology& t);

// A platform as the simulator routes it (from a SimGrid XML file, see sim::load_routes): the
// master <-> worker routes as lists of link names (a SPLITDUPLEX link's directions are two
// links, name_UP and name_DOWN), each link's bandwidth, and counts.
struct RoutedPlatform {
  struct Route {
    std::vector<std::string> links;
    double latency_s = 0;
  };
  std::string source;  // the file
  std::size_t hosts = 0, links = 0;
  std::string master;
  std::vector<std::string> workers;
  std::vector<Route> down, up;  // master -> worker i, worker i -> master
  std::map<std::string, double> bandwidth_Bps;
};
// The analysis of a routed platform: hops, latencies and bottlenecks of the master -> worker
// routes, and the max flow master -> workers (and back: the larger of the two) through a graph
// whose vertices are the routes' links (each link direction carries its bandwidth once, however
// many routes cross it). Switches are not known from routes: 0.
Analysis analyse(const RoutedPlatform& p);
// Graphviz DOT of the routes (hosts as boxes, links as ellipses labelled with their bandwidth).
std::string routes_dot(const RoutedPlatform& p);

// A lower bound on one round's time (no compute) when the master sends `down_bytes` to every
// worker and every worker sends `up_bytes` back: in each direction, the slowest single transfer
// (latency + bytes / bottleneck) and the total volume over the max flow, whichever is larger.
double round_lower_bound_s(const Analysis& a, double down_bytes, double up_bytes);

}  // namespace efsim::platforms
