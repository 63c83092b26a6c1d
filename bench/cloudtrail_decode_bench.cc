// CloudTrail decoder throughput: one ~2 KB record per document (Kafka / EventBridge style) and an
// S3 log file of 100 records. Inputs are generated here, shaped like real management events
// (assumed-role caller, session context, request parameters, TLS details), so the benchmark does
// not depend on any data outside the repository.

#include <benchmark/benchmark.h>

#include <array>
#include <cstdio>
#include <string>
#include <vector>

#include "pipeline/cloudtrail.h"

namespace tw::pipeline {
namespace {

constexpr std::array<const char*, 8> kSources = {
    "ec2.amazonaws.com", "iam.amazonaws.com", "s3.amazonaws.com",  "kms.amazonaws.com",
    "ssm.amazonaws.com", "sts.amazonaws.com", "rds.amazonaws.com", "secretsmanager.amazonaws.com"};

constexpr std::array<const char*, 8> kNames = {
    "RunInstances",  "AttachRolePolicy", "PutBucketPolicy",     "Decrypt",
    "GetParameters", "AssumeRole",       "DescribeDBInstances", "GetSecretValue"};

// A realistic management-event record of about 2 KB; `i` varies ids, times and the API called.
std::string make_record(int i) {
  const auto n = static_cast<size_t>(i);
  const auto u = static_cast<unsigned>(i);
  std::array<char, 96> ids{};
  std::snprintf(ids.data(), ids.size(),
                R"(%08x-1c2d-4e5f-8a9b-%012x","requestID":"%08x-aa11-4b22-9c33-d44e55f66a77)",
                0x5e6f0000U + u, 0x0a1b2c3dU + u, 0x7c8d0000U + u);
  std::array<char, 32> time{};
  std::snprintf(time.data(), time.size(), "2023-07-10T11:%02d:%02dZ", 42 + (i / 60) % 18, i % 60);
  std::string r;
  r.reserve(2200);
  r += R"({"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":)"
       R"("AROARZ5BM3EXAMPLE7QK2:terraform-deploy-20230710","arn":)"
       R"("arn:aws:sts::123837392027:assumed-role/platform-deployer/terraform-deploy-20230710",)"
       R"("accountId":"123837392027","accessKeyId":"ASIARZ5BM3EXAMPLEQ4ZT","sessionContext":)"
       R"({"sessionIssuer":{"type":"Role","principalId":"AROARZ5BM3EXAMPLE7QK2","arn":)"
       R"("arn:aws:iam::123837392027:role/platform-deployer","accountId":"123837392027",)"
       R"("userName":"platform-deployer"},"webIdFederationData":{},"attributes":)"
       R"({"creationDate":"2023-07-10T11:40:02Z","mfaAuthenticated":"false"}}},"eventTime":")";
  r += time.data();
  r += R"(","eventSource":")";
  r += kSources.at(n % kSources.size());
  r += R"(","eventName":")";
  r += kNames.at(n % kNames.size());
  r += R"(","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.42","userAgent":)"
       R"("APN/1.0 HashiCorp/1.0 Terraform/1.5.2 (+https://www.terraform.io) )"
       R"(terraform-provider-aws/5.7.0 (+https://registry.terraform.io/providers/hashicorp/aws) )"
       R"~(aws-sdk-go/1.44.298 (go1.20.5; linux; amd64)",)~";
  if (i % 10 == 3) {
    r += R"("errorCode":"Client.UnauthorizedOperation","errorMessage":"You are not authorized )"
         R"(to perform this operation. Encoded authorization failure message: )"
         R"(Xq1b2C3d4E5f6G7h8I9j0KLmNoPqRsTuVwXyZ",)";
  }
  r += R"("requestParameters":{"instancesSet":{"items":[{"imageId":"ami-0b5eea76982371e91",)"
       R"("minCount":1,"maxCount":1,"keyName":"deploy-key"}]},"instanceType":"t3.medium",)"
       R"("blockDeviceMapping":{"items":[{"deviceName":"/dev/xvda","ebs":{"volumeSize":30,)"
       R"("deleteOnTermination":true,"volumeType":"gp3","encrypted":true}}]},"monitoring":)"
       R"({"enabled":false},"disableApiTermination":false,"clientToken":)"
       R"("terraform-20230710114202123400000001","tagSpecificationSet":{"items":[{"resourceType":)"
       R"("instance","tags":[{"key":"Name","value":"web-\u00e9t\u00e9-01"},{"key":"env",)"
       R"("value":"prod"}]}]}},"responseElements":null,"eventID":")";
  r += ids.data();
  r += R"(","readOnly":)";
  r += i % 4 == 0 ? "true" : "false";
  r += R"(,"resources":[{"accountId":"123837392027","type":"AWS::EC2::Instance","ARN":)"
       R"("arn:aws:ec2:us-east-1:123837392027:instance/i-0a1b2c3d4e5f6a7b8"}],)"
       R"("eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123837392027",)"
       R"("eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.2","cipherSuite":)"
       R"("ECDHE-RSA-AES128-GCM-SHA256","clientProvidedHostHeader":"ec2.us-east-1.amazonaws.com"},)"
       R"("sessionCredentialFromConsole":"false"})";
  return r;
}

std::string make_records_file(int count) {
  std::string doc = "{\"Records\":[";
  for (int i = 0; i < count; ++i) {
    if (i > 0) {
      doc += ',';
    }
    doc += make_record(i);
  }
  doc += "]}";
  return doc;
}

void bm_decode_single_record(benchmark::State& state) {
  constexpr int kDocs = 64;
  std::vector<std::string> docs;
  docs.reserve(kDocs);
  for (int i = 0; i < kDocs; ++i) {
    docs.push_back(make_record(i));
  }
  CloudTrailDecoder decoder;
  CloudTrailDecodeOutput out;
  size_t bytes = 0;
  size_t next = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the idiom.
    out.clear();
    const std::string& doc = docs[next++ % docs.size()];
    decoder.decode(doc, out);
    benchmark::DoNotOptimize(out.events.data());
    bytes += doc.size();
  }
  if (out.events.size() != 1) {
    state.SkipWithError("record did not decode");
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(state.iterations());
  state.counters["record_bytes"] = static_cast<double>(docs[0].size());
}

BENCHMARK(bm_decode_single_record);

void bm_decode_records_file(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  const std::string doc = make_records_file(count);
  CloudTrailDecoder decoder;
  CloudTrailDecodeOutput out;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the idiom.
    out.clear();
    decoder.decode(doc, out);
    benchmark::DoNotOptimize(out.events.data());
  }
  if (out.events.size() != static_cast<size_t>(count)) {
    state.SkipWithError("records did not decode");
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(doc.size()));
  state.SetItemsProcessed(state.iterations() * count);
  state.counters["file_bytes"] = static_cast<double>(doc.size());
}

BENCHMARK(bm_decode_records_file)->Arg(100);

// The same record wrapped in an EventBridge envelope, as delivered by an EventBridge → Kafka
// bridge.
void bm_decode_event_bridge_envelope(benchmark::State& state) {
  const std::string doc =
      R"({"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":)"
      R"("AWS API Call via CloudTrail","source":"aws.ec2","account":"123837392027","time":)"
      R"("2023-07-10T11:42:18Z","region":"us-east-1","resources":[],"detail":)" +
      make_record(1) + "}";
  CloudTrailDecoder decoder;
  CloudTrailDecodeOutput out;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the idiom.
    out.clear();
    decoder.decode(doc, out);
    benchmark::DoNotOptimize(out.events.data());
  }
  if (out.events.size() != 1) {
    state.SkipWithError("envelope did not decode");
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(doc.size()));
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(bm_decode_event_bridge_envelope);

}  // namespace
}  // namespace tw::pipeline

BENCHMARK_MAIN();
