#include "collector/store/store_metrics.h"

#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <rocksdb/db.h>

namespace orgtrail::collector {
namespace {

using Samples = std::vector<std::pair<MetricLabels, double>>;

double Aggregated(rocksdb::DB* db, const std::string& property) {
  uint64_t value = 0;
  return db->GetAggregatedIntProperty(property, &value) ? static_cast<double>(value) : 0;
}

double Stalls(const EventStore* store, const char* key) {
  double total = 0;
  for (int cf = 0; cf < kColumnFamilyCount; ++cf) {
    std::map<std::string, std::string> stats;
    if (!store->db()->GetMapProperty(store->handle(static_cast<ColumnFamily>(cf)), rocksdb::DB::Properties::kCFStats,
                                     &stats)) {
      continue;
    }
    auto it = stats.find(key);
    if (it != stats.end()) total += std::strtod(it->second.c_str(), nullptr);
  }
  return total;
}

void AddProperty(MetricsRegistry* metrics, const EventStore* store, const char* name, const char* help,
                 std::string property) {
  metrics->AddGaugeCallback(name, help, [store, property = std::move(property)] {
    return Samples{{{}, Aggregated(store->db(), property)}};
  });
}

}  // namespace

void RegisterStoreEngineMetrics(const EventStore* store, MetricsRegistry* metrics) {
  AddProperty(metrics, store, "orgtrail_store_sst_bytes", "Bytes of the store's SST files",
              rocksdb::DB::Properties::kTotalSstFilesSize);
  AddProperty(metrics, store, "orgtrail_store_memtable_bytes", "Bytes of the store's memtables (active and immutable)",
              rocksdb::DB::Properties::kCurSizeAllMemTables);
  AddProperty(metrics, store, "orgtrail_store_pending_compaction_bytes",
              "Estimated bytes compaction still has to rewrite", rocksdb::DB::Properties::kEstimatePendingCompactionBytes);
  AddProperty(metrics, store, "orgtrail_store_running_compactions", "Compactions running now",
              rocksdb::DB::Properties::kNumRunningCompactions);
  AddProperty(metrics, store, "orgtrail_store_running_flushes", "Memtable flushes running now",
              rocksdb::DB::Properties::kNumRunningFlushes);
  metrics->AddGaugeCallback(
      "orgtrail_store_table_readers_bytes",
      "Memory of the open SST files' block indexes and Bloom filters, by column family (grows with the store)",
      [store] {
        Samples samples;
        for (int i = 0; i < kColumnFamilyCount; ++i) {
          const auto cf = static_cast<ColumnFamily>(i);
          samples.push_back({{{"cf", std::string(ColumnFamilyName(cf))}}, static_cast<double>(TableReaderBytes(store, cf))});
        }
        return samples;
      });
  metrics->AddGaugeCallback("orgtrail_store_index_lag_events",
                            "Committed events the indexer has not indexed yet (not visible to lookups)", [store] {
                              const uint64_t through = store->index_stats().indexed_through;
                              const uint64_t last = store->last_commit_index();
                              return Samples{{{}, static_cast<double>(last > through ? last - through : 0)}};
                            });
  metrics->AddGaugeCallback(
      "orgtrail_store_index_rebuilt_events_total",
      "Events indexed from their stored records (after a restart, or when the indexer's queue was full)", [store] {
        return Samples{{{}, static_cast<double>(store->index_stats().events_rebuilt)}};
      });
  metrics->AddGaugeCallback("orgtrail_store_index_queue_bytes", "Index entries waiting in memory for the indexer",
                            [store] { return Samples{{{}, static_cast<double>(store->index_stats().queue_bytes)}}; });
  metrics->AddGaugeCallback("orgtrail_store_write_stopped", "1 while RocksDB stops writes (a write stall)", [store] {
    uint64_t stopped = 0;
    store->db()->GetIntProperty(rocksdb::DB::Properties::kIsWriteStopped, &stopped);
    return Samples{{{}, static_cast<double>(stopped)}};
  });
  metrics->AddGaugeCallback("orgtrail_store_delayed_write_rate_bytes",
                            "The write rate RocksDB slows writes to (bytes/s; 0 when writes are not slowed)", [store] {
                              uint64_t rate = 0;
                              store->db()->GetIntProperty(rocksdb::DB::Properties::kActualDelayedWriteRate, &rate);
                              return Samples{{{}, static_cast<double>(rate)}};
                            });
  metrics->AddGaugeCallback("orgtrail_store_stalls_total", "Write stops and slowdowns RocksDB imposed so far", [store] {
    return Samples{{{{"kind", "stop"}}, Stalls(store, "io_stalls.total_stop")},
                   {{{"kind", "slowdown"}}, Stalls(store, "io_stalls.total_slowdown")}};
  });
}

uint64_t TableReaderBytes(const EventStore* store, ColumnFamily cf) {
  uint64_t bytes = 0;
  store->db()->GetIntProperty(store->handle(cf), rocksdb::DB::Properties::kEstimateTableReadersMem, &bytes);
  return bytes;
}

}  // namespace orgtrail::collector
