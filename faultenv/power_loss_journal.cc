#include "faultenv/power_loss_journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string_view>
#include <vector>

namespace orgtrail::faultenv {
namespace {

// One journal line: "<op>\t<size>\t<path>[\t<path2>]\n". Paths never hold tabs or newlines here
// (RocksDB names its files itself under directories the tests choose).
constexpr char kCreated = 'N';
constexpr char kReopened = 'O';
constexpr char kSynced = 'S';
constexpr char kRenamed = 'R';
constexpr char kLinked = 'L';
constexpr char kDeleted = 'D';

struct FileState {
  uint64_t durable_size = 0;
  bool never_synced = true;
};

bool IsInfoLog(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string_view name = slash == std::string::npos ? std::string_view(path)
                                                            : std::string_view(path).substr(slash + 1);
  return name == "LOG" || name.rfind("LOG.old", 0) == 0;
}

absl::Status Replay(const std::string& journal_path, std::map<std::string, FileState>* files) {
  std::ifstream in(journal_path);
  std::string line;
  uint64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::vector<std::string> parts;
    std::istringstream fields(line);
    std::string part;
    while (std::getline(fields, part, '\t')) parts.push_back(part);
    if (parts.size() < 3 || parts[0].size() != 1) {
      // A torn last line (the process died inside write(2)) is the only acceptable damage.
      if (in.peek() == EOF) break;
      return absl::DataLossError("power-loss journal " + journal_path + ": line " + std::to_string(number) +
                                 " unreadable");
    }
    const char op = parts[0][0];
    const uint64_t size = std::strtoull(parts[1].c_str(), nullptr, 10);
    const std::string& a = parts[2];
    switch (op) {
      case kCreated: (*files)[a] = FileState{0, true}; break;
      case kReopened: (*files)[a] = FileState{size, false}; break;
      case kSynced: (*files)[a] = FileState{size, false}; break;
      case kDeleted: files->erase(a); break;
      case kRenamed:
      case kLinked: {
        if (parts.size() < 4) return absl::DataLossError("power-loss journal: line " + std::to_string(number));
        auto it = files->find(a);
        if (it == files->end()) {
          files->erase(parts[3]);  // an untracked file (durable as it is) took the name
        } else {
          (*files)[parts[3]] = it->second;
          if (op == kRenamed) files->erase(a);
        }
        break;
      }
      default:
        return absl::DataLossError("power-loss journal " + journal_path + ": line " + std::to_string(number) +
                                   " has unknown operation");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PowerLossJournal>> PowerLossJournal::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::UnavailableError("cannot open power-loss journal " + path + ": " + std::strerror(errno));
  }
  return std::unique_ptr<PowerLossJournal>(new PowerLossJournal(fd));
}

PowerLossJournal::~PowerLossJournal() { ::close(fd_); }

void PowerLossJournal::Append(char op, uint64_t size, const std::string& a, const std::string& b) {
  std::string line;
  line.reserve(a.size() + b.size() + 32);
  line += op;
  line += '\t';
  line += std::to_string(size);
  line += '\t';
  line += a;
  if (!b.empty()) {
    line += '\t';
    line += b;
  }
  line += '\n';
  std::lock_guard<std::mutex> lock(mu_);
  if (::write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) ++write_errors_;
}

void PowerLossJournal::Created(const std::string& file) { Append(kCreated, 0, file); }
void PowerLossJournal::Reopened(const std::string& file, uint64_t size) { Append(kReopened, size, file); }
void PowerLossJournal::Synced(const std::string& file, uint64_t size) { Append(kSynced, size, file); }
void PowerLossJournal::Renamed(const std::string& from, const std::string& to) { Append(kRenamed, 0, from, to); }
void PowerLossJournal::Linked(const std::string& from, const std::string& to) { Append(kLinked, 0, from, to); }
void PowerLossJournal::Deleted(const std::string& file) { Append(kDeleted, 0, file); }

uint64_t PowerLossJournal::write_errors() const {
  std::lock_guard<std::mutex> lock(mu_);
  return write_errors_;
}

std::string PowerLossOutcome::ToString() const {
  return std::to_string(files_tracked) + " files tracked, " + std::to_string(files_truncated) + " truncated, " +
         std::to_string(files_removed) + " removed, " + std::to_string(bytes_dropped) + " unsynced bytes dropped (" +
         std::to_string(data_bytes_dropped) + " outside the info LOG)";
}

namespace {

absl::StatusOr<PowerLossOutcome> PowerCut(const std::string& journal_path, bool apply) {
  PowerLossOutcome outcome;
  if (::access(journal_path.c_str(), F_OK) != 0) return outcome;
  std::map<std::string, FileState> files;
  if (absl::Status s = Replay(journal_path, &files); !s.ok()) return s;
  for (const auto& [path, state] : files) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) continue;
    ++outcome.files_tracked;
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    uint64_t dropped = 0;
    if (state.never_synced) {
      if (apply && ::unlink(path.c_str()) != 0) {
        return absl::UnavailableError("power loss: cannot remove " + path + ": " + std::strerror(errno));
      }
      ++outcome.files_removed;
      dropped = size;
    } else if (size > state.durable_size) {
      if (apply && ::truncate(path.c_str(), static_cast<off_t>(state.durable_size)) != 0) {
        return absl::UnavailableError("power loss: cannot truncate " + path + ": " + std::strerror(errno));
      }
      ++outcome.files_truncated;
      dropped = size - state.durable_size;
    }
    outcome.bytes_dropped += dropped;
    if (!IsInfoLog(path)) outcome.data_bytes_dropped += dropped;
  }
  if (apply && ::unlink(journal_path.c_str()) != 0) {
    return absl::UnavailableError("power loss: cannot remove the journal " + journal_path + ": " +
                                  std::strerror(errno));
  }
  return outcome;
}

}  // namespace

absl::StatusOr<PowerLossOutcome> ApplyPowerLoss(const std::string& journal_path) {
  return PowerCut(journal_path, /*apply=*/true);
}

absl::StatusOr<PowerLossOutcome> PreviewPowerLoss(const std::string& journal_path) {
  return PowerCut(journal_path, /*apply=*/false);
}

}  // namespace orgtrail::faultenv
