// Realistic CloudTrail record generator (see generator.h).
#include "orgtrail/common/generator.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>

#include <type_traits>

#include "orgtrail/common/str_cat.h"

namespace orgtrail {
namespace {


const std::vector<std::string> kUsers = {"alice", "bob", "carol", "dave", "erin", "ci-deployer"};
const std::vector<std::string> kRoles = {"Admin", "ReadOnly", "DevOps", "SecurityAudit",
                                         "LambdaExecution"};
const std::vector<std::string> kBuckets = {"prod-artifacts", "customer-uploads", "app-logs",
                                           "data-lake-raw"};
const std::vector<std::string> kFunctions = {"payments", "thumbnailer", "auth-hook",
                                             "nightly-report"};
const std::vector<std::string> kUserAgents = {
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0-18-cloud-amd64 exe/x86_64.debian.12 prompt/off "
    "command/ec2.describe-instances",
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.8 "
    "md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69",
    "aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/s3#1.53.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/123.0.0.0 Safari/537.36",
    "terraform-provider-aws/5.43.0 (+https://registry.terraform.io/providers/hashicorp/aws) "
    "aws-sdk-go-v2/1.26.0 os/linux lang/go#1.22.1"};

struct ApiCall {
  const char* source;
  const char* name;
};
const std::vector<ApiCall> kReads = {
    {"ec2.amazonaws.com", "DescribeInstances"}, {"ec2.amazonaws.com", "DescribeVpcs"},
    {"s3.amazonaws.com", "ListBuckets"},        {"kms.amazonaws.com", "Decrypt"},
    {"rds.amazonaws.com", "DescribeDBInstances"}, {"lambda.amazonaws.com", "ListFunctions20150331"},
    {"cloudtrail.amazonaws.com", "DescribeTrails"}, {"ssm.amazonaws.com", "GetParameter"}};
const std::vector<ApiCall> kWrites = {
    {"ec2.amazonaws.com", "RunInstances"},       {"ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"},
    {"s3.amazonaws.com", "PutBucketPolicy"},     {"kms.amazonaws.com", "CreateKey"},
    {"lambda.amazonaws.com", "UpdateFunctionCode20150331v2"}, {"ssm.amazonaws.com", "PutParameter"},
    {"ec2.amazonaws.com", "CreateSnapshot"}};
const std::vector<ApiCall> kGlobal = {
    {"iam.amazonaws.com", "CreateUser"},        {"iam.amazonaws.com", "AttachRolePolicy"},
    {"iam.amazonaws.com", "CreateAccessKey"},   {"iam.amazonaws.com", "ListRoles"},
    {"sts.amazonaws.com", "GetCallerIdentity"}, {"organizations.amazonaws.com", "DescribeOrganization"}};

std::string FormatTime(int64_t micros) {
  const time_t seconds = static_cast<time_t>(micros / 1000000);
  struct tm tm_utc;
  gmtime_r(&seconds, &tm_utc);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm_utc.tm_year + 1900,
                tm_utc.tm_mon + 1, tm_utc.tm_mday, tm_utc.tm_hour, tm_utc.tm_min, tm_utc.tm_sec);
  return buf;
}

std::string TlsDetails(std::string_view host) {
  return StrCat(R"("tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":")",
                      host, R"("})");
}

std::string HexString(std::mt19937_64& rng, int length) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length);
  for (int i = 0; i < length; ++i) out.push_back(kHex[rng() & 15]);
  return out;
}

std::string UpperAlnum(std::mt19937_64& rng, int length) {
  static const char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  out.reserve(length);
  for (int i = 0; i < length; ++i) out.push_back(kChars[rng() % 32]);
  return out;
}

}  // namespace

std::string_view RecordKindName(RecordKind kind) {
  switch (kind) {
    case RecordKind::kManagementRead: return "management_read";
    case RecordKind::kManagementWrite: return "management_write";
    case RecordKind::kS3Data: return "s3_data";
    case RecordKind::kLambdaData: return "lambda_data";
    case RecordKind::kConsoleSignIn: return "console_sign_in";
    case RecordKind::kAssumeRole: return "assume_role";
    case RecordKind::kAccessDenied: return "access_denied";
    case RecordKind::kGlobalIam: return "global_iam";
    case RecordKind::kRootActivity: return "root_activity";
  }
  return "unknown";
}

EventGenerator::EventGenerator(GeneratorOptions options)
    : options_(std::move(options)),
      rng_(options_.seed),
      kind_distribution_({options_.mix.management_read, options_.mix.management_write,
                          options_.mix.s3_data, options_.mix.lambda_data,
                          options_.mix.console_sign_in, options_.mix.assume_role,
                          options_.mix.access_denied, options_.mix.global_iam,
                          options_.mix.root_activity}),
      last_time_us_(options_.start_time_us) {}

RecordKind EventGenerator::PickKind() { return static_cast<RecordKind>(kind_distribution_(rng_)); }

std::string EventGenerator::NewEventId() {
  std::string hex = HexString(rng_, 32);
  hex[12] = '4';
  hex[16] = "89ab"[rng_() & 3];
  return StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-", hex.substr(12, 4), "-",
                      hex.substr(16, 4), "-", hex.substr(20, 12));
}

std::string EventGenerator::NewRequestId() { return NewEventId(); }

std::string EventGenerator::NewAccessKeyId(bool temporary) {
  return StrCat(temporary ? "ASIA" : "AKIA", UpperAlnum(rng_, 16));
}

std::string EventGenerator::RandomIp() {
  return StrCat(198, ".", 51, ".", rng_() % 256, ".", 1 + rng_() % 254);
}

std::string EventGenerator::Pick(const std::vector<std::string>& values) {
  return values[rng_() % values.size()];
}

int64_t EventGenerator::NextTime() {
  if (options_.use_wall_clock) {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  const int64_t mean = options_.mean_interval_us > 0 ? options_.mean_interval_us : 1;
  last_time_us_ += static_cast<int64_t>(rng_() % static_cast<uint64_t>(2 * mean + 1));
  return last_time_us_;
}

GeneratedRecord EventGenerator::Next() {
  GeneratedRecord record;
  record.kind = PickKind();
  record.event_id = NewEventId();
  // eventTime is printed with seconds precision, as CloudTrail does.
  record.event_time_us = NextTime() / 1000000 * 1000000;
  const std::string time = FormatTime(record.event_time_us);
  switch (record.kind) {
    case RecordKind::kManagementRead: record.json = ManagementRead(record.event_id, time); break;
    case RecordKind::kManagementWrite: record.json = ManagementWrite(record.event_id, time); break;
    case RecordKind::kS3Data: record.json = S3Data(record.event_id, time); break;
    case RecordKind::kLambdaData: record.json = LambdaData(record.event_id, time); break;
    case RecordKind::kConsoleSignIn: record.json = ConsoleSignIn(record.event_id, time); break;
    case RecordKind::kAssumeRole: record.json = AssumeRole(record.event_id, time); break;
    case RecordKind::kAccessDenied: record.json = AccessDenied(record.event_id, time); break;
    case RecordKind::kGlobalIam: record.json = GlobalIam(record.event_id, time); break;
    case RecordKind::kRootActivity: record.json = RootActivity(record.event_id, time); break;
  }
  ++generated_;
  return record;
}

std::string EventGenerator::AssumedRoleIdentity(const std::string& role,
                                                const std::string& session) {
  const std::string& acct = options_.account_id;
  const std::string role_id = StrCat("AROA", UpperAlnum(rng_, 17));
  return StrCat(
      R"("userIdentity":{"type":"AssumedRole","principalId":")", role_id, ":", session,
      R"(","arn":"arn:aws:sts::)", acct, ":assumed-role/", role, "/", session,
      R"(","accountId":")", acct, R"(","accessKeyId":")", NewAccessKeyId(true),
      R"(","sessionContext":{"sessionIssuer":{"type":"Role","principalId":")", role_id,
      R"(","arn":"arn:aws:iam::)", acct, ":role/", role, R"(","accountId":")", acct,
      R"(","userName":")", role, R"("},"webIdFederationData":{},"attributes":{"creationDate":")",
      FormatTime(last_time_us_ - 600000000), R"(","mfaAuthenticated":"false"}}})");
}

namespace {

std::string Tail(std::string_view event_id, std::string_view request_id, bool read_only,
                 std::string_view account, std::string_view category, std::string_view event_type,
                 bool management) {
  return StrCat(R"("requestID":")", request_id, R"(","eventID":")", event_id,
                      R"(","readOnly":)", read_only ? "true" : "false", R"(,"eventType":")",
                      event_type, R"(","managementEvent":)", management ? "true" : "false",
                      R"(,"recipientAccountId":")", account, R"(","eventCategory":")", category,
                      R"(")");
}

}  // namespace

std::string EventGenerator::ManagementRead(const std::string& id, const std::string& time) {
  const ApiCall& call = kReads[rng_() % kReads.size()];
  const std::string user = Pick(kUsers);
  const std::string& acct = options_.account_id;
  return StrCat(
      R"({"eventVersion":"1.09",)",
      R"("userIdentity":{"type":"IAMUser","principalId":"AIDA)", UpperAlnum(rng_, 17),
      R"(","arn":"arn:aws:iam::)", acct, ":user/", user, R"(","accountId":")", acct,
      R"(","accessKeyId":")", NewAccessKeyId(false), R"(","userName":")", user, R"("},)",
      R"("eventTime":")", time, R"(","eventSource":")", call.source, R"(","eventName":")",
      call.name, R"(","awsRegion":")", options_.region, R"(","sourceIPAddress":")", RandomIp(),
      R"(","userAgent":")", Pick(kUserAgents),
      R"(","requestParameters":{"maxResults":1000,"filterSet":{}},"responseElements":null,)",
      Tail(id, NewRequestId(), true, acct, "Management", "AwsApiCall", true), ",",
      TlsDetails(StrCat(std::string(call.source).substr(0, std::string(call.source).find('.')),
                              ".", options_.region, ".amazonaws.com")),
      "}");
}

std::string EventGenerator::ManagementWrite(const std::string& id, const std::string& time) {
  const ApiCall& call = kWrites[rng_() % kWrites.size()];
  const std::string role = Pick(kRoles);
  const std::string& acct = options_.account_id;
  return StrCat(
      R"({"eventVersion":"1.09",)", AssumedRoleIdentity(role, Pick(kUsers)), ",",
      R"("eventTime":")", time, R"(","eventSource":")", call.source, R"(","eventName":")",
      call.name, R"(","awsRegion":")", options_.region, R"(","sourceIPAddress":")", RandomIp(),
      R"(","userAgent":")", Pick(kUserAgents),
      R"(","requestParameters":{"resourceId":"r-)", HexString(rng_, 17),
      R"(","tagSpecificationSet":{"items":[{"resourceType":"instance","tags":[{"key":"team","value":"platform"}]}]}},)",
      R"("responseElements":{"requestId":")", NewRequestId(), R"(","_return":true},)",
      Tail(id, NewRequestId(), false, acct, "Management", "AwsApiCall", true), ",",
      TlsDetails(StrCat("api.", options_.region, ".amazonaws.com")), "}");
}

std::string EventGenerator::S3Data(const std::string& id, const std::string& time) {
  const bool read = rng_() % 3 != 0;
  const std::string bucket = Pick(kBuckets);
  const std::string key = StrCat("data/", HexString(rng_, 8), "/part-", rng_() % 10000,
                                       ".parquet");
  const std::string& acct = options_.account_id;
  return StrCat(
      R"({"eventVersion":"1.09",)", AssumedRoleIdentity(Pick(kRoles), Pick(kUsers)), ",",
      R"("eventTime":")", time, R"(","eventSource":"s3.amazonaws.com","eventName":")",
      read ? "GetObject" : "PutObject", R"(","awsRegion":")", options_.region,
      R"(","sourceIPAddress":")", RandomIp(), R"(","userAgent":"[)", Pick(kUserAgents),
      R"(]","requestParameters":{"bucketName":")", bucket, R"(","Host":")", bucket, ".s3.",
      options_.region, R"(.amazonaws.com","key":")", key, R"("},"responseElements":null,)",
      R"("additionalEventData":{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","x-amz-id-2":")",
      HexString(rng_, 40), R"(","bytesTransferredOut":)", rng_() % 1000000, "},",
      Tail(id, UpperAlnum(rng_, 16), read, acct, "Data", "AwsApiCall", false),
      R"(,"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::)", bucket, "/", key,
      R"("},{"accountId":")", acct, R"(","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::)", bucket,
      R"("}],)", TlsDetails(StrCat(bucket, ".s3.", options_.region, ".amazonaws.com")),
      "}");
}

std::string EventGenerator::LambdaData(const std::string& id, const std::string& time) {
  const std::string fn = Pick(kFunctions);
  const std::string& acct = options_.account_id;
  const std::string arn =
      StrCat("arn:aws:lambda:", options_.region, ":", acct, ":function:", fn);
  return StrCat(
      R"({"eventVersion":"1.08",)", AssumedRoleIdentity("LambdaExecution", "invoker"), ",",
      R"("eventTime":")", time,
      R"(","eventSource":"lambda.amazonaws.com","eventName":"Invoke","awsRegion":")",
      options_.region, R"(","sourceIPAddress":"apigateway.amazonaws.com","userAgent":"apigateway.amazonaws.com",)",
      R"("requestParameters":{"functionName":")", arn,
      R"(","invocationType":"RequestResponse","logType":"None"},"responseElements":null,)",
      R"("additionalEventData":{"functionVersion":")", arn, R"(:$LATEST"},)",
      Tail(id, NewRequestId(), false, acct, "Data", "AwsApiCall", false),
      R"(,"resources":[{"accountId":")", acct, R"(","type":"AWS::Lambda::Function","ARN":")",
      arn, R"("}]})");
}

std::string EventGenerator::ConsoleSignIn(const std::string& id, const std::string& time) {
  const bool mfa = std::uniform_real_distribution<double>(0, 1)(rng_) < options_.mfa_fraction;
  const bool failed = rng_() % 10 == 0;
  const std::string user = Pick(kUsers);
  const std::string& acct = options_.account_id;
  return StrCat(
      R"({"eventVersion":"1.08",)",
      R"("userIdentity":{"type":"IAMUser","principalId":"AIDA)", UpperAlnum(rng_, 17),
      R"(","arn":"arn:aws:iam::)", acct, ":user/", user, R"(","accountId":")", acct,
      R"(","userName":")", user, R"("},)", R"("eventTime":")", time,
      R"(","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":")",
      options_.global_region, R"(","sourceIPAddress":")", RandomIp(), R"(","userAgent":")",
      kUserAgents[3], R"(","requestParameters":null,"responseElements":{"ConsoleLogin":")",
      failed ? "Failure" : "Success", R"("},)",
      failed ? R"("errorMessage":"Failed authentication",)" : "",
      R"("additionalEventData":{"LoginTo":"https://console.aws.amazon.com/console/home","MobileVersion":"No","MFAIdentifier":"arn:aws:iam::)",
      acct, ":mfa/", user, R"(","MFAUsed":")", mfa ? "Yes" : "No", R"("},)",
      R"("eventID":")", id,
      R"(","readOnly":false,"eventType":"AwsConsoleSignIn","managementEvent":true,"recipientAccountId":")",
      acct, R"(","eventCategory":"Management",)", TlsDetails("signin.aws.amazon.com"), "}");
}

std::string EventGenerator::AssumeRole(const std::string& id, const std::string& time) {
  // A chain: a role in another org account assumes a role in this account.
  const std::string& acct = options_.account_id;
  const std::string source_account =
      options_.org_account_ids.empty() ? acct : Pick(options_.org_account_ids);
  const std::string role = Pick(kRoles);
  const std::string session = StrCat(Pick(kUsers), "-", rng_() % 100000);
  return StrCat(
      R"({"eventVersion":"1.08",)",
      R"("userIdentity":{"type":"AssumedRole","principalId":"AROA)", UpperAlnum(rng_, 17),
      ":pipeline", R"(","arn":"arn:aws:sts::)", source_account,
      R"(:assumed-role/OrganizationAccountAccessRole/pipeline","accountId":")", source_account,
      R"(","accessKeyId":")", NewAccessKeyId(true),
      R"("},"eventTime":")", time,
      R"(","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","awsRegion":")",
      options_.region, R"(","sourceIPAddress":")", RandomIp(), R"(","userAgent":")",
      Pick(kUserAgents), R"(","requestParameters":{"roleArn":"arn:aws:iam::)", acct, ":role/",
      role, R"(","roleSessionName":")", session, R"(","durationSeconds":3600},)",
      R"("responseElements":{"credentials":{"accessKeyId":")", NewAccessKeyId(true),
      R"(","sessionToken":"IQoJb3JpZ2luX2VjE)", UpperAlnum(rng_, 40),
      R"(","expiration":")", time, R"("},"assumedRoleUser":{"assumedRoleId":"AROA)",
      UpperAlnum(rng_, 17), ":", session, R"(","arn":"arn:aws:sts::)", acct, ":assumed-role/",
      role, "/", session, R"("}},)",
      Tail(id, NewRequestId(), false, acct, "Management", "AwsApiCall", true),
      R"(,"resources":[{"accountId":")", acct, R"(","type":"AWS::IAM::Role","ARN":"arn:aws:iam::)",
      acct, ":role/", role, R"("}],"sharedEventID":")", NewEventId(), R"(",)",
      TlsDetails(StrCat("sts.", options_.region, ".amazonaws.com")), "}");
}

std::string EventGenerator::AccessDenied(const std::string& id, const std::string& time) {
  const ApiCall& call = kWrites[rng_() % kWrites.size()];
  const std::string role = "ReadOnly";
  const std::string session = Pick(kUsers);
  const std::string& acct = options_.account_id;
  return StrCat(
      R"({"eventVersion":"1.09",)", AssumedRoleIdentity(role, session), ",",
      R"("eventTime":")", time, R"(","eventSource":")", call.source, R"(","eventName":")",
      call.name, R"(","awsRegion":")", options_.region, R"(","sourceIPAddress":")", RandomIp(),
      R"(","userAgent":")", Pick(kUserAgents),
      R"(","errorCode":"AccessDenied","errorMessage":"User: arn:aws:sts::)", acct,
      ":assumed-role/", role, "/", session, " is not authorized to perform: ",
      std::string(call.source).substr(0, std::string(call.source).find('.')), ":", call.name,
      R"( because no identity-based policy allows the action","requestParameters":null,"responseElements":null,)",
      Tail(id, NewRequestId(), false, acct, "Management", "AwsApiCall", true), ",",
      TlsDetails(StrCat("api.", options_.region, ".amazonaws.com")), "}");
}

std::string EventGenerator::GlobalIam(const std::string& id, const std::string& time) {
  const ApiCall& call = kGlobal[rng_() % kGlobal.size()];
  const bool read = std::string_view(call.name).rfind("List", 0) == 0 ||
                    std::string_view(call.name).rfind("Get", 0) == 0 ||
                    std::string_view(call.name).rfind("Describe", 0) == 0;
  const std::string& acct = options_.account_id;
  const std::string target = StrCat("svc-", HexString(rng_, 6));
  const std::string host = std::string_view(call.source) == "sts.amazonaws.com"
                               ? "sts.amazonaws.com"
                               : StrCat(std::string(call.source).substr(
                                                  0, std::string(call.source).find('.')),
                                              ".amazonaws.com");
  return StrCat(
      R"({"eventVersion":"1.09",)", AssumedRoleIdentity("Admin", Pick(kUsers)), ",",
      R"("eventTime":")", time, R"(","eventSource":")", call.source, R"(","eventName":")",
      call.name, R"(","awsRegion":")", options_.global_region, R"(","sourceIPAddress":")",
      RandomIp(), R"(","userAgent":")", Pick(kUserAgents), R"(","requestParameters":)",
      read ? "null" : StrCat(R"({"userName":")", target, R"(","path":"/service/"})"),
      R"(,"responseElements":)",
      read ? "null"
           : StrCat(R"({"user":{"path":"/service/","userName":")", target,
                          R"(","userId":"AIDA)", UpperAlnum(rng_, 17),
                          R"(","arn":"arn:aws:iam::)", acct, ":user/service/", target,
                          R"(","createDate":")", time, R"("}})"),
      ",", Tail(id, NewRequestId(), read, acct, "Management", "AwsApiCall", true), ",",
      TlsDetails(host), "}");
}

std::string EventGenerator::RootActivity(const std::string& id, const std::string& time) {
  const ApiCall& call = kReads[rng_() % kReads.size()];
  const std::string& acct = options_.account_id;
  return StrCat(
      R"({"eventVersion":"1.09",)",
      R"("userIdentity":{"type":"Root","principalId":")", acct, R"(","arn":"arn:aws:iam::)", acct,
      R"(:root","accountId":")", acct, R"(","accessKeyId":")", NewAccessKeyId(true),
      R"(","sessionContext":{"sessionIssuer":{},"webIdFederationData":{},"attributes":{"creationDate":")",
      time, R"(","mfaAuthenticated":"true"}}},)", R"("eventTime":")", time,
      R"(","eventSource":")", call.source, R"(","eventName":")", call.name,
      R"(","awsRegion":")", options_.region, R"(","sourceIPAddress":")", RandomIp(),
      R"(","userAgent":")", kUserAgents[3],
      R"(","requestParameters":null,"responseElements":null,)",
      Tail(id, NewRequestId(), true, acct, "Management", "AwsApiCall", true),
      R"(,"sessionCredentialFromConsole":"true",)",
      TlsDetails(StrCat("console.", options_.region, ".amazonaws.com")), "}");
}

std::string WrapRecords(const std::vector<std::string>& records) {
  size_t total = 16;
  for (const auto& r : records) total += r.size() + 1;
  std::string out;
  out.reserve(total);
  out += R"({"Records":[)";
  for (size_t i = 0; i < records.size(); ++i) {
    if (i > 0) out += ',';
    out += records[i];
  }
  out += "]}";
  return out;
}

namespace {
int64_t SteadyMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

RatePacer::RatePacer(double events_per_second)
    : rate_(events_per_second), start_us_(SteadyMicros()) {}

uint64_t RatePacer::EventsDue() {
  if (rate_ <= 0) return UINT64_MAX / 2;
  const double elapsed_s = static_cast<double>(SteadyMicros() - start_us_) / 1e6;
  const uint64_t should_have = static_cast<uint64_t>(elapsed_s * rate_) + 1;
  const uint64_t due = should_have > taken_ ? should_have - taken_ : 0;
  taken_ += due;
  return due;
}

void RatePacer::SleepUntilDue() const {
  if (rate_ <= 0) return;
  const int64_t next_us = start_us_ + static_cast<int64_t>(static_cast<double>(taken_) / rate_ * 1e6);
  const int64_t wait = next_us - SteadyMicros();
  if (wait > 0) std::this_thread::sleep_for(std::chrono::microseconds(std::min<int64_t>(wait, 100000)));
}

}  // namespace orgtrail
