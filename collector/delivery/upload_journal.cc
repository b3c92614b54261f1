#include "collector/delivery/upload_journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "orgtrail/common/str_cat.h"

namespace orgtrail::collector {
namespace {

Status Errno(const char* what, const std::string& path) {
  return absl::UnavailableError(StrCat(what, " ", path, ": ", std::strerror(errno)));
}

Status WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write", path);
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

std::string Line(const std::string& key, const UploadJournalEntry& e) {
  return StrCat(e.sha256_hex, " ", e.size, " ", e.mtime_ns, " ", key, "\n");
}

Status FsyncParent(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("fsync", dir);
  return absl::OkStatus();
}

}  // namespace

StatusOr<std::unique_ptr<UploadJournal>> UploadJournal::Open(const std::string& path) {
  std::map<std::string, UploadJournalEntry> entries;
  size_t lines = 0;
  {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      const std::string text = ss.str();
      size_t pos = 0;
      while (pos < text.size()) {
        const size_t end = text.find('\n', pos);
        if (end == std::string::npos) break;  // torn last line: the append never completed
        const std::string line = text.substr(pos, end - pos);
        pos = end + 1;
        ++lines;
        UploadJournalEntry e;
        const size_t a = line.find(' ');
        const size_t b = a == std::string::npos ? a : line.find(' ', a + 1);
        const size_t c = b == std::string::npos ? b : line.find(' ', b + 1);
        if (c == std::string::npos || c + 1 >= line.size() || a != 64 ||
            !absl::SimpleAtoi(line.substr(a + 1, b - a - 1), &e.size) ||
            !absl::SimpleAtoi(line.substr(b + 1, c - b - 1), &e.mtime_ns)) {
          return absl::DataLossError(StrCat(path, ":", lines, ": malformed upload journal line"));
        }
        e.sha256_hex = line.substr(0, a);
        entries[line.substr(c + 1)] = e;
      }
    } else if (errno != ENOENT) {
      return Errno("open", path);
    }
  }
  if (lines > 2 * entries.size() + 16) {
    const std::string tmp = path + ".tmp";
    int tfd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (tfd < 0) return Errno("open", tmp);
    std::string all;
    for (const auto& [key, e] : entries) all += Line(key, e);
    Status st = WriteAll(tfd, all, tmp);
    if (st.ok() && ::fsync(tfd) != 0) st = Errno("fsync", tmp);
    ::close(tfd);
    if (!st.ok()) return st;
    if (::rename(tmp.c_str(), path.c_str()) != 0) return Errno("rename", tmp);
    ORGTRAIL_RETURN_IF_ERROR(FsyncParent(path));
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("open", path);
  // A torn tail is cut off so the next append starts a fresh line.
  {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    const std::streamoff size = in.tellg();
    std::string text;
    if (size > 0) {
      in.seekg(0);
      text.resize(static_cast<size_t>(size));
      in.read(text.data(), size);
      const size_t last_nl = text.rfind('\n');
      const size_t keep = last_nl == std::string::npos ? 0 : last_nl + 1;
      if (keep != text.size()) {
        if (::ftruncate(fd, static_cast<off_t>(keep)) != 0 || ::fdatasync(fd) != 0) {
          Status st = Errno("truncate", path);
          ::close(fd);
          return st;
        }
      }
    }
  }
  if (lines == 0) {
    Status st = FsyncParent(path);  // a new journal's directory entry is durable
    if (!st.ok()) {
      ::close(fd);
      return st;
    }
  }
  std::unique_ptr<UploadJournal> journal(new UploadJournal(path, fd));
  journal->entries_ = std::move(entries);
  return journal;
}

UploadJournal::~UploadJournal() {
  if (fd_ >= 0) ::close(fd_);
}

const UploadJournalEntry* UploadJournal::Find(const std::string& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

Status UploadJournal::Record(const std::string& key, const UploadJournalEntry& entry) {
  if (key.empty() || key.find('\n') != std::string::npos) {
    return absl::InvalidArgumentError("upload journal key is empty or holds a line break");
  }
  if (entry.sha256_hex.size() != 64) return absl::InvalidArgumentError("upload journal: bad SHA-256 hex");
  if (!broken_.ok()) return broken_;
  Status st = WriteAll(fd_, Line(key, entry), path_);
  if (st.ok() && ::fdatasync(fd_) != 0) st = Errno("fdatasync", path_);
  if (!st.ok()) {
    broken_ = st;
    return st;
  }
  entries_[key] = entry;
  return absl::OkStatus();
}

}  // namespace orgtrail::collector
