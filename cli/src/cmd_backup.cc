// orgtrailctl backup: back up and restore the collector's RocksDB store.
//
//   backup online  --name N [connection]    the running collector writes a backup of itself
//                                           to <its data dir>/backups/N (Admin CreateBackup)
//   backup create  --data-dir D --out B     RocksDB checkpoint of D's store into B,
//                                           plus a copy of the rest of D (keys, export)
//   backup verify  --dir B                  open read-only, verify every block checksum
//   backup restore --from B --data-dir D    copy B into a new (absent or empty) D
//
// `create` opens the store itself, so the collector must be stopped first
// (RocksDB's LOCK file says so otherwise). That is safe: agents spool what
// they capture meanwhile and resend from the collector's high-water mark.
// A checkpoint is a complete, openable RocksDB directory (memtables flushed,
// then hard links to the immutable SST files where possible, plus copies of
// the MANIFEST and OPTIONS).
// The store's column families are discovered, never assumed.
// Exit codes: 0 done, 1 failure while running (I/O, corruption), 2 usage
// error (the message names the flag).
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/utilities/checkpoint.h>

#include "command_util.h"
#include "connection.h"
#include "orgtrail/common/config.h"
#include "orgtrail/common/status.h"
#include "orgtrail/v1/admin.grpc.pb.h"

namespace orgtrail::cli {
namespace {

namespace po = boost::program_options;
namespace fs = std::filesystem;


// An open store with all its column families; closes them in order.
class OpenStore {
 public:
  ~OpenStore() {
    for (auto* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
    if (db_) db_->Close();
  }
  rocksdb::DB* db() const { return db_.get(); }
  const std::vector<rocksdb::ColumnFamilyHandle*>& handles() const { return handles_; }

  // flag: the option that named `path`, for error messages.
  static StatusOr<std::unique_ptr<OpenStore>> Open(const std::string& path, const std::string& flag,
                                                   bool read_only) {
    if (!fs::is_directory(path)) {
      return absl::InvalidArgumentError(flag + ": '" + path + "' is not a directory");
    }
    rocksdb::DBOptions db_options;
    db_options.create_if_missing = false;
    db_options.info_log_level = rocksdb::InfoLogLevel::ERROR_LEVEL;
    std::vector<std::string> names;
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(db_options, path, &names);
    if (!s.ok()) {
      return absl::InvalidArgumentError(flag + ": '" + path + "' holds no RocksDB store (" + s.ToString() + ")");
    }
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto& name : names) {
      rocksdb::ColumnFamilyOptions cf_options;
      cf_options.disable_auto_compactions = true;  // touch the store as little as possible
      descriptors.emplace_back(name, cf_options);
    }
    auto store = std::unique_ptr<OpenStore>(new OpenStore());
    rocksdb::DB* raw = nullptr;
    s = read_only ? rocksdb::DB::OpenForReadOnly(db_options, path, descriptors, &store->handles_, &raw)
                  : rocksdb::DB::Open(db_options, path, descriptors, &store->handles_, &raw);
    if (!s.ok()) {
      if (s.ToString().find("lock") != std::string::npos || s.ToString().find("LOCK") != std::string::npos) {
        return absl::FailedPreconditionError(flag + ": the store at '" + path +
                                             "' is in use; stop the collector first (" + s.ToString() + ")");
      }
      return absl::DataLossError(flag + ": cannot open the store at '" + path + "': " + s.ToString());
    }
    store->db_.reset(raw);
    return store;
  }

 private:
  OpenStore() = default;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

// The RocksDB store of a collector data directory: <dir>/db (the
// collector's layout), or <dir> itself when it is a bare store.
std::string StoreDirOf(const std::string& dir) {
  std::error_code ec;
  if (fs::exists(dir + "/db/CURRENT", ec)) return dir + "/db";
  return dir;
}

Status Require(const po::variables_map& values, const char* name) {
  if (FlagValue(values, name).empty()) return absl::InvalidArgumentError(std::string("--") + name + ": is required");
  return absl::OkStatus();
}

uint64_t DirectoryBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) {
    if (entry.is_regular_file(ec)) total += entry.file_size(ec);
  }
  return total;
}

void PrintColumnFamilies(const OpenStore& store) {
  for (auto* handle : store.handles()) {
    uint64_t keys = 0;
    store.db()->GetIntProperty(handle, "rocksdb.estimate-num-keys", &keys);
    std::printf("  column family %-24s ~%llu keys\n", handle->GetName().c_str(),
                static_cast<unsigned long long>(keys));
  }
}

Status FsyncPath(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return absl::UnavailableError("open '" + path + "' for fsync failed");
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return absl::UnavailableError("fsync '" + path + "' failed");
  return absl::OkStatus();
}

// ---- subcommands --------------------------------------------------------

Status CopyTree(const std::string& from, const std::string& to);

// Checkpoint of the store plus a copy of everything else in the data
// directory (signing keys, exported files), into `out`.
Status CreateBackup(const std::string& data_dir, const std::string& out) {
  const std::string store_dir = StoreDirOf(data_dir);
  const bool collector_layout = store_dir != data_dir;
  auto store = OpenStore::Open(store_dir, "--data-dir", /*read_only=*/false);
  if (!store.ok()) return store.status();
  const std::string checkpoint_dir = collector_layout ? out + "/db" : out;
  std::error_code ec;
  if (collector_layout) {
    fs::create_directory(out, ec);
    if (ec) return absl::UnavailableError("creating '" + out + "': " + ec.message());
  }
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create((*store)->db(), &raw);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  uint64_t sequence = 0;
  // Flush first, so every record is in an SST file whose block checksums
  // `backup verify` checks (a damaged WAL tail would be silently dropped by
  // point-in-time recovery).
  if (s.ok()) s = checkpoint->CreateCheckpoint(checkpoint_dir, /*log_size_for_flush=*/0, &sequence);
  if (!s.ok()) return absl::UnavailableError("checkpoint into '" + checkpoint_dir + "' failed: " + s.ToString());
  if (collector_layout) {
    for (const auto& entry : fs::directory_iterator(data_dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (name == "db") continue;
      const std::string target = out + "/" + name;
      if (entry.is_directory()) {
        ORGTRAIL_RETURN_IF_ERROR(CopyTree(entry.path().string(), target));
      } else if (entry.is_regular_file()) {
        fs::copy_file(entry.path(), target, ec);
        if (ec) return absl::UnavailableError("copying '" + entry.path().string() + "': " + ec.message());
        ORGTRAIL_RETURN_IF_ERROR(FsyncPath(target, false));
      }
    }
    ORGTRAIL_RETURN_IF_ERROR(FsyncPath(out, true));
  }
  ORGTRAIL_RETURN_IF_ERROR(FsyncPath(fs::path(out).parent_path().string(), true));
  std::printf("checkpoint of %s written to %s\n  sequence number %llu, %llu bytes\n", data_dir.c_str(),
              out.c_str(), static_cast<unsigned long long>(sequence),
              static_cast<unsigned long long>(DirectoryBytes(out)));
  PrintColumnFamilies(**store);
  return absl::OkStatus();
}

Status Create(const po::variables_map& values) {
  ORGTRAIL_RETURN_IF_ERROR(Require(values, "data-dir"));
  ORGTRAIL_RETURN_IF_ERROR(Require(values, "out"));
  const std::string data_dir = FlagValue(values, "data-dir");
  const std::string out = fs::absolute(FlagValue(values, "out")).lexically_normal().string();
  std::error_code ec;
  if (fs::exists(out, ec)) return absl::InvalidArgumentError("--out: '" + out + "' already exists");
  if (!fs::is_directory(fs::path(out).parent_path(), ec)) {
    return absl::InvalidArgumentError("--out: the parent directory of '" + out + "' does not exist");
  }
  Status status = CreateBackup(data_dir, out);
  if (!status.ok()) fs::remove_all(out, ec);  // never leave half a backup
  return status;
}

Status VerifyStore(const std::string& dir, const std::string& flag) {
  auto store = OpenStore::Open(dir, flag, /*read_only=*/true);
  if (!store.ok()) return store.status();
  rocksdb::Status s = (*store)->db()->VerifyChecksum();
  if (!s.ok()) return absl::DataLossError("'" + dir + "' is corrupt: " + s.ToString());
  std::printf("%s: every block checksum verified\n", dir.c_str());
  PrintColumnFamilies(**store);
  return absl::OkStatus();
}

Status Verify(const po::variables_map& values) {
  ORGTRAIL_RETURN_IF_ERROR(Require(values, "dir"));
  return VerifyStore(StoreDirOf(FlagValue(values, "dir")), "--dir");
}

Status CopyTree(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::create_directories(to, ec);
  if (ec) return absl::UnavailableError("creating '" + to + "': " + ec.message());
  for (const auto& entry : fs::directory_iterator(from, ec)) {
    const std::string target = to + "/" + entry.path().filename().string();
    if (entry.is_directory()) {
      ORGTRAIL_RETURN_IF_ERROR(CopyTree(entry.path().string(), target));
      continue;
    }
    fs::copy_file(entry.path(), target, fs::copy_options::none, ec);
    if (ec) return absl::UnavailableError("copying '" + entry.path().string() + "': " + ec.message());
    ORGTRAIL_RETURN_IF_ERROR(FsyncPath(target, false));
  }
  if (ec) return absl::UnavailableError("reading '" + from + "': " + ec.message());
  return FsyncPath(to, true);
}

Status Restore(const po::variables_map& values) {
  ORGTRAIL_RETURN_IF_ERROR(Require(values, "from"));
  ORGTRAIL_RETURN_IF_ERROR(Require(values, "data-dir"));
  const std::string from = FlagValue(values, "from");
  const std::string data_dir = fs::absolute(FlagValue(values, "data-dir")).lexically_normal().string();
  std::error_code ec;
  if (fs::exists(data_dir, ec) && !(fs::is_directory(data_dir, ec) && fs::is_empty(data_dir, ec))) {
    return absl::InvalidArgumentError("--data-dir: '" + data_dir +
                                      "' exists and is not empty; move it aside first");
  }
  {
    auto source = OpenStore::Open(StoreDirOf(from), "--from", /*read_only=*/true);  // refuse a non-store early
    if (!source.ok()) return source.status();
  }
  const std::string staging = data_dir + ".restoring";
  fs::remove_all(staging, ec);
  ORGTRAIL_RETURN_IF_ERROR(CopyTree(from, staging));
  fs::remove(data_dir, ec);  // the empty directory, if any
  fs::rename(staging, data_dir, ec);
  if (ec) return absl::UnavailableError("renaming '" + staging + "' to '" + data_dir + "': " + ec.message());
  ORGTRAIL_RETURN_IF_ERROR(FsyncPath(fs::path(data_dir).parent_path().string(), true));
  std::printf("restored %s into %s\n", from.c_str(), data_dir.c_str());
  return VerifyStore(StoreDirOf(data_dir), "--data-dir");
}

struct Subcommand {
  const char* name;
  const char* summary;
  const char* usage;
  void (*add_options)(po::options_description&);
  Status (*run)(const po::variables_map&);
};

const std::vector<Subcommand>& Subcommands() {
  static const std::vector<Subcommand> kSubcommands = {
      {"create", "RocksDB checkpoint of a stopped collector's store",
       "orgtrailctl backup create --data-dir D --out B",
       [](po::options_description& o) {
         o.add_options()("data-dir", po::value<std::string>(), "the collector's --data-dir (collector stopped)")(
             "out", po::value<std::string>(), "new directory for the checkpoint (must not exist)");
       },
       Create},
      {"verify", "open a backup read-only and verify every block checksum", "orgtrailctl backup verify --dir B",
       [](po::options_description& o) {
         o.add_options()("dir", po::value<std::string>(), "the backup (or a stopped store) to verify");
       },
       Verify},
      {"restore", "copy a backup into a new collector data directory and verify it",
       "orgtrailctl backup restore --from B --data-dir D",
       [](po::options_description& o) {
         o.add_options()("from", po::value<std::string>(), "the backup made by `backup create`")(
             "data-dir", po::value<std::string>(), "the collector's --data-dir to create (absent or empty)");
       },
       Restore},
  };
  return kSubcommands;
}

int RunSubcommand(const Subcommand& sub, int argc, const char* const* argv) {
  po::options_description options("Options");
  sub.add_options(options);
  po::variables_map values;
  BinaryInfo info{std::string("orgtrailctl backup ") + sub.name, sub.summary, sub.usage};
  auto outcome = ParseCommandLine(argc, argv, info, options, &values);
  Status status = outcome.ok() ? absl::OkStatus() : outcome.status();
  if (status.ok() && *outcome == ParseOutcome::kExitSuccess) return kExitOk;
  if (status.ok()) status = sub.run(values);
  if (status.ok()) return kExitOk;
  std::fprintf(stderr, "orgtrailctl backup %s: %s\n", sub.name, std::string(status.message()).c_str());
  return status.code() == absl::StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

// backup online: asks the running collector (admin identity) to back itself up.
int RunOnline(int argc, const char* const* argv) {
  po::options_description options("Options");
  options.add_options()("name", po::value<std::string>(),
                        "backup name: 1-64 of [A-Za-z0-9._-]; written to <collector data dir>/backups/<name>");
  AddConnectionOptions(&options);
  po::variables_map values;
  BinaryInfo info{"orgtrailctl backup online",
                  "back up the running collector (RocksDB checkpoint + keys and export) on its host (admin)",
                  "orgtrailctl backup online --name N --ca CA --cert CERT --key KEY [--collector HOST:PORT]"};
  auto outcome = ParseCommandLine(argc, argv, info, options, &values, ConnectionEnvOptions());
  if (!outcome.ok()) {
    std::fprintf(stderr, "orgtrailctl backup online: %s\n", std::string(outcome.status().message()).c_str());
    return kExitUsage;
  }
  if (*outcome == ParseOutcome::kExitSuccess) return kExitOk;
  if (!values.count("name")) {
    std::fprintf(stderr, "orgtrailctl backup online: --name is required\n");
    return kExitUsage;
  }
  auto connection = ConnectionOptionsFromValues(values);
  auto channel = connection.ok() ? MakeCollectorChannel(*connection) : StatusOr<std::shared_ptr<grpc::Channel>>(connection.status());
  if (!channel.ok()) {
    std::fprintf(stderr, "orgtrailctl backup online: %s\n", std::string(channel.status().message()).c_str());
    return kExitUsage;
  }
  auto stub = v1::Admin::NewStub(*channel);
  grpc::ClientContext context;
  SetDeadline(*connection, &context);
  v1::CreateBackupRequest request;
  request.set_name(values["name"].as<std::string>());
  v1::CreateBackupResponse response;
  const grpc::Status status = stub->CreateBackup(&context, request, &response);
  if (!status.ok()) {
    std::fprintf(stderr, "orgtrailctl backup online: %s\n", DescribeRpcError(*connection, status).c_str());
    return status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ? kExitUsage : kExitFailure;
  }
  std::printf("backup written on the collector's host to %s\n  sequence number %llu, %llu bytes\n"
              "  check it there with: orgtrailctl backup verify --dir %s\n",
              response.path().c_str(), static_cast<unsigned long long>(response.sequence()),
              static_cast<unsigned long long>(response.bytes()), response.path().c_str());
  return kExitOk;
}

void PrintBackupUsage(FILE* out) {
  std::fprintf(out,
               "orgtrailctl backup - back up and restore the collector's RocksDB store\n\n"
               "usage: orgtrailctl backup <subcommand> [options]\n"
               "       orgtrailctl backup <subcommand> --help\n\nsubcommands:\n");
  std::fprintf(out, "  %-10s %s\n", "online", "the running collector backs itself up on its host (admin)");
  for (const auto& sub : Subcommands()) std::fprintf(out, "  %-10s %s\n", sub.name, sub.summary);
}

}  // namespace

int RunBackup(int argc, const char* const* argv) {
  if (argc < 2) {
    PrintBackupUsage(stderr);
    return kExitUsage;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    PrintBackupUsage(stdout);
    return kExitOk;
  }
  if (name == "online") return RunOnline(argc - 1, argv + 1);
  for (const auto& sub : Subcommands()) {
    if (name == sub.name) return RunSubcommand(sub, argc - 1, argv + 1);
  }
  std::fprintf(stderr, "orgtrailctl backup: unknown subcommand '%s' (see orgtrailctl backup --help)\n",
               name.substr(0, 80).c_str());
  return kExitUsage;
}

}  // namespace orgtrail::cli
