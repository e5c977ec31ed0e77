#!/usr/bin/env bash
# efsim developer entry point (the README's two commands):
#   ./run.sh quickstart   install what is missing, build efsim, run scenarios/quickstart.yaml
#   ./run.sh test         install what is missing (chromium and Fashion-MNIST too), build
#                         everything, run the whole test suite
#   ./run.sh build        install what is missing and build only
#   ./run.sh sanitize     the whole suite built with AddressSanitizer + UBSan (build-asan/)
#   ./run.sh fuzz [S]     every libFuzzer target for S seconds each (default 60; clang)
#   ./run.sh format       check that every C++ file is clang-formatted (.clang-format)
set -euo pipefail
cd "$(dirname "$0")"

# What the quickstart needs: the compiler, the libraries efsim links, GoogleTest (CMake's
# configure step finds it) and matplotlib, pandas and plotly for the report. The test suite needs more: the
# benchmarks' library, Fashion-MNIST (the image tests) and chromium (the report's headless-browser
# test).
PACKAGES=(g++ cmake make pkg-config libsimgrid-dev libeigen3-dev libboost-graph-dev
          libgtest-dev libyaml-cpp-dev python3-matplotlib python3-pandas python3-plotly
          zlib1g-dev libjemalloc-dev libns3-dev)
TEST_PACKAGES=(libbenchmark-dev dataset-fashion-mnist chromium)
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
APT_LOG=${APT_LOG:-build/apt.log}

# Installs the missing packages of PACKAGES; apt's output goes to $APT_LOG and one line to stderr
# (the log's tail too if apt fails).
install_missing() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  mkdir -p "$(dirname "$APT_LOG")"
  printf 'run.sh: installing %s ... ' "${missing[*]}" >&2  # one line in all, finished below
  local start=$SECONDS
  if ! { $sudo apt-get update &&
         DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends \
           "${missing[@]}"; } >"$APT_LOG" 2>&1; then
    echo "failed; the end of apt's output:" >&2
    tail -n 20 "$APT_LOG" >&2
    echo "run.sh: apt-get failed (the whole output: $APT_LOG)" >&2
    exit 1
  fi
  local added
  added=$(grep -c '^Setting up ' "$APT_LOG" || true)
  echo "done: ${#missing[@]} packages, $added with their dependencies, in $((SECONDS - start)) s (apt's output: $APT_LOG)" >&2
}

# build [TARGET...]: configure and build (everything when no target is given).
build() {
  install_missing
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  if [ $# -gt 0 ]; then
    cmake --build build -j"$JOBS" --target "$@"
  else
    cmake --build build -j"$JOBS"
  fi
}

case "${1:-}" in
  quickstart)
    build efsim >&2
    ./build/efsim run scenarios/quickstart.yaml
    ;;
  test)
    PACKAGES+=("${TEST_PACKAGES[@]}")
    build
    export EFSIM_REQUIRE_BROWSER=1  # the headless-Chromium report test fails instead of skipping
    ctest --test-dir build --output-on-failure -j"$JOBS"
    ;;
  build)
    PACKAGES+=(libbenchmark-dev)  # the benchmarks (build/tests/bench/efsim_bench)
    build
    ;;
  sanitize)
    PACKAGES+=("${TEST_PACKAGES[@]}")
    install_missing
    cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEFSIM_SANITIZE=ON >/dev/null
    cmake --build build-asan -j"$JOBS"
    # SimGrid switches stacks (its actors' contexts): ASan must not track fake stacks there.
    export ASAN_OPTIONS=detect_stack_use_after_return=0:detect_leaks=1:abort_on_error=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    ctest --test-dir build-asan --output-on-failure -j"$JOBS" --timeout 900
    ;;
  format)
    PACKAGES=(clang-format git)
    install_missing
    # shellcheck disable=SC2046
    clang-format --dry-run --Werror $(git ls-files '*.cpp' '*.hpp')
    echo "run.sh: every C++ file is clang-formatted" >&2
    ;;
  fuzz)
    PACKAGES+=(clang)
    install_missing
    seconds=${2:-60}
    CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DEFSIM_FUZZ=ON >/dev/null
    targets=(libsvm idx scenario decoders)
    cmake --build build-fuzz -j"$JOBS" --target "${targets[@]/#/fuzz_}"
    mkdir -p build-fuzz/crashes
    status=0
    for t in "${targets[@]}"; do
      # A working corpus seeded with the kept inputs; new findings stay in build-fuzz/.
      mkdir -p "build-fuzz/corpus/$t" && cp tests/fuzz/corpus/"$t"/* "build-fuzz/corpus/$t/"
      echo "run.sh: fuzzing $t for ${seconds}s" >&2
      "./build-fuzz/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="build-fuzz/crashes/$t-" "build-fuzz/corpus/$t" 2>"build-fuzz/$t.log" ||
        { status=1; echo "run.sh: $t found a crash: build-fuzz/crashes/ (log build-fuzz/$t.log)" >&2; }
      grep -E "^(#[0-9]+ *DONE|Done)" "build-fuzz/$t.log" | tail -1 >&2 || true
    done
    exit $status
    ;;
  *)
    echo "usage: ./run.sh quickstart | test | build | sanitize | fuzz [SECONDS] | format" >&2
    exit 2
    ;;
esac
