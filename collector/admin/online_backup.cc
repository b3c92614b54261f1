#include "collector/admin/online_backup.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include <rocksdb/utilities/checkpoint.h>

namespace orgtrail::collector {
namespace {

namespace fs = std::filesystem;

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64 || name[0] == '.') return false;
  for (unsigned char c : name) {
    if (!std::isalnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

// Copies `from` into `to` (created), every file fsynced, then the directories.
Status CopyTreeSynced(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::create_directories(to, ec);
  if (ec) return absl::UnavailableError("creating " + to.string() + ": " + ec.message());
  for (const auto& entry : fs::directory_iterator(from, ec)) {
    const fs::path target = to / entry.path().filename();
    if (entry.is_directory(ec)) {
      ORGTRAIL_RETURN_IF_ERROR(CopyTreeSynced(entry.path(), target));
    } else if (entry.is_regular_file(ec)) {
      fs::copy_file(entry.path(), target, fs::copy_options::overwrite_existing, ec);
      if (ec) return absl::UnavailableError("copying " + entry.path().string() + ": " + ec.message());
    }
  }
  if (ec) return absl::UnavailableError("reading " + from.string() + ": " + ec.message());
  return absl::OkStatus();
}

Status SyncTree(const fs::path& root) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const int fd = ::open(it->path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return absl::UnavailableError("open " + it->path().string() + ": " + std::strerror(errno));
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) return absl::UnavailableError("fsync " + it->path().string() + ": " + std::strerror(errno));
  }
  const int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return absl::UnavailableError("open " + root.string());
  ::fsync(fd);
  ::close(fd);
  return ec ? absl::UnavailableError("walking " + root.string() + ": " + ec.message()) : absl::OkStatus();
}

uint64_t TreeBytes(const fs::path& root) {
  uint64_t bytes = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec)) bytes += it->file_size(ec);
  }
  return bytes;
}

}  // namespace

StatusOr<OnlineBackup> CreateOnlineBackup(EventStore* store, const std::string& data_dir, const std::string& name) {
  if (!ValidName(name)) {
    return absl::InvalidArgumentError("backup name: expected 1-64 of [A-Za-z0-9._-], not starting with '.', got '" +
                                      name.substr(0, 80) + "'");
  }
  std::error_code ec;
  const fs::path backups = fs::path(data_dir) / "backups";
  fs::create_directories(backups, ec);
  if (ec) return absl::UnavailableError("creating " + backups.string() + ": " + ec.message());
  const fs::path target = backups / name;
  if (fs::exists(target, ec)) return absl::AlreadyExistsError("backup '" + name + "' already exists at " + target.string());
  const fs::path staging = backups / ("." + name + ".tmp");
  fs::remove_all(staging, ec);
  fs::create_directories(staging, ec);
  if (ec) return absl::UnavailableError("creating " + staging.string() + ": " + ec.message());
  auto fail = [&](Status status) {
    fs::remove_all(staging, ec);
    return status;
  };
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(store->db(), &raw);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  OnlineBackup result;
  // Memtables flushed first: every record is in an SST file whose checksums `backup verify` checks.
  if (s.ok()) s = checkpoint->CreateCheckpoint((staging / "db").string(), /*log_size_for_flush=*/0, &result.sequence);
  if (!s.ok()) return fail(absl::UnavailableError("checkpoint failed: " + s.ToString()));
  for (const auto& entry : fs::directory_iterator(data_dir, ec)) {
    const std::string file = entry.path().filename().string();
    if (file == "db" || file == "backups") continue;
    if (entry.is_directory(ec)) {
      if (Status copied = CopyTreeSynced(entry.path(), staging / file); !copied.ok()) return fail(copied);
    } else if (entry.is_regular_file(ec)) {
      fs::copy_file(entry.path(), staging / file, ec);
      if (ec) return fail(absl::UnavailableError("copying " + entry.path().string() + ": " + ec.message()));
    }
  }
  if (Status synced = SyncTree(staging); !synced.ok()) return fail(synced);
  fs::rename(staging, target, ec);
  if (ec) return fail(absl::UnavailableError("renaming " + staging.string() + ": " + ec.message()));
  const int fd = ::open(backups.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  result.path = target.string();
  result.bytes = TreeBytes(target);
  return result;
}

}  // namespace orgtrail::collector
