#include "algorithms/runner/monitor.hpp"

#include <algorithm>
#include <cmath>

namespace efsim::alg {

std::string to_string(StopReason r) {
  switch (r) {
    case StopReason::kRunning:
      return "running";
    case StopReason::kTarget:
      return "target";
    case StopReason::kMaxRounds:
      return "max_rounds";
    case StopReason::kMaxSimTime:
      return "max_sim_time";
    case StopReason::kDiverged:
      return "diverged";
  }
  return "?";
}

Monitor::Monitor(const Problem& problem, const StopRule& rule)
    : problem_(problem), rule_(rule), grad_(problem.dim()) {}

RoundTiming round_breakdown(double t0, const std::vector<double>& received,
                            const std::vector<double>& compute, const std::vector<double>& arrived,
                            double master_s) {
  RoundTiming t;
  t.master_s = master_s;
  const std::size_t n = arrived.size();
  if (n == 0) return t;  // nobody took part: only the master's work
  const double last = *std::max_element(arrived.begin(), arrived.end());
  for (std::size_t i = 0; i < n; ++i) {
    t.down_s += received[i] - t0;
    t.compute_s += compute[i];
    t.up_s += arrived[i] - received[i] - compute[i];
    t.idle_s += last - arrived[i];
  }
  t.down_s /= n;
  t.compute_s /= n;
  t.up_s /= n;
  t.idle_s /= n;
  t.master_s = master_s;
  return t;
}

StopReason Monitor::observe(long round, double sim_time_s, const RoundTiming& timing,
                            const Vector& x, double up_bits_all_workers,
                            double down_bits_per_worker, bool deferrable, long uploads_skipped) {
  up_bits_ += up_bits_all_workers / problem_.num_workers();
  skipped_ += uploads_skipped;
  down_bits_ += down_bits_per_worker;
  time_.down_s += timing.down_s;
  time_.compute_s += timing.compute_s;
  time_.up_s += timing.up_s;
  time_.idle_s += timing.idle_s;
  time_.master_s += timing.master_s;
  const bool evaluate = round % rule_.metrics_every == 0 || round >= rule_.max_rounds ||
                        sim_time_s >= rule_.max_sim_time_s;
  if (!evaluate) return reason_;
  TraceRow row;
  row.round = round;
  row.sim_time_s = sim_time_s;
  row.bits_up_per_worker = up_bits_;
  row.bits_down_per_worker = down_bits_;
  row.uploads_skipped = skipped_;
  row.participation = participation_;
  if (energy_probe_) row.energy_J = energy_probe_();
  row.time = time_;
  if (deferrable && workers_exact_ && rule_.reuse_worker_gradients && round < rule_.max_rounds &&
      sim_time_s < rule_.max_sim_time_s) {
    waiting_ = true;
    pending_ = row;
    pending_x_ = x;
    return reason_;
  }
  return finish(row, x, nullptr);
}

StopReason Monitor::supply(const std::vector<LocalEvaluation>& parts) {
  waiting_ = false;
  const bool all_valid =
      std::all_of(parts.begin(), parts.end(), [](const LocalEvaluation& e) { return e.valid; });
  const bool complete = all_valid && static_cast<int>(parts.size()) == problem_.num_workers();
  // Workers that did not evaluate exactly once (stochastic gradients) never will: stop waiting
  // for them, and copying x, on later rows.
  workers_exact_ = complete;
  return finish(pending_, pending_x_, complete ? &parts : nullptr);
}

StopReason Monitor::finish(TraceRow row, const Vector& x,
                           const std::vector<LocalEvaluation>* parts) {
  row.metrics = problem_.test_metrics(x);
  row.f = parts != nullptr ? combine(problem_, *parts, grad_, &row.metrics.train_accuracy)
                           : problem_.evaluate(x, grad_, &row.metrics.train_accuracy);
  row.grad_norm_sq = grad_.squaredNorm();
  trace_.push_back(row);
  const long round = row.round;
  const double sim_time_s = row.sim_time_s;
  if (round == 0) initial_grad_norm_sq_ = row.grad_norm_sq;

  if (!std::isfinite(row.f) || !std::isfinite(row.grad_norm_sq) || !x.allFinite() ||
      (initial_grad_norm_sq_ > 0 &&
       row.grad_norm_sq > rule_.divergence_factor * initial_grad_norm_sq_))
    reason_ = StopReason::kDiverged;
  else if (rule_.target_grad_norm_sq > 0 && row.grad_norm_sq <= rule_.target_grad_norm_sq)
    reason_ = StopReason::kTarget;
  else if (round >= rule_.max_rounds)
    reason_ = StopReason::kMaxRounds;
  else if (sim_time_s >= rule_.max_sim_time_s)
    reason_ = StopReason::kMaxSimTime;
  return reason_;
}

}  // namespace efsim::alg
