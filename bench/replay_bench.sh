#!/usr/bin/env bash
# End-to-end replay benchmark: generated metric-stream JSON through `trailwatch replay` on one
# core, compared with simdjson alone parsing the same bytes (bench/json_parse_baseline).
#
#   bash bench/replay_bench.sh            # 20,000 series x 60 minutes = 1.2 M records (383 MB)
#   SERIES=5000 MINUTES=60 RUNS=3 bash bench/replay_bench.sh
#
# Prints one line per measurement; the figures go into docs/performance.md. Needs ~3x the data
# size of free space in $TMPDIR. Pins to CPU 0 with taskset when available.
set -euo pipefail
cd "$(dirname "$0")/.."

SERIES=${SERIES:-20000}
MINUTES=${MINUTES:-60}
RUNS=${RUNS:-5}
BUILD=build/release

bash scripts/install-deps.sh >/dev/null
bash scripts/build.sh release --target trailwatch gen_metrics json_parse_baseline >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/trailwatch-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
pin=()
if command -v taskset >/dev/null; then
  pin=(taskset -c 0)
fi

"$BUILD/bench/gen_metrics" --series "$SERIES" --minutes "$MINUTES" >"$work/metrics.jsonl"
records=$(wc -l <"$work/metrics.jsonl")
bytes=$(stat -c %s "$work/metrics.jsonl")

# Alarm sets: every 19th series (about 5%, the common case of alarms on a few of many streamed
# metrics) and every series.
write_alarms() {
  local step=$1 file=$2 sep=""
  {
    echo '{"trailwatch":{"account_id":"123456789012"},"MetricAlarms":['
    for ((i = 0; i < SERIES; i += step)); do
      printf '%s{"AlarmName":"cpu %d","Namespace":"AWS/EC2","MetricName":"CPUUtilization",' "$sep" "$i"
      printf '"Dimensions":[{"Name":"InstanceId","Value":"i-%017d"}],"Statistic":"Average",' "$i"
      printf '"Period":300,"EvaluationPeriods":3,"Threshold":80,"ComparisonOperator":"GreaterThanThreshold"}\n'
      sep=","
    done
    echo ']}'
  } >"$file"
}
write_alarms 19 "$work/alarms-5pct.json"
write_alarms 1 "$work/alarms-all.json"

# Best wall time of RUNS runs, in seconds.
best_of() {
  local best=""
  for ((r = 0; r < RUNS; r++)); do
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s%N)
    local s
    s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
    if [[ -z "$best" ]] || awk -v x="$s" -v y="$best" 'BEGIN { exit !(x < y) }'; then
      best=$s
    fi
  done
  echo "$best"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "input: $records records, $bytes bytes ($SERIES series x $MINUTES minutes)"

baseline=$("${pin[@]}" "$BUILD/bench/json_parse_baseline" "$work/metrics.jsonl" "$RUNS" 2>/dev/null)
echo "$baseline" | sed 's/^/baseline: /'
ondemand_rate=$(echo "$baseline" | awk '/ondemand_visit_all/ { print $4 }')
dom_rate=$(echo "$baseline" | awk '/dom_parse/ { print $4 }')

for config in alarms-5pct alarms-all; do
  for shards in 1 2; do
    s=$(best_of "${pin[@]}" "$BUILD/app/trailwatch" replay --config "$work/$config.json" \
      --input "$work/metrics.jsonl" --shards "$shards" --output /dev/null --quiet)
    if [[ $shards -gt 1 ]]; then
      # Several shards need several cores: not pinned.
      s=$(best_of "$BUILD/app/trailwatch" replay --config "$work/$config.json" \
        --input "$work/metrics.jsonl" --shards "$shards" --output /dev/null --quiet)
    fi
    awk -v n="$records" -v b="$bytes" -v s="$s" -v od="$ondemand_rate" -v dom="$dom_rate" \
      -v c="$config" -v k="$shards" 'BEGIN {
        r = n / s
        printf "replay %-11s shards=%d: %.3f s, %.2f M records/s, %.0f MB/s, %.0f%% of simdjson On-Demand, %.0f%% of simdjson DOM\n",
          c, k, s, r / 1e6, b / s / 1e6, 100 * r / od, 100 * r / dom }'
  done
done
