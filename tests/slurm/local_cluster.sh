#!/usr/bin/env bash
# A real Slurm round trip on this machine (README, "Shards"): starts a one-node Slurm cluster on
# localhost (munged, slurmctld, slurmd; no systemd needed), submits the README's sharded sweep
# as a job array *exactly as the README writes it* (the `sbatch` line and the `efsim report`
# line of its Slurm block, run from a copy of the repository layout), waits for the array, and
# checks that the merged summary.csv (and every run's trace.csv) equals an unsharded run of the
# same scenario byte for byte. Stops the daemons it started and removes its files on exit.
#
#   tests/slurm/local_cluster.sh [--install] [BUILD_DIR]     (BUILD_DIR default: build)
#
# Needs slurm-wlm and munge (Debian); --install installs them with apt-get (root). Without them
# it exits 77 (skipped). Exit 0: the round trip matched; 1: it did not; 2: bad usage.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=build
INSTALL=0
for a in "$@"; do
  case "$a" in
    --install) INSTALL=1 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "local_cluster.sh: error: unknown option '$a'" >&2; exit 2 ;;
    *) BUILD=$a ;;
  esac
done
BUILD=$(cd "$ROOT" && realpath "$BUILD")
[ -x "$BUILD/efsim" ] || { echo "local_cluster.sh: error: no $BUILD/efsim (build it first)" >&2; exit 2; }
say() { echo "local_cluster.sh: $*" >&2; }
T0=$SECONDS

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  if [ "$INSTALL" = 1 ]; then
    say "installing slurm-wlm and munge (apt output: /tmp/efsim-slurm-apt.log)"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    { $sudo apt-get update && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y \
        --no-install-recommends slurm-wlm munge; } >/tmp/efsim-slurm-apt.log 2>&1 ||
      { tail -20 /tmp/efsim-slurm-apt.log >&2; say "error: apt-get failed"; exit 1; }
  else
    say "skipped: needs slurm-wlm and munge (apt-get install slurm-wlm munge, or --install)"
    exit 77
  fi
fi

WORK=$(mktemp -d /tmp/efsim-slurm-XXXXXX)
chmod 700 "$WORK"
PIDS=()
cleanup() {
  local status=$?
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ $status -ne 0 ] && [ -d "$WORK/log" ]; then
    for f in "$WORK"/log/*.log; do echo "--- $f" >&2; tail -n 15 "$f" >&2; done
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK"/{munge,state,spool,log}

# munge: a fresh key and our own socket (no system-wide daemon is touched).
MUNGE_SOCKET=$WORK/munge/munge.socket
if command -v mungekey >/dev/null; then
  mungekey --create --keyfile="$WORK/munge/munge.key" --force
else
  dd if=/dev/urandom of="$WORK/munge/munge.key" bs=1024 count=1 status=none
fi
chmod 400 "$WORK/munge/munge.key"
munged --force --foreground --key-file="$WORK/munge/munge.key" --socket="$MUNGE_SOCKET" \
  --pid-file="$WORK/munge/munged.pid" --seed-file="$WORK/munge/seed" \
  --log-file="$WORK/log/munged.log" 2>>"$WORK/log/munged.log" &
PIDS+=($!)
for _ in $(seq 50); do [ -S "$MUNGE_SOCKET" ] && break; sleep 0.1; done
[ -S "$MUNGE_SOCKET" ] || { say "error: munged did not start"; exit 1; }

# Two free TCP ports for slurmctld and slurmd.
read -r CTLD_PORT SLURMD_PORT < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
HOST=$(hostname -s)
CPUS=$(nproc)
export SLURM_CONF=$WORK/slurm.conf
cat >"$SLURM_CONF" <<CONF
ClusterName=efsimtest
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=$(id -un)
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
CredType=cred/munge
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS State=UNKNOWN
PartitionName=efsim Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -D -i >>"$WORK/log/slurmctld.log" 2>&1 &
PIDS+=($!)
slurmd -D -N "$HOST" >>"$WORK/log/slurmd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
  sinfo -h -o %t 2>/dev/null | grep -qE '^idle' && break
  sleep 0.2
done
sinfo -h -o %t 2>/dev/null | grep -qE '^idle' || { say "error: the node did not come up"; sinfo >&2 || true; exit 1; }
say "cluster up after $((SECONDS - T0)) s: node $HOST, $CPUS CPUs (Slurm $(sinfo -V | awk '{print $2}'))"

# The README's Slurm block: its sbatch line and the report line after it.
block=$(awk '/^ *```sh/{inb=1; buf=""; next} /^ *```/{if (inb && buf ~ /sbatch/) print buf; inb=0; next} inb{buf = buf $0 "\n"}' "$ROOT/README.md")
SBATCH_LINE=$(printf '%s\n' "$block" | sed 's/^ *//' | grep -m1 '^sbatch ')
REPORT_LINE=$(printf '%s\n' "$block" | sed 's/^ *//' | grep -m1 '^\./build/efsim report ' | sed 's/ *#.*$//')
[ -n "$SBATCH_LINE" ] && [ -n "$REPORT_LINE" ] || { say "error: no sbatch/report lines in the README"; exit 1; }
say "README: $SBATCH_LINE"
say "README: $REPORT_LINE"

# The repository's layout (the commands' relative paths), with this build as build/ and the
# shared datasets beside it as in a clone; results/ and Slurm's output files land in $WORK.
mkdir -p "$WORK/repo"
for e in "$ROOT"/*; do
  [ "$(basename "$e")" = build ] || [ "$(basename "$e")" = results ] || ln -s "$e" "$WORK/repo/"
done
ln -s "$BUILD" "$WORK/repo/build"
[ -e "$ROOT/../shared" ] && ln -s "$(realpath "$ROOT/../shared")" "$WORK/shared"
cd "$WORK/repo"

submitted=$(eval "$SBATCH_LINE")
echo "$submitted" >&2
JOB=$(echo "$submitted" | awk '/Submitted batch job/{print $4}')
[ -n "$JOB" ] || { say "error: sbatch did not submit"; exit 1; }
TA=$SECONDS
while squeue -h -j "$JOB" 2>/dev/null | grep -q .; do
  sleep 1
  [ $((SECONDS - TA)) -lt 1800 ] || { say "error: the array did not finish in 30 min"; squeue >&2; exit 1; }
done
say "array job $JOB done in $((SECONDS - TA)) s"
tasks=$(ls slurm-"$JOB"_*.out 2>/dev/null | wc -l)
for f in slurm-"$JOB"_*.out; do
  if grep -q "efsim: error" "$f"; then say "error: a task failed:"; cat "$f" >&2; exit 1; fi
done
eval "$REPORT_LINE" >"$WORK/log/report.out" 2>&1 || { cat "$WORK/log/report.out" >&2; say "error: efsim report failed"; exit 1; }

# The unsharded sweep: the same command without Slurm, --shard and into another folder.
read -r -a inner < <(echo "$SBATCH_LINE" | sed -E "s/.*--wrap '([^']*)'.*/\1/")
args=()
skip=0
for a in "${inner[@]}"; do
  if [ $skip = 1 ]; then skip=0; continue; fi
  case "$a" in
    --shard|--out) skip=1 ;;
    *) args+=("$a") ;;
  esac
done
OUT=$(echo "$SBATCH_LINE" | sed -E "s/.*--out ([^ ']+).*/\1/")
"${args[@]}" --out "$WORK/unsharded" --quiet >/dev/null
status=0
if cmp "$OUT/summary.csv" "$WORK/unsharded/summary.csv"; then
  say "merged summary.csv of $tasks array tasks == unsharded summary.csv ($(($(wc -l <"$OUT/summary.csv") - 1)) runs)"
else
  diff "$OUT/summary.csv" "$WORK/unsharded/summary.csv" >&2 || true
  status=1
fi
for t in "$WORK"/unsharded/runs/*/trace.csv; do
  id=$(basename "$(dirname "$t")")
  cmp -s "$t" "$OUT/runs/$id/trace.csv" || { say "trace of $id differs"; status=1; }
done
[ -f "$OUT/report.html" ] || { say "error: efsim report wrote no report.html"; status=1; }
[ $status = 0 ] && say "OK: the Slurm round trip matches the unsharded run byte for byte ($((SECONDS - T0)) s in all)"
exit $status
