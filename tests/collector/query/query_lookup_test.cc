// LookupEvents semantics against a real store filled through the ingest path:
// each attribute, inclusive time ranges, newest first, paging exactly once,
// organization filters, data events, several attributes ANDed, and that the
// results equal a brute-force oracle over the ingested records.
#include <limits>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "collector/query_test_support.h"
#include "orgtrail/common/generator.h"

namespace orgtrail::collector::querytest {
namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

v1::LookupEventsRequest Request(const std::vector<std::pair<std::string, std::string>>& attributes,
                                int max_results = 0) {
  v1::LookupEventsRequest request;
  for (const auto& [key, value] : attributes) {
    auto* a = request.add_lookup_attributes();
    a->set_attribute_key(key);
    a->set_attribute_value(value);
  }
  request.set_max_results(max_results);
  return request;
}

// The invictus set (real records), ingested twice: stored once.
class InvictusLookupTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fixture_ = new QueryTestStore();
    const auto records = LoadInvictusRecords();
    ASSERT_EQ(records.size(), 2900u);
    fixture_->Ingest("123837392027", "us-east-1", records, 200);
    fixture_->Ingest("123837392027", "us-east-1", records, 500);  // replayed feed: deduplicated
    auto engine = QueryEngine::Create(fixture_->store());
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = engine->release();
  }
  static void TearDownTestSuite() {
    delete engine_;
    delete fixture_;
  }
  static QueryTestStore* fixture_;
  static QueryEngine* engine_;
};
QueryTestStore* InvictusLookupTest::fixture_ = nullptr;
QueryEngine* InvictusLookupTest::engine_ = nullptr;

TEST_F(InvictusLookupTest, StoredOnceDespiteTwoIngests) {
  EXPECT_EQ(fixture_->oracle().size(), 2900u);
  EXPECT_EQ(fixture_->store()->events_stored(), 2900u);
  const auto all = LookupAll(*engine_, Request({}, 1000));
  EXPECT_EQ(all.size(), 2900u);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 2900u);
}

TEST_F(InvictusLookupTest, EveryAttributeMatchesTheOracle) {
  // For each attribute: the most frequent value, a rare value, and one more.
  std::map<IndexKind, std::map<std::string, int>> frequencies;
  for (const auto& [id, event] : fixture_->oracle()) {
    for (const auto& [kind, values] : event.attributes) {
      for (const auto& value : values) ++frequencies[kind][value];
    }
  }
  int checked_attributes = 0;
  for (int k = 1; k < kIndexKindCount; ++k) {
    const IndexKind kind = static_cast<IndexKind>(k);
    const auto& values = frequencies[kind];
    if (values.empty()) continue;  // e.g. no resources in the set
    ++checked_attributes;
    std::vector<std::pair<int, std::string>> by_count;
    for (const auto& [value, count] : values) by_count.emplace_back(count, value);
    std::sort(by_count.begin(), by_count.end());
    std::set<std::string> probes = {by_count.front().second, by_count.back().second,
                                    by_count[by_count.size() / 2].second};
    for (const auto& value : probes) {
      const std::string key(AttributeKeyOfIndexKind(kind));
      const auto got = LookupAll(*engine_, Request({{key, value}}));
      const auto want = fixture_->Expected({{kind, value}}, kMin, kMax);
      EXPECT_FALSE(want.empty());
      EXPECT_EQ(got, want) << key << "=" << value;
    }
  }
  EXPECT_GE(checked_attributes, 6);
}

TEST_F(InvictusLookupTest, ReadOnlyFalseAndTrueSplitTheSet) {
  const auto read_only = LookupAll(*engine_, Request({{"ReadOnly", "true"}}, 1000));
  const auto writes = LookupAll(*engine_, Request({{"ReadOnly", "false"}}, 1000));
  EXPECT_EQ(read_only.size(), 2326u);
  EXPECT_EQ(writes.size(), 574u);
  EXPECT_TRUE(LookupAll(*engine_, Request({{"ReadOnly", "maybe"}})).empty());
}

TEST_F(InvictusLookupTest, NewestFirstWithKeyOrderTies) {
  auto response = engine_->LookupEvents(Request({}, 1000));
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->events_size(), 1000);
  for (int i = 1; i < response->events_size(); ++i) {
    const auto& newer = response->events(i - 1);
    const auto& older = response->events(i);
    ASSERT_GE(newer.event_time_us(), older.event_time_us()) << i;
    if (newer.event_time_us() == older.event_time_us()) {
      ASSERT_LT(newer.event_id(), older.event_id()) << "ties ordered by eventID";
    }
  }
  // The first event is the newest of the set (2023-07-10T12:37:50Z).
  EXPECT_EQ(FormatRfc3339Seconds(response->events(0).event_time_us()), "2023-07-10T12:37:50Z");
}

TEST_F(InvictusLookupTest, TimeRangeBoundsAreInclusive) {
  // Pick an event and ask for exactly its second.
  const OracleEvent& probe = fixture_->oracle().begin()->second;
  const int64_t t = probe.time_us;
  v1::LookupEventsRequest request = Request({{"EventId", probe.event_id}});
  request.set_start_time_us(t);
  request.set_end_time_us(t);
  EXPECT_EQ(LookupAll(*engine_, request), std::vector<std::string>{probe.event_id});
  request.set_start_time_us(t + 1);
  request.set_end_time_us(t + 1000000);
  EXPECT_TRUE(LookupAll(*engine_, request).empty()) << "start after the event";
  request.set_start_time_us(t - 1000000);
  request.set_end_time_us(t - 1);
  EXPECT_TRUE(LookupAll(*engine_, request).empty()) << "end before the event";

  // A range over the whole store's time index equals the oracle's.
  v1::LookupEventsRequest window = Request({}, 37);
  window.set_start_time_us(t - 300'000'000);
  window.set_end_time_us(t);
  EXPECT_EQ(LookupAll(*engine_, window), fixture_->Expected({}, t - 300'000'000, t));
}

TEST_F(InvictusLookupTest, PagingCoversEverythingExactlyOnceAtAnyPageSize) {
  const auto want = fixture_->Expected({}, kMin, kMax);
  for (int page_size : {1000, 50, 7}) {
    int pages = 0;
    const auto got = LookupAll(*engine_, Request({}, page_size), &pages);
    EXPECT_EQ(got, want) << "page size " << page_size;
    EXPECT_EQ(pages, static_cast<int>((want.size() + page_size - 1) / page_size))
        << "no empty trailing page";
  }
  // A selective attribute paged one event at a time.
  const auto want_decrypt = fixture_->Expected({{IndexKind::kEventName, "Decrypt"}}, kMin, kMax);
  EXPECT_EQ(want_decrypt.size(), 178u);
  EXPECT_EQ(LookupAll(*engine_, Request({{"EventName", "Decrypt"}}, 1)), want_decrypt);
}

TEST_F(InvictusLookupTest, DefaultPageIsFiftyWithToken) {
  auto response = engine_->LookupEvents(Request({}, 0));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->events_size(), 50);
  EXPECT_FALSE(response->next_token().empty());
  // 51 is accepted as an organization extension (CloudTrail stops at 50).
  auto larger = engine_->LookupEvents(Request({}, 51));
  ASSERT_TRUE(larger.ok()) << larger.status();
  EXPECT_EQ(larger->events_size(), 51);
  auto largest = engine_->LookupEvents(Request({}, 1000));
  ASSERT_TRUE(largest.ok()) << largest.status();
  EXPECT_EQ(largest->events_size(), 1000);
}

TEST_F(InvictusLookupTest, ResponseCarriesTheRecordByteForByte) {
  auto response = engine_->LookupEvents(Request({{"EventName", "DeleteParameter"}}, 1000));
  ASSERT_TRUE(response.ok());
  ASSERT_EQ(response->events_size(), 78);
  for (const auto& event : response->events()) {
    const OracleEvent& o = fixture_->oracle().at(event.event_id());
    EXPECT_EQ(event.cloudtrail_event(), o.raw_json);
    EXPECT_EQ(event.event_name(), "DeleteParameter");
    EXPECT_EQ(event.event_source(), "ssm.amazonaws.com");
    EXPECT_EQ(event.read_only(), "false");
    EXPECT_EQ(event.account_id(), "123837392027");
    EXPECT_EQ(event.region(), "us-east-1");
    EXPECT_EQ(event.event_time_us(), o.time_us);
  }
}

TEST_F(InvictusLookupTest, NextTokenOnlyWithIdenticalParameters) {
  v1::LookupEventsRequest request = Request({{"ReadOnly", "true"}}, 10);
  request.set_start_time_us(0);
  auto first = engine_->LookupEvents(request);
  ASSERT_TRUE(first.ok());
  ASSERT_FALSE(first->next_token().empty());
  const std::string token = first->next_token();

  auto replay = request;
  replay.set_next_token(token);
  auto second = engine_->LookupEvents(replay);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->events_size(), 10);
  EXPECT_NE(second->events(0).event_id(), first->events(0).event_id());

  // Page size may change between pages; the query may not.
  auto page_size_changed = replay;
  page_size_changed.set_max_results(25);
  EXPECT_TRUE(engine_->LookupEvents(page_size_changed).ok());

  std::vector<v1::LookupEventsRequest> changed;
  changed.push_back(replay);
  changed.back().mutable_lookup_attributes(0)->set_attribute_value("false");
  changed.push_back(replay);
  changed.back().mutable_lookup_attributes(0)->set_attribute_key("EventName");
  changed.push_back(replay);
  changed.back().set_start_time_us(1);
  changed.push_back(replay);
  changed.back().clear_start_time_us();
  changed.push_back(replay);
  changed.back().set_end_time_us(kMax);
  changed.push_back(replay);
  changed.back().add_account_ids("123837392027");
  changed.push_back(replay);
  changed.back().add_regions("us-east-1");
  changed.push_back(replay);
  changed.back().set_include_data_events(true);
  changed.push_back(replay);
  auto* extra = changed.back().add_lookup_attributes();
  extra->set_attribute_key("EventSource");
  extra->set_attribute_value("kms.amazonaws.com");
  for (size_t i = 0; i < changed.size(); ++i) {
    auto refused = engine_->LookupEvents(changed[i]);
    ASSERT_FALSE(refused.ok()) << "variant " << i;
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StartsWith(refused.status().message(), "InvalidNextTokenException"))
        << refused.status();
  }
}

TEST_F(InvictusLookupTest, ForgedOrDamagedTokensAreRefused) {
  auto first = engine_->LookupEvents(Request({}, 5));
  ASSERT_TRUE(first.ok());
  const std::string token = first->next_token();
  auto raw = Base64Decode(token);
  ASSERT_TRUE(raw.ok());
  std::vector<std::string> bad = {"x", "not base64 at all!", std::string(5000, 'A'), "AAAA",
                                  Base64Encode(std::string(100, '\0')), token.substr(0, token.size() / 2)};
  for (size_t i = 0; i < raw->size(); i += 7) {  // flip one bit at several positions
    std::string flipped = *raw;
    flipped[i] ^= 0x01;
    bad.push_back(Base64Encode(flipped));
  }
  for (const auto& t : bad) {
    auto request = Request({}, 5);
    request.set_next_token(t);
    auto refused = engine_->LookupEvents(request);
    ASSERT_FALSE(refused.ok()) << t;
    EXPECT_TRUE(absl::StartsWith(refused.status().message(), "InvalidNextTokenException"))
        << refused.status();
  }
}

TEST_F(InvictusLookupTest, TokenSurvivesAnEngineRestart) {
  auto first = engine_->LookupEvents(Request({}, 5));
  ASSERT_TRUE(first.ok());
  auto again = QueryEngine::Create(fixture_->store());
  ASSERT_TRUE(again.ok());
  auto request = Request({}, 5);
  request.set_next_token(first->next_token());
  auto second = (*again)->LookupEvents(request);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->events_size(), 5);
}

struct BadInput {
  const char* name;
  std::function<void(v1::LookupEventsRequest*)> edit;
  const char* exception;
};

TEST_F(InvictusLookupTest, EveryBadInputGetsCloudTrailsExceptionName) {
  auto attribute = [](const std::string& key, const std::string& value) {
    return [key, value](v1::LookupEventsRequest* r) {
      auto* a = r->add_lookup_attributes();
      a->set_attribute_key(key);
      a->set_attribute_value(value);
    };
  };
  const std::vector<BadInput> cases = {
      {"max_results -1", [](auto* r) { r->set_max_results(-1); }, "InvalidMaxResultsException"},
      {"max_results 1001", [](auto* r) { r->set_max_results(1001); }, "InvalidMaxResultsException"},
      {"max_results INT_MIN", [](auto* r) { r->set_max_results(std::numeric_limits<int32_t>::min()); },
       "InvalidMaxResultsException"},
      {"max_results INT_MAX", [](auto* r) { r->set_max_results(std::numeric_limits<int32_t>::max()); },
       "InvalidMaxResultsException"},
      {"2001-char value", attribute("EventName", std::string(2001, 'a')),
       "InvalidLookupAttributesException"},
      {"1001 underscores (count twice)", attribute("Username", std::string(1001, '_')),
       "InvalidLookupAttributesException"},
      {"1 MB value", attribute("ResourceName", std::string(1 << 20, 'x')),
       "InvalidLookupAttributesException"},
      {"unknown key", attribute("EventNameX", "DeleteBucket"), "InvalidLookupAttributesException"},
      {"lower-case key", attribute("eventname", "DeleteBucket"), "InvalidLookupAttributesException"},
      {"empty key", attribute("", "DeleteBucket"), "InvalidLookupAttributesException"},
      {"empty value", attribute("EventName", ""), "InvalidLookupAttributesException"},
      {"key with NUL", attribute(std::string("EventName\0", 10), "x"),
       "InvalidLookupAttributesException"},
      {"nine attributes",
       [](auto* r) {
         for (int i = 0; i < 9; ++i) {
           auto* a = r->add_lookup_attributes();
           a->set_attribute_key("EventName");
           a->set_attribute_value("n" + std::to_string(i));
         }
       },
       "InvalidLookupAttributesException"},
      {"start after end",
       [](auto* r) {
         r->set_start_time_us(2000);
         r->set_end_time_us(1000);
       },
       "InvalidTimeRangeException"},
      {"start INT64_MAX end INT64_MIN",
       [](auto* r) {
         r->set_start_time_us(kMax);
         r->set_end_time_us(kMin);
       },
       "InvalidTimeRangeException"},
      {"bad category", [](auto* r) { r->set_event_category("Insight"); },
       "InvalidEventCategoryException"},
      {"category data", [](auto* r) { r->set_event_category("data"); },
       "InvalidEventCategoryException"},
      {"insight with Username",
       [](auto* r) {
         r->set_event_category("insight");
         auto* a = r->add_lookup_attributes();
         a->set_attribute_key("Username");
         a->set_attribute_value("alice");
       },
       "InvalidLookupAttributesException"},
      {"bad account", [](auto* r) { r->add_account_ids("12345"); }, "InvalidParameterException"},
      {"account with letters", [](auto* r) { r->add_account_ids("12345678901a"); },
       "InvalidParameterException"},
      {"bad region", [](auto* r) { r->add_regions("US EAST"); }, "InvalidParameterException"},
      {"too many accounts",
       [](auto* r) {
         for (int i = 0; i < 1001; ++i) r->add_account_ids("123456789012");
       },
       "InvalidParameterException"},
  };
  for (const auto& c : cases) {
    v1::LookupEventsRequest request;
    c.edit(&request);
    auto result = engine_->LookupEvents(request);
    ASSERT_FALSE(result.ok()) << c.name;
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_TRUE(absl::StartsWith(result.status().message(), std::string(c.exception) + ": "))
        << c.name << ": " << result.status();
  }
  // The limits themselves are accepted.
  for (auto edit : std::vector<std::function<void(v1::LookupEventsRequest*)>>{
           attribute("EventName", std::string(2000, 'a')), attribute("Username", std::string(1000, '_')),
           [](auto* r) { r->set_max_results(1); }, [](auto* r) { r->set_max_results(1000); },
           [](auto* r) {
             r->set_start_time_us(kMin);
             r->set_end_time_us(kMax);
           },
           [](auto* r) {
             r->set_start_time_us(5);
             r->set_end_time_us(5);
           },
           [](auto* r) { r->set_event_category("insight"); }}) {
    v1::LookupEventsRequest request;
    edit(&request);
    auto result = engine_->LookupEvents(request);
    EXPECT_TRUE(result.ok()) << result.status();
  }
}

TEST_F(InvictusLookupTest, HostileAttributeValuesFindNothingAndDoNotCrash) {
  std::mt19937 rng(7);
  for (int i = 0; i < 200; ++i) {
    std::string value(1 + rng() % 300, '\0');
    for (char& c : value) c = static_cast<char>(rng());
    auto result = engine_->LookupEvents(Request({{"ResourceName", value}, {"EventName", value}}));
    ASSERT_TRUE(result.ok() || result.status().code() == absl::StatusCode::kInvalidArgument)
        << result.status();
    if (result.ok()) {
      EXPECT_EQ(result->events_size(), 0);
    }
  }
}

// Generated organization traffic: several accounts and regions, data events,
// global-service events homed in us-east-1.
class OrganizationLookupTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fixture_ = new QueryTestStore();
    const std::vector<std::string> accounts = {"111111111111", "222222222222", "333333333333"};
    const std::vector<std::string> regions = {"us-east-1", "eu-west-1", "ap-south-1"};
    uint64_t seed = 1;
    for (const auto& account : accounts) {
      for (const auto& region : regions) {
        GeneratorOptions options;
        options.seed = seed++;
        options.account_id = account;
        options.region = region;
        options.org_account_ids = accounts;
        options.mean_interval_us = 3'000'000;
        EventGenerator generator(options);
        std::vector<std::string> records;
        for (int i = 0; i < 300; ++i) records.push_back(generator.NextJson());
        fixture_->Ingest(account, region, records, 64);
      }
    }
    auto engine = QueryEngine::Create(fixture_->store());
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = engine->release();
  }
  static void TearDownTestSuite() {
    delete engine_;
    delete fixture_;
  }
  static QueryTestStore* fixture_;
  static QueryEngine* engine_;
};
QueryTestStore* OrganizationLookupTest::fixture_ = nullptr;
QueryEngine* OrganizationLookupTest::engine_ = nullptr;

TEST_F(OrganizationLookupTest, ManagementOnlyUnlessDataEventsAsked) {
  const auto management = LookupAll(*engine_, Request({}, 1000));
  EXPECT_EQ(management, fixture_->Expected({}, kMin, kMax));
  auto with_data = Request({}, 1000);
  with_data.set_include_data_events(true);
  const auto all = LookupAll(*engine_, with_data);
  EXPECT_EQ(all, fixture_->Expected({}, kMin, kMax, {}, {}, true));
  EXPECT_EQ(all.size(), fixture_->oracle().size());
  EXPECT_LT(management.size(), all.size()) << "the generator's mix has data events";
}

TEST_F(OrganizationLookupTest, AccountAndRegionFilters) {
  auto request = Request({}, 100);
  request.add_account_ids("222222222222");
  EXPECT_EQ(LookupAll(*engine_, request), fixture_->Expected({}, kMin, kMax, {"222222222222"}));
  request.add_regions("eu-west-1");
  request.add_regions("us-east-1");
  const auto two_regions = LookupAll(*engine_, request);
  EXPECT_EQ(two_regions,
            fixture_->Expected({}, kMin, kMax, {"222222222222"}, {"eu-west-1", "us-east-1"}));
  auto regions_only = Request({}, 100);
  regions_only.add_regions("ap-south-1");
  regions_only.set_include_data_events(true);
  EXPECT_EQ(LookupAll(*engine_, regions_only),
            fixture_->Expected({}, kMin, kMax, {}, {"ap-south-1"}, true));
  auto nobody = Request({}, 100);
  nobody.add_account_ids("999999999999");
  EXPECT_TRUE(LookupAll(*engine_, nobody).empty());
}

TEST_F(OrganizationLookupTest, ManyPartitionsAreFilteredOnTheKeys) {
  // 200 accounts x 10 regions: more partitions than the engine opens cursors
  // for, so the filters are applied to the index keys instead.
  auto request = Request({}, 40);
  std::set<std::string> accounts = {"111111111111", "333333333333"};
  for (int i = 0; i < 198; ++i) accounts.insert("9000000" + std::to_string(10000 + i));
  for (const auto& a : accounts) request.add_account_ids(a);
  std::set<std::string> regions = {"us-east-1", "ap-south-1"};
  for (int i = 0; i < 8; ++i) regions.insert("xx-region-" + std::to_string(i));
  for (const auto& r : regions) request.add_regions(r);
  request.set_include_data_events(true);
  EXPECT_EQ(LookupAll(*engine_, request), fixture_->Expected({}, kMin, kMax, accounts, regions, true));
  auto with_attribute = request;
  auto* a = with_attribute.add_lookup_attributes();
  a->set_attribute_key("ReadOnly");
  a->set_attribute_value("false");
  EXPECT_EQ(LookupAll(*engine_, with_attribute),
            fixture_->Expected({{IndexKind::kReadOnly, "false"}}, kMin, kMax, accounts, regions, true));
}

TEST_F(OrganizationLookupTest, GlobalEventsAreFoundUnderTheHomeRegion) {
  auto request = Request({{"EventSource", "iam.amazonaws.com"}}, 1000);
  const auto everywhere = LookupAll(*engine_, request);
  ASSERT_FALSE(everywhere.empty());
  request.add_regions("us-east-1");
  EXPECT_EQ(LookupAll(*engine_, request), everywhere) << "all IAM events are homed in us-east-1";
  auto elsewhere = Request({{"EventSource", "iam.amazonaws.com"}}, 1000);
  elsewhere.add_regions("eu-west-1");
  EXPECT_TRUE(LookupAll(*engine_, elsewhere).empty());
}

TEST_F(OrganizationLookupTest, SeveralAttributesAreAnded) {
  // Every (EventName, Username) pair that occurs, plus account filters: oracle equality.
  std::set<std::pair<std::string, std::string>> pairs;
  for (const auto& [id, event] : fixture_->oracle()) {
    auto names = event.attributes.find(IndexKind::kEventName);
    auto users = event.attributes.find(IndexKind::kUsername);
    if (names != event.attributes.end() && users != event.attributes.end()) {
      pairs.emplace(*names->second.begin(), *users->second.begin());
    }
    if (pairs.size() >= 15) break;
  }
  ASSERT_GE(pairs.size(), 5u);
  for (const auto& [name, user] : pairs) {
    for (bool data : {false, true}) {
      auto request = Request({{"EventName", name}, {"Username", user}}, 3);
      request.set_include_data_events(data);
      EXPECT_EQ(LookupAll(*engine_, request),
                fixture_->Expected({{IndexKind::kEventName, name}, {IndexKind::kUsername, user}},
                                   kMin, kMax, {}, {}, data))
          << name << " / " << user;
      request.add_account_ids("111111111111");
      request.add_account_ids("333333333333");
      EXPECT_EQ(LookupAll(*engine_, request),
                fixture_->Expected({{IndexKind::kEventName, name}, {IndexKind::kUsername, user}},
                                   kMin, kMax, {"111111111111", "333333333333"}, {}, data));
    }
  }
  // Contradictory attributes: nothing.
  EXPECT_TRUE(LookupAll(*engine_, Request({{"ReadOnly", "true"}, {"ReadOnly", "false"}})).empty());
}

TEST_F(OrganizationLookupTest, ResourceAttributes) {
  std::string type, name;
  for (const auto& [id, event] : fixture_->oracle()) {
    auto types = event.attributes.find(IndexKind::kResourceType);
    auto names = event.attributes.find(IndexKind::kResourceName);
    if (types != event.attributes.end() && names != event.attributes.end()) {
      type = *types->second.begin();
      name = *names->second.begin();
      break;
    }
  }
  ASSERT_FALSE(type.empty()) << "the generator emits resources";
  for (bool data : {false, true}) {
    auto by_type = Request({{"ResourceType", type}}, 20);
    by_type.set_include_data_events(data);
    EXPECT_EQ(LookupAll(*engine_, by_type),
              fixture_->Expected({{IndexKind::kResourceType, type}}, kMin, kMax, {}, {}, data));
    auto by_name = Request({{"ResourceName", name}}, 20);
    by_name.set_include_data_events(data);
    EXPECT_EQ(LookupAll(*engine_, by_name),
              fixture_->Expected({{IndexKind::kResourceName, name}}, kMin, kMax, {}, {}, data));
  }
}

TEST_F(OrganizationLookupTest, PagedFilteredTimeWindowMatchesOracle) {
  const auto& any = fixture_->oracle().begin()->second;
  const int64_t end = any.time_us + 200'000'000;
  const int64_t start = any.time_us - 200'000'000;
  auto request = Request({}, 9);
  request.set_start_time_us(start);
  request.set_end_time_us(end);
  request.add_regions("us-east-1");
  request.add_regions("ap-south-1");
  request.set_include_data_events(true);
  EXPECT_EQ(LookupAll(*engine_, request),
            fixture_->Expected({}, start, end, {}, {"us-east-1", "ap-south-1"}, true));
}

}  // namespace
}  // namespace orgtrail::collector::querytest
