// Observing a run: metrics of x^k computed on the side (no simulated time, never changing what
// the methods do; algorithms/README.md invariant 6), the trace, and the stop rule.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "algorithms/problems/problem.hpp"

namespace efsim::alg {

struct StopRule {
  long max_rounds = 1000;            // communication rounds
  double target_grad_norm_sq = 0.0;  // stop once ||∇f(x^k)||^2 <= this; 0 = no target
  double max_sim_time_s = std::numeric_limits<double>::infinity();
  double divergence_factor = 1e12;  // diverged if ||∇f||^2 > factor * ||∇f(x^0)||^2, or NaN/Inf
  long metrics_every = 1;  // evaluate (and record) x^k every this many rounds, and at the end;
                           // the target and divergence are checked on evaluated rounds only
  // Take f(x^k) and ∇f(x^k) from the workers' exact local gradients at x^k, computed in round
  // k + 1 anyway, instead of a pass of the observer's own (the same bits either way; false
  // only to test that).
  bool reuse_worker_gradients = true;
};

enum class StopReason { kRunning, kTarget, kMaxRounds, kMaxSimTime, kDiverged };
std::string to_string(StopReason r);

// Where one round's time went, as means over the workers; the parts add up to the round.
struct RoundTiming {
  double down_s = 0;     // round start -> the worker has the broadcast
  double compute_s = 0;  // the worker's local computation
  double up_s = 0;       // its upload: start -> arrival at the master
  double idle_s = 0;     // its arrival -> the last arrival (waiting for the slowest)
  double master_s = 0;   // the master's decoding, aggregation and update
  double total() const { return down_s + compute_s + up_s + idle_s + master_s; }
};

// The breakdown from per-worker event times of a round that started at t0: worker i had the
// broadcast at received[i], computed for compute[i] seconds, its upload arrived at arrived[i];
// the master had every upload at max(arrived) and then computed for master_s.
RoundTiming round_breakdown(double t0, const std::vector<double>& received,
                            const std::vector<double>& compute, const std::vector<double>& arrived,
                            double master_s);

// Who took part, under round deadlines and worker availability (sim/network/dynamic_runner):
// cumulative counts of the selected workers whose upload the master used, whose upload missed
// the deadline or was lost when the worker went off, and who were off when the round began;
// and the time the rounds waited past their last used upload for uploads that never came.
struct Participation {
  long used = 0, dropped = 0, off = 0;
  double time_lost_s = 0;
};

struct TraceRow {
  long round = 0;
  double sim_time_s = 0;
  double f = 0;
  double grad_norm_sq = 0;
  double bits_up_per_worker = 0;    // cumulative, mean over workers
  double bits_down_per_worker = 0;  // cumulative
  RoundTiming time;                 // cumulative breakdown of sim_time_s
  long uploads_skipped = 0;         // cumulative: uploads a worker skipped (lazy methods)
  Participation participation;      // cumulative; rounds with a deadline or availability only
  double energy_J = 0;              // cumulative Joules of every host and worker link (energy)
  Metrics metrics;                  // accuracy and test metrics when the problem has them
};

class Monitor {
 public:
  Monitor(const Problem& problem, const StopRule& rule);
  // Records x^round at simulated time sim_time_s; timing and bits are those of that round
  // only. Returns kRunning to go on.
  // deferrable: the workers will evaluate their exact local gradients at x^round in the next
  // round (full participation, see Node::last_evaluation), so the row may wait for supply()
  // instead of evaluating f itself; it does not wait when it ends the run (last round, time
  // limit), never when the rule says !reuse_worker_gradients, and no longer once a supply()
  // found the workers' evaluations incomplete (stochastic gradients).
  StopReason observe(long round, double sim_time_s, const RoundTiming& timing, const Vector& x,
                     double up_bits_all_workers, double down_bits_per_worker,
                     bool deferrable = false, long uploads_skipped = 0);
  // The participation of the round about to be observed (added to the cumulative counts).
  void add_participation(const Participation& p) {
    participation_.used += p.used;
    participation_.dropped += p.dropped;
    participation_.off += p.off;
    participation_.time_lost_s += p.time_lost_s;
  }
  // Where a row's cumulative Joules come from (the simulator's energy meter; null: none).
  void set_energy_probe(std::function<double()> probe) { energy_probe_ = std::move(probe); }
  // A row waits for the workers' evaluations at its x.
  bool waiting() const { return waiting_; }
  // Completes the waiting row from the workers' evaluations at its x (in worker order), or, if
  // some part is not valid, by evaluating f itself. Returns the stop decision of that row.
  StopReason supply(const std::vector<LocalEvaluation>& parts);
  const std::vector<TraceRow>& trace() const { return trace_; }
  StopReason reason() const { return reason_; }

 private:
  // Fills row's f, ∇f norm and metrics at x (from parts when given) and decides.
  StopReason finish(TraceRow row, const Vector& x, const std::vector<LocalEvaluation>* parts);
  const Problem& problem_;
  StopRule rule_;
  Vector grad_;
  bool waiting_ = false;
  bool workers_exact_ = true;  // the last supply() was complete: keep deferring
  TraceRow pending_;           // the waiting row, and its x
  Vector pending_x_;
  std::vector<TraceRow> trace_;
  double up_bits_ = 0;
  double down_bits_ = 0;
  long skipped_ = 0;
  Participation participation_;
  std::function<double()> energy_probe_;
  RoundTiming time_;
  double initial_grad_norm_sq_ = 0;
  StopReason reason_ = StopReason::kRunning;
};

}  // namespace efsim::alg
