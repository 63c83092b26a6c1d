#!/usr/bin/env bash
# Lints the whole code base: clang-tidy-16 with the root .clang-tidy over every project .cc file
# (headers are covered through its HeaderFilterRegex), then clang-format-16 --dry-run --Werror
# over every project source and header. Exits non-zero if either finds an error; clang-tidy
# warnings that are not errors (see WarningsAsErrors) are printed but do not fail the run.
#
#   scripts/lint.sh            lint everything (compile database in build/lint, made if missing)
#   TW_JOBS=N scripts/lint.sh  run N clang-tidy processes (default: nproc)
set -euo pipefail
cd "$(dirname "$0")/.."

TW_WITH_LINT=1 bash scripts/install-deps.sh

folders=(pipeline operators detectors connectors app tools tests bench)
jobs=${TW_JOBS:-$(nproc)}
build=build/lint

# The compile database is all clang-tidy needs: the project generates no sources or headers.
if [[ ! -f $build/compile_commands.json ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
    -DTW_BUILD_TESTS=ON -DTW_BUILD_BENCH=ON >/dev/null
fi

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t sources < <(git ls-files -- "${folders[@]/%//*.cc}")
  mapfile -t headers < <(git ls-files -- "${folders[@]/%//*.h}")
else
  mapfile -t sources < <(find "${folders[@]}" -name '*.cc' | sort)
  mapfile -t headers < <(find "${folders[@]}" -name '*.h' | sort)
fi

status=0

echo "lint: clang-tidy-16 on ${#sources[@]} files, $jobs jobs"
if command -v run-clang-tidy-16 >/dev/null; then
  # The compile database lists only project sources; the pattern keeps it to the linted folders.
  pattern="/($(IFS='|'; echo "${folders[*]}"))/.+\\.cc\$"
  run-clang-tidy-16 -clang-tidy-binary "$(command -v clang-tidy-16)" -p "$build" -j "$jobs" \
    -quiet "$pattern" || status=1
else
  printf '%s\n' "${sources[@]}" |
    xargs -P "$jobs" -n 1 clang-tidy-16 -p "$build" --quiet || status=1
fi

echo "lint: clang-format-16 on ${#sources[@]} sources and ${#headers[@]} headers"
clang-format-16 --dry-run --Werror "${sources[@]}" "${headers[@]}" || status=1

if [[ $status -eq 0 ]]; then
  echo "lint: ok"
else
  echo "lint: FAILED" >&2
fi
exit $status
