#!/usr/bin/env bash
# efsim developer entry point (the README's two commands):
#   ./run.sh quickstart   install what is missing, build, run scenarios/quickstart.yaml
#   ./run.sh test         install what is missing, build, run the whole test suite
#   ./run.sh build        install what is missing and build only
#   ./run.sh sanitize     the whole suite built with AddressSanitizer + UBSan (build-asan/)
#   ./run.sh fuzz [S]     every libFuzzer target for S seconds each (default 60; clang)
#   ./run.sh format       check that every C++ file is clang-formatted (.clang-format)
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(g++ cmake make pkg-config libsimgrid-dev libeigen3-dev libboost-graph-dev
          libgtest-dev libyaml-cpp-dev libbenchmark-dev python3-matplotlib python3-pandas
          python3-plotly
                    zlib1g-dev dataset-fashion-mnist libjemalloc-dev libns3-dev)
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

install_missing() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "run.sh: installing ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

build() {
  install_missing
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j"$JOBS"
}

case "${1:-}" in
  quickstart)
    build >&2
    ./build/efsim run scenarios/quickstart.yaml
    ;;
  test)
    build
    ctest --test-dir build --output-on-failure -j"$JOBS"
    ;;
    build)
    build
    ;;
  sanitize)
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
