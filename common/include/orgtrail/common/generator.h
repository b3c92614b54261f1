// Realistic CloudTrail record generator for the agent's generator source,
// chaos tests, benchmarks and the local cluster demo.
//
// Produces complete CloudTrail JSON records (one object each, about 1 KB) of
// a configurable mix: management reads and writes, S3 object and Lambda
// invoke data events, console sign-ins with and without MFA, AssumeRole
// chains (cross-account within the organization), AccessDenied errors,
// global IAM/STS events, and root activity. Every record carries eventID,
// eventTime, recipientAccountId = the configured account, and awsRegion = the
// configured region (global-service events: the configured global region).
//
// Deterministic: the same options (seed included) give the same byte sequence,
// eventIDs included (UUIDv4-shaped, drawn from the seeded PRNG).
//
// Thread safety: an EventGenerator is NOT thread-safe; use one per thread.
// RatePacer is not thread-safe either.
#ifndef ORGTRAIL_COMMON_GENERATOR_H_
#define ORGTRAIL_COMMON_GENERATOR_H_

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace orgtrail {

enum class RecordKind {
  kManagementRead = 0,
  kManagementWrite,
  kS3Data,
  kLambdaData,
  kConsoleSignIn,
  kAssumeRole,
  kAccessDenied,
  kGlobalIam,
  kRootActivity,
};
inline constexpr int kRecordKindCount = 9;
std::string_view RecordKindName(RecordKind kind);

struct GeneratorMix {
  // Relative weights (need not sum to anything); a kind with weight 0 never appears.
  double management_read = 40;
  double management_write = 15;
  double s3_data = 15;
  double lambda_data = 5;
  double console_sign_in = 4;
  double assume_role = 8;
  double access_denied = 5;
  double global_iam = 6;
  double root_activity = 2;
};

struct GeneratorOptions {
  uint64_t seed = 1;
  std::string account_id = "111122223333";
  std::string region = "us-east-1";
  // Other accounts of the organization (sources of cross-account AssumeRole).
  std::vector<std::string> org_account_ids = {"444455556666", "777788889999"};
  std::string global_region = "us-east-1";  // awsRegion of global-service events
  int64_t start_time_us = 1767225600000000;  // 2026-01-01T00:00:00Z
  int64_t mean_interval_us = 1000000;        // mean eventTime step between records
  // Real time instead of synthetic times (eventTime = now): for live demos.
  bool use_wall_clock = false;
  // Fraction of console sign-ins done with MFA.
  double mfa_fraction = 0.7;
  GeneratorMix mix;
};

struct GeneratedRecord {
  RecordKind kind;
  std::string json;
  std::string event_id;
  int64_t event_time_us = 0;
};

class EventGenerator {
 public:
  explicit EventGenerator(GeneratorOptions options);

  GeneratedRecord Next();
  std::string NextJson() { return Next().json; }
  uint64_t generated() const { return generated_; }
  const GeneratorOptions& options() const { return options_; }

 private:
  RecordKind PickKind();
  std::string NewEventId();
  std::string NewRequestId();
  std::string NewAccessKeyId(bool temporary);
  std::string RandomIp();
  std::string Pick(const std::vector<std::string>& values);
  int64_t NextTime();

  std::string ManagementRead(const std::string& id, const std::string& time);
  std::string ManagementWrite(const std::string& id, const std::string& time);
  std::string S3Data(const std::string& id, const std::string& time);
  std::string LambdaData(const std::string& id, const std::string& time);
  std::string ConsoleSignIn(const std::string& id, const std::string& time);
  std::string AssumeRole(const std::string& id, const std::string& time);
  std::string AccessDenied(const std::string& id, const std::string& time);
  std::string GlobalIam(const std::string& id, const std::string& time);
  std::string RootActivity(const std::string& id, const std::string& time);
  std::string AssumedRoleIdentity(const std::string& role, const std::string& session);

  GeneratorOptions options_;
  std::mt19937_64 rng_;
  std::discrete_distribution<int> kind_distribution_;
  int64_t last_time_us_;
  uint64_t generated_ = 0;
};

// {"Records":[r0,r1,...]} (a CloudTrail delivery file body).
std::string WrapRecords(const std::vector<std::string>& records);

// Paces a producer at a target rate: EventsDue() says how many events should
// have been produced by now minus those already taken; SleepUntilDue() sleeps
// until at least one is due. A rate <= 0 means unlimited.
class RatePacer {
 public:
  explicit RatePacer(double events_per_second);
  uint64_t EventsDue();          // and marks them as taken
  void SleepUntilDue() const;
  double rate() const { return rate_; }

 private:
  double rate_;
  int64_t start_us_;
  uint64_t taken_ = 0;
};

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_GENERATOR_H_
