#include "faultenv/hooked_file_system.h"

namespace orgtrail::faultenv {

rocksdb::IOStatus HookedFileSystem::NewWritableFile(const std::string& fname, const rocksdb::FileOptions& options,
                                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                                    rocksdb::IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->NewWritableFile(fname, options, &file, dbg);
  if (!s.ok()) return s;
  OnOpened(fname, OpenKind::kCreated, 0, "");
  *result = Wrap(fname, std::move(file));
  return s;
}

rocksdb::IOStatus HookedFileSystem::ReopenWritableFile(const std::string& fname, const rocksdb::FileOptions& options,
                                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                                       rocksdb::IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->ReopenWritableFile(fname, options, &file, dbg);
  if (!s.ok()) return s;
  OnOpened(fname, OpenKind::kReopened, file->GetFileSize(rocksdb::IOOptions(), dbg), "");
  *result = Wrap(fname, std::move(file));
  return s;
}

rocksdb::IOStatus HookedFileSystem::ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                                      const rocksdb::FileOptions& options,
                                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                                      rocksdb::IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->ReuseWritableFile(fname, old_fname, options, &file, dbg);
  if (!s.ok()) return s;
  OnOpened(fname, OpenKind::kReused, 0, old_fname);
  *result = Wrap(fname, std::move(file));
  return s;
}

}  // namespace orgtrail::faultenv
