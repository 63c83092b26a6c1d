#include "pipeline/metric_decoder.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace tw::pipeline {
namespace {

class MetricDecoderTest : public ::testing::Test {
 protected:
  std::optional<DecodeError> decode(InputFormat format, std::string_view record) {
    return decoder_.decode(format, record, batch_);
  }

  // Decodes and expects success with `datums` datapoints.
  void expect_ok(InputFormat format, std::string_view record, size_t datums) {
    batch_.clear();
    const auto error = decode(format, record);
    ASSERT_FALSE(error.has_value()) << error->detail;
    ASSERT_EQ(batch_.datums.size(), datums);
  }

  // Decodes and expects rejection for `reason` with `fragment` in the detail, appending nothing.
  void expect_error(InputFormat format, std::string_view record, DropReason reason,
                    std::string_view fragment) {
    batch_.clear();
    const auto error = decode(format, record);
    ASSERT_TRUE(error.has_value()) << record;
    EXPECT_EQ(to_string(error->reason), to_string(reason)) << error->detail;
    EXPECT_NE(error->detail.find(fragment), std::string::npos) << error->detail;
    EXPECT_TRUE(batch_.datums.empty());
    EXPECT_TRUE(batch_.dimensions.empty());
  }

  static std::string_view str(std::string_view s) { return s; }

  MetricDecoder decoder_;
  MetricBatch batch_;
};

constexpr std::string_view kStreamRecord =
    R"({"metric_stream_name":"MyMetricStream","account_id":"1234567890","region":"us-east-1",)"
    R"("namespace":"AWS/EC2","metric_name":"DiskWriteOps","dimensions":{"InstanceId":)"
    R"("i-123456789012"},"timestamp":1611929698000,"value":{"max":3.0,"min":1.0,"sum":6.0,)"
    R"j("count":3.0,"p99":2.9,"p99.9":2.99,"TM(25%:75%)":2.0},"unit":"Seconds"})j";

TEST_F(MetricDecoderTest, DecodesMetricStreamRecord) {
  expect_ok(InputFormat::kMetricStream, kStreamRecord, 1);
  const MetricDatum& d = batch_.datums[0];
  EXPECT_EQ(str(d.namespace_name), "AWS/EC2");
  EXPECT_EQ(str(d.metric_name), "DiskWriteOps");
  EXPECT_EQ(str(d.account_id), "1234567890");
  EXPECT_EQ(str(d.region), "us-east-1");
  EXPECT_EQ(d.time.millis(), 1611929698000);
  EXPECT_EQ(d.stats, (StatisticSet{3, 6, 1, 3}));
  EXPECT_EQ(d.unit, Unit::kSeconds);
  ASSERT_EQ(d.dimension_count, 1U);
  EXPECT_EQ(str(batch_.dimensions_of(d)[0].name), "InstanceId");
  EXPECT_EQ(str(batch_.dimensions_of(d)[0].value), "i-123456789012");
  ASSERT_EQ(d.quantile_count, 2U);
  EXPECT_DOUBLE_EQ(batch_.quantiles_of(d)[0].quantile, 0.99);
  EXPECT_DOUBLE_EQ(batch_.quantiles_of(d)[1].value, 2.99);
}

TEST_F(MetricDecoderTest, MetricStreamWithoutUnitOrDimensionsIsValid) {
  expect_ok(InputFormat::kMetricStream,
            R"({"namespace":"N","metric_name":"M","timestamp":1700000000000,)"
            R"("value":{"count":1,"sum":2,"min":2,"max":2}})",
            1);
  EXPECT_EQ(batch_.datums[0].unit, Unit::kNone);
  EXPECT_EQ(batch_.datums[0].dimension_count, 0U);
}

TEST_F(MetricDecoderTest, RejectsMetricStreamWithoutCount) {
  expect_error(InputFormat::kMetricStream,
               R"({"namespace":"N","metric_name":"M","timestamp":1700000000000,)"
               R"("value":{"sum":2,"min":2,"max":2}})",
               DropReason::kMissingField, "/value/count");
}

TEST_F(MetricDecoderTest, RejectsStringWhereNumberBelongs) {
  expect_error(InputFormat::kMetricStream,
               R"({"namespace":"N","metric_name":"M","timestamp":1700000000000,)"
               R"("value":{"count":1,"sum":"2","min":2,"max":2}})",
               DropReason::kWrongType, "/value/sum");
}

TEST_F(MetricDecoderTest, RejectsNaNWrittenBare) {
  expect_error(InputFormat::kMetricStream,
               R"({"namespace":"N","metric_name":"M","timestamp":1700000000000,)"
               R"("value":{"count":1,"sum":NaN,"min":2,"max":2}})",
               DropReason::kNonFinite, "/value/sum");
}

TEST_F(MetricDecoderTest, RejectsInfinityWrittenAsString) {
  expect_error(InputFormat::kMetricStream,
               R"({"namespace":"N","metric_name":"M","timestamp":1700000000000,)"
               R"("value":{"count":1,"sum":2,"min":"-Infinity","max":2}})",
               DropReason::kNonFinite, "/value/min");
}

TEST_F(MetricDecoderTest, RejectsNumberThatOverflowsDouble) {
  expect_error(InputFormat::kMetricStream,
               R"({"namespace":"N","metric_name":"M","timestamp":1700000000000,)"
               R"("value":{"count":1,"sum":1e999,"min":2,"max":2}})",
               DropReason::kNonFinite, "/value/sum");
}

TEST_F(MetricDecoderTest, RejectsZeroSampleCount) {
  expect_error(InputFormat::kMetricStream,
               R"({"namespace":"N","metric_name":"M","timestamp":1700000000000,)"
               R"("value":{"count":0,"sum":0,"min":0,"max":0}})",
               DropReason::kInvalidValue, "sample count");
}

TEST_F(MetricDecoderTest, RejectsMinimumAboveMaximum) {
  expect_error(InputFormat::kMetricStream,
               R"({"namespace":"N","metric_name":"M","timestamp":1700000000000,)"
               R"("value":{"count":2,"sum":4,"min":3,"max":1}})",
               DropReason::kInvalidValue, "minimum is greater");
}

TEST_F(MetricDecoderTest, RejectsUnknownUnit) {
  expect_error(InputFormat::kMetricStream,
               R"({"namespace":"N","metric_name":"M","timestamp":1700000000000,"unit":"Parsecs",)"
               R"("value":{"count":1,"sum":1,"min":1,"max":1}})",
               DropReason::kInvalidValue, "unknown unit");
}

TEST_F(MetricDecoderTest, RejectsTimestampBefore1990) {
  expect_error(InputFormat::kMetricStream,
               R"({"namespace":"N","metric_name":"M","timestamp":1000,)"
               R"("value":{"count":1,"sum":1,"min":1,"max":1}})",
               DropReason::kTimestampOutOfRange, "/timestamp");
}

TEST_F(MetricDecoderTest, RejectsTimestampThatIsAString) {
  expect_error(InputFormat::kMetricStream,
               R"({"namespace":"N","metric_name":"M","timestamp":"yesterday",)"
               R"("value":{"count":1,"sum":1,"min":1,"max":1}})",
               DropReason::kBadTimestamp, "/timestamp");
}

TEST_F(MetricDecoderTest, RejectsTruncatedRecord) {
  expect_error(InputFormat::kMetricStream, R"({"namespace":"N","metric_name":"M","time)",
               DropReason::kNotJson, "");
}

TEST_F(MetricDecoderTest, RejectsInvalidUtf8) {
  expect_error(InputFormat::kMetricStream,
               "{\"namespace\":\"N\xff\xfe\",\"metric_name\":\"M\",\"timestamp\":1700000000000,"
               "\"value\":{\"count\":1,\"sum\":1,\"min\":1,\"max\":1}}",
               DropReason::kNotJson, "");
}

TEST_F(MetricDecoderTest, RejectsTrailingGarbage) {
  expect_error(InputFormat::kMetricStream,
               R"({"namespace":"N","metric_name":"M","timestamp":1700000000000,)"
               R"("value":{"count":1,"sum":1,"min":1,"max":1}} {"x":1})",
               DropReason::kNotJson, "");
}

TEST_F(MetricDecoderTest, RejectsArrayAtRoot) {
  expect_error(InputFormat::kMetricStream, "[1,2,3]", DropReason::kUnknownFormat, "object");
}

TEST_F(MetricDecoderTest, SurvivesDeepNesting) {
  const std::string deep(100'000, '[');
  batch_.clear();
  const auto error = decode(InputFormat::kMetricStream, deep);
  ASSERT_TRUE(error.has_value());
  EXPECT_TRUE(batch_.datums.empty());
}

TEST_F(MetricDecoderTest, RejectsMoreThanThirtyDimensions) {
  std::string record = R"({"namespace":"N","metric_name":"M","timestamp":1700000000000,)"
                       R"("value":{"count":1,"sum":1,"min":1,"max":1},"dimensions":{)";
  for (int i = 0; i < 31; ++i) {
    record += (i > 0 ? "," : "") + std::string("\"d") + std::to_string(i) + R"(":"v")";
  }
  record += "}}";
  expect_error(InputFormat::kMetricStream, record, DropReason::kInvalidValue, "30 dimensions");
}

TEST_F(MetricDecoderTest, DecodesPutMetricDataRequestWithThreeValueForms) {
  expect_ok(InputFormat::kPutMetricData,
            R"({"Namespace":"App","MetricData":[)"
            R"({"MetricName":"Latency","Dimensions":[{"Name":"Api","Value":"Get"}],)"
            R"("Timestamp":"2024-05-01T10:00:30Z","Value":12.5,"Unit":"Milliseconds"},)"
            R"({"MetricName":"Latency","Timestamp":1714557630,"Values":[1,2,3],"Counts":[2,1,1]},)"
            R"({"MetricName":"Requests","Timestamp":"2024-05-01T10:00:30Z","StorageResolution":1,)"
            R"("StatisticValues":{"SampleCount":4,"Sum":10,"Minimum":1,"Maximum":4}}]})",
            3);
  const MetricDatum& single = batch_.datums[0];
  EXPECT_EQ(str(single.namespace_name), "App");
  EXPECT_EQ(single.stats, (StatisticSet{1, 12.5, 12.5, 12.5}));
  EXPECT_EQ(single.unit, Unit::kMilliseconds);
  EXPECT_EQ(single.time, *parse_iso8601("2024-05-01T10:00:30Z"));
  ASSERT_EQ(single.dimension_count, 1U);

  const MetricDatum& values = batch_.datums[1];
  EXPECT_EQ(values.time, *parse_iso8601("2024-05-01T10:00:30Z"));
  EXPECT_EQ(values.stats, (StatisticSet{4, 7, 1, 3}));
  ASSERT_EQ(values.value_count, 3U);
  EXPECT_DOUBLE_EQ(batch_.values_of(values)[0].weight, 2.0);

  const MetricDatum& set = batch_.datums[2];
  EXPECT_EQ(set.stats, (StatisticSet{4, 10, 1, 4}));
  EXPECT_TRUE(set.high_resolution);
  EXPECT_EQ(set.value_count, 0U);
}

TEST_F(MetricDecoderTest, DecodesSingleDatumWithNamespace) {
  expect_ok(InputFormat::kPutMetricData,
            R"({"Namespace":"App","MetricName":"Errors","Timestamp":"2024-05-01T10:00:00Z",)"
            R"("Value":1})",
            1);
  EXPECT_EQ(str(batch_.datums[0].metric_name), "Errors");
}

TEST_F(MetricDecoderTest, RejectsWholeRequestWhenOneDatumIsBad) {
  expect_error(InputFormat::kPutMetricData,
               R"({"Namespace":"App","MetricData":[)"
               R"({"MetricName":"A","Timestamp":"2024-05-01T10:00:00Z","Value":1},)"
               R"({"MetricName":"B","Timestamp":"2024-05-01T10:00:00Z","Value":"x"}]})",
               DropReason::kWrongType, "/MetricData/1/Value");
}

TEST_F(MetricDecoderTest, RejectsTwoValueForms) {
  expect_error(InputFormat::kPutMetricData,
               R"({"Namespace":"App","MetricName":"A","Timestamp":"2024-05-01T10:00:00Z",)"
               R"("Value":1,"Values":[1]})",
               DropReason::kInvalidValue, "exactly one of");
}

TEST_F(MetricDecoderTest, RejectsCountsOfDifferentLength) {
  expect_error(InputFormat::kPutMetricData,
               R"({"Namespace":"App","MetricName":"A","Timestamp":"2024-05-01T10:00:00Z",)"
               R"("Values":[1,2],"Counts":[1]})",
               DropReason::kInvalidValue, "/Counts");
}

TEST_F(MetricDecoderTest, RejectsIncompleteStatisticValues) {
  expect_error(InputFormat::kPutMetricData,
               R"({"Namespace":"App","MetricName":"A","Timestamp":"2024-05-01T10:00:00Z",)"
               R"("StatisticValues":{"SampleCount":1,"Sum":1}})",
               DropReason::kMissingField, "/StatisticValues");
}

TEST_F(MetricDecoderTest, RejectsUnparseableIsoTimestamp) {
  expect_error(InputFormat::kPutMetricData,
               R"({"Namespace":"App","MetricName":"A","Timestamp":"2024-05-01 noon","Value":1})",
               DropReason::kBadTimestamp, "/Timestamp");
}

TEST_F(MetricDecoderTest, RejectsValueAboveCloudWatchRange) {
  expect_error(InputFormat::kPutMetricData,
               R"({"Namespace":"App","MetricName":"A","Timestamp":"2024-05-01T10:00:00Z",)"
               R"("Value":1e300})",
               DropReason::kInvalidValue, "2^360");
}

TEST_F(MetricDecoderTest, RejectsMissingNamespace) {
  expect_error(InputFormat::kPutMetricData,
               R"({"MetricName":"A","Timestamp":"2024-05-01T10:00:00Z","Value":1})",
               DropReason::kMissingField, "/Namespace");
}

constexpr std::string_view kEmfEvent =
    R"({"_aws":{"Timestamp":1574109732004,"CloudWatchMetrics":[{"Namespace":)"
    R"("lambda-function-metrics","Dimensions":[["functionVersion"]],"Metrics":[{"Name":"time",)"
    R"("Unit":"Milliseconds","StorageResolution":60}]}]},"functionVersion":"$LATEST",)"
    R"("time":100,"requestId":"989ffbf8-9ace-4817-a57c-e4dd734019ee"})";

TEST_F(MetricDecoderTest, DecodesEmfSpecificationExample) {
  expect_ok(InputFormat::kEmf, kEmfEvent, 1);
  const MetricDatum& d = batch_.datums[0];
  EXPECT_EQ(str(d.namespace_name), "lambda-function-metrics");
  EXPECT_EQ(str(d.metric_name), "time");
  EXPECT_EQ(d.time.millis(), 1574109732004);
  EXPECT_EQ(d.unit, Unit::kMilliseconds);
  EXPECT_EQ(d.stats, (StatisticSet{1, 100, 100, 100}));
  ASSERT_EQ(d.dimension_count, 1U);
  EXPECT_EQ(str(batch_.dimensions_of(d)[0].name), "functionVersion");
  EXPECT_EQ(str(batch_.dimensions_of(d)[0].value), "$LATEST");
}

TEST_F(MetricDecoderTest, EmfEachDimensionSetProducesOneMetric) {
  expect_ok(InputFormat::kEmf,
            R"({"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"N",)"
            R"("Dimensions":[["a"],["a","b"],[]],"Metrics":[{"Name":"m"}]}]},)"
            R"("a":"x","b":"y","m":[1,2,3]})",
            3);
  EXPECT_EQ(batch_.datums[0].dimension_count, 1U);
  EXPECT_EQ(batch_.datums[1].dimension_count, 2U);
  EXPECT_EQ(batch_.datums[2].dimension_count, 0U);
  EXPECT_EQ(batch_.datums[2].stats, (StatisticSet{3, 6, 1, 3}));
  EXPECT_EQ(batch_.datums[2].value_count, 3U);
}

TEST_F(MetricDecoderTest, EmfToleratesLambdaPrefix) {
  const std::string line =
      "2019-11-18T20:42:12.004Z\t989ffbf8-9ace-4817-a57c-e4dd734019ee\tINFO\t" +
      std::string(kEmfEvent);
  expect_ok(InputFormat::kEmf, line, 1);
}

TEST_F(MetricDecoderTest, EmfTargetsAreTopLevelMembersOnly) {
  expect_error(InputFormat::kEmf,
               R"({"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"N",)"
               R"("Dimensions":[[]],"Metrics":[{"Name":"A.a"}]}]},"A":{"a":1}})",
               DropReason::kMissingField, "/A.a");
}

TEST_F(MetricDecoderTest, EmfRejectsNonStringDimensionValue) {
  expect_error(InputFormat::kEmf,
               R"({"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"N",)"
               R"("Dimensions":[["d"]],"Metrics":[{"Name":"m"}]}]},"d":5,"m":1})",
               DropReason::kWrongType, "/d");
}

TEST_F(MetricDecoderTest, EmfRequiresTimestamp) {
  expect_error(InputFormat::kEmf,
               R"({"_aws":{"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[[]],)"
               R"("Metrics":[{"Name":"m"}]}]},"m":1})",
               DropReason::kMissingField, "/_aws/Timestamp");
}

TEST_F(MetricDecoderTest, FailedRecordLeavesEarlierDatumsIntact) {
  batch_.clear();
  ASSERT_FALSE(decode(InputFormat::kMetricStream, kStreamRecord).has_value());
  const auto error = decode(InputFormat::kMetricStream, R"({"namespace":"x"})");
  ASSERT_TRUE(error.has_value());
  // The earlier datum stays (its numbers; its strings are views valid only until the next
  // decode, see MetricBatch).
  ASSERT_EQ(batch_.datums.size(), 1U);
  EXPECT_EQ(batch_.datums[0].time.millis(), 1611929698000);
}

TEST(DetectFormat, RecognisesEachShape) {
  EXPECT_EQ(detect_format(kStreamRecord), InputFormat::kMetricStream);
  EXPECT_EQ(detect_format(kEmfEvent), InputFormat::kEmf);
  EXPECT_EQ(detect_format(R"({"Namespace":"A","MetricData":[]})"), InputFormat::kPutMetricData);
  EXPECT_EQ(detect_format(R"({"Records":[]})"), InputFormat::kCloudTrail);
  EXPECT_EQ(detect_format(R"({"version":"0","detail-type":"AWS API Call via CloudTrail"})"),
            InputFormat::kCloudTrail);
  EXPECT_EQ(detect_format(R"({"something":"else"})"), InputFormat::kAuto);
  EXPECT_EQ(detect_format("not json"), InputFormat::kAuto);
}

}  // namespace
}  // namespace tw::pipeline

namespace tw::pipeline {
namespace {

// The optimistic fast path must never change an outcome: for valid records and for thousands
// of damaged variants of them, the decoder with and without it returns the same error (reason
// and detail) or the same datapoints.
TEST(MetricDecoderFastPath, AgreesWithTheCarefulDecoderOnEveryInput) {
  const std::vector<std::string> seeds = {
      std::string(kStreamRecord),
      R"({"metric_stream_name":"s","account_id":"1","region":"r","namespace":"N","metric_name":)"
      R"("M","dimensions":{"a":"1","b":"2"},"timestamp":1700000000000,"value":{"max":3.5,)"
      R"("min":1.25,"sum":9,"count":4},"unit":"Count"})",
      R"({"namespace":"N","metric_name":"M","timestamp":1700000000000.5,"value":{"count":1,)"
      R"("sum":2,"min":2,"max":2}})",
      R"({"namespace":"N\u0041","metric_name":"M","timestamp":1700000000000,"value":{"count":1,)"
      R"("sum":2,"min":2,"max":2},"unit":"None"})"};
  const std::string alphabet = "{}[]\":,0123456789.eE-+ntrufalsNaI\\ x";
  std::mt19937_64 rng(2024);
  MetricDecoder fast(true);
  MetricDecoder careful(false);
  MetricBatch fast_batch;
  MetricBatch careful_batch;
  size_t accepted = 0;
  size_t rejected = 0;
  for (int round = 0; round < 20'000; ++round) {
    std::string record = seeds[static_cast<size_t>(round) % seeds.size()];
    const int edits = round < 8 ? 0 : 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !record.empty(); ++e) {
      const size_t at = rng() % record.size();
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          record[at] = c;
          break;
        case 1:
          record.insert(record.begin() + static_cast<std::ptrdiff_t>(at), c);
          break;
        default:
          record.erase(at, 1);
          break;
      }
    }
    fast_batch.clear();
    careful_batch.clear();
    const auto fast_error = fast.decode(InputFormat::kMetricStream, record, fast_batch);
    const auto careful_error = careful.decode(InputFormat::kMetricStream, record, careful_batch);
    ASSERT_EQ(fast_error.has_value(), careful_error.has_value()) << record;
    if (fast_error) {
      EXPECT_EQ(fast_error->reason, careful_error->reason) << record;
      EXPECT_EQ(fast_error->detail, careful_error->detail) << record;
      ++rejected;
      continue;
    }
    ++accepted;
    ASSERT_EQ(fast_batch.datums.size(), careful_batch.datums.size()) << record;
    for (size_t i = 0; i < fast_batch.datums.size(); ++i) {
      const MetricDatum& a = fast_batch.datums[i];
      const MetricDatum& b = careful_batch.datums[i];
      EXPECT_EQ(a.namespace_name, b.namespace_name) << record;
      EXPECT_EQ(a.metric_name, b.metric_name) << record;
      EXPECT_EQ(a.account_id, b.account_id) << record;
      EXPECT_EQ(a.region, b.region) << record;
      EXPECT_EQ(a.time, b.time) << record;
      EXPECT_EQ(a.stats, b.stats) << record;
      EXPECT_EQ(a.unit, b.unit) << record;
      ASSERT_EQ(a.dimension_count, b.dimension_count) << record;
      for (uint32_t d = 0; d < a.dimension_count; ++d) {
        EXPECT_EQ(fast_batch.dimensions_of(a)[d].name, careful_batch.dimensions_of(b)[d].name);
        EXPECT_EQ(fast_batch.dimensions_of(a)[d].value, careful_batch.dimensions_of(b)[d].value);
      }
      EXPECT_EQ(a.quantile_count, b.quantile_count) << record;
    }
  }
  // Both kinds of outcome were exercised.
  EXPECT_GT(accepted, 100U);
  EXPECT_GT(rejected, 1000U);
}

}  // namespace
}  // namespace tw::pipeline
