"""Helpers of the Python tests (run by ctest; see tests/CMakeLists.txt): the real efsim binary
on small scenarios, in temporary folders."""
import os
import shutil
import subprocess
import sys
import tempfile

ANALYSIS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE = os.path.dirname(ANALYSIS)
sys.path.insert(0, ANALYSIS)
BINARY = os.environ.get("EFSIM_BINARY", os.path.join(SOURCE, "build", "efsim"))

# 13 runs (more than fit one panel): GD, and EF, EF21, EF21+ with Top-2 at four stepsizes.
MANY = """seed: 3
network_model: textbook
platform: {kind: star, bandwidth: 10Mbps, latency: 1ms}
problem:
  dataset: synthetic
  synthetic: {samples: 2000, dim: 2000, nnz_per_row: 20, heterogeneity: 0.8, feature_decay: 0.5}
  workers: 4
  lambda: 0.0001
stop: {max_rounds: 120, grad_norm_sq: 1e-6}
runs:
  - method: gd
  - method: [ef, ef21, ef21_plus]
    compressor: {kind: top_k, k: 2}
    stepsize: {theory_multiplier: [1, 4, 16, 64]}
"""

# 6 runs in one panel, with a tuning group (EF21, Top-20, multipliers 2 and 8).
FEW = """seed: 4
network_model: textbook
platform: {kind: star, bandwidth: 10Mbps, latency: 1ms}
problem:
  dataset: synthetic
  synthetic: {samples: 2000, dim: 400, nnz_per_row: 20}
  workers: 4
  lambda: 0.01
stop: {max_rounds: 150, grad_norm_sq: 1e-6}
runs:
  - method: gd
    stepsize: {theory_multiplier: [1, 2]}
  - method: ef
    compressor: {kind: top_k, k: [5, 50]}
    stepsize: {theory_multiplier: 8}
  - method: ef21
    compressor: {kind: top_k, k: 20}
    stepsize: {tune: [2, 8]}
"""

# Two named platforms: one panel each.
PLATFORMS = """seed: 5
network_model: textbook
platforms:
  - {name: slow, kind: star, bandwidth: 1Mbps}
  - {name: fast, kind: star, bandwidth: 100Mbps}
problem:
  dataset: synthetic
  synthetic: {samples: 2000, dim: 400, nnz_per_row: 20}
  workers: 4
  lambda: 0.01
stop: {max_rounds: 100, grad_norm_sq: 1e-5}
runs:
  - method: gd
  - method: ef21
    compressor: {kind: top_k, k: [5, 50]}
    stepsize: {theory_multiplier: 16}
"""


def have(module):
    try:
        __import__(module)
        return True
    except ImportError:
        return False


# Real environments: a round deadline, workers going on and off, power figures (the report's
# energy and participation table).
DYNAMIC = """seed: 7
network_model: textbook
platform:
  kind: edge
  classes:
    - {bandwidth: 1Mbps, latency: 20ms, share: 0.5, speed: phone}
    - {bandwidth: 50Mbps, latency: 5ms, share: 0.5, speed: laptop}
  master_bandwidth: 1Gbps
  master_latency: 1ms
  master_speed: server
  round_deadline: 30ms
  master_power: {idle: 100, busy: 300}
  dynamics:
    - class: 0
      availability: {markov: {mean_on: 1s, mean_off: 1s, horizon: 100s}}
      power: {idle: 0.5, busy: 5, transfer: 1.5}
    - class: 1
      power: {idle: 3, busy: 15, transfer: 0.5}
problem:
  dataset: synthetic
  synthetic: {samples: 2000, dim: 400, nnz_per_row: 20}
  workers: 20
  lambda: 0.01
stop: {max_rounds: 80, grad_norm_sq: 1e-4}
runs:
  - method: gd
    participation: {tau: 10}
  - method: ef21
    compressor: {kind: top_k, k: 20}
    participation: {tau: 10}
"""


class Sweeps:
    """Runs scenarios once per test module and removes their folders at the end."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="efsim-pytest-")

    def run(self, name, text, *extra, report=True, scenario_name=None):
        """Runs the scenario `text` (named scenario_name, default name) into ROOT/name."""
        out = os.path.join(self.root, name)
        os.makedirs(os.path.join(self.root, "scenarios"), exist_ok=True)
        scenario = os.path.join(self.root, "scenarios", (scenario_name or name) + ".yaml")
        with open(scenario, "w") as f:
            f.write(text)
        args = [BINARY, "run", scenario, "--out", out, "--quiet", "--jobs", "2"] + list(extra)
        if not report:
            args.append("--no-report")
        r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise AssertionError("efsim run %s failed (%d):\n%s" % (name, r.returncode, r.stdout))
        return out

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)

# Runs told apart only by a setting run.json does not hold (local_steps, in the run id): 7 runs
# of one method, three settings varying.
SETTINGS = """seed: 6
network_model: textbook
platform: {kind: star, bandwidth: 10Mbps, latency: 1ms}
problem:
  dataset: synthetic
  synthetic: {samples: 2000, dim: 400, nnz_per_row: 20}
  workers: 4
  lambda: 0.01
stop: {max_rounds: 40}
runs:
  - method: local_sgd
    stepsize: {gamma: [10, 20]}
    local_steps: [2, 4, 8]
  - method: local_sgd
    compressor: {kind: rand_k_unbiased, k: 100}
    stepsize: {gamma: 10}
    local_steps: [2]
"""
