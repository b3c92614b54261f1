// HookedFileSystem: the shared shape of faultenv's test file systems. A RocksDB FileSystemWrapper
// whose writable files (created, reopened or reused) are handed to one hook, Wrap(), and whose
// opens are reported to OnOpened(), so each fault model writes only what differs.
//
// Thread safety: as the wrapped file system; hooks may be called from any RocksDB thread.
#ifndef ORGTRAIL_FAULTENV_HOOKED_FILE_SYSTEM_H_
#define ORGTRAIL_FAULTENV_HOOKED_FILE_SYSTEM_H_

#include <memory>
#include <string>

#include <rocksdb/file_system.h>

namespace orgtrail::faultenv {

class HookedFileSystem : public rocksdb::FileSystemWrapper {
 public:
  using FileSystemWrapper::FileSystemWrapper;

  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& fname, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;

 protected:
  enum class OpenKind { kCreated, kReopened, kReused };
  // After a successful open: `size` is the file's size when reopened (0 otherwise), `replaced`
  // the old name of a reused file ("" otherwise).
  virtual void OnOpened(const std::string& /*fname*/, OpenKind /*kind*/, uint64_t /*size*/,
                        const std::string& /*replaced*/) {}
  // The file RocksDB gets for `fname` (typically an FSWritableFileOwnerWrapper over `file`).
  virtual std::unique_ptr<rocksdb::FSWritableFile> Wrap(const std::string& fname,
                                                        std::unique_ptr<rocksdb::FSWritableFile> file) = 0;
};

}  // namespace orgtrail::faultenv

#endif  // ORGTRAIL_FAULTENV_HOOKED_FILE_SYSTEM_H_
