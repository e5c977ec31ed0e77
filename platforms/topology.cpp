#include "platforms/topology.hpp"

#include <algorithm>
#include <boost/graph/dijkstra_shortest_paths.hpp>
#include <boost/graph/push_relabel_max_flow.hpp>
#include <boost/property_map/transform_value_property_map.hpp>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <set>
#include <sstream>

#include "algorithms/core/error.hpp"
#include "algorithms/core/types.hpp"
#include "platforms/star.hpp"

namespace efsim::platforms {

namespace {

std::string rate(double Bps) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%gMbps", Bps * 8 / 1e6);
  return buf;
}

class Builder {
 public:
  explicit Builder(const TopologySpec& s) : s_(s) {}
  VertexId host(const std::string& name, double speed) {
    const VertexId v = boost::add_vertex(t.graph);
    t.graph[v] = Vertex{name, true, speed};
    return v;
  }
  VertexId node(const std::string& name) {
    const VertexId v = boost::add_vertex(t.graph);
    t.graph[v] = Vertex{name, false, 0.0};
    return v;
  }
  void link(VertexId a, VertexId b, const std::string& name, double bw, double lat) {
    boost::add_edge(a, b, Link{name, bw, lat}, t.graph);
  }
  VertexId master() {
    t.master = host("master", s_.master_speed_flops);
    return t.master;
  }
  VertexId worker(int i) {
    const VertexId v = host("worker-" + std::to_string(i), s_.worker_speed_flops);
    t.workers.push_back(v);
    return v;
  }
  // A worker hanging off switch `sw` with an ordinary host link.
  void worker_on(int i, VertexId sw) {
    link(worker(i), sw, "worker-" + std::to_string(i) + "-link", s_.bandwidth_Bps, s_.latency_s);
  }
  void master_on(VertexId sw) {
    link(master(), sw, "master-link", s_.master_bandwidth_Bps, s_.master_latency_s);
  }
  void uplink(VertexId a, VertexId b, const std::string& name) {
    link(a, b, name, s_.uplink_Bps, s_.uplink_latency_s);
  }
  Topology t;

 private:
  const TopologySpec& s_;
};

[[noreturn]] void bad(const std::string& what) { throw InputError("platform: " + what); }

}  // namespace

namespace {

void build_star(const TopologySpec& s, int n, Builder& b, std::ostringstream& d) {
  const VertexId sw = b.node("switch");
  b.master_on(sw);
  if (s.downlink_bandwidth_Bps > 0) {
    // Asymmetric links: the graph's links have one bandwidth, so they hold the faster direction
    // (the analysis's round-time bound stays a lower bound, looser in the slower direction).
    const double bw = std::max(s.bandwidth_Bps, s.downlink_bandwidth_Bps);
    for (int i = 0; i < n; ++i)
      b.link(b.worker(i), sw, "worker-" + std::to_string(i) + "-link", bw, s.latency_s);
    d << "star: " << n << " workers, " << rate(s.bandwidth_Bps) << " up / "
      << rate(s.downlink_bandwidth_Bps) << " down / " << s.latency_s * 1e3
      << " ms links (graph: the faster direction)";
    return;
  }
  for (int i = 0; i < n; ++i) b.worker_on(i, sw);
  d << "star: " << n << " workers, " << rate(s.bandwidth_Bps) << " / " << s.latency_s * 1e3
    << " ms links";
}

void build_tree(const TopologySpec& s, int n, Builder& b, std::ostringstream& d) {
  const int racks = std::max(1, std::min(s.racks, n));
  const VertexId core = b.node("core");
  b.master_on(core);
  std::vector<VertexId> rack(racks);
  for (int r = 0; r < racks; ++r) {
    rack[r] = b.node("rack-" + std::to_string(r));
    b.uplink(rack[r], core, "rack-" + std::to_string(r) + "-uplink");
  }
  for (int i = 0; i < n; ++i) b.worker_on(i, rack[static_cast<std::size_t>(i) * racks / n]);
  d << "tree: " << racks << " racks of " << rate(s.bandwidth_Bps) << " workers, "
    << rate(s.uplink_Bps) << " rack uplinks";
}

void build_ring(const TopologySpec& s, int n, Builder& b, std::ostringstream& d) {
  std::vector<VertexId> sw(n);
  for (int j = 0; j < n; ++j) sw[j] = b.node("switch-" + std::to_string(j));
  for (int j = 0; j + 1 < n; ++j) b.uplink(sw[j], sw[j + 1], "ring-" + std::to_string(j));
  if (n >= 3) b.uplink(sw[n - 1], sw[0], "ring-" + std::to_string(n - 1));
  b.master_on(sw[0]);
  for (int i = 0; i < n; ++i) b.worker_on(i, sw[i]);
  d << "ring of " << n << " switches, " << rate(s.uplink_Bps) << " ring links";
}

void build_torus(const TopologySpec& s, int n, Builder& b, std::ostringstream& d) {
  const int k = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n))));
  std::vector<VertexId> sw(k * k);
  for (int r = 0; r < k; ++r)
    for (int c = 0; c < k; ++c)
      sw[r * k + c] = b.node("switch-" + std::to_string(r) + "-" + std::to_string(c));
  for (int r = 0; r < k; ++r)
    for (int c = 0; c < k; ++c) {
      const std::string at = std::to_string(r) + "-" + std::to_string(c);
      if (c + 1 < k || k >= 3) b.uplink(sw[r * k + c], sw[r * k + (c + 1) % k], "h-" + at);
      if (r + 1 < k || k >= 3) b.uplink(sw[r * k + c], sw[((r + 1) % k) * k + c], "v-" + at);
    }
  b.master_on(sw[0]);
  for (int i = 0; i < n; ++i) b.worker_on(i, sw[i]);
  d << k << "x" << k << " torus, " << rate(s.uplink_Bps) << " links";
}

void build_fat_tree(const TopologySpec& s, int n, Builder& b, std::ostringstream& d) {
  const int k = s.k;
  if (k < 2 || k % 2) bad("fat_tree: k must be even and >= 2");
  const int half = k / 2, hosts = k * k * k / 4;
  if (n + 1 > hosts)
    bad("fat_tree: k = " + std::to_string(k) + " has " + std::to_string(hosts) +
        " hosts, fewer than " + std::to_string(n) + " workers + the master");
  std::vector<VertexId> core(half * half);
  for (int c = 0; c < half * half; ++c) core[c] = b.node("core-" + std::to_string(c));
  int h = 0;
  for (int p = 0; p < k && h <= n; ++p) {
    std::vector<VertexId> agg(half), edge(half);
    for (int a = 0; a < half; ++a) {
      agg[a] = b.node("agg-" + std::to_string(p) + "-" + std::to_string(a));
      for (int c = 0; c < half; ++c)
        b.uplink(agg[a], core[a * half + c],
                 "agg-" + std::to_string(p) + "-" + std::to_string(a) + "-core-" +
                     std::to_string(a * half + c));
    }
    for (int e = 0; e < half; ++e) {
      edge[e] = b.node("edge-" + std::to_string(p) + "-" + std::to_string(e));
      for (int a = 0; a < half; ++a)
        b.uplink(
            edge[e], agg[a],
            "edge-" + std::to_string(p) + "-" + std::to_string(e) + "-agg-" + std::to_string(a));
      for (int j = 0; j < half && h <= n; ++j, ++h) {
        if (h == 0)
          b.master_on(edge[e]);
        else
          b.worker_on(h - 1, edge[e]);
      }
    }
  }
  d << "fat-tree k=" << k << " (" << hosts << " host slots), " << rate(s.uplink_Bps)
    << " switch links";
}

void build_dragonfly(const TopologySpec& s, int n, Builder& b, std::ostringstream& d) {
  const int g = s.groups, a = s.routers, p = s.hosts_per_router;
  if (g < 1 || a < 1 || p < 1) bad("dragonfly: groups, routers and hosts_per_router must be >= 1");
  if (n + 1 > g * a * p)
    bad("dragonfly: " + std::to_string(g * a * p) + " host slots, fewer than " + std::to_string(n) +
        " workers + the master");
  std::vector<VertexId> router(g * a);
  for (int G = 0; G < g; ++G)
    for (int R = 0; R < a; ++R)
      router[G * a + R] = b.node("router-" + std::to_string(G) + "-" + std::to_string(R));
  for (int G = 0; G < g; ++G)
    for (int R1 = 0; R1 < a; ++R1)
      for (int R2 = R1 + 1; R2 < a; ++R2)
        b.uplink(
            router[G * a + R1], router[G * a + R2],
            "local-" + std::to_string(G) + "-" + std::to_string(R1) + "-" + std::to_string(R2));
  for (int G1 = 0; G1 < g; ++G1)
    for (int G2 = G1 + 1; G2 < g; ++G2)
      b.uplink(router[G1 * a + G2 % a], router[G2 * a + G1 % a],
               "global-" + std::to_string(G1) + "-" + std::to_string(G2));
  for (int h = 0; h <= n; ++h) {
    if (h == 0)
      b.master_on(router[0]);
    else
      b.worker_on(h - 1, router[h / p]);
  }
  d << "dragonfly: " << g << " groups x " << a << " routers x " << p << " hosts, "
    << rate(s.uplink_Bps) << " router links";
}

}  // namespace

std::vector<int> edge_worker_classes(const TopologySpec& s) {
  if (s.classes.empty()) bad("edge: give the worker link classes");
  const int n = s.workers;
  // Counts by largest remainder of the shares, then a seeded shuffle of who gets which class.
  const double total =
      std::accumulate(s.classes.begin(), s.classes.end(), 0.0,
                      [](double acc, const LinkClass& c) { return acc + c.share; });
  std::vector<int> count(s.classes.size());
  std::vector<std::pair<double, std::size_t>> rest;
  int given = 0;
  for (std::size_t c = 0; c < s.classes.size(); ++c) {
    const double exact = n * s.classes[c].share / total;
    count[c] = static_cast<int>(std::floor(exact));
    given += count[c];
    rest.emplace_back(exact - count[c], c);
  }
  std::sort(rest.begin(), rest.end(), [](const auto& x, const auto& y) {
    return x.first > y.first || (x.first == y.first && x.second < y.second);
  });
  for (int r = 0; given < n; ++r, ++given) ++count[rest[r % rest.size()].second];
  std::vector<int> cls;
  for (std::size_t c = 0; c < count.size(); ++c)
    cls.insert(cls.end(), count[c], static_cast<int>(c));
  alg::Rng rng(alg::derive_seed(s.seed, 0, 19));
  for (int i = n - 1; i > 0; --i)
    std::swap(cls[i], cls[alg::uniform_below(rng, static_cast<std::uint64_t>(i) + 1)]);
  return cls;
}

namespace {

void build_edge(const TopologySpec& s, int n, Builder& b, std::ostringstream& d) {
  const std::vector<int> cls = edge_worker_classes(s);
  std::vector<int> count(s.classes.size());
  for (int c : cls) ++count[c];
  const VertexId sw = b.node("switch");
  b.master_on(sw);
  for (int i = 0; i < n; ++i) {
    const LinkClass& c = s.classes[cls[i]];
    const VertexId w = b.worker(i);
    if (c.speed_flops > 0) b.t.graph[w].speed_flops = c.speed_flops;
    b.link(w, sw, "worker-" + std::to_string(i) + "-link", c.bandwidth_Bps, c.latency_s);
  }
  d << "edge fleet: " << n << " workers;";
  for (std::size_t c = 0; c < count.size(); ++c)
    d << " " << count[c] << " at " << rate(s.classes[c].bandwidth_Bps) << "/"
      << s.classes[c].latency_s * 1e3 << "ms";
}

}  // namespace

Topology make_topology(const TopologySpec& s) {
  const int n = s.workers;
  if (n < 1) bad("at least one worker");
  Builder b(s);
  std::ostringstream d;
  using Build = void (*)(const TopologySpec&, int, Builder&, std::ostringstream&);
  static const std::map<std::string, Build> kinds = {
      {"star", build_star},   {"tree", build_tree},         {"ring", build_ring},
      {"torus", build_torus}, {"fat_tree", build_fat_tree}, {"dragonfly", build_dragonfly},
      {"edge", build_edge}};
  const auto it = kinds.find(s.kind);
  if (it == kinds.end()) bad("unknown topology kind '" + s.kind + "'");
  it->second(s, n, b, d);
  b.t.description = d.str();
  return std::move(b.t);
}

namespace {

// boost::edge(u, v) scans u's edges: from a switch of n hosts that is O(n) per lookup. A host
// with one link has exactly one edge to its neighbour: looked up from the host, the same edge.
std::pair<Graph::edge_descriptor, bool> edge_between(VertexId u, VertexId v, const Graph& g) {
  if (boost::out_degree(v, g) == 1 && boost::out_degree(u, g) != 1) return boost::edge(v, u, g);
  return boost::edge(u, v, g);
}

}  // namespace

std::vector<VertexId> route(const Topology& t, VertexId from, VertexId to) {
  const Graph& g = t.graph;
  // A host with one link leaves through its one neighbour: between two such hosts on the same
  // switch (every master-worker route of a star or an edge fleet), or such a host and its
  // neighbour, that is the only simple path whatever else the graph holds, so it is the path
  // Dijkstra finds; taking it directly saves a search over all n hosts per route (O(n^2) for
  // an edge fleet's platform file).
  auto only_neighbour = [&g](VertexId v) {
    return boost::out_degree(v, g) == 1 ? *boost::adjacent_vertices(v, g).first : v;
  };
  if (from != to) {
    const VertexId a = only_neighbour(from), b = only_neighbour(to);
    if (a == to || b == from) return {from, to};
    if (a != from && b != to && a == b) return {from, a, to};
  }
  std::vector<VertexId> pred(boost::num_vertices(g));
  std::vector<double> dist(boost::num_vertices(g));
  // Lowest latency; a tiny cost per hop prefers fewer hops among equal latencies.
  auto weight = boost::make_transform_value_property_map(
      [](double latency) { return latency + 1e-12; }, boost::get(&Link::latency_s, g));
  boost::dijkstra_shortest_paths(g, from,
                                 boost::weight_map(weight)
                                     .predecessor_map(boost::make_iterator_property_map(
                                         pred.begin(), boost::get(boost::vertex_index, g)))
                                     .distance_map(boost::make_iterator_property_map(
                                         dist.begin(), boost::get(boost::vertex_index, g))));
  std::vector<VertexId> path;
  for (VertexId v = to; v != from; v = pred[v]) {
    if (pred[v] == v) return {};  // unreachable
    path.push_back(v);
  }
  path.push_back(from);
  std::reverse(path.begin(), path.end());
  return path;
}

std::string topology_xml(const Topology& t, const std::vector<std::pair<int, int>>& peers) {
  std::ostringstream os;
  write_topology_xml(os, t, peers);
  return os.str();
}

void write_topology_xml(std::ostream& os, const Topology& t,
                        const std::vector<std::pair<int, int>>& peers) {
  const Graph& g = t.graph;
  os << "<?xml version='1.0'?>\n<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
     << "<!-- Generated by efsim: " << t.description << ". Routes: lowest-latency paths. -->\n"
     << "<platform version=\"4.1\">\n  <zone id=\"topology\" routing=\"Full\">\n";
  for (auto v : boost::make_iterator_range(boost::vertices(g)))
    if (g[v].host)
      os << "    <host id=\"" << g[v].name << "\" speed=\"" << xml_number(g[v].speed_flops)
         << "f\"/>\n";
  for (auto e : boost::make_iterator_range(boost::edges(g)))
    os << "    <link id=\"" << g[e].name << "\" bandwidth=\"" << xml_number(g[e].bandwidth_Bps)
       << "Bps\" latency=\"" << xml_number(g[e].latency_s)
       << "s\" sharing_policy=\"SPLITDUPLEX\"/>\n";
  // A link is crossed "UP" from its lower-numbered end, "DOWN" from the other: the two
  // directions of a route use the two halves of every full-duplex link.
  auto hops = [&](const std::vector<VertexId>& path) {
    std::string out;
    for (std::size_t k = 0; k + 1 < path.size(); ++k) {
      const auto [e, found] = edge_between(path[k], path[k + 1], g);
      if (!found) continue;
      out += "<link_ctn id=\"" + g[e].name + "\" direction=\"" +
             (path[k] < path[k + 1] ? "UP" : "DOWN") + "\"/>";
    }
    return out;
  };
  // Both directions between the master and every worker, and between the workers of
  // `peers` (those the communication patterns connect).
  // In ascending order, each pair once (a sorted vector: 16 bytes a pair, for fleets of 10^6).
  std::vector<std::pair<VertexId, VertexId>> pairs;
  pairs.reserve(t.workers.size() + peers.size());
  for (VertexId w : t.workers) pairs.emplace_back(t.master, w);
  for (const auto& [a, b] : peers) pairs.emplace_back(t.workers.at(a), t.workers.at(b));
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  for (auto [a, b] : pairs) {
    if (a == b) continue;
    if (a > b && std::binary_search(pairs.begin(), pairs.end(), std::make_pair(b, a)))
      continue;  // emitted with its reverse
    std::vector<VertexId> path = route(t, a, b);
    if (path.empty()) throw InputError("platform: no route from " + g[a].name + " to " + g[b].name);
    os << "    <route src=\"" << g[a].name << "\" dst=\"" << g[b].name << "\" symmetrical=\"NO\">"
       << hops(path) << "</route>\n";
    std::reverse(path.begin(), path.end());
    os << "    <route src=\"" << g[b].name << "\" dst=\"" << g[a].name << "\" symmetrical=\"NO\">"
       << hops(path) << "</route>\n";
  }
  os << "  </zone>\n</platform>\n";
}

std::string topology_xml_ns3(const Topology& t) {
  const Graph& g = t.graph;
  std::ostringstream os;
  os << "<?xml version='1.0'?>\n<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
     << "<!-- Generated by efsim for the ns-3 model: " << t.description
     << ". Switches are routers; each link is one single-link route. -->\n"
     << "<platform version=\"4.1\">\n  <zone id=\"topology\" routing=\"Floyd\">\n";
  for (auto v : boost::make_iterator_range(boost::vertices(g))) {
    if (g[v].host)
      os << "    <host id=\"" << g[v].name << "\" speed=\"" << xml_number(g[v].speed_flops)
         << "f\"/>\n";
    else
      os << "    <router id=\"" << g[v].name << "\"/>\n";
  }
  for (auto e : boost::make_iterator_range(boost::edges(g)))
    os << "    <link id=\"" << g[e].name << "\" bandwidth=\"" << xml_number(g[e].bandwidth_Bps)
       << "Bps\" latency=\"" << xml_number(g[e].latency_s) << "s\"/>\n";
  for (auto e : boost::make_iterator_range(boost::edges(g)))
    os << "    <route src=\"" << g[boost::source(e, g)].name << "\" dst=\""
       << g[boost::target(e, g)].name << "\" symmetrical=\"YES\"><link_ctn id=\"" << g[e].name
       << "\"/></route>\n";
  os << "  </zone>\n</platform>\n";
  return os.str();
}

namespace {
// Push-relabel max flow on a directed graph of capacitated arcs.
class MaxFlow {
 public:
  static constexpr double kUnlimited = std::numeric_limits<double>::max() / 4;
  explicit MaxFlow(std::size_t vertices) : f_(vertices) {}
  void arc(std::size_t u, std::size_t v, double capacity) {
    auto cap = boost::get(boost::edge_capacity, f_);
    auto rev = boost::get(boost::edge_reverse, f_);
    const auto e1 = boost::add_edge(u, v, f_).first, e2 = boost::add_edge(v, u, f_).first;
    cap[e1] = capacity;
    cap[e2] = 0;
    rev[e1] = e2;
    rev[e2] = e1;
  }
  double run(std::size_t source, std::size_t sink) {
    return boost::push_relabel_max_flow(f_, source, sink);
  }

 private:
  using Traits = boost::adjacency_list_traits<boost::vecS, boost::vecS, boost::directedS>;
  using FlowGraph = boost::adjacency_list<
      boost::vecS, boost::vecS, boost::directedS, boost::no_property,
      boost::property<
          boost::edge_capacity_t, double,
          boost::property<boost::edge_residual_capacity_t, double,
                          boost::property<boost::edge_reverse_t, Traits::edge_descriptor>>>>;
  FlowGraph f_;
};
}  // namespace

Analysis analyse(const Topology& t) {
  const Graph& g = t.graph;
  Analysis a;
  for (auto v : boost::make_iterator_range(boost::vertices(g)))
    (g[v].host ? a.hosts : a.switches)++;
  a.links = boost::num_edges(g);
  for (VertexId w : t.workers) {
    const auto path = route(t, t.master, w);
    double lat = 0, bottleneck = std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k + 1 < path.size(); ++k) {
      const auto e = edge_between(path[k], path[k + 1], g).first;
      lat += g[e].latency_s;
      bottleneck = std::min(bottleneck, g[e].bandwidth_Bps);
    }
    a.max_hops = std::max(a.max_hops, path.size() - 1);
    a.max_latency_s = std::max(a.max_latency_s, lat);
    a.latency_s.push_back(lat);
    a.bottleneck_Bps.push_back(bottleneck);
  }
  // Max flow master -> a super-sink fed by every worker (each link direction: its bandwidth).
  MaxFlow f(boost::num_vertices(g) + 1);
  for (auto e : boost::make_iterator_range(boost::edges(g))) {
    f.arc(boost::source(e, g), boost::target(e, g), g[e].bandwidth_Bps);
    f.arc(boost::target(e, g), boost::source(e, g), g[e].bandwidth_Bps);
  }
  const std::size_t sink = boost::num_vertices(g);
  for (VertexId w : t.workers) f.arc(w, sink, MaxFlow::kUnlimited);
  a.max_flow_Bps = f.run(t.master, sink);
  return a;
}

Analysis analyse(const RoutedPlatform& p) {
  Analysis a;
  a.hosts = p.hosts;
  a.links = p.links;
  for (const auto& r : p.down) {
    double bottleneck = std::numeric_limits<double>::infinity();
    for (const auto& l : r.links) bottleneck = std::min(bottleneck, p.bandwidth_Bps.at(l));
    a.max_hops = std::max(a.max_hops, r.links.size());
    a.max_latency_s = std::max(a.max_latency_s, r.latency_s);
    a.latency_s.push_back(r.latency_s);
    a.bottleneck_Bps.push_back(bottleneck);
  }
  // Vertices: 0 the master, 1 the sink, then each worker, then each link as in -> out.
  std::map<std::string, std::size_t> in;
  for (const auto& [name, bw] : p.bandwidth_Bps) in[name] = 2 + p.workers.size() + 2 * in.size();
  auto flow = [&](const std::vector<RoutedPlatform::Route>& routes, bool to_workers) {
    MaxFlow f(2 + p.workers.size() + 2 * in.size());
    for (const auto& [name, v] : in) f.arc(v, v + 1, p.bandwidth_Bps.at(name));
    for (std::size_t i = 0; i < routes.size(); ++i) {
      const std::size_t worker = 2 + i;
      std::size_t from = to_workers ? 0 : worker;
      for (const auto& l : routes[i].links) {
        f.arc(from, in.at(l), MaxFlow::kUnlimited);
        from = in.at(l) + 1;
      }
      f.arc(from, to_workers ? worker : 0, MaxFlow::kUnlimited);
      if (to_workers)
        f.arc(worker, 1, MaxFlow::kUnlimited);
      else
        f.arc(1, worker, MaxFlow::kUnlimited);  // the sink feeds every worker (reversed run)
    }
    return to_workers ? f.run(0, 1) : f.run(1, 0);
  };
  a.max_flow_Bps = std::max(flow(p.down, true), flow(p.up, false));
  return a;
}

std::string routes_dot(const RoutedPlatform& p) {
  std::ostringstream os;
  os << "digraph efsim {\n  // routes of " << p.source << "\n";
  os << "  \"" << p.master << "\" [shape=box];\n";
  for (const auto& w : p.workers) os << "  \"" << w << "\" [shape=box];\n";
  for (const auto& [name, bw] : p.bandwidth_Bps)
    os << "  \"" << name << "\" [shape=ellipse, label=\"" << name << "\\n" << rate(bw) << "\"];\n";
  std::set<std::pair<std::string, std::string>> edges;
  auto chain = [&](const std::string& from, const RoutedPlatform::Route& r, const std::string& to) {
    std::string prev = from;
    for (const auto& l : r.links) {
      edges.emplace(prev, l);
      prev = l;
    }
    edges.emplace(prev, to);
  };
  for (std::size_t i = 0; i < p.workers.size(); ++i) {
    chain(p.master, p.down[i], p.workers[i]);
    chain(p.workers[i], p.up[i], p.master);
  }
  for (const auto& [u, v] : edges) os << "  \"" << u << "\" -> \"" << v << "\";\n";
  os << "}\n";
  return os.str();
}

double round_lower_bound_s(const Analysis& a, double down_bytes, double up_bytes) {
  const double n = static_cast<double>(a.latency_s.size());
  auto direction = [&](double bytes) {
    if (bytes <= 0) return 0.0;
    double single = 0;
    for (std::size_t i = 0; i < a.latency_s.size(); ++i)
      single = std::max(single, a.latency_s[i] + bytes / a.bottleneck_Bps[i]);
    // The volume term gets no latency: with routes of different latencies the cut's links can
    // be busy while other transfers are still in flight.
    return std::max(single, n * bytes / a.max_flow_Bps);
  };
  return direction(down_bytes) + direction(up_bytes);
}

std::string topology_dot(const Topology& t) {
  const Graph& g = t.graph;
  std::ostringstream os;
  os << "graph efsim {\n  // " << t.description << "\n";
  for (auto v : boost::make_iterator_range(boost::vertices(g)))
    os << "  \"" << g[v].name << "\" [shape=" << (g[v].host ? "box" : "ellipse") << "];\n";
  for (auto e : boost::make_iterator_range(boost::edges(g)))
    os << "  \"" << g[boost::source(e, g)].name << "\" -- \"" << g[boost::target(e, g)].name
       << "\" [label=\"" << rate(g[e].bandwidth_Bps) << " " << g[e].latency_s * 1e3 << "ms\"];\n";
  os << "}\n";
  return os.str();
}

}  // namespace efsim::platforms
