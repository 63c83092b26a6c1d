#!/usr/bin/env bash
# Evaluation latency in live mode: from the moment the worker reads the record that moves the
# watermark past a period's end (so: period end + allowed lateness) to the event being
# acknowledged by the broker on the output topic. Read from the worker's own histogram
# (trailwatch_evaluation_latency_seconds on /metrics).
#
#   bash bench/kafka_latency_bench.sh   # ALARMS=500 SECONDS_TO_RUN=200 WARMUP_SECONDS=0 STATE_STORE=kafka
#
# With WARMUP_SECONDS > 0 the histogram is also read after the warm-up and the percentiles are
# given twice: over the whole run, and over what followed the warm-up (steady state: the first
# minute boundary, when the worker is still working off what was produced during its 3-second
# consumer-group join, is left out).
#
# A generator writes one datapoint per series every 100 ms with the current time as event time,
# alternating between far above and far below the threshold every minute, so every alarm changes
# state at every minute boundary. Brokers: tools/trailwatch-mock-kafka (CPU 1); worker: CPU 0.
set -euo pipefail
cd "$(dirname "$0")/.."

ALARMS=${ALARMS:-500}
SECONDS_TO_RUN=${SECONDS_TO_RUN:-200}
WARMUP_SECONDS=${WARMUP_SECONDS:-0}
STATE_STORE=${STATE_STORE:-kafka}  # kafka (the default with Kafka inputs) or none
BUILD=build/release

bash scripts/install-deps.sh >/dev/null
bash scripts/build.sh release --target trailwatch trailwatch-mock-kafka >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/trailwatch-latency-bench.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

taskset -c 1 "$BUILD/tools/trailwatch-mock-kafka" --topic metrics:4 --topic alarm-events:1 \
  </dev/null >"$work/bootstraps" 2>/dev/null &
pids+=($!)
until [[ -s "$work/bootstraps" ]]; do sleep 0.1; done
brokers=$(cat "$work/bootstraps")

{
  echo '{"trailwatch":{"account_id":"123456789012","metric_lateness_seconds":5,'
  echo '"idle_timeout_seconds":5,"http_listen":"127.0.0.1:0","shards":1,'
  printf '"state":{"store":"%s"},' "$STATE_STORE"
  printf '"kafka":{"bootstrap.servers":"%s"},' "$brokers"
  echo '"inputs":[{"name":"metrics","type":"kafka","topic":"metrics","format":"metric_stream"}],'
  echo '"outputs":{"emissions":"kafka:alarm-events"}},"MetricAlarms":['
  sep=""
  for ((i = 0; i < ALARMS; i++)); do
    printf '%s{"AlarmName":"load %d","Namespace":"Bench","MetricName":"Load",' "$sep" "$i"
    printf '"Dimensions":[{"Name":"Host","Value":"h%d"}],"Statistic":"Average",' "$i"
    printf '"Period":60,"EvaluationPeriods":1,"Threshold":50,"ComparisonOperator":"GreaterThanThreshold"}\n'
    sep=","
  done
  echo ']}'
} >"$work/config.json"

# Real-time generator: every 100 ms, one datapoint per series at the current time.
python3 - "$ALARMS" "$SECONDS_TO_RUN" >"$work/gen.fifo.txt" <<'PY' &
import json, sys, time
n, duration = int(sys.argv[1]), float(sys.argv[2])
end = time.time() + duration
out = sys.stdout
while time.time() < end:
    now = time.time()
    ms = int(now * 1000)
    value = 90.0 if int(now // 60) % 2 == 0 else 10.0
    for i in range(n):
        out.write(json.dumps({"metric_stream_name": "bench", "account_id": "123456789012",
                              "region": "us-east-1", "namespace": "Bench", "metric_name": "Load",
                              "dimensions": {"Host": "h%d" % i}, "timestamp": ms,
                              "value": {"count": 1.0, "sum": value, "min": value, "max": value},
                              "unit": "Percent"}, separators=(",", ":")) + "\n")
    out.flush()
    time.sleep(max(0.0, 0.1 - (time.time() - now)))
PY
pids+=($!)
tail -f "$work/gen.fifo.txt" 2>/dev/null | kcat -P -b "$brokers" -t metrics >/dev/null 2>&1 &
pids+=($!)

taskset -c 0 "$BUILD/app/trailwatch" run --config "$work/config.json" 2>"$work/run.log" &
worker=$!
pids+=("$worker")
until grep -q "http endpoint on port" "$work/run.log"; do sleep 0.2; done
port=$(sed -nE 's/.*http endpoint on port ([0-9]+).*/\1/p' "$work/run.log")

if ((WARMUP_SECONDS > 0)); then
  sleep "$WARMUP_SECONDS"
  curl -s "http://127.0.0.1:$port/metrics" >"$work/warmup.txt"
  sleep $((SECONDS_TO_RUN - WARMUP_SECONDS))
else
  sleep "$SECONDS_TO_RUN"
  : >"$work/warmup.txt"
fi
curl -s "http://127.0.0.1:$port/metrics" >"$work/metrics.txt"
kill "$worker"
grep -E '^trailwatch_checkpoint(s_total|_duration_seconds)' "$work/metrics.txt" || true

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "alarms: $ALARMS, run: $SECONDS_TO_RUN s, datapoints: $(grep -E '^trailwatch_datapoints_total' "$work/metrics.txt" | awk '{print $2}')"
# Percentiles from the cumulative histogram (upper bound of the bucket that reaches the rank);
# the second file's counts minus the first's (empty: nothing subtracted).
percentiles() {
  awk '
    FILENAME == ARGV[1] && /^trailwatch_evaluation_latency_seconds_bucket/ {
      match($0, /le="[^"]+"/); before[substr($0, RSTART + 4, RLENGTH - 5)] = $2; next
    }
    FILENAME == ARGV[1] && /^trailwatch_evaluation_latency_seconds_count/ { before_total = $2; next }
    FILENAME == ARGV[1] { next }
    /^trailwatch_evaluation_latency_seconds_bucket/ {
      match($0, /le="[^"]+"/); le = substr($0, RSTART + 4, RLENGTH - 5); n++; bound[n] = le
      cum[n] = $2 - before[le]
    }
    /^trailwatch_evaluation_latency_seconds_count/ { total = $2 - before_total }
    END {
      if (total == 0) { print "no events delivered"; exit 1 }
      split("0.5 0.99", qs, " ")
      for (q = 1; q <= 2; q++) {
        for (i = 1; i <= n; i++) if (cum[i] >= qs[q] * total) { printf "p%g <= %s s\n", qs[q] * 100, bound[i]; break }
      }
      printf "events: %d\n", total
      printf "cumulative:"; for (i = 1; i <= n; i++) printf " <=%s:%d", bound[i], cum[i]; printf "\n"
    }' "$1" "$2"
}
echo "-- whole run"
percentiles /dev/null "$work/metrics.txt"
if ((WARMUP_SECONDS > 0)); then
  echo "-- after the first $WARMUP_SECONDS s"
  percentiles "$work/warmup.txt" "$work/metrics.txt"
fi
