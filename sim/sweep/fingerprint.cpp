#include "sim/sweep/fingerprint.hpp"

#include <cstdio>
#include <fstream>
#include <ostream>
#include <sstream>
#include <streambuf>
#include <string_view>
#include <vector>

#include "sim/text.hpp"
#include "sim/version.hpp"

namespace efsim::sim {

namespace {

std::uint64_t fnv1a(std::string_view data, std::uint64_t h = 1469598103934665603ULL) {
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// FNV-1a of everything written to it, as fnv1a of the same bytes in one string: a generated
// platform is hashed as it is written, never held whole (an edge fleet of 10^6 clients is
// hundreds of MB of XML).
class Fnv1aBuf final : public std::streambuf {
 public:
  std::uint64_t hash() const { return h_; }

 protected:
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof())) add(static_cast<unsigned char>(c));
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    for (std::streamsize k = 0; k < n; ++k) add(static_cast<unsigned char>(s[k]));
    return n;
  }

 private:
  void add(unsigned char c) {
    h_ ^= c;
    h_ *= 1099511628211ULL;
  }
  std::uint64_t h_ = 1469598103934665603ULL;
};

std::uint64_t platform_digest(const PlatformSpec& p) {
  Fnv1aBuf buf;
  std::ostream os(&buf);
  write_platform_xml(os, p);
  return buf.hash();
}

std::string hex16(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string file_digest(const std::string& path) {
  // In blocks (the hash runs byte by byte, so it chains): no copy of a large data set in memory.
  std::ifstream in(path, std::ios::binary);
  std::uint64_t h = fnv1a({});
  std::vector<char> block(std::size_t{1} << 16);
  while (in) {
    in.read(block.data(), static_cast<std::streamsize>(block.size()));
    h = fnv1a(std::string_view(block.data(), static_cast<std::size_t>(in.gcount())), h);
  }
  return hex16(h);
}

}  // namespace

std::string inputs_digest(const Scenario& s) {
  std::ostringstream os;
  os << "efsim " << kVersion << "\nseed " << s.seed << "\nnetwork " << s.network_model << "\n";
  for (const PlatformSpec& p : s.platforms) {
    os << "name " << p.name << "\n";
    os << "platform " << p.kind << ' ' << exact(p.stragglers.fraction) << ' '
       << exact(p.stragglers.slowdown) << ' ' << p.stragglers.random << "\n";
    if (p.kind != "file") {
      os << "xml " << hex16(platform_digest(p)) << "\n";
    }
    if (p.kind == "star") {
      const auto& st = p.topology;
      os << exact(st.bandwidth_Bps) << ' ' << exact(st.latency_s) << ' '
         << exact(st.master_bandwidth_Bps) << ' ' << exact(st.master_latency_s) << ' '
         << exact(st.worker_speed_flops) << ' ' << exact(st.master_speed_flops) << "\n";
    } else if (p.kind == "file") {
      os << p.file << ' ' << file_digest(p.file) << ' ' << p.master << ' ' << p.workers_glob;
      for (const auto& w : p.workers) os << ' ' << w;
      os << "\n";
    }
  }
  const ProblemSpec& q = s.problem;
  os << "problem " << q.kind << ' ' << q.dataset << ' ' << q.dim << ' ' << exact(q.sigma) << ' '
     << q.skewed_noise << ' ' << exact(q.lambda) << ' ' << q.workers << ' ' << q.x0_kind << ' '
     << exact(q.x0_value);
  for (double v : q.x0_list) os << ' ' << exact(v);
  os << "\n";
  if (q.dataset == "synthetic") {
    const auto& y = q.synthetic;
    os << "synthetic " << y.samples << ' ' << y.dim << ' ' << y.nnz_per_row << ' ' << y.workers
       << ' ' << exact(y.heterogeneity) << ' ' << exact(y.label_noise) << ' '
       << exact(y.feature_decay) << ' ' << y.seed << "\n";
  } else if (q.kind == "logistic" || q.kind == "least_squares") {
    os << "data " << file_digest(q.dataset) << "\n";
    if (!q.test_dataset.empty())
      os << "test " << q.test_dataset << ' ' << file_digest(q.test_dataset) << "\n";
  } else if (q.kind == "multiclass_logistic" || q.kind == "mlp") {
    os << "images " << q.train_samples << ' ' << q.test << ' ' << q.split_by_label << ' '
       << q.hidden;
    for (const char* f : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                          "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"})
      os << ' ' << file_digest(q.dataset + "/" + f);
    os << "\n";
  }
  os << "wire " << s.wire.value_bits << ' ' << s.wire.index_bits << "\nstop " << s.stop.max_rounds
     << ' ' << exact(s.stop.target_grad_norm_sq) << ' ' << exact(s.stop.max_sim_time_s) << ' '
     << exact(s.stop.divergence_factor) << ' ' << s.stop.metrics_every << "\n";
  return os.str();
}

std::string run_fingerprint(const std::string& inputs, const ResolvedRun& run) {
  std::ostringstream os;
  os << inputs << "run " << run.spec.id << ' ' << run.spec.method << ' ' << run.compressor->label()
     << ' ' << run.spec.stepsize.theory << ' ' << exact(run.spec.stepsize.value) << ' '
     << exact(run.gamma) << ' ' << run.spec.tune_group;
  const alg::MethodInfo& method = alg::find_method(run.spec.method);
  for (const auto& p : alg::method_parameters()) {
    if (!p.in_every_fingerprint && !method.takes(p.name)) continue;
    // A setting added to a method later: listed only when the run gives it another value than
    // its default, so the method's earlier results keep their fingerprints (and resume).
    if (p.fingerprint_if_set && run.spec.param(p.name) == p.fallback) continue;
    os << ' ';
    if (p.type == alg::ParamType::kCompressor) {
      const auto it = run.compressor_params.find(p.name);
      os << (it != run.compressor_params.end() ? it->second->label() : "-");
    } else if (p.type == alg::ParamType::kInteger) {
      os << static_cast<long>(run.spec.param(p.name));
    } else {
      os << exact(run.spec.param(p.name));
    }
  }
  os << ' ' << run.spec.participation.tau;
  for (double p : run.spec.participation.p) os << ' ' << exact(p);
  if (run.spec.participation.sampled_only) os << " sampled";
  os << "\n";
  return hex16(fnv1a(os.str()));
}

}  // namespace efsim::sim
