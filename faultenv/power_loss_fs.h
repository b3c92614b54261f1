// Power-loss simulation, the file-system half: a RocksDB FileSystem wrapper that passes every
// operation through to the default file system and tells a PowerLossJournal what a power cut
// would keep (files created, synced sizes, renames, links, deletions). See power_loss_journal.h
// for the model and ApplyPowerLoss.
//
// Test builds only: the daemons enable it through a hidden flag (--test-power-loss-journal=FILE);
// the journal must live outside the database directory. Thread-safe as the journal is.
#ifndef ORGTRAIL_FAULTENV_POWER_LOSS_FS_H_
#define ORGTRAIL_FAULTENV_POWER_LOSS_FS_H_

#include <memory>
#include <string>

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include "absl/status/statusor.h"
#include "faultenv/power_loss_journal.h"

namespace orgtrail::faultenv {

// An Env whose file system journals into *journal (which must outlive the Env). It wraps `base`
// (another test file system, e.g. one that fails syncs) or, if null, the default file system.
std::unique_ptr<rocksdb::Env> NewPowerLossEnv(PowerLossJournal* journal,
                                              std::shared_ptr<rocksdb::FileSystem> base = nullptr);

// Owns a journal and the Env over it: what a daemon keeps alive while its database is open.
struct PowerLossEnv {
  std::unique_ptr<PowerLossJournal> journal;
  std::unique_ptr<rocksdb::Env> env;
};
absl::StatusOr<std::unique_ptr<PowerLossEnv>> OpenPowerLossEnv(const std::string& journal_path,
                                                               std::shared_ptr<rocksdb::FileSystem> base = nullptr);

}  // namespace orgtrail::faultenv

#endif  // ORGTRAIL_FAULTENV_POWER_LOSS_FS_H_
