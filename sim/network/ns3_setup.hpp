// SimGrid's packet-level ns-3 model (network_model: ns3; Debian's libsimgrid 3.32 is built
// against ns-3.37). What efsim sets up around the binding, each measured on this machine:
//   - TCP socket buffers of 1 GiB: with ns-3's defaults (128 KiB) a message above about 100 kB
//     aborts SimGrid (ns3_simulator.cpp:114) or finishes impossibly early;
//   - device queues of 1000 packets (Linux's default txqueuelen) instead of ns-3's 100, which
//     drop-tail a single Cubic flow's slow start on a 1 Mbps link and make 64 simultaneous
//     uploads wait out 1 s retransmission timeouts;
//   - a check that every host has a single-link route (a platform the binding can build).
// SimGrid itself sets 1000-byte TCP segments, delayed ACKs off and no timestamps; the TCP variant
// is ns-3's default (Cubic). Every transfer opens a new TCP connection (handshake and slow start
// included), and a 0-byte transfer never completes: the runner sends at least one byte.
#pragma once

#include <set>
#include <string>
#include <vector>

namespace efsim::sim {

// Sets the ns-3 defaults above; call after creating the Engine, before loading the platform.
void configure_ns3();

// Records the hosts and routers that SimGrid's routes of a single link connect (the ns-3 links);
// construct before loading the platform.
class Ns3LinkedHosts {
 public:
  Ns3LinkedHosts();
  // Throws InputError naming the platform file and the first host of `hosts` without such a
  // route (the binding would abort at its first transfer).
  void check(const std::string& platform_file, const std::vector<std::string>& hosts) const;

 private:
  std::set<std::string> linked_;
};

}  // namespace efsim::sim
