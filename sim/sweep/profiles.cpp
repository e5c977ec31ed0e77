#include "sim/sweep/profiles.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <numbers>
#include <sstream>

#include "algorithms/core/error.hpp"
#include "algorithms/core/types.hpp"
#include "platforms/star.hpp"
#include "platforms/topology.hpp"

namespace efsim::sim {

namespace fs = std::filesystem;

ProfilePoints profile_points(const ProfileSpec& p, std::uint64_t seed, std::uint64_t stream) {
  ProfilePoints out;
  if (p.kind == "trace") {
    if (p.points.front().first > 0) out.points.emplace_back(0.0, 1.0);  // nominal until then
    out.points.insert(out.points.end(), p.points.begin(), p.points.end());
    out.period_s = p.loop_s;
  } else if (p.kind == "step") {
    out.points.emplace_back(0.0, 1.0);
    if (p.at_s > 0)
      out.points.emplace_back(p.at_s, p.factor);
    else
      out.points.back().second = p.factor;
  } else if (p.kind == "diurnal") {
    const double dt = p.period_s / p.steps;
    for (int j = 0; j < p.steps; ++j) {
      const double mid = (j + 0.5) * dt;
      const double phase = 2.0 * std::numbers::pi * (mid - p.peak_s) / p.period_s;
      out.points.emplace_back(j * dt, p.min + (p.max - p.min) * (1.0 + std::cos(phase)) / 2.0);
    }
    out.period_s = p.period_s;
  } else if (p.kind == "markov") {
    alg::Rng rng(alg::derive_seed(seed, stream, 23));
    const double on_share = p.mean_on_s / (p.mean_on_s + p.mean_off_s);
    bool on = alg::uniform01(rng) < on_share;  // the stationary law
    double t = 0;
    while (t < p.horizon_s) {
      out.points.emplace_back(t, on ? 1.0 : p.low);
      // Exponential sojourn by inversion (portable: no std:: distribution).
      const double mean = on ? p.mean_on_s : p.mean_off_s;
      t += -mean * std::log(1.0 - alg::uniform01(rng));
      on = !on;
    }
    out.period_s = t;  // the drawn stretch repeats after its last sojourn
  }
  return out;
}

std::string simgrid_profile(const ProfilePoints& p, double nominal) {
  std::string text;
  for (const auto& [t, v] : p.points)
    text += platforms::xml_number(t) + " " + platforms::xml_number(v * nominal) + "\n";
  if (p.period_s > 0)  // SimGrid: the profile restarts LOOPAFTER seconds after its last point
    text += "LOOPAFTER " + platforms::xml_number(p.period_s - p.points.back().first) + "\n";
  return text;
}

std::vector<WorkerNominal> worker_nominals(const PlatformSpec& p) {
  const platforms::TopologySpec& t = p.topology;
  std::vector<WorkerNominal> out(t.workers);
  for (auto& w : out) {
    w.bandwidth_Bps = t.bandwidth_Bps;
    w.latency_s = t.latency_s;
    w.speed_flops = t.worker_speed_flops;
  }
  if (p.kind == "edge") {
    const std::vector<int> cls = platforms::edge_worker_classes(t);
    for (int i = 0; i < t.workers; ++i) {
      const platforms::LinkClass& c = t.classes[cls[i]];
      out[i].worker_class = cls[i];
      out[i].bandwidth_Bps = c.bandwidth_Bps;
      out[i].latency_s = c.latency_s;
      if (c.speed_flops > 0) out[i].speed_flops = c.speed_flops;
    }
  }
  return out;
}

namespace {

// What one host or link of the platform gets: attributes and <prop> children.
struct Decoration {
  std::string attributes, props;
};

// `line` is one generated element, `<host id="..." .../>` or `<link id="..." .../>`: insert the
// attributes, and the props as children.
std::string decorate(const std::string& line, const Decoration& d) {
  const auto close = line.rfind("/>");
  if (close == std::string::npos) throw std::logic_error("platform line without '/>': " + line);
  const auto tag_end = line.find(' ', line.find('<'));
  const std::string tag = line.substr(line.find('<') + 1, tag_end - line.find('<') - 1);
  std::string out = line.substr(0, close);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  out += d.attributes;
  if (d.props.empty()) return out + "/>" + line.substr(close + 2);
  return out + ">" + d.props + "</" + tag + ">" + line.substr(close + 2);
}

// SimGrid's host energy plugin: "idle:one core busy:all cores busy" watts (one core here), and
// the watts of a switched-off host.
std::string power_props(const PowerSpec& p) {
  const std::string busy = platforms::xml_number(p.busy_W);
  return "<prop id=\"wattage_per_state\" value=\"" + platforms::xml_number(p.idle_W) + ":" + busy +
         ":" + busy + "\"/><prop id=\"wattage_off\" value=\"" + platforms::xml_number(p.off_W) +
         "\"/>";
}

}  // namespace

std::vector<double> worker_transfer_watts(const PlatformSpec& p) {
  const std::vector<WorkerNominal> nominal = worker_nominals(p);
  std::vector<double> out(nominal.size(), 0.0);
  for (const DynamicsEntry& e : p.dynamics.entries)
    if (e.power.given())
      for (std::size_t i = 0; i < nominal.size(); ++i)
        if (e.worker_class < 0 || e.worker_class == nominal[i].worker_class)
          out[i] = e.power.transfer_W;
  return out;
}

std::string apply_dynamics(const std::string& xml, const PlatformSpec& p, std::uint64_t seed,
                           const std::string& dir) {
  const DynamicsSpec& dyn = p.dynamics;
  if (!dyn.any()) return xml;
  const std::vector<WorkerNominal> nominal = worker_nominals(p);
  const int n = static_cast<int>(nominal.size());
  // Per worker, the entry that sets each quantity (later entries win).
  struct Chosen {
    const ProfileSpec *bandwidth = nullptr, *latency = nullptr, *speed = nullptr,
                      *availability = nullptr;
    const PowerSpec* power = nullptr;
  };
  std::vector<Chosen> chosen(n);
  for (const DynamicsEntry& e : dyn.entries)
    for (int i = 0; i < n; ++i) {
      if (e.worker_class >= 0 && e.worker_class != nominal[i].worker_class) continue;
      Chosen& c = chosen[i];
      if (e.bandwidth.active()) c.bandwidth = &e.bandwidth;
      if (e.latency.active()) c.latency = &e.latency;
      if (e.speed.active()) c.speed = &e.speed;
      if (e.availability.active()) c.availability = &e.availability;
      if (e.power.given()) c.power = &e.power;
    }
  const fs::path folder = fs::path(dir) / "profiles";
  bool made_folder = false;
  // One file per element and quantity: SimGrid names a profile by its file and refuses to
  // load one file twice (measured), even for equal profiles.
  auto attach = [&](const std::string& element, const char* attribute, const std::string& text) {
    if (!made_folder) fs::create_directories(folder);
    made_folder = true;
    const std::string name = "profiles/" + element + "." + attribute + ".txt";
    std::ofstream f(fs::path(dir) / name, std::ios::binary);
    f << text;
    if (!f) throw std::runtime_error("cannot write " + (fs::path(dir) / name).string());
    return std::string(" ") + attribute + "=\"" + name + "\"";
  };
  std::map<std::string, Decoration> decorations;  // by element id
  for (int i = 0; i < n; ++i) {
    const Chosen& c = chosen[i];
    // Streams per worker and quantity, so that one quantity's draws never shift another's.
    const std::uint64_t stream = static_cast<std::uint64_t>(i) * 4;
    const std::string host_id = platforms::worker_host_name(i), link_id = host_id + "-link";
    Decoration& host = decorations[host_id];
    // An asymmetric star (platform.downlink_bandwidth) has one link per direction: both follow
    // the same profile of factors, each times its own nominal bandwidth.
    std::vector<std::pair<std::string, double>> links{{link_id, nominal[i].bandwidth_Bps}};
    if (p.kind == "star" && p.topology.downlink_bandwidth_Bps > 0)
      links = {{link_id + "_UP", nominal[i].bandwidth_Bps},
               {link_id + "_DOWN", p.topology.downlink_bandwidth_Bps}};
    for (const auto& [id, bandwidth] : links) {
      Decoration& link = decorations[id];
      if (c.bandwidth)
        link.attributes +=
            attach(id, "bandwidth_file",
                   simgrid_profile(profile_points(*c.bandwidth, seed, stream), bandwidth));
      if (c.latency)
        link.attributes += attach(
            id, "latency_file",
            simgrid_profile(profile_points(*c.latency, seed, stream + 1), nominal[i].latency_s));
    }
    if (c.speed)
      host.attributes += attach(host_id, "speed_file",
                                simgrid_profile(profile_points(*c.speed, seed, stream + 2), 1.0));
    if (c.availability)
      host.attributes +=
          attach(host_id, "state_file",
                 simgrid_profile(profile_points(*c.availability, seed, stream + 3), 1.0));
    if (c.power) host.props = power_props(*c.power);
  }
  if (dyn.master_power.given())
    decorations[platforms::master_host_name()].props = power_props(dyn.master_power);
  std::istringstream in(xml);
  std::string out, line;
  while (std::getline(in, line)) {
    const auto open = line.find_first_not_of(' ');
    if (open != std::string::npos && (line.compare(open, 10, "<host id=\"") == 0 ||
                                      line.compare(open, 10, "<link id=\"") == 0)) {
      const auto q = line.find('"', open + 10);
      const auto it = decorations.find(line.substr(open + 10, q - open - 10));
      if (it != decorations.end()) line = decorate(line, it->second);
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace efsim::sim
