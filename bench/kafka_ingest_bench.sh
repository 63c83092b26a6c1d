#!/usr/bin/env bash
# Kafka ingest benchmark: one `trailwatch run --until-idle` worker on one core consuming generated
# metric-stream records from a local Kafka cluster, against kcat consuming the same topic in the
# same run (the ratio is the figure; absolute rates depend on the broker).
#
#   bash bench/kafka_ingest_bench.sh                 # 1,000 series x 60 minutes = 60,000 records
#   SERIES=1000 MINUTES=60 PARTITIONS=6 bash bench/kafka_ingest_bench.sh
#   TASKS=3 bash bench/kafka_ingest_bench.sh          # scale-out: one worker running 3 tasks
#
# The brokers are librdkafka's mock (tools/trailwatch-mock-kafka), pinned to CPU 1; the consumers
# are pinned to CPU 0. The mock keeps about 5 MiB per partition, so keep SERIES x MINUTES x ~320
# bytes under PARTITIONS x 5 MiB. trailwatch's rate is measured from its first to its last record
# (consumer-group join excluded); kcat's over its whole run, with no group to join.
set -euo pipefail
cd "$(dirname "$0")/.."

SERIES=${SERIES:-1000}
MINUTES=${MINUTES:-60}
PARTITIONS=${PARTITIONS:-8}
TASKS=${TASKS:-0}  # 0: single mode; N: scale-out with N tasks, all on this one worker
# Both consumers' fetch.wait.max.ms. librdkafka's mock answers a fetch that finds no new data only
# when this expires (500 ms by default), which quantises short runs into half seconds.
FETCH_WAIT_MS=${FETCH_WAIT_MS:-10}
BUILD=build/release

bash scripts/install-deps.sh >/dev/null
bash scripts/build.sh release --target trailwatch trailwatch-mock-kafka gen_metrics >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/trailwatch-kafka-bench.XXXXXX")
cleanup() {
  [[ -n "${mock_pid:-}" ]] && kill "$mock_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$BUILD/bench/gen_metrics" --series "$SERIES" --minutes "$MINUTES" >"$work/metrics.jsonl"
records=$(wc -l <"$work/metrics.jsonl")
bytes=$(stat -c %s "$work/metrics.jsonl")

tasks_topic=()
state='"state":{"topic":"trailwatch-state"}'  # the default store, as before
if ((TASKS > 0)); then
  tasks_topic=(--topic "trailwatch-tasks:$TASKS")
  state='"state":{"topic":"trailwatch-tasks","scale_out":true}'
fi
taskset -c 1 "$BUILD/tools/trailwatch-mock-kafka" --topic "metrics:$PARTITIONS" --topic empty:1 \
  "${tasks_topic[@]}" \
  </dev/null >"$work/bootstraps" 2>/dev/null &
mock_pid=$!
until [[ -s "$work/bootstraps" ]]; do sleep 0.1; done
brokers=$(cat "$work/bootstraps")
kcat -P -b "$brokers" -t metrics -l "$work/metrics.jsonl"

# Alarms on every 19th series (about 5%), as in the replay benchmark.
{
  echo '{"trailwatch":{"account_id":"123456789012","idle_timeout_seconds":1,"http_listen":"",'
  printf '"kafka":{"bootstrap.servers":"%s","fetch.wait.max.ms":"%s"},' "$brokers" "$FETCH_WAIT_MS"
  echo '"inputs":[{"name":"metrics","type":"kafka","topic":"metrics","format":"metric_stream"}],'
  echo '"outputs":{"emissions":"'"$work"'/events.jsonl"},'"$state"'},"MetricAlarms":['
  sep=""
  for ((i = 0; i < SERIES; i += 19)); do
    printf '%s{"AlarmName":"cpu %d","Namespace":"AWS/EC2","MetricName":"CPUUtilization",' "$sep" "$i"
    printf '"Dimensions":[{"Name":"InstanceId","Value":"i-%017d"}],"Statistic":"Average",' "$i"
    printf '"Period":300,"EvaluationPeriods":3,"Threshold":80,"ComparisonOperator":"GreaterThanThreshold"}\n'
    sep=","
  done
  echo ']}'
} >"$work/config.json"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "input: $records records, $bytes bytes, $PARTITIONS partitions"

# kcat's rate excludes its start-up (connecting, metadata): the time to read an empty topic.
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
t0=$(date +%s%N)
taskset -c 0 kcat -C -X fetch.wait.max.ms="$FETCH_WAIT_MS" -b "$brokers" -t empty -e -q -o beginning >/dev/null
t1=$(date +%s%N)
consumed=$(taskset -c 0 kcat -C -X fetch.wait.max.ms="$FETCH_WAIT_MS" -b "$brokers" -t metrics -e -q -o beginning | wc -l)
t2=$(date +%s%N)
kcat_rate=$(awk -v n="$consumed" -v a="$t0" -v b="$t1" -v c="$t2" \
  'BEGIN { printf "%.0f", n / ((c - b - (b - a)) / 1e9) }')
echo "kcat -C: $consumed records in $(seconds "$t1" "$t2") s, start-up $(seconds "$t0" "$t1") s: $kcat_rate records/s"

taskset -c 0 "$BUILD/app/trailwatch" run --config "$work/config.json" --shards 1 --until-idle \
  2>"$work/run.log" || { cat "$work/run.log" >&2; exit 1; }
line=$(grep "consumed" "$work/run.log")
rate=$(echo "$line" | sed -E 's/.* ([0-9]+) records\/s.*/\1/')
echo "$line"
awk -v r="$rate" -v k="$kcat_rate" 'BEGIN { printf "ratio: trailwatch / kcat = %.0f%%\n", 100 * r / k }'
