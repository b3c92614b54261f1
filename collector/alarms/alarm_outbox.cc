#include "collector/alarms/alarm_outbox.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "orgtrail/common/hash.h"

namespace orgtrail::collector {
namespace {

namespace fs = std::filesystem;

Status SyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return absl::UnavailableError("open " + path + ": " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (rc != 0) return absl::UnavailableError("fsync " + path + ": " + std::strerror(error));
  return absl::OkStatus();
}

Status WriteDurably(const std::string& dir, const std::string& path, const std::string& contents) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::UnavailableError("create " + tmp + ": " + std::strerror(errno));
  size_t off = 0;
  while (off < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + off, contents.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string error = std::strerror(errno);
      ::close(fd);
      return absl::UnavailableError("write " + tmp + ": " + error);
    }
    off += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return absl::UnavailableError("fsync " + tmp + ": " + std::strerror(errno));
  if (::rename(tmp.c_str(), path.c_str()) != 0) return absl::UnavailableError("rename " + tmp + ": " + std::strerror(errno));
  return SyncPath(dir, O_RDONLY | O_DIRECTORY);
}

// "<seq>.json" -> seq; 0 for anything else.
uint64_t SeqOf(const std::string& name) {
  if (name.size() < 6 || name.compare(name.size() - 5, 5, ".json") != 0) return 0;
  const std::string digits = name.substr(0, name.size() - 5);
  if (digits.empty() || digits.size() > 19 || digits.find_first_not_of("0123456789") != std::string::npos) return 0;
  return std::stoull(digits);
}

}  // namespace

StatusOr<std::unique_ptr<AlarmOutbox>> AlarmOutbox::Open(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir, ec)) return absl::UnavailableError("alarm outbox " + dir + ": cannot create the directory");
  std::unique_ptr<AlarmOutbox> outbox(new AlarmOutbox(dir));
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    outbox->next_seq_ = std::max(outbox->next_seq_, SeqOf(entry.path().filename().string()) + 1);
  }
  return outbox;
}

std::string AlarmOutbox::PathOf(uint64_t seq) const {
  char name[32];
  std::snprintf(name, sizeof(name), "%019llu.json", static_cast<unsigned long long>(seq));
  return dir_ + "/" + name;
}

StatusOr<OutboxEntry> AlarmOutbox::Add(const std::string& target, const std::string& body) {
  unsigned char random[16];
  if (RAND_bytes(random, sizeof(random)) != 1) return absl::InternalError("alarm outbox: no random bytes");
  OutboxEntry entry{next_seq_, target, HexEncode(std::string_view(reinterpret_cast<char*>(random), sizeof(random))), body};
  ORGTRAIL_RETURN_IF_ERROR(WriteDurably(dir_, PathOf(entry.seq), target + "\n" + entry.delivery_id + "\n" + body));
  ++next_seq_;
  return entry;
}

Status AlarmOutbox::Remove(uint64_t seq) {
  const std::string path = PathOf(seq);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::UnavailableError("alarm outbox: remove " + path + ": " + std::strerror(errno));
  }
  return absl::OkStatus();
}

std::vector<OutboxEntry> AlarmOutbox::Load(std::vector<std::string>* corrupt) {
  std::vector<OutboxEntry> entries;
  std::error_code ec;
  for (const auto& file : fs::directory_iterator(dir_, ec)) {
    const std::string name = file.path().filename().string();
    const uint64_t seq = SeqOf(name);
    if (seq == 0) continue;  // *.tmp of a crash mid-Add (never queued), *.corrupt
    std::ifstream in(file.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    const size_t first = text.find('\n');
    const size_t second = first == std::string::npos ? first : text.find('\n', first + 1);
    const bool ok = in && second != std::string::npos && first > 0 && second - first - 1 == 32;
    if (!ok) {
      fs::rename(file.path(), file.path().string() + ".corrupt", ec);
      if (corrupt) corrupt->push_back(name);
      continue;
    }
    entries.push_back({seq, text.substr(0, first), text.substr(first + 1, 32), text.substr(second + 1)});
  }
  std::sort(entries.begin(), entries.end(), [](const OutboxEntry& a, const OutboxEntry& b) { return a.seq < b.seq; });
  return entries;
}

size_t AlarmOutbox::size() const {
  size_t n = 0;
  std::error_code ec;
  for (const auto& file : fs::directory_iterator(dir_, ec)) n += SeqOf(file.path().filename().string()) != 0 ? 1 : 0;
  return n;
}

}  // namespace orgtrail::collector
