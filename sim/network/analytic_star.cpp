#include "sim/network/analytic_star.hpp"

#include <algorithm>
#include <cassert>
#include <limits>

namespace efsim::sim {

std::vector<double> fluid_finish_times(const std::vector<Flow>& flows,
                                       const std::vector<double>& capacity_Bps) {
  const std::size_t n = flows.size();
  std::vector<double> remaining(n), finish(n, -1.0), rate(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) remaining[i] = flows[i].bytes;
  double t = 0.0;
  std::size_t done = 0;
  while (done < n) {
    // Flows past their latency phase and not finished share the links.
    std::vector<std::size_t> active;
    double next_activation = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < n; ++i) {
      if (finish[i] >= 0) continue;
      const double ready = flows[i].start_s + flows[i].latency_s;
      if (ready <= t) {
        if (remaining[i] <= 0) {
          finish[i] = ready;
          ++done;
        } else {
          active.push_back(i);
        }
      } else {
        next_activation = std::min(next_activation, ready);
      }
    }
    if (done == n) break;
    // Max-min fair rates by progressive filling.
    std::vector<double> cap = capacity_Bps;
    std::vector<char> fixed(n, 0);
    std::size_t unfixed = active.size();
    while (unfixed > 0) {
      int bottleneck = -1;
      double share = std::numeric_limits<double>::infinity();
      for (std::size_t l = 0; l < cap.size(); ++l) {
        int users = 0;
        for (std::size_t i : active)
          if (!fixed[i] && std::find(flows[i].links.begin(), flows[i].links.end(),
                                     static_cast<int>(l)) != flows[i].links.end())
            ++users;
        if (users > 0 && cap[l] / users < share) {
          share = cap[l] / users;
          bottleneck = static_cast<int>(l);
        }
      }
      assert(bottleneck >= 0);
      for (std::size_t i : active) {
        if (fixed[i]) continue;
        const auto& L = flows[i].links;
        if (std::find(L.begin(), L.end(), bottleneck) == L.end()) continue;
        fixed[i] = 1;
        --unfixed;
        rate[i] = share;
        for (int l : L) cap[l] -= share;
      }
    }
    double next_finish = std::numeric_limits<double>::infinity();
    for (std::size_t i : active) next_finish = std::min(next_finish, t + remaining[i] / rate[i]);
    const double next = std::min(next_finish, next_activation);
    for (std::size_t i : active) {
      const double ends = t + remaining[i] / rate[i];
      if (ends <= next) {
        remaining[i] = 0;
        finish[i] = ends;
        ++done;
      } else {
        remaining[i] -= rate[i] * (next - t);
      }
    }
    t = next;
  }
  return finish;
}

alg::RoundTiming AnalyticStarClock::round_time(const alg::RoundCost& cost) {
  const int n = static_cast<int>(cost.up_bytes.size());
  assert(n == spec_.workers);
  // Links: 0 master UP (master -> switch), 1 master DOWN, then per worker UP, DOWN.
  std::vector<double> capacity = {spec_.master_bandwidth_Bps, spec_.master_bandwidth_Bps};
  const double down_Bps =
      spec_.downlink_bandwidth_Bps > 0 ? spec_.downlink_bandwidth_Bps : spec_.bandwidth_Bps;
  for (int i = 0; i < n; ++i) {
    capacity.push_back(spec_.bandwidth_Bps);
    capacity.push_back(down_Bps);
  }
  auto worker_up = [](int i) { return 2 + 2 * i; };
  auto worker_down = [](int i) { return 3 + 2 * i; };
  const double latency = spec_.master_latency_s + spec_.latency_s;
  // Only the workers taking part exchange messages and compute.
  std::vector<int> active;
  for (int i = 0; i < n; ++i)
    if (cost.active.empty() || cost.active[i]) active.push_back(i);
  const std::size_t m = active.size();
  std::vector<double> received(m, 0.0);
  if (cost.down_bytes > 0) {
    std::vector<Flow> down;
    for (int i : active)
      down.push_back({0.0, latency, static_cast<double>(cost.down_bytes), {0, worker_down(i)}});
    received = fluid_finish_times(down, capacity);
  }
  std::vector<Flow> up;
  std::vector<double> compute(m);
  for (std::size_t a = 0; a < m; ++a) {
    const int i = active[a];
    compute[a] = cost.worker_flops[i] / spec_.worker_speed_flops;
    up.push_back({received[a] + compute[a],
                  cost.up_bytes[i] > 0 ? latency : 0.0,  // no bytes: no message, no time
                  static_cast<double>(cost.up_bytes[i]),
                  {worker_up(i), 1}});
  }
  const auto arrived = fluid_finish_times(up, capacity);
  return alg::round_breakdown(0.0, received, compute, arrived,
                              cost.master_flops / spec_.master_speed_flops);
}

}  // namespace efsim::sim
