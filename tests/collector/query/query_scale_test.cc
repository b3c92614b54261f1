// Proportionality proof: on a store of 1,000,000 events, LookupEvents touches
// a number of keys proportional to its results, not to the store. Keys are
// counted twice, independently: the cursors' own RocksDB Seek/Next counts
// (LookupStats) and RocksDB's perf context (internal keys visited by every
// iterator and Get of the lookup).
//
// The store is written with the store's batch-commit API (synthetic small
// records, one synced WriteBatch per 20,000 events) so that it builds in
// well under a minute; ORGTRAIL_QUERY_SCALE_EVENTS overrides the size.
#include <chrono>
#include <cstdlib>

#include <gtest/gtest.h>
#include <rocksdb/perf_context.h>
#include <rocksdb/perf_level.h>

#include "collector/query/query_engine.h"
#include "collector/query/query_synthetic_load.h"
#include "collector/store/store.h"
#include "testutil/temp_dir.h"

namespace orgtrail::collector {
namespace {

uint64_t StoreSize() {
  const char* env = std::getenv("ORGTRAIL_QUERY_SCALE_EVENTS");
  if (env != nullptr && std::atoll(env) > 0) return static_cast<uint64_t>(std::atoll(env));
  return 1'000'000;
}

struct Measured {
  uint64_t results = 0;
  uint64_t pages = 0;
  uint64_t cursor_steps = 0;      // our Seek + Next calls
  uint64_t records_fetched = 0;   // Gets of records
  uint64_t rocksdb_keys = 0;      // perf context: internal keys visited (next + seek + skipped)
};

class QueryScaleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testutil::TempDir("orgtrail-query-scale");
    StoreOptions options;
    options.org = "example.org";
    options.write_buffer_bytes = 64ull << 20;
    auto store = EventStore::Open(dir_->Join("db"), options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = store->release();
    load_.events = StoreSize();
    const auto started = std::chrono::steady_clock::now();
    const Status written = WriteSyntheticEvents(store_, load_);
    ASSERT_TRUE(written.ok()) << written;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("[ scale    ] wrote %llu events in %.1f s (%.0f events/s, synced group commits)\n",
                static_cast<unsigned long long>(load_.events), seconds, load_.events / seconds);
    auto engine = QueryEngine::Create(store_);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = engine->release();
  }
  static void TearDownTestSuite() {
    delete engine_;
    delete store_;
    delete dir_;
  }

  // Runs the lookup to the end (all pages) and counts what it touched.
  static Measured Run(v1::LookupEventsRequest request, const char* label) {
    Measured m;
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
    rocksdb::get_perf_context()->Reset();
    while (true) {
      LookupStats stats;
      auto response = engine_->LookupEvents(request, &stats);
      EXPECT_TRUE(response.ok()) << response.status();
      if (!response.ok()) break;
      ++m.pages;
      m.results += response->events_size();
      m.cursor_steps += stats.cursor.steps();
      m.records_fetched += stats.records_fetched;
      if (response->next_token().empty()) break;
      request.set_next_token(response->next_token());
    }
    const auto* perf = rocksdb::get_perf_context();
    m.rocksdb_keys = perf->internal_key_skipped_count + perf->seek_on_memtable_count +
                     perf->next_on_memtable_count + perf->get_from_memtable_count +
                     perf->internal_delete_skipped_count;
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
    std::printf("[ scale    ] %-44s results=%6llu pages=%3llu cursor_steps=%6llu fetched=%6llu "
                "rocksdb_keys=%6llu (store %llu)\n",
                label, static_cast<unsigned long long>(m.results),
                static_cast<unsigned long long>(m.pages),
                static_cast<unsigned long long>(m.cursor_steps),
                static_cast<unsigned long long>(m.records_fetched),
                static_cast<unsigned long long>(m.rocksdb_keys),
                static_cast<unsigned long long>(load_.events));
    return m;
  }

  // Keys touched must be bounded by a small constant per result (plus a
  // constant per page and per partition), and far below the store size.
  static void ExpectProportional(const Measured& m, uint64_t per_result, uint64_t fixed) {
    const uint64_t bound = per_result * (m.results + m.pages) + fixed;
    EXPECT_LE(m.cursor_steps, bound);
    EXPECT_LE(m.records_fetched, m.results + m.pages);
    EXPECT_LE(m.rocksdb_keys, 4 * bound + 200) << "perf context agrees";
    EXPECT_LT(m.cursor_steps, load_.events / 50) << "never a scan";
  }

  static v1::LookupEventsRequest Attribute(const std::string& key, const std::string& value,
                                           int max_results) {
    v1::LookupEventsRequest request;
    auto* a = request.add_lookup_attributes();
    a->set_attribute_key(key);
    a->set_attribute_value(value);
    request.set_max_results(max_results);
    return request;
  }

  static void CheckStoreHoldsTheEvents();
  static void CheckEventIdLookupTouchesAHandfulOfKeys();
  static void CheckRareEventNameIsProportionalToItsResults();
  static void CheckCommonValuesFirstPageOnly();
  static void CheckTimeWindowsAreProportional();
  static void CheckAccountAndRegionFiltersUsePartitions();
  static void CheckAndOfTwoAttributesFollowsTheSmallerInput();
  static void CheckManagementLookupsNeverReadDataEvents();

  static testutil::TempDir* dir_;
  static EventStore* store_;
  static QueryEngine* engine_;
  static SyntheticLoadOptions load_;
};
testutil::TempDir* QueryScaleTest::dir_ = nullptr;
EventStore* QueryScaleTest::store_ = nullptr;
QueryEngine* QueryScaleTest::engine_ = nullptr;
SyntheticLoadOptions QueryScaleTest::load_;

void QueryScaleTest::CheckStoreHoldsTheEvents() {
  EXPECT_EQ(store_->events_stored(), load_.events);
}

void QueryScaleTest::CheckEventIdLookupTouchesAHandfulOfKeys() {
  const uint64_t i = load_.events / 2 + 12345;
  v1::LookupEventsRequest request = Attribute("EventId", SyntheticEventId(i), 50);
  request.set_include_data_events(true);
  const Measured m = Run(request, "EventId (1 result)");
  EXPECT_EQ(m.results, 1u);
  EXPECT_LE(m.cursor_steps, 3u);
  EXPECT_LE(m.rocksdb_keys, 20u);
}

void QueryScaleTest::CheckRareEventNameIsProportionalToItsResults() {
  // Every rare_every-th event; CloudTrail's page size.
  const Measured m = Run(Attribute("EventName", "Rare", 50), "EventName=Rare");
  EXPECT_EQ(m.results, load_.events / load_.rare_every);
  ExpectProportional(m, 2, 4);
}

void QueryScaleTest::CheckCommonValuesFirstPageOnly() {
  // A value with 1/1000 of the store, and one with 1/3: first page of 50 each.
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"Username", "user-7"}, {"ReadOnly", "true"}, {"EventSource", "svc3.amazonaws.com"},
           {"AccessKeyId", SyntheticAccessKeyId(42)}, {"ResourceType", "AWS::S3::Bucket"},
           {"ResourceName", "arn:aws:s3:::bucket-70"}}) {
    v1::LookupEventsRequest request = Attribute(key, value, 50);
    LookupStats stats;
    auto response = engine_->LookupEvents(request, &stats);
    ASSERT_TRUE(response.ok()) << response.status();
    const uint64_t results = response->events_size();
    std::printf("[ scale    ] first page %s=%s: results=%llu cursor_steps=%llu fetched=%llu\n",
                key.c_str(), value.c_str(), static_cast<unsigned long long>(results),
                static_cast<unsigned long long>(stats.cursor.steps()),
                static_cast<unsigned long long>(stats.records_fetched));
    EXPECT_GT(results, 0u) << key;
    // Data events (1 in 10) are fetched and skipped: at most a few more than the page.
    EXPECT_LE(stats.cursor.steps(), 3 * (results + 1)) << key;
    EXPECT_LE(stats.records_fetched, 3 * (results + 1)) << key;
  }
}

void QueryScaleTest::CheckTimeWindowsAreProportional() {
  // One second in the middle of the store: 1000 events at 1 ms spacing.
  const int64_t middle = load_.start_time_us + static_cast<int64_t>(load_.events / 2) * load_.interval_us;
  v1::LookupEventsRequest request;
  request.set_start_time_us(middle);
  request.set_end_time_us(middle + 999'999);
  request.set_max_results(1000);
  request.set_include_data_events(true);
  const Measured all = Run(request, "1 s window, all pages");
  EXPECT_EQ(all.results, 1000u);
  ExpectProportional(all, 2, 4);

  request.set_max_results(50);
  request.set_include_data_events(false);
  LookupStats stats;
  auto page = engine_->LookupEvents(request, &stats);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->events_size(), 50);
  EXPECT_LE(stats.cursor.steps(), 3u * 51);

  // No filter at all: the newest page of the whole organization.
  v1::LookupEventsRequest newest;
  LookupStats newest_stats;
  auto newest_page = engine_->LookupEvents(newest, &newest_stats);
  ASSERT_TRUE(newest_page.ok());
  EXPECT_EQ(newest_page->events_size(), 50);
  EXPECT_FALSE(newest_page->next_token().empty());
  EXPECT_LE(newest_stats.cursor.steps(), 3u * 51);
}

void QueryScaleTest::CheckAccountAndRegionFiltersUsePartitions() {
  // Rare events: i % 100000 == 7 -> account index 7, region index (i/10)%4.
  v1::LookupEventsRequest request = Attribute("EventName", "Rare", 50);
  request.add_account_ids(kSyntheticAccounts[7]);
  const Measured m = Run(request, "EventName=Rare AND account");
  EXPECT_EQ(m.results, load_.events / load_.rare_every);
  // + one partition-discovery seek per region and one seek per partition cursor.
  ExpectProportional(m, 5, 4 * 4 + 8);

  v1::LookupEventsRequest none = Attribute("EventName", "Rare", 50);
  none.add_account_ids(kSyntheticAccounts[3]);
  const Measured empty = Run(none, "EventName=Rare AND other account");
  EXPECT_EQ(empty.results, 0u);
  // Each Rare entry makes the partition union seek its 4 partitions once.
  EXPECT_LE(empty.cursor_steps, 5 * (load_.events / load_.rare_every) + 24);

  v1::LookupEventsRequest partition;
  partition.add_account_ids(kSyntheticAccounts[2]);
  partition.add_regions(kSyntheticRegions[1]);
  partition.set_max_results(50);
  LookupStats stats;
  auto page = engine_->LookupEvents(partition, &stats);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->events_size(), 50);
  EXPECT_LE(stats.cursor.steps(), 3u * 51);
}

void QueryScaleTest::CheckAndOfTwoAttributesFollowsTheSmallerInput() {
  // user-7 (1/1000 of the store) AND Name7 (1/50): every user-7 event is a Name7 event.
  v1::LookupEventsRequest both = Attribute("Username", "user-7", 1000);
  auto* name = both.add_lookup_attributes();
  name->set_attribute_key("EventName");
  name->set_attribute_value("Name7");
  both.set_include_data_events(true);
  const Measured m = Run(both, "Username AND EventName (1/1000 of store)");
  // (the rare events among them are named Rare, not Name7)
  EXPECT_EQ(m.results, load_.events / 1000 - load_.events / load_.rare_every);
  ExpectProportional(m, 4, 8);

  // user-7 AND svc3: disjoint. A leapfrog join costs about twice the smaller
  // input (documented bound: intersections cost O(smaller input), not O(store)).
  v1::LookupEventsRequest disjoint = Attribute("Username", "user-7", 50);
  auto* source = disjoint.add_lookup_attributes();
  source->set_attribute_key("EventSource");
  source->set_attribute_value("svc3.amazonaws.com");
  const Measured d = Run(disjoint, "Username AND EventSource (disjoint)");
  EXPECT_EQ(d.results, 0u);
  EXPECT_LE(d.cursor_steps, 2 * (load_.events / 1000) + 10);
}

void QueryScaleTest::CheckManagementLookupsNeverReadDataEvents() {
  // Name5 is a data-event name only (event i is a data event when i % 10 == 5, and named
  // Name<i % 50>): its index entries are all under the other-categories kind byte.
  const Measured none = Run(Attribute("EventName", "Name5", 50), "EventName=Name5 (data only), management");
  EXPECT_EQ(none.results, 0u);
  EXPECT_EQ(none.pages, 1u) << "no empty pages to walk through";
  EXPECT_EQ(none.records_fetched, 0u);
  EXPECT_LE(none.cursor_steps, 2u);

  v1::LookupEventsRequest with_data = Attribute("EventName", "Name5", 1000);
  with_data.set_include_data_events(true);
  const Measured all = Run(with_data, "EventName=Name5 (data only), with data events");
  EXPECT_EQ(all.results, load_.events / 50);
  EXPECT_LE(all.records_fetched, all.results + all.pages);
  // Two cursors (management and other categories) per page: a seek each, then a step per entry.
  EXPECT_LE(all.cursor_steps, all.results + 3 * all.pages + 4);

  // The newest page of the organization: its management events, no data event fetched.
  v1::LookupEventsRequest newest;
  newest.set_max_results(50);
  LookupStats stats;
  auto page = engine_->LookupEvents(newest, &stats);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->events_size(), 50);
  EXPECT_EQ(stats.records_skipped, 0u);
  EXPECT_LE(stats.records_fetched, 51u);
}

// One test (one process under ctest) so the store is built once.
TEST_F(QueryScaleTest, LookupTouchesKeysProportionalToResultsNotToTheStore) {
  {
    SCOPED_TRACE("StoreHoldsTheEvents");
    CheckStoreHoldsTheEvents();
  }
  {
    SCOPED_TRACE("EventIdLookupTouchesAHandfulOfKeys");
    CheckEventIdLookupTouchesAHandfulOfKeys();
  }
  {
    SCOPED_TRACE("RareEventNameIsProportionalToItsResults");
    CheckRareEventNameIsProportionalToItsResults();
  }
  {
    SCOPED_TRACE("CommonValuesFirstPageOnly");
    CheckCommonValuesFirstPageOnly();
  }
  {
    SCOPED_TRACE("TimeWindowsAreProportional");
    CheckTimeWindowsAreProportional();
  }
  {
    SCOPED_TRACE("AccountAndRegionFiltersUsePartitions");
    CheckAccountAndRegionFiltersUsePartitions();
  }
  {
    SCOPED_TRACE("AndOfTwoAttributesFollowsTheSmallerInput");
    CheckAndOfTwoAttributesFollowsTheSmallerInput();
  }
  {
    SCOPED_TRACE("ManagementLookupsNeverReadDataEvents");
    CheckManagementLookupsNeverReadDataEvents();
  }
}

}  // namespace
}  // namespace orgtrail::collector
