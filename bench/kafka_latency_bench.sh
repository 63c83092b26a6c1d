#!/usr/bin/env bash
# Evaluation latency in live mode: from the moment the worker reads the record that moves the
# watermark past a period's end (so: period end + allowed lateness) to the event being
# acknowledged by the broker on the output topic. Read from the worker's own histogram
# (trailwatch_evaluation_latency_seconds on /metrics).
#
#   bash bench/kafka_latency_bench.sh   # ALARMS=500 SECONDS_TO_RUN=200 WARMUP_SECONDS=0 STATE_STORE=kafka FETCH_WAIT_MS=10
#
# With WARMUP_SECONDS > 0 the histogram is also read after the warm-up and the percentiles are
# given twice: over the whole run, and over what followed the warm-up (steady state: the first
# minute boundary, when the worker is still working off what was produced during its 3-second
# consumer-group join, is left out).
#
# Two figures: the worker's own histogram (from reading the causing record to the event's
# delivery), and end to end, from each output message's broker timestamp back to the creation of
# the input record that moved the watermark past the period's end plus the allowed lateness (the
# generator logs the time of every tick). End to end includes kcat's producer, the mock brokers'
# fetch path and the worker's consumer up to its produce call (the message's CreateTime); it
# excludes the generator's 100 ms cadence (the first record after the period's end plus lateness
# is created up to 100 ms after that moment) and the broker's acknowledgement (in the histogram).
#
# FETCH_WAIT_MS sets the worker's fetch.wait.max.ms. librdkafka's mock answers a fetch that finds
# no new data only when that wait expires, even if records arrive meanwhile, so with the default
# (500 ms) every record waits up to half a second at the mock; a real broker answers as soon as
# fetch.min.bytes are there.
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
FETCH_WAIT_MS=${FETCH_WAIT_MS:-10}  # the worker's fetch.wait.max.ms (librdkafka's default: 500; see below)
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
  printf '"kafka":{"bootstrap.servers":"%s","fetch.wait.max.ms":"%s"},' "$brokers" "$FETCH_WAIT_MS"
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
python3 - "$ALARMS" "$SECONDS_TO_RUN" "$work/ticks.txt" >"$work/gen.fifo.txt" <<'PY' &
import json, sys, time
n, duration = int(sys.argv[1]), float(sys.argv[2])
ticks = open(sys.argv[3], "w", buffering=1)
end = time.time() + duration
out = sys.stdout
while time.time() < end:
    now = time.time()
    ms = int(now * 1000)
    ticks.write("%d\n" % ms)
    value = 90.0 if int(now // 60) % 2 == 0 else 10.0
    for i in range(n):
        # Keyed by series: every partition carries every tick (unkeyed, librdkafka's sticky
        # partitioner would put a whole tick into one partition, and each partition would see
        # data only every 400 ms, holding the watermark back that long).
        out.write("h%d\t" % i + json.dumps({"metric_stream_name": "bench", "account_id": "123456789012",
                              "region": "us-east-1", "namespace": "Bench", "metric_name": "Load",
                              "dimensions": {"Host": "h%d" % i}, "timestamp": ms,
                              "value": {"count": 1.0, "sum": value, "min": value, "max": value},
                              "unit": "Percent"}, separators=(",", ":")) + "\n")
    out.flush()
    time.sleep(max(0.0, 0.1 - (time.time() - now)))
PY
pids+=($!)
tail -f "$work/gen.fifo.txt" 2>/dev/null | kcat -P -K $'\t' -b "$brokers" -t metrics >/dev/null 2>&1 &
pids+=($!)

started_ms=$(date +%s%3N)
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

# End to end, per event: the output message's timestamp (CreateTime: when the worker produced it)
# minus the creation of the first input record at or after the event's period end + lateness.
kcat -C -b "$brokers" -t alarm-events -e -q -o beginning -f '%T\t%s\n' >"$work/events.tsv"
python3 - "$work/ticks.txt" "$work/events.tsv" "$WARMUP_SECONDS" "$started_ms" <<'PY'
import bisect, datetime, json, sys
ticks = sorted(int(line) for line in open(sys.argv[1]) if line.strip())
warmup_ms, started_ms, lateness_ms = int(sys.argv[3]) * 1000, int(sys.argv[4]), 5000
for label, since in (("whole run", 0), ("after the first %d s" % (warmup_ms // 1000), warmup_ms)):
    if since == 0 and warmup_ms == 0 and label != "whole run":
        continue
    latencies = []
    for line in open(sys.argv[2]):
        produced, _, event = line.rstrip("\n").partition("\t")
        boundary = datetime.datetime.strptime(json.loads(event)["time"], "%Y-%m-%dT%H:%M:%SZ")
        due = int(boundary.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000) + lateness_ms
        if due < started_ms + since:
            continue
        i = bisect.bisect_left(ticks, due)
        if i < len(ticks):
            latencies.append(int(produced) - ticks[i])
    if not latencies:
        print("-- end to end, %s: no events" % label)
        continue
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    print("-- end to end, %s: events %d, p50 %d ms, p99 %d ms, max %d ms"
          % (label, len(latencies), pick(0.5), pick(0.99), latencies[-1]))
PY
