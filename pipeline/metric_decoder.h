#pragma once

/// Hot-path decoders for metric records (simdjson On-Demand).
///
/// Three record shapes, one JSON document each (one per line in files and Kafka messages):
///   * CloudWatch metric streams JSON: `{"metric_stream_name", "account_id", "region",
///     "namespace", "metric_name", "dimensions": {name: value}, "timestamp": <epoch ms>,
///     "value": {"count", "sum", "min", "max", optional "p99", "p99.9", ...}, "unit"}`;
///   * PutMetricData-shaped JSON: a request `{"Namespace", "MetricData": [MetricDatum, ...]}` or
///     a single MetricDatum with its own `Namespace`; a datum has `MetricName`, `Dimensions`
///     [{Name, Value}], `Timestamp` (ISO 8601 string or epoch seconds), exactly one of `Value`,
///     `Values` (+ optional `Counts`) or `StatisticValues` {SampleCount, Sum, Minimum, Maximum},
///     optional `Unit` and `StorageResolution` (1 or 60);
///   * Embedded Metric Format log events: `{"_aws": {"Timestamp": <epoch ms>,
///     "CloudWatchMetrics": [{"Namespace", "Dimensions": [[names]], "Metrics": [{"Name", "Unit",
///     "StorageResolution"}]}]}, <members>...}`; a prefix before the first `{` (as Lambda writes)
///     is skipped.
///
/// A record decodes completely or not at all: on any error nothing is appended to the batch and
/// the error names the field by JSON pointer. Values must be finite and within CloudWatch's
/// accepted range (|v| <= 2^360).
///
/// Thread-safety: one decoder per thread. The decoder reuses its parser's memory; decoding
/// allocates only when a record is larger than any seen before.

#include <memory>
#include <optional>
#include <string_view>

#include "pipeline/config.h"
#include "pipeline/drop_reason.h"
#include "pipeline/metric.h"

namespace tw::pipeline {

/// Bytes that must be readable (their content is irrelevant) after the end of a record passed to
/// `MetricDecoder::decode_padded`. Equal to simdjson's SIMDJSON_PADDING.
size_t json_padding();

class MetricDecoder {
 public:
  /// `fast_path`: decode well-formed metric-stream records through the optimistic fast path
  /// (the default). Tests turn it off to check that both paths agree on every input.
  explicit MetricDecoder(bool fast_path = true);
  ~MetricDecoder();
  MetricDecoder(const MetricDecoder&) = delete;
  MetricDecoder& operator=(const MetricDecoder&) = delete;
  MetricDecoder(MetricDecoder&& other) noexcept;
  MetricDecoder& operator=(MetricDecoder&& other) noexcept;

  /// Decodes one record of `format` (a metric format, not kAuto) and appends its datapoints.
  /// Precondition: `json_padding()` bytes after `record.end()` are readable memory.
  /// Returns the reason the record was rejected, or nullopt on success.
  std::optional<DecodeError> decode_padded(InputFormat format, std::string_view record,
                                           MetricBatch& out);

  /// As decode_padded, for records without padding (copies them first).
  std::optional<DecodeError> decode(InputFormat format, std::string_view record, MetricBatch& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// True when `text` is exactly one valid JSON value (surrounding whitespace allowed).
bool is_json_document(std::string_view text);

/// Guesses the format of a JSON document from its top-level keys: metric streams
/// (`metric_name`, `metric_stream_name`), EMF (`_aws`), PutMetricData (`MetricData`,
/// `MetricName`), CloudTrail (`Records`, `eventVersion`, `eventTime`, `detail-type`,
/// `logEvents`). kAuto when it cannot tell.
InputFormat detect_format(std::string_view document);

}  // namespace tw::pipeline
