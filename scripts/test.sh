#!/usr/bin/env bash
# The whole test suite from a fresh machine: installs dependencies, checks the layering, builds
# with warnings as errors, runs every test, then runs the tests again under AddressSanitizer and
# UndefinedBehaviorSanitizer. This is what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/check-layering.sh

echo "== release build"
bash scripts/build.sh release
echo "== tests (release)"
ctest --test-dir build/release --output-on-failure -j "$(nproc)"

echo "== ASan + UBSan build"
bash scripts/build.sh asan
echo "== tests (ASan + UBSan)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/asan --output-on-failure -j "$(nproc)"
echo "== all tests passed"
