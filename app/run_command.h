#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace tw::app {

/// `trailwatch run --config FILE [--http-listen ADDR] [--shards N] [--until-idle]`: live mode.
///
/// `--until-idle` ends the run once every input is idle — everything available was consumed,
/// evaluated, delivered and committed — for batch jobs over a topic and for benchmarks.
///
/// Consumes the configuration's inputs — Kafka topics as a consumer-group member, files and
/// standard input read once — through the same runtime as `replay`, and writes events and dead
/// letters to files, standard output or Kafka topics (`kafka:TOPIC`; events keyed by alarm ARN).
///
/// Watermarks are kept per Kafka partition: each assigned partition is an input of the runtime,
/// so one lagging partition cannot make another's records late. A partition that has nothing left
/// to read and delivers nothing for `idle_timeout_seconds` stops holding the watermark back; when
/// every input is idle, the watermark follows wall time minus the allowed lateness, so periods
/// without data are still evaluated on time.
///
/// Delivery: offsets are committed only after the emissions of the records before them are
/// acknowledged by the broker (or written to their file), so output is at least once; event ids
/// are deterministic, so duplicates are recognisable. Alarm state is kept in memory only in this
/// build: after a restart, alarms start again from INSUFFICIENT_DATA at the committed offsets.
///
/// HTTP (`trailwatch.http_listen`, default :9464): /healthz, /readyz (200 once every input is
/// open and every Kafka consumer has its assignment), /metrics (Prometheus), /api/v1/alarms
/// (current states in describe-alarms shape; `?prefix=` and `?state=` filter).
///
/// SIGTERM and SIGINT: stop consuming, finish the records in hand, flush outputs, commit, leave
/// the group, exit 0. SIGHUP or a changed configuration file: reload the alarm definitions in
/// place (Runtime::replace_processors; unchanged alarms keep their state); an invalid file is
/// rejected with validate's messages and the running configuration stays. Returns a process
/// exit code (cli_args.h).
int run_live(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace tw::app
