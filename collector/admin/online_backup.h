// Online backup of a running collector: a RocksDB checkpoint of the live store (memtables
// flushed, SST files hard-linked where the file system allows) into <data_dir>/backups/<name>/db,
// plus a copy of the rest of the data directory (digest and checkpoint signing keys, the export,
// the alarm outbox; never the backups folder itself). The result is the layout
// `orgtrailctl backup verify` and `backup restore` read. Written into a hidden staging folder,
// synced, then renamed into place: a crash leaves no half backup under the name.
// Errors: INVALID_ARGUMENT for a bad name, ALREADY_EXISTS when the name is taken, UNAVAILABLE
// for I/O failures. Thread-safe with respect to the store (RocksDB checkpoints are); two
// backups with the same name at once: one fails.
#ifndef ORGTRAIL_COLLECTOR_ADMIN_ONLINE_BACKUP_H_
#define ORGTRAIL_COLLECTOR_ADMIN_ONLINE_BACKUP_H_

#include <cstdint>
#include <string>

#include "collector/store/store.h"
#include "orgtrail/common/status.h"

namespace orgtrail::collector {

struct OnlineBackup {
  std::string path;
  uint64_t sequence = 0;
  uint64_t bytes = 0;
};

StatusOr<OnlineBackup> CreateOnlineBackup(EventStore* store, const std::string& data_dir, const std::string& name);

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_ADMIN_ONLINE_BACKUP_H_
