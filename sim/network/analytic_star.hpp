// The textbook (alpha-beta) time of one parameter-server round on a generated star, computed
// independently of SimGrid: every transfer takes its route latency, then shares link bandwidth
// max-min fairly with the transfers active at the same time (fluid model). Exactly what SimGrid's
// `textbook` network model computes for routes of equal latency; tests compare the two, and the
// SyncRunner can use it as a fast clock.
#pragma once

#include <vector>

#include "algorithms/runner/sync_runner.hpp"
#include "platforms/star.hpp"

namespace efsim::sim {

// A transfer in the fluid model.
struct Flow {
  double start_s = 0;
  double latency_s = 0;
  double bytes = 0;
  std::vector<int> links;  // indices into the capacity vector
};

// Finish time of each flow under max-min fair sharing of link capacities (bytes/s).
std::vector<double> fluid_finish_times(const std::vector<Flow>& flows,
                                       const std::vector<double>& capacity_Bps);

class AnalyticStarClock final : public alg::RoundClock {
 public:
  explicit AnalyticStarClock(const platforms::TopologySpec& spec) : spec_(spec) {}
  alg::RoundTiming round_time(const alg::RoundCost& cost) override;

 private:
  platforms::TopologySpec spec_;
};

}  // namespace efsim::sim
