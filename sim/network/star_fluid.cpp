#include "sim/network/star_fluid.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <numeric>
#include <tuple>

namespace efsim::sim {

std::vector<double> star_finish_times(const std::vector<StarFlow>& flows, double shared_Bps) {
  std::vector<double> finish(flows.size(), 0.0);
  // Groups of flows that become active together with the same size and cap: they share alike
  // and finish together.
  struct Group {
    double active_at, bytes, cap;
    double count = 0;
    double remaining = 0;  // bytes left of each flow of the group
    double rate = 0;       // of each flow
    double finish = 0;
  };
  std::map<std::tuple<double, double, double>, std::size_t> index;
  std::vector<Group> groups;
  std::vector<std::size_t> group_of(flows.size());
  for (std::size_t f = 0; f < flows.size(); ++f) {
    const StarFlow& fl = flows[f];
    if (fl.bytes <= 0) {  // no message: no transfer
      finish[f] = fl.ready_s;
      group_of[f] = std::numeric_limits<std::size_t>::max();
      continue;
    }
    const auto key = std::make_tuple(fl.ready_s + fl.latency_s, fl.bytes, fl.cap_Bps);
    auto [it, fresh] = index.emplace(key, groups.size());
    if (fresh) groups.push_back({fl.ready_s + fl.latency_s, fl.bytes, fl.cap_Bps, 0, fl.bytes});
    groups[it->second].count += 1;
    group_of[f] = it->second;
  }
  // Groups in order of activation (the map's key order).
  std::vector<std::size_t> pending;
  pending.reserve(groups.size());
  for (const auto& [key, g] : index) pending.push_back(g);
  std::size_t next = 0;
  std::vector<std::size_t> active;
  double t = pending.empty() ? 0.0 : groups[pending[0]].active_at;
  while (next < pending.size() || !active.empty()) {
    while (next < pending.size() && groups[pending[next]].active_at <= t)
      active.push_back(pending[next++]);
    if (active.empty()) {
      t = groups[pending[next]].active_at;
      continue;
    }
    // Water level: the groups by cap; those below the fair share of what is left keep their cap.
    std::sort(active.begin(), active.end(), [&groups](std::size_t a, std::size_t b) {
      return groups[a].cap < groups[b].cap || (groups[a].cap == groups[b].cap && a < b);
    });
    double left = shared_Bps;
    double flows_left = 0;
    for (std::size_t g : active) flows_left += groups[g].count;
    for (std::size_t g : active) {
      Group& G = groups[g];
      const double share = left / flows_left;
      G.rate = std::min(G.cap, share);
      left -= G.rate * G.count;
      flows_left -= G.count;
    }
    double next_finish = std::numeric_limits<double>::infinity();
    for (std::size_t g : active)
      next_finish = std::min(next_finish, t + groups[g].remaining / groups[g].rate);
    const double next_active = next < pending.size() ? groups[pending[next]].active_at
                                                     : std::numeric_limits<double>::infinity();
    const double step = std::min(next_finish, next_active);
    std::vector<std::size_t> still;
    for (std::size_t g : active) {
      Group& G = groups[g];
      const double ends = t + G.remaining / G.rate;
      if (ends <= step) {
        G.remaining = 0;
        G.finish = ends;
      } else {
        G.remaining -= G.rate * (step - t);
        still.push_back(g);
      }
    }
    active.swap(still);
    t = step;
  }
  for (std::size_t f = 0; f < flows.size(); ++f)
    if (group_of[f] != std::numeric_limits<std::size_t>::max())
      finish[f] = groups[group_of[f]].finish;
  return finish;
}

FluidStarClock::FluidStarClock(const platforms::TopologySpec& spec, int workers)
    : spec_(spec), classes_(spec, workers) {}

alg::RoundTiming FluidStarClock::round_time(const alg::RoundCost& cost) {
  const int n = static_cast<int>(cost.up_bytes.size());
  std::vector<int> active;  // entries of the cost vectors
  for (int i = 0; i < n; ++i)
    if (cost.active.empty() || cost.active[i]) active.push_back(i);
  const std::size_t m = active.size();
  // The class of entry e: of worker e, or of the population's worker cost.workers[e].
  auto class_of = [this, &cost](int e) {
    return classes_.class_of(cost.workers.empty() ? e : cost.workers[e]);
  };
  auto latency = [this, &class_of](int e) {
    return spec_.master_latency_s + classes_.link(class_of(e)).latency_s;
  };
  std::vector<double> received(m, 0.0);
  if (cost.down_bytes > 0) {
    std::vector<StarFlow> down(m);
    for (std::size_t a = 0; a < m; ++a)
      down[a] = {0.0, latency(active[a]), static_cast<double>(cost.down_bytes),
                 classes_.link(class_of(active[a])).bandwidth_Bps};
    received = star_finish_times(down, spec_.master_bandwidth_Bps);
  }
  std::vector<double> compute(m);
  std::vector<StarFlow> up(m);
  for (std::size_t a = 0; a < m; ++a) {
    const int i = active[a];
    const platforms::LinkClass& c = classes_.link(class_of(i));
    compute[a] = cost.worker_flops[i] / c.speed_flops;
    up[a] = {received[a] + compute[a], latency(i), static_cast<double>(cost.up_bytes[i]),
             c.bandwidth_Bps};
  }
  const std::vector<double> arrived = star_finish_times(up, spec_.master_bandwidth_Bps);
  return alg::round_breakdown(0.0, received, compute, arrived,
                              cost.master_flops / spec_.master_speed_flops);
}

}  // namespace efsim::sim
