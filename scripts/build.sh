#!/usr/bin/env bash
# Configures and builds one preset-like variant of trailwatch.
#   scripts/build.sh release   -> build/release   (optimised, warnings are errors)
#   scripts/build.sh asan      -> build/asan      (AddressSanitizer + UndefinedBehaviorSanitizer)
# Extra arguments are passed to `cmake --build` (e.g. --target trailwatch).
set -euo pipefail
cd "$(dirname "$0")/.."
variant=${1:-release}
shift || true
case "$variant" in
  release) flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DTW_WERROR=ON) ;;
  asan) flags=(-DCMAKE_BUILD_TYPE=Debug -DTW_WERROR=ON -DTW_SANITIZE=address,undefined -DTW_BUILD_BENCH=OFF) ;;
  *) echo "usage: scripts/build.sh release|asan [cmake --build args]" >&2; exit 2 ;;
esac
jobs=${TW_JOBS:-$(nproc)}
cmake -S . -B "build/$variant" -G Ninja "${flags[@]}" >/dev/null
cmake --build "build/$variant" -j "$jobs" "$@"
