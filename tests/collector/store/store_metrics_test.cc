#include "collector/store/store_metrics.h"

#include <gtest/gtest.h>

#include <rocksdb/db.h>

#include <chrono>
#include <string>

#include "collector/store/store_test_support.h"
#include "orgtrail/common/time_util.h"
#include "testutil/net.h"
#include "testutil/temp_dir.h"

namespace orgtrail::collector {
namespace {

using storetest::MakeBatch;
using storetest::MakeEvent;
using storetest::Spec;

// The engine's gauges read RocksDB for real: the SST size grows from 0 once a flush wrote a file,
// the memtables shrink with it, and the stall counters are present (0 on an idle store).
TEST(StoreMetricsTest, GaugesFollowTheEngine) {
  testutil::TempDir dir;
  StoreOptions options;
  options.org = "example.org";
  auto opened = EventStore::Open(dir.Join("db"), options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EventStore* store = opened->get();
  MetricsRegistry metrics;
  RegisterStoreEngineMetrics(store, &metrics);
  auto value = [&](const std::string& series) { return testutil::PrometheusValue(metrics.RenderPrometheus(), series); };
  EXPECT_EQ(value("orgtrail_store_sst_bytes"), 0);
  EXPECT_EQ(value("orgtrail_store_write_stopped"), 0);
  EXPECT_EQ(value("orgtrail_store_stalls_total{kind=\"stop\"}"), 0);
  EXPECT_EQ(value("orgtrail_store_stalls_total{kind=\"slowdown\"}"), 0);
  EXPECT_GE(value("orgtrail_store_pending_compaction_bytes"), 0);
  EXPECT_EQ(value("orgtrail_store_table_readers_bytes{cf=\"events\"}"), 0);

  const int64_t now = NowMicros();
  IngestBatch b = MakeBatch("agent", 1, {MakeEvent(Spec("e-1", now)), MakeEvent(Spec("e-2", now))});
  ASSERT_TRUE(store->CommitGroup({&b}).ok());
  ASSERT_TRUE(store->WaitForIndex(std::chrono::seconds(30)));  // the idx entries are written
  EXPECT_EQ(value("orgtrail_store_index_lag_events"), 0);
  EXPECT_EQ(value("orgtrail_store_index_rebuilt_events_total"), 0);
  EXPECT_EQ(value("orgtrail_store_index_queue_bytes"), 0);
  const double memtables_before = value("orgtrail_store_memtable_bytes");
  EXPECT_GT(memtables_before, 0);
  for (auto cf : {ColumnFamily::kEvents, ColumnFamily::kIndex}) {
    ASSERT_TRUE(store->db()->Flush(rocksdb::FlushOptions(), store->handle(cf)).ok());
  }
  EXPECT_GT(value("orgtrail_store_sst_bytes"), 0);
  // The flushed files' block indexes (and, for the records, Bloom filters) are held open.
  EXPECT_GT(value("orgtrail_store_table_readers_bytes{cf=\"events\"}"), 0);
  EXPECT_GT(value("orgtrail_store_table_readers_bytes{cf=\"idx\"}"), 0);
  EXPECT_EQ(value("orgtrail_store_table_readers_bytes{cf=\"refused\"}"), 0);
  EXPECT_EQ(value("orgtrail_store_running_flushes"), 0);
}

}  // namespace
}  // namespace orgtrail::collector
