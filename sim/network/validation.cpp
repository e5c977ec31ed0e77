#include "sim/network/validation.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <simgrid/s4u.hpp>
#include <sstream>
#include <stdexcept>

#include "platforms/star.hpp"
#include "platforms/topology.hpp"
#include "sim/network/ns3_setup.hpp"
#include "sim/network/simgrid_runner.hpp"
#include "sim/text.hpp"

namespace efsim::sim {

namespace sg4 = simgrid::s4u;
namespace fs = std::filesystem;

std::vector<ValidationCell> validation_grid(bool quick) {
  std::vector<ValidationCell> grid;
  const std::vector<double> sizes = quick ? std::vector<double>{1e2, 1e4, 1e6}
                                          : std::vector<double>{1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
  const std::vector<double> bandwidths =
      quick ? std::vector<double>{1e7} : std::vector<double>{1e6, 1e8, 1e10};
  const std::vector<double> latencies =
      quick ? std::vector<double>{1e-3} : std::vector<double>{1e-4, 1e-2, 1e-1};
  for (double s : sizes)
    for (double b : bandwidths)
      for (double l : latencies) {
        // 100 MB at 10 Gbps: ns-3's loss recovery at a 12 MB window took over five minutes of
        // host time for one cell; 100 MB is validated at 1 Mbps and 100 Mbps.
        if (s >= 1e8 && b > 1e8) continue;
        ValidationCell c;
        c.bytes = s;
        c.bandwidth_bps = b;
        c.latency_s = l;
        c.workers = s >= 1e8 ? 1 : 4;  // 4 x 100 MB costs ns-3 up to a minute of host time
        grid.push_back(c);
      }
  if (quick) return grid;
  for (int n : {1, 16, 64})
    for (double s : {1e3, 1e5}) {
      ValidationCell c;
      c.bytes = s;
      c.bandwidth_bps = 1e8;
      c.latency_s = 1e-3;
      c.workers = n;
      grid.push_back(c);
    }
  for (double s : {1e3, 1e5, 1e6}) {  // contention: the master link no faster than a worker's
    ValidationCell c;
    c.bytes = s;
    c.bandwidth_bps = 1e8;
    c.latency_s = 1e-3;
    c.workers = 16;
    c.master_factor = 1;
    grid.push_back(c);
  }
  return grid;
}

namespace {

std::string cell_xml(const ValidationCell& c, const std::string& model) {
  platforms::TopologySpec star = platforms::star_spec();
  star.workers = c.workers;
  star.bandwidth_Bps = c.bandwidth_bps / 8;
  star.master_bandwidth_Bps = c.master_factor * c.bandwidth_bps / 8;
  star.latency_s = star.master_latency_s = c.latency_s;
  if (model == "ns3") return platforms::topology_xml_ns3(platforms::make_topology(star));
  return platforms::star_platform_xml(star);
}

// In the child: the round on a fresh engine; prints nothing, returns the end of the last upload.
double round_in_this_process(const ValidationCell& c, const std::string& model,
                             const std::string& xml_file) {
  std::vector<std::string> args = {"efsim"};
  for (const auto& o : simgrid_options(model)) args.push_back(o);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(args.size());
  sg4::Engine engine(&argc, argv.data());
  if (model == "ns3") configure_ns3();
  engine.load_platform(xml_file);
  sg4::Host* master = engine.host_by_name(platforms::master_host_name());
  const auto bytes = static_cast<std::uint64_t>(c.bytes);
  double last = 0;
  for (int i = 0; i < c.workers; ++i) {
    sg4::Host* w = engine.host_by_name(platforms::worker_host_name(i));
    sg4::Actor::create("worker", w, [master, w, bytes, &last] {
      sg4::Comm::sendto(master, w, bytes);
      sg4::Comm::sendto(w, master, bytes);
      last = std::max(last, sg4::Engine::get_clock());
    });
  }
  engine.run();
  return last;
}

}  // namespace

double validation_round_time(const ValidationCell& c, const std::string& model, double* host_s) {
  const fs::path dir = fs::temp_directory_path() / ("efsim-validate-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string xml = (dir / "platform.xml").string();
  std::ofstream(xml) << cell_xml(c, model);
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  const auto start = std::chrono::steady_clock::now();
  std::cout.flush();
  std::cerr.flush();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::close(fds[0]);
    const double t = round_in_this_process(c, model, xml);
    const ssize_t written = ::write(fds[1], &t, sizeof t);
    ::_exit(written == sizeof t ? 0 : 1);
  }
  ::close(fds[1]);
  double t = std::nan("");
  const ssize_t got = ::read(fds[0], &t, sizeof t);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  fs::remove_all(dir);
  if (host_s)
    *host_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (got != sizeof t || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("the " + model + " simulation of a validation cell failed");
  return t;
}

std::vector<ValidationRow> run_validation(const ValidationOptions& options, bool progress) {
  std::vector<ValidationRow> rows;
  const auto grid = validation_grid(options.quick);
  for (std::size_t k = 0; k < grid.size(); ++k) {
    ValidationRow row;
    row.cell = grid[k];
    for (const auto& m : options.models) {
      double host = 0;
      row.time_s.push_back(validation_round_time(row.cell, m, &host));
      if (m == "ns3") row.host_s_ns3 = host;
    }
    if (progress)
      std::cerr << "efsim validate: " << k + 1 << "/" << grid.size() << " cells (ns-3 "
                << row.host_s_ns3 << " s host)\n";
    rows.push_back(row);
  }

  return rows;
}

namespace {

std::string si(double v, const char* unit) {
  const char* prefixes[] = {"", "k", "M", "G"};
  int p = 0;
  while (v >= 1000 && p < 3) {
    v /= 1000;
    ++p;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g %s%s", v, prefixes[p], unit);
  return buf;
}

std::string ms(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g ms", s * 1e3);
  return buf;
}

std::string percent(double rel) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.0f %%", rel * 100);
  return buf;
}

std::string cell_text(const ValidationCell& c) {
  std::string t = si(c.bytes, "B") + ", " + si(c.bandwidth_bps, "bps") + ", " + ms(c.latency_s) +
                  ", n = " + std::to_string(c.workers);
  if (c.master_factor == 1) t += ", thin master link";
  return t;
}

std::size_t index_of(const std::vector<std::string>& models, const std::string& m) {
  return static_cast<std::size_t>(std::find(models.begin(), models.end(), m) - models.begin());
}

}  // namespace

std::string validation_csv(const std::vector<ValidationRow>& rows,
                           const std::vector<std::string>& models) {
  std::ostringstream os;
  os << "bytes,bandwidth_bps,latency_s,workers,master_factor";
  for (const auto& m : models) os << ",time_s_" << m;
  os << ",host_s_ns3\n";
  for (const auto& r : rows) {
    os << exact(r.cell.bytes) << ',' << exact(r.cell.bandwidth_bps) << ','
       << exact(r.cell.latency_s) << ',' << r.cell.workers << ',' << exact(r.cell.master_factor);
    for (double t : r.time_s) os << ',' << exact(t);
    os << ',' << exact(r.host_s_ns3) << '\n';
  }
  return os.str();
}

std::string validation_markdown(const std::vector<ValidationRow>& rows,
                                const std::vector<std::string>& models) {
  const std::size_t ns3 = index_of(models, "ns3");
  std::ostringstream os;
  os << "One parameter-server round on a star (the master sends S bytes to each of n workers, "
        "each sends S bytes back; worker links B and latency L, the master link 10 B unless "
        "thin). Time of the round under ns-3 (packet-level TCP, a new connection per message), "
        "and each model's error against it.\n\n| S, B, L, n | ns-3 |";
  for (std::size_t m = 0; m < models.size(); ++m)
    if (m != ns3) os << ' ' << models[m] << " |";
  os << "\n| --- | --- |";
  for (std::size_t m = 1; m < models.size(); ++m) os << " --- |";
  os << "\n";
  for (const auto& r : rows) {
    os << "| " << cell_text(r.cell) << " | " << ms(r.time_s[ns3]) << " |";
    for (std::size_t m = 0; m < models.size(); ++m)
      if (m != ns3) os << ' ' << percent(r.time_s[m] / r.time_s[ns3] - 1) << " |";
    os << "\n";
  }
  os << "\nPer model: the median and the worst relative error against ns-3 over the cells.\n\n"
     << "| model | median abs. error | worst cell | its error |\n| --- | --- | --- | --- |\n";
  for (std::size_t m = 0; m < models.size(); ++m) {
    if (m == ns3 || rows.empty()) continue;
    std::vector<double> errors;
    std::size_t worst = 0;
    for (std::size_t k = 0; k < rows.size(); ++k) {
      const double e = rows[k].time_s[m] / rows[k].time_s[ns3] - 1;
      errors.push_back(std::abs(e));
      if (std::abs(e) > std::abs(rows[worst].time_s[m] / rows[worst].time_s[ns3] - 1)) worst = k;
    }
    std::nth_element(errors.begin(), errors.begin() + errors.size() / 2, errors.end());
    os << "| " << models[m] << " | " << percent(errors[errors.size() / 2]).substr(1) << " | "
       << cell_text(rows[worst].cell) << " | "
       << percent(rows[worst].time_s[m] / rows[worst].time_s[ns3] - 1) << " |\n";
  }
  return os.str();
}

}  // namespace efsim::sim
