// The `analytic` network model: SimGrid's `textbook` model (CM02 without cross-traffic or a TCP
// window: a transfer waits its route's latency, then shares the links it crosses max-min fairly)
// computed in closed form for parameter-server rounds on a star or an edge fleet, without SimGrid.
// On a star every transfer crosses exactly two links: its worker's own link (which it has to
// itself in its direction: SPLITDUPLEX) and the master's link, shared by every transfer of the
// same direction. Max-min sharing of one shared link under per-flow caps is a water level: the
// flows capped below the level get their cap, the others the level. Transfers that start
// together with the same size, cap and latency -- every client of a link class in a homogeneous
// round -- stay together, so they are solved as one group: a round of n identical workers costs
// O(1) instead of SimGrid's O(n) completions, each re-solving the master link's n flows.
// A test holds the times against SimGrid's `textbook` runs (stars and edge fleets).
#pragma once

#include <vector>

#include "algorithms/runner/sync_runner.hpp"
#include "platforms/slots.hpp"
#include "platforms/topology.hpp"

namespace efsim::sim {

struct StarFlow {
  double ready_s = 0;    // when the sender starts it
  double latency_s = 0;  // the route's latency
  double bytes = 0;      // 0: no message (finishes at ready_s, no latency)
  double cap_Bps = 0;    // its own link's bandwidth
};

// Finish time of each flow: after its latency, max-min fair sharing of shared_Bps under each
// flow's own cap (the fluid model of analytic_star.hpp, restricted to a star's two-link routes).
std::vector<double> star_finish_times(const std::vector<StarFlow>& flows, double shared_Bps);

// The round clock of the `analytic` model on a star or edge fleet (spec.kind star or edge):
// worker i's link and speed are those of its class.
class FluidStarClock final : public alg::RoundClock {
 public:
  FluidStarClock(const platforms::TopologySpec& spec, int workers);
  alg::RoundTiming round_time(const alg::RoundCost& cost) override;

 private:
  platforms::TopologySpec spec_;
  platforms::ClientClasses classes_;
};

}  // namespace efsim::sim
