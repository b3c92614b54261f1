// The store engine's health as Prometheus gauges, read from RocksDB's
// properties on every scrape (summed over the column families):
//   orgtrail_store_sst_bytes                   SST files on disk (rocksdb.total-sst-files-size)
//   orgtrail_store_memtable_bytes              memtables, active and immutable
//   orgtrail_store_table_readers_bytes{cf}     block indexes and Bloom filters of the open SST files
//   orgtrail_store_pending_compaction_bytes    estimate of bytes compaction still has to rewrite
//   orgtrail_store_running_compactions / _running_flushes
//   orgtrail_store_write_stopped               1 while RocksDB stops writes (a stall)
//   orgtrail_store_delayed_write_rate_bytes    the write rate RocksDB slows to (0 = not slowed)
//   orgtrail_store_stalls_total{kind}          stops and slowdowns so far (io_stalls of cfstats)
// The store must outlive the registry's scrapes. Thread-safe (RocksDB's property reads are).
#ifndef ORGTRAIL_COLLECTOR_STORE_STORE_METRICS_H_
#define ORGTRAIL_COLLECTOR_STORE_STORE_METRICS_H_

#include "collector/store/store.h"
#include "orgtrail/common/metrics.h"

namespace orgtrail::collector {

void RegisterStoreEngineMetrics(const EventStore* store, MetricsRegistry* metrics);

// Bytes of one column family's open SST files kept in memory: block indexes and Bloom filters
// (rocksdb.estimate-table-readers-mem; 0 when unknown).
uint64_t TableReaderBytes(const EventStore* store, ColumnFamily cf);

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_STORE_STORE_METRICS_H_
