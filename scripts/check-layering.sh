#!/usr/bin/env bash
# Fails when a folder includes a folder it must not depend on (docs/architecture.md § Layout):
# app/ -> connectors/, detectors/, operators/ -> pipeline/; the three middle folders never include
# each other, and pipeline/ includes nothing of the project but itself.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
check() {
  local folder=$1; shift
  local pattern
  pattern=$(IFS='|'; echo "$*")
  if grep -RnE "#include \"($pattern)/" "$folder" --include='*.h' --include='*.cc' 2>/dev/null; then
    echo "layering: $folder/ must not include $*" >&2
    status=1
  fi
}
check pipeline operators detectors connectors app
check operators detectors connectors app
check detectors operators connectors app
check connectors operators detectors app
check tools operators detectors app
[[ $status -eq 0 ]] && echo "layering: ok"
exit $status
