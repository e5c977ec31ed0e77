#!/usr/bin/env bash
# Renders an efsim report in headless Chromium and saves a full-page PNG screenshot, to check
# what a reader sees (Debian: apt-get install chromium).
#   analysis/screenshot.sh results/quickstart/report.html [out.png]
set -euo pipefail
page=${1:?usage: analysis/screenshot.sh REPORT.html [OUT.png]}
out=${2:-${page%.html}.png}
[ -f "$page" ] || { echo "screenshot.sh: error: $page: no such file" >&2; exit 2; }
command -v chromium >/dev/null || { echo "screenshot.sh: error: needs chromium (apt-get install chromium)" >&2; exit 2; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars --window-size=1280,3000 \
  --screenshot="$(realpath -m "$out")" "file://$(realpath "$page")" >/dev/null 2>&1
[ -s "$out" ] || { echo "screenshot.sh: error: no screenshot written" >&2; exit 1; }
echo "$out"
