// Helpers shared by the export / digest / Merkle-log tests: reading real
// CloudTrail records (invictus set) byte for byte, committing them to a real
// EventStore as ingest would, and splitting {"Records":[...]} documents back
// into the raw bytes of each record, and running validate-logs over an export.
// Test-only; not thread-safe.
#ifndef ORGTRAIL_TESTS_COLLECTOR_EXPORT_TEST_SUPPORT_H_
#define ORGTRAIL_TESTS_COLLECTOR_EXPORT_TEST_SUPPORT_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "collector/store/store.h"
#include "orgtrail/common/merkle.h"
#include "orgtrail/common/time_util.h"
#include "testutil/subprocess.h"

namespace orgtrail::exporttest {

inline std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Splits the top-level array of {"Records":[...]} into each element's raw
// bytes (string-aware bracket matching). Empty on malformed input.
inline std::vector<std::string> SplitRecords(std::string_view doc) {
  std::vector<std::string> out;
  size_t pos = doc.find('[');
  if (pos == std::string_view::npos) return {};
  ++pos;
  int depth = 0;
  bool in_string = false, escape = false;
  size_t start = std::string_view::npos;
  for (; pos < doc.size(); ++pos) {
    char c = doc[pos];
    if (in_string) {
      if (escape) escape = false;
      else if (c == '\\') escape = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (depth == 0) start = pos;
      ++depth;
    } else if (c == '}' || c == ']') {
      if (depth == 0) return out;  // end of the Records array
      --depth;
      if (depth == 0) out.emplace_back(doc.substr(start, pos - start + 1));
    }
  }
  return {};
}

// Value of a top-level string member "name":"value" (first occurrence at
// depth 1); good enough for eventID / eventTime / awsRegion of real records.
inline std::string TopLevelString(std::string_view record, std::string_view name) {
  int depth = 0;
  bool in_string = false, escape = false;
  const std::string needle = "\"" + std::string(name) + "\":\"";
  for (size_t pos = 0; pos < record.size(); ++pos) {
    char c = record[pos];
    if (in_string) {
      if (escape) escape = false;
      else if (c == '\\') escape = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '{' || c == '[') { ++depth; continue; }
    if (c == '}' || c == ']') { --depth; continue; }
    if (c == '"') {
      if (depth == 1 && record.substr(pos, needle.size()) == needle) {
        size_t begin = pos + needle.size();
        size_t end = record.find('"', begin);
        return std::string(record.substr(begin, end - begin));
      }
      in_string = true;
    }
  }
  return "";
}

inline std::vector<std::string> InvictusRecords() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(
           std::string(ORGTRAIL_SHARED_DATA_DIR) + "/invictus-aws-dataset/CloudTrail")) {
    files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> records;
  for (const auto& f : files) {
    for (auto& r : SplitRecords(ReadFileOrDie(f))) records.push_back(std::move(r));
  }
  return records;
}

// A small synthetic record.
inline std::string SyntheticRecord(const std::string& id, const std::string& time,
                                   const std::string& account, const std::string& region) {
  return "{\"eventVersion\":\"1.08\",\"eventTime\":\"" + time +
         "\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"GetObject\",\"awsRegion\":\"" + region +
         "\",\"eventID\":\"" + id + "\",\"recipientAccountId\":\"" + account + "\"}";
}

// Commits records as one batch of agent (account, region) to the real store,
// partitioned under each record's awsRegion. Returns the commit result.
inline collector::GroupCommitResult CommitRecords(collector::EventStore* store,
                                                  const std::string& account,
                                                  const std::string& region, uint64_t sequence,
                                                  const std::vector<std::string>& records) {
  collector::IngestBatch b;
  b.agent_id = "spiffe://example.org/account/" + account + "/region/" + region + "/agent/a1";
  b.account_id = account;
  b.region = region;
  b.epoch = 1;
  b.sequence = sequence;
  b.signed_header = "header";
  b.signature = "sig";
  b.signature_algorithm = "ECDSA_P256_SHA256";
  b.certificate_pem = "pem";
  b.receipt_time_us = NowMicros();
  for (size_t i = 0; i < records.size(); ++i) {
    collector::IngestEvent ie;
    ie.event.set_raw_json(records[i]);
    ie.event.set_event_id(TopLevelString(records[i], "eventID"));
    auto t = ParseRfc3339Micros(TopLevelString(records[i], "eventTime"));
    ie.event.set_event_time_us(t.ok() ? *t : 0);
    ie.event.set_aws_region(TopLevelString(records[i], "awsRegion"));
    ie.event.set_recipient_account_id(account);
    ie.partition_region = ie.event.aws_region();
    ie.leaf_index = static_cast<uint32_t>(i);
    b.leaf_hashes.push_back(MerkleLeafHash(records[i]));
    b.events.push_back(std::move(ie));
  }
  b.merkle_root = MerkleRoot(b.leaf_hashes);
  auto result = store->CommitGroup({&b});
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *result : collector::GroupCommitResult{};
}

inline std::unique_ptr<collector::EventStore> OpenStore(
    const std::string& path, uint64_t recent_events_bytes = collector::StoreOptions().recent_events_bytes) {
  collector::StoreOptions options;
  options.org = "example.org";
  options.recent_events_bytes = recent_events_bytes;
  options.block_cache_bytes = 8 << 20;
  options.write_buffer_bytes = 8 << 20;
  auto store = collector::EventStore::Open(path, options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

// One run of a built tool (its exit code, stdout and stderr; exit_code -1 when it could not start).
struct ValidateRun {
  int exit_code = -1;
  std::string out, err;
};
inline ValidateRun RunTool(const std::string& binary, const std::vector<std::string>& args, const std::string& log_dir,
                           const std::string& name, std::chrono::seconds timeout = std::chrono::seconds(120)) {
  testutil::SubprocessOptions o;
  o.binary = binary;
  o.args = args;
  o.log_dir = log_dir;
  o.name = name;
  ValidateRun r;
  auto p = testutil::Subprocess::Start(o);
  if (!p.ok()) return r;
  (*p)->Wait(timeout);
  r.exit_code = (*p)->ExitCode();
  r.out = (*p)->ReadStdout();
  r.err = (*p)->ReadStderr();
  return r;
}
inline std::string OrgtrailctlBinary() { return std::string(ORGTRAIL_BINARY_DIR) + "/cli/orgtrailctl"; }

// The window every RunValidate of this process asks for, fixed at the first call: validate-logs
// prints it ("between ... and ..."), so two runs compared byte for byte must ask for the same one
// even when a second passes between them.
inline int64_t ValidateWindowAnchorMicros() {
  static const int64_t anchor = NowMicros();
  return anchor;
}

// One run of `orgtrailctl validate-logs` over `root` (a folder or s3://bucket/prefix) for trail
// `trail` of account `account` in us-east-1, from an hour before the anchor to ten minutes after;
// `more` adds flags.
inline ValidateRun RunValidate(const std::string& root, const std::string& account, const std::vector<std::string>& more,
                               const std::string& log_dir, const std::string& name,
                               const std::string& trail = "org-trail") {
  const int64_t anchor = ValidateWindowAnchorMicros();
  std::vector<std::string> args = {"validate-logs", "--export-root", root, "--trail-arn",
                                   "arn:aws:cloudtrail:us-east-1:000000000000:trail/" + trail, "--start-time",
                                   FormatRfc3339Seconds(anchor - 3600ll * 1000000), "--end-time",
                                   FormatRfc3339Seconds(anchor + 600ll * 1000000), "--account-id", account,
                                   "--region", "us-east-1"};
  args.insert(args.end(), more.begin(), more.end());
  return RunTool(OrgtrailctlBinary(), args, log_dir, name);
}

}  // namespace orgtrail::exporttest

#endif  // ORGTRAIL_TESTS_COLLECTOR_EXPORT_TEST_SUPPORT_H_
