// SQL over the store: the investigation queries give exactly the answers of
// a brute-force scan of the same records; pushdown is proven by rows read;
// the engine is read-only and bounded in time, rows and size.
#include "collector/sql/sql_engine.h"

#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "orgtrail/common/generator.h"
#include "collector/query_test_support.h"

namespace orgtrail::collector {
namespace {

using querytest::QueryTestStore;

constexpr const char* kInvictusAccount = "123837392027";

// A parsed view of one stored record for the oracle.
struct Record {
  std::string event_id, account, partition_region, raw;
  int64_t time_us = 0;
  simdjson::dom::element root;
};

std::optional<std::string> Str(simdjson::dom::element e, std::initializer_list<const char*> path) {
  for (const char* key : path) {
    simdjson::dom::object o;
    if (e.get_object().get(o) != simdjson::SUCCESS || o.at_key(key).get(e) != simdjson::SUCCESS) return std::nullopt;
  }
  std::string_view s;
  if (e.get_string().get(s) != simdjson::SUCCESS) return std::nullopt;
  return std::string(s);
}

std::string SqlTime(int64_t us) {
  time_t t = static_cast<time_t>(us / 1000000);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

class SqlEngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    store_ = new QueryTestStore();
    store_->Ingest(kInvictusAccount, "us-east-1", querytest::LoadInvictusRecords(), 500);
    for (auto [account, region, seed] : {std::tuple<const char*, const char*, uint64_t>{"444455556666", "eu-west-1", 11},
                                         {"777788889999", "us-west-2", 12}}) {
      GeneratorOptions options;
      options.seed = seed;
      options.account_id = account;
      options.region = region;
      options.org_account_ids = {kInvictusAccount, account == std::string("444455556666") ? "777788889999" : "444455556666"};
      EventGenerator generator(options);
      std::vector<std::string> records;
      for (int i = 0; i < 3000; ++i) records.push_back(generator.NextJson());
      store_->Ingest(account, region, records, 500);
    }
    for (const auto& [id, event] : store_->oracle()) {
      Record r;
      r.event_id = id;
      r.account = event.account;
      r.partition_region = event.region;
      r.raw = event.raw_json;
      r.time_us = event.time_us;
      records_.push_back(std::move(r));
    }
    for (auto& r : records_) {
      parsers_.emplace_back(std::make_unique<simdjson::dom::parser>());
      r.root = parsers_.back()->parse(r.raw).value();
    }
  }
  static void TearDownTestSuite() {
    records_.clear();
    parsers_.clear();
    delete store_;
    store_ = nullptr;
  }

  v1::SqlResponse Run(const std::string& query, int64_t max_rows = 0) {
    SqlEngine engine(store_->store(), "us-east-1");
    v1::SqlRequest request;
    request.set_query(query);
    request.set_max_rows(max_rows);
    auto response = engine.Execute(request);
    EXPECT_TRUE(response.ok()) << query << "\n -> " << response.status();
    return response.ok() ? *response : v1::SqlResponse();
  }
  Status RunError(const std::string& query, int64_t max_rows = 0, int64_t timeout_ms = 0) {
    SqlEngine engine(store_->store(), "us-east-1");
    v1::SqlRequest request;
    request.set_query(query);
    request.set_max_rows(max_rows);
    request.set_timeout_ms(timeout_ms);
    auto response = engine.Execute(request);
    EXPECT_FALSE(response.ok()) << query;
    return response.ok() ? Status() : response.status();
  }
  static std::string Text(const v1::SqlValue& v) {
    if (v.has_text()) return v.text();
    if (v.has_integer()) return std::to_string(v.integer());
    if (v.has_null()) return "NULL";
    return "?";
  }
  static std::vector<std::vector<std::string>> Rows(const v1::SqlResponse& response) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& row : response.rows()) {
      std::vector<std::string> values;
      for (const auto& v : row.values()) values.push_back(Text(v));
      rows.push_back(values);
    }
    return rows;
  }

  static QueryTestStore* store_;
  static std::vector<Record> records_;
  static std::vector<std::unique_ptr<simdjson::dom::parser>> parsers_;
};

QueryTestStore* SqlEngineTest::store_ = nullptr;
std::vector<Record> SqlEngineTest::records_;
std::vector<std::unique_ptr<simdjson::dom::parser>> SqlEngineTest::parsers_;

TEST_F(SqlEngineTest, CountsEverything) {
  auto response = Run("SELECT COUNT(*) FROM events");
  ASSERT_EQ(response.rows_size(), 1);
  EXPECT_EQ(response.rows(0).values(0).integer(), static_cast<int64_t>(records_.size()));
  EXPECT_GT(records_.size(), 8000u);
}

TEST_F(SqlEngineTest, TopCallers) {
  auto response = Run(
      "SELECT useridentity_arn, COUNT(*) AS n FROM events WHERE useridentity_arn IS NOT NULL "
      "GROUP BY useridentity_arn ORDER BY n DESC, useridentity_arn LIMIT 10");
  std::map<std::string, int64_t> counts;
  for (const auto& r : records_) {
    if (auto arn = Str(r.root, {"userIdentity", "arn"})) ++counts[*arn];
  }
  std::vector<std::pair<int64_t, std::string>> sorted;
  for (const auto& [arn, n] : counts) sorted.push_back({-n, arn});
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::vector<std::string>> expected;
  for (size_t i = 0; i < sorted.size() && i < 10; ++i) expected.push_back({sorted[i].second, std::to_string(-sorted[i].first)});
  EXPECT_EQ(Rows(response), expected);
  ASSERT_EQ(response.columns_size(), 2);
  EXPECT_EQ(response.columns(1), "n");
}

TEST_F(SqlEngineTest, WhoDeletedABucketUsesTheEventNameIndex) {
  auto response = Run(
      "SELECT eventtime, eventid, useridentity_arn, json_extract(requestparameters, '$.bucketName') AS bucket, "
      "sourceipaddress FROM events WHERE eventname = 'DeleteBucket' ORDER BY eventtime, eventid");
  std::vector<std::vector<std::string>> expected;
  for (const auto& r : records_) {
    if (Str(r.root, {"eventName"}) != std::optional<std::string>("DeleteBucket")) continue;
    expected.push_back({SqlTime(r.time_us), r.event_id, Str(r.root, {"userIdentity", "arn"}).value_or("NULL"),
                        Str(r.root, {"requestParameters", "bucketName"}).value_or("NULL"),
                        Str(r.root, {"sourceIPAddress"}).value_or("NULL")});
  }
  std::sort(expected.begin(), expected.end());
  ASSERT_GE(expected.size(), 8u);
  EXPECT_EQ(Rows(response), expected);
  // Pushdown: only the matching records were read, not the whole store.
  EXPECT_EQ(response.rows_read(), expected.size());
  EXPECT_LT(response.rows_read() * 100, records_.size());
  ASSERT_GE(response.plan_size(), 1);
  EXPECT_NE(response.plan(0).find("index EventName='DeleteBucket'"), std::string::npos) << response.plan(0);
}

TEST_F(SqlEngineTest, FailedConsoleSignInsPerUserPerDay) {
  auto response = Run(
      "SELECT date(eventtime) AS day, useridentity_username AS user, COUNT(*) AS failures FROM events "
      "WHERE eventname = 'ConsoleLogin' AND json_extract(responseelements, '$.ConsoleLogin') = 'Failure' "
      "GROUP BY day, user ORDER BY day, user");
  std::map<std::pair<std::string, std::string>, int64_t> counts;
  for (const auto& r : records_) {
    if (Str(r.root, {"eventName"}) != std::optional<std::string>("ConsoleLogin")) continue;
    if (Str(r.root, {"responseElements", "ConsoleLogin"}) != std::optional<std::string>("Failure")) continue;
    ++counts[{SqlTime(r.time_us).substr(0, 10), Str(r.root, {"userIdentity", "userName"}).value_or("NULL")}];
  }
  std::vector<std::vector<std::string>> expected;
  for (const auto& [key, n] : counts) expected.push_back({key.first, key.second, std::to_string(n)});
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(Rows(response), expected);
}

TEST_F(SqlEngineTest, CrossAccountAssumeRole) {
  auto response = Run(
      "SELECT eventid, recipientaccountid, useridentity_accountid, json_extract(requestparameters, '$.roleArn') "
      "FROM events WHERE eventname = 'AssumeRole' AND useridentity_accountid IS NOT NULL "
      "AND substr(json_extract(requestparameters, '$.roleArn'), 14, 12) <> useridentity_accountid ORDER BY eventid");
  std::vector<std::vector<std::string>> expected;
  for (const auto& r : records_) {
    if (Str(r.root, {"eventName"}) != std::optional<std::string>("AssumeRole")) continue;
    auto caller = Str(r.root, {"userIdentity", "accountId"});
    auto role = Str(r.root, {"requestParameters", "roleArn"});
    if (!caller || !role || role->size() < 25) continue;
    if (role->substr(13, 12) == *caller) continue;
    expected.push_back({r.event_id, r.account, *caller, *role});
  }
  std::sort(expected.begin(), expected.end());
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(Rows(response), expected);
}

TEST_F(SqlEngineTest, RootActivity) {
  auto response = Run(
      "SELECT recipientaccountid, eventname, COUNT(*) FROM events WHERE useridentity_type = 'Root' "
      "GROUP BY 1, 2 ORDER BY 1, 2");
  std::map<std::pair<std::string, std::string>, int64_t> counts;
  for (const auto& r : records_) {
    if (Str(r.root, {"userIdentity", "type"}) != std::optional<std::string>("Root")) continue;
    ++counts[{r.account, Str(r.root, {"eventName"}).value_or("NULL")}];
  }
  std::vector<std::vector<std::string>> expected;
  for (const auto& [key, n] : counts) expected.push_back({key.first, key.second, std::to_string(n)});
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(Rows(response), expected);
}

TEST_F(SqlEngineTest, AccountAndTimeRangePushdown) {
  // The middle third of account 444455556666's time span.
  std::vector<int64_t> times;
  for (const auto& r : records_) {
    if (r.account == "444455556666") times.push_back(r.time_us);
  }
  std::sort(times.begin(), times.end());
  std::string from = SqlTime(times[times.size() / 3]);
  std::string to = SqlTime(times[2 * times.size() / 3]);
  auto response = Run("SELECT COUNT(*) FROM events WHERE recipientaccountid = '444455556666' AND eventtime >= '" + from +
                      "' AND eventtime < '" + to + "'");
  int64_t expected = 0;
  for (const auto& r : records_) {
    std::string t = SqlTime(r.time_us);
    if (r.account == "444455556666" && t >= from && t < to) ++expected;
  }
  ASSERT_GT(expected, 100);
  EXPECT_EQ(response.rows(0).values(0).integer(), expected);
  EXPECT_LE(response.rows_read(), static_cast<uint64_t>(expected) + 20);  // bounds widened by 1 s
  EXPECT_NE(response.plan(0).find("partition scan"), std::string::npos) << response.plan(0);
}

TEST_F(SqlEngineTest, RegionPushdownIncludesGlobalEventsOfTheHomeRegion) {
  for (const char* region : {"eu-west-1", "us-east-1", "us-west-2"}) {
    auto response = Run(std::string("SELECT COUNT(*), COUNT(DISTINCT partitionregion) FROM events WHERE awsregion = '") +
                        region + "'");
    int64_t expected = 0;
    for (const auto& r : records_) expected += Str(r.root, {"awsRegion"}) == std::optional<std::string>(region);
    EXPECT_EQ(response.rows(0).values(0).integer(), expected) << region;
    EXPECT_LT(response.rows_read(), records_.size()) << region;
  }
}

TEST_F(SqlEngineTest, OtherIndexesAndInLists) {
  struct Case {
    std::string where;
    std::function<bool(const Record&)> oracle;
  };
  auto name_is = [](std::set<std::string> names) {
    return [names](const Record& r) {
      auto n = Str(r.root, {"eventName"});
      return n && names.count(*n);
    };
  };
  std::vector<Case> cases = {
      {"eventname IN ('DeleteBucket', 'StopLogging', 'DeleteTrail')", name_is({"DeleteBucket", "StopLogging", "DeleteTrail"})},
      {"eventsource = 's3.amazonaws.com'",
       [](const Record& r) { return Str(r.root, {"eventSource"}) == std::optional<std::string>("s3.amazonaws.com"); }},
      {"readonly = 0",
       [](const Record& r) {
         bool b = true;
         simdjson::dom::element e;
         return r.root["readOnly"].get(e) == simdjson::SUCCESS && e.get_bool().get(b) == simdjson::SUCCESS && !b;
       }},
      {"readonly = 1",
       [](const Record& r) {
         bool b = false;
         simdjson::dom::element e;
         return r.root["readOnly"].get(e) == simdjson::SUCCESS && e.get_bool().get(b) == simdjson::SUCCESS && b;
       }},
      {"eventid = '" + records_[records_.size() / 2].event_id + "'",
       [](const Record& r) { return r.event_id == records_[records_.size() / 2].event_id; }},
      {"eventname = 'DeleteBucket' AND recipientaccountid = '444455556666'",
       [](const Record& r) { return r.account == "444455556666" && Str(r.root, {"eventName"}) == std::optional<std::string>("DeleteBucket"); }},
      {"eventname = 123", [](const Record&) { return false; }},
      {"eventname = NULL", [](const Record&) { return false; }},
      {"errorcode LIKE 'AccessDenied%'",
       [](const Record& r) {
         auto c = Str(r.root, {"errorCode"});
         return c && c->size() >= 12 && strncasecmp(c->c_str(), "AccessDenied", 12) == 0;
       }},
  };
  for (const auto& c : cases) {
    auto response = Run("SELECT COUNT(*) FROM events WHERE " + c.where);
    int64_t expected = 0;
    for (const auto& r : records_) expected += c.oracle(r);
    ASSERT_EQ(response.rows_size(), 1) << c.where;
    EXPECT_EQ(response.rows(0).values(0).integer(), expected) << c.where;
  }
  auto unique = Run("SELECT eventid FROM events WHERE eventid = '" + records_[7].event_id + "'");
  EXPECT_EQ(unique.rows_read(), 1u);
}

TEST_F(SqlEngineTest, EventJsonIsTheRecordByteForByte) {
  const Record& r = records_[records_.size() / 3];
  auto response = Run("SELECT eventjson, json_extract(eventjson, '$.eventID') FROM events WHERE eventid = '" + r.event_id + "'");
  ASSERT_EQ(response.rows_size(), 1);
  EXPECT_EQ(response.rows(0).values(0).text(), r.raw);
  EXPECT_EQ(response.rows(0).values(1).text(), r.event_id);
}

TEST_F(SqlEngineTest, ReadOnlyByConstruction) {
  for (const char* statement : {
           "INSERT INTO events(eventid) VALUES ('x')",
           "UPDATE events SET eventname = 'x'",
           "DELETE FROM events",
           "DROP TABLE events",
           "CREATE TABLE t(x)",
           "CREATE TEMP TABLE t AS SELECT * FROM events",
           "PRAGMA writable_schema = 1",
           "ATTACH DATABASE '/tmp/orgtrail-evil.db' AS evil",
           "SELECT load_extension('/tmp/evil.so')",
           "BEGIN",
           "VACUUM INTO '/tmp/orgtrail-evil.db'",
           "SELECT 1; DELETE FROM events",
           "SELECT 1; SELECT 2",
       }) {
    Status status = RunError(statement);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << statement << " -> " << status;
  }
  EXPECT_FALSE(std::ifstream("/tmp/orgtrail-evil.db").good());
  // Comments and a trailing semicolon are fine.
  EXPECT_EQ(Run("SELECT 1; -- done").rows_size(), 1);
}

TEST_F(SqlEngineTest, LimitsGiveClearErrors) {
  Status status = RunError("SELECT eventid FROM events", /*max_rows=*/5);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(status.message().find("more than 5 rows"), std::string_view::npos) << status;
  EXPECT_EQ(Run("SELECT eventid FROM events LIMIT 5", 5).rows_size(), 5);

  status = RunError("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c", 0, 200);
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  status = RunError("SELECT COUNT(*) FROM events a, events b WHERE a.eventjson < b.eventjson", 0, 300);
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  EXPECT_NE(status.message().find("time limit"), std::string_view::npos) << status;

  status = RunError("SELECT eventjson FROM events", 1000000);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_NE(status.message().find("MiB"), std::string_view::npos) << status;

  EXPECT_EQ(RunError(std::string(10001, ' ') + "SELECT 1").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RunError("").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RunError("SELEC * FROM events").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RunError("SELECT * FROM nothere").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RunError(std::string("SELECT 1\0; DELETE FROM events", 30)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RunError("SELECT randomblob(2000000000)").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RunError("SELECT 1", -1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RunError("SELECT 1", 0, -5).code(), absl::StatusCode::kInvalidArgument);
  std::string deep = "SELECT ";
  for (int i = 0; i < 2000; ++i) deep += "(";
  deep += "1";
  for (int i = 0; i < 2000; ++i) deep += ")";
  EXPECT_EQ(RunError(deep).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SqlEngineTest, MutatedQueriesNeverCrash) {
  std::vector<std::string> seeds = {
      "SELECT eventname, COUNT(*) FROM events WHERE eventtime >= '2023-07-10 11:00:00' AND awsregion = 'us-east-1' GROUP BY 1",
      "SELECT json_extract(eventjson, '$.userIdentity.arn') FROM events WHERE eventname = 'AssumeRole' LIMIT 3",
      "SELECT * FROM events WHERE eventid IN (SELECT eventid FROM events WHERE readonly = 0 LIMIT 2)",
  };
  std::mt19937 rng(99);
  SqlEngine engine(store_->store(), "us-east-1");
  int ok = 0;
  for (int i = 0; i < 300; ++i) {
    std::string q = seeds[i % seeds.size()];
    for (int k = 0; k < 3; ++k) {
      size_t at = rng() % q.size();
      switch (rng() % 3) {
        case 0: q.erase(at, 1 + rng() % 5); break;
        case 1: q.insert(at, 1, "'();,*=<>\"%\\"[rng() % 12]); break;
        default: q[at] = static_cast<char>(rng() % 256); break;
      }
    }
    v1::SqlRequest request;
    request.set_query(q);
    request.set_timeout_ms(2000);
    request.set_max_rows(50);
    auto result = engine.Execute(request);
    ok += result.ok();
  }
  SUCCEED() << ok << " mutated queries ran";
}

}  // namespace
}  // namespace orgtrail::collector
