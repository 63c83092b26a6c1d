#!/usr/bin/env bash
# The quickstart from a fresh machine: installs dependencies, builds trailwatch, validates the
# bundled configuration and replays the bundled sample data (quickstart/), then shows what the
# alarms saw. No Kafka needed. Outputs go to out/quickstart/.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
echo "== building trailwatch (build/release)"
bash scripts/build.sh release --target trailwatch

tw=build/release/app/trailwatch
out=out/quickstart
mkdir -p "$out"

echo
echo "== trailwatch validate --config quickstart/alarms.json"
"$tw" validate --config quickstart/alarms.json

echo
echo "== trailwatch replay --config quickstart/alarms.json"
"$tw" replay --config quickstart/alarms.json \
  --output "$out/events.jsonl" \
  --datapoints "$out/datapoints.jsonl" \
  --actions "$out/actions.jsonl" \
  --dead-letters "$out/dead-letters.jsonl"

echo
echo "== what the alarms saw: $out/datapoints.jsonl ($(wc -l <"$out/datapoints.jsonl") lines), e.g. web-1 during its CPU incident:"
grep '"web-1 high CPU"' "$out/datapoints.jsonl" | sed -n '68,74p'
echo
echo "== what was rejected: $out/dead-letters.jsonl"
cut -c1-160 "$out/dead-letters.jsonl" | sed 's/$/…/'
echo
echo "== state changes: $out/events.jsonl (one CloudWatch Alarm State Change event per line), in short:"
sed -E 's/.*"time":"[0-9-]+T([0-9:]+)Z".*"alarmName":"([^"]*)","state":\{"value":"([A-Z_]+)".*"previousState":\{"value":"([A-Z_]+)".*/\1  \2: \4 -> \3/' \
  "$out/events.jsonl"
echo
echo "== actions that became due: $out/actions.jsonl (what would have been delivered), in short:"
sed -E 's/.*"time":"[0-9-]+T([0-9:]+)\.000Z","key":"([^"]*)".*"alarmName":"([^"]*)".*"state":"([A-Z_]+)".*"action":"([^"]*)".*/\1  \3 -> \4: \5  (key \2)/' \
  "$out/actions.jsonl"
