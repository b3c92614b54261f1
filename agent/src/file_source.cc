// Directory-watching CloudTrail file source (see file_source.h).
#include "orgtrail/agent/file_source.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>

#include "orgtrail/agent/record_splitter.h"
#include "orgtrail/common/hash.h"

namespace orgtrail::agent {
namespace {

constexpr size_t kFingerprintBytes = 64;

bool EndsWith(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

enum class Kind { kIgnore, kWhole, kWholeGzip, kLines };

Kind KindOf(const std::string& path) {
  const std::string name = std::filesystem::path(path).filename().string();
  if (name.empty() || name[0] == '.' || EndsWith(name, ".tmp")) return Kind::kIgnore;
  if (EndsWith(name, ".json.gz")) return Kind::kWholeGzip;
  if (EndsWith(name, ".json")) return Kind::kWhole;
  if (EndsWith(name, ".jsonl") || EndsWith(name, ".ndjson")) return Kind::kLines;
  return Kind::kIgnore;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

StatusOr<std::string> ReadRange(const std::string& path, uint64_t offset, uint64_t length) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::UnavailableError("open " + path + ": " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) == 0) {
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    length = offset >= size ? 0 : std::min<uint64_t>(length, size - offset);
  }
  std::string out;
  out.resize(length);
  uint64_t done = 0;
  while (done < length) {
    const ssize_t n = ::pread(fd, out.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string err = std::strerror(errno);
      ::close(fd);
      return absl::UnavailableError("read " + path + ": " + err);
    }
    if (n == 0) break;
    done += static_cast<uint64_t>(n);
  }
  ::close(fd);
  out.resize(done);
  return out;
}

std::string EncodeCheckpoint(uint64_t offset, uint64_t record_index, bool done,
                             const std::string& path) {
  return "v1 " + std::to_string(offset) + " " + std::to_string(record_index) + " " +
         (done ? "1" : "0") + " " + path;
}

bool DecodeCheckpoint(const std::string& text, uint64_t* offset, uint64_t* record_index,
                      bool* done) {
  std::istringstream in(text);
  std::string version;
  int done_flag = 0;
  if (!(in >> version >> *offset >> *record_index >> done_flag) || version != "v1") return false;
  *done = done_flag != 0;
  return true;
}

}  // namespace

FileSource::FileSource(FileSourceOptions options, Spool* spool, EventIntake* intake,
                       Logger* logger, MetricsRegistry* metrics, std::function<void()> on_spooled,
                       Batcher* batcher)
    : options_(std::move(options)),
      spool_(spool),
      batcher_(batcher),
      intake_(intake),
      logger_(logger),
      on_spooled_(std::move(on_spooled)),
      files_read_(metrics->GetCounter("orgtrail_agent_files_read_total",
                                      "Files read to the end")),
      files_quarantined_(metrics->GetCounter("orgtrail_agent_files_quarantined_total",
                                             "Malformed files quarantined")),
      pauses_(metrics->GetCounter("orgtrail_agent_source_pauses_total",
                                  "Times a source paused because the spool was full",
                                  {{"source", "files"}})),
      paused_(metrics->GetGauge("orgtrail_agent_source_paused",
                                "1 while the source waits for spool space",
                                {{"source", "files"}})),
      read_ahead_waits_(metrics->GetCounter("orgtrail_agent_file_read_ahead_waits_total",
                                            "Times the file source waited for acknowledgements "
                                            "before reading further ahead (read_ahead_bytes)")),
      scans_(metrics->GetCounter("orgtrail_agent_file_scans_total",
                                 "Complete scans of the watched directories")),
      files_unfinished_(metrics->GetGauge("orgtrail_agent_files_unfinished",
                                          "Files of the last complete scan not yet read to their end "
                                          "(settling, paused or failing); 0 = every input read")) {}

FileSource::~FileSource() { Stop(); }

StatusOr<std::string> FileSource::FileIdentity(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError("stat " + path + ": " + std::strerror(errno));
  }
  if (static_cast<uint64_t>(st.st_size) < kFingerprintBytes) {
    return absl::NotFoundError(path + " shorter than the identity fingerprint");
  }
  auto head = ReadRange(path, 0, kFingerprintBytes);
  if (!head.ok()) return head.status();
  if (head->size() < kFingerprintBytes) return absl::NotFoundError(path + " shrank");
  return "file:" + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
         HexEncode(Sha256(*head)).substr(0, 16);
}

Status FileSource::Start() {
  for (const auto& root : options_.roots) {
    std::error_code ec;
    if (!std::filesystem::is_directory(root, ec)) {
      return absl::InvalidArgumentError("--watch-dir: '" + root + "' is not a directory");
    }
  }
  inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0) {
    logger_->Warn("inotify unavailable; falling back to periodic rescans",
                  {{"error", std::strerror(errno)}});
  }
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void FileSource::Stop() {
  stop_ = true;
  if (wake_fd_ >= 0) {
    const uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof(one));
  }
  if (thread_.joinable()) thread_.join();
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
  inotify_fd_ = -1;
  wake_fd_ = -1;
}

void FileSource::WatchDirectory(const std::string& dir) {
  if (inotify_fd_ < 0 || watched_dirs_.count(dir)) return;
  const int wd = inotify_add_watch(inotify_fd_, dir.c_str(),
                                   IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MODIFY);
  if (wd >= 0) watched_dirs_.insert(dir);
}

void FileSource::Run() {
  while (!stop_) {
    const Status status = ScanOnce();
    if (!status.ok()) logger_->Warn("file scan failed", {{"error", status.ToString()}});
    if (stop_) break;
    struct pollfd fds[2];
    int n = 0;
    fds[n++] = {wake_fd_, POLLIN, 0};
    if (inotify_fd_ >= 0) fds[n++] = {inotify_fd_, POLLIN, 0};
    // A pending settle (a file written moments ago) wants a quicker look.
    int timeout = options_.rescan_interval_ms;
    for (const auto& [path, seen] : seen_) {
      if (!seen.finished) timeout = std::min(timeout, std::max(50, options_.settle_ms));
    }
    (void)::poll(fds, n, timeout);
    if (inotify_fd_ >= 0) {
      char buffer[64 * 1024];
      while (::read(inotify_fd_, buffer, sizeof(buffer)) > 0) {
      }
    }
  }
}

Status FileSource::ScanOnce() {
  std::set<std::string> present;  // files of this scan: the others are gone
  bool complete = true;
  for (const auto& root : options_.roots) {
    WatchDirectory(root);
    std::error_code ec;
    std::filesystem::recursive_directory_iterator it(
        root, std::filesystem::directory_options::skip_permission_denied, ec);
    if (ec) return absl::UnavailableError("cannot list " + root + ": " + ec.message());
    for (; it != std::filesystem::recursive_directory_iterator() && !stop_; it.increment(ec)) {
      if (ec) {
        complete = false;
        break;
      }
      const std::string path = it->path().string();
      std::error_code type_ec;
      if (it->is_directory(type_ec)) {
        if (it->path().filename().string().rfind('.', 0) == 0) {
          it.disable_recursion_pending();
        } else {
          WatchDirectory(path);
        }
        continue;
      }
      if (!it->is_regular_file(type_ec) || KindOf(path) == Kind::kIgnore) continue;
      present.insert(path);
      struct stat st;
      if (::stat(path.c_str(), &st) != 0) continue;
      const uint64_t size = static_cast<uint64_t>(st.st_size);
      const int64_t mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
      auto seen = seen_.find(path);
      if (seen != seen_.end() && seen->second.finished && seen->second.size == size &&
          seen->second.mtime_ns == mtime_ns) {
        continue;
      }
      bool finished = false;
      const Status status = ProcessFile(path, size, mtime_ns, &finished);
      if (!status.ok()) {
        logger_->Warn("file not processed; will retry", {{"file", path}, {"error", status.ToString()}});
        finished = false;
      }
      seen_[path] = Seen{size, mtime_ns, finished};
    }
  }
  if (!stop_ && complete) {
    for (auto it = seen_.begin(); it != seen_.end();) it = present.count(it->first) ? std::next(it) : seen_.erase(it);
    // Counted from what the spool's checkpoints say (seen_ is rebuilt from them after a restart),
    // so "every input read" holds across restarts, unlike the per-process files_read_ counter.
    uint64_t unfinished = 0;
    for (const auto& [path, seen] : seen_) unfinished += seen.finished ? 0 : 1;
    files_unfinished_->Set(static_cast<double>(unfinished));
    scans_->Increment();
  }
  return absl::OkStatus();
}

Status FileSource::ProcessFile(const std::string& path, uint64_t size, int64_t mtime_ns,
                               bool* finished) {
  *finished = false;
  auto identity = FileIdentity(path);
  if (!identity.ok()) return absl::OkStatus();  // too short yet, or gone
  auto quarantined = spool_->GetQuarantine(*identity);
  if (!quarantined.ok()) return quarantined.status();
  if (quarantined->has_value()) {
    *finished = true;
    return absl::OkStatus();
  }
  auto stored = spool_->GetCheckpoint(*identity);
  if (!stored.ok()) return stored.status();
  Checkpoint checkpoint;
  if (stored->has_value() &&
      !DecodeCheckpoint(**stored, &checkpoint.offset, &checkpoint.record_index, &checkpoint.done)) {
    return absl::DataLossError("unreadable checkpoint for " + path);
  }
  if (size > options_.max_file_bytes) {
    return QuarantineFile(path, *identity,
                          "file of " + std::to_string(size) + " bytes exceeds the limit of " +
                              std::to_string(options_.max_file_bytes));
  }
  const Kind kind = KindOf(path);
  if (kind == Kind::kLines) {
    ORGTRAIL_RETURN_IF_ERROR(ProcessJsonLines(path, *identity, checkpoint, size));
    *finished = true;  // re-read when size/mtime change
    return absl::OkStatus();
  }
  if (checkpoint.done) {
    *finished = true;
    return absl::OkStatus();
  }
  const int64_t age_ms = (NowNs() - mtime_ns) / 1000000;
  if (age_ms < options_.settle_ms) return absl::OkStatus();  // still being written
  return ProcessWholeDocument(path, *identity, checkpoint, age_ms, finished);
}

Status FileSource::ProcessWholeDocument(const std::string& path, const std::string& identity,
                                        Checkpoint checkpoint, int64_t age_ms, bool* finished) {
  auto content = ReadRange(path, 0, options_.max_file_bytes);
  if (!content.ok()) return content.status();
  std::string text;
  if (KindOf(path) == Kind::kWholeGzip) {
    auto inflated = Gunzip(*content, options_.max_decompressed_bytes);
    if (!inflated.ok()) {
      if (age_ms < options_.quarantine_after_ms && absl::IsInvalidArgument(inflated.status())) {
        return absl::OkStatus();  // maybe still being written
      }
      return QuarantineFile(path, identity, inflated.status().ToString());
    }
    text = std::move(*inflated);
  } else {
    text = std::move(*content);
  }
  auto split = SplitRecords(text);
  if (!split.ok()) {
    if (age_ms < options_.quarantine_after_ms) return absl::OkStatus();
    return QuarantineFile(path, identity, split.status().ToString());
  }
  const auto& records = split->records;
  int refusals_seen = 0;
  uint64_t index = checkpoint.record_index;
  if (index > records.size()) {
    return absl::DataLossError("checkpoint of " + path + " is beyond its last record");
  }
  while (index < records.size()) {
    const uint64_t end = ChunkEnd(records, index);
    std::vector<std::string_view> chunk(records.begin() + index, records.begin() + end);
    Checkpoint next{0, end, end == records.size()};
    auto spooled = SpoolChunk(path, chunk, index, identity, next, &refusals_seen);
    if (!spooled.ok()) return spooled.status();
    if (!*spooled) return absl::OkStatus();  // stopping
    index = end;
  }
  if (records.empty()) {
    ORGTRAIL_RETURN_IF_ERROR(
        spool_->PutCheckpoint({identity, EncodeCheckpoint(0, 0, true, path)}));
  }
  files_read_->Increment();
  logger_->Info("file read", {{"file", path}, {"records", static_cast<uint64_t>(records.size())}});
  *finished = true;
  return absl::OkStatus();
}

Status FileSource::ProcessJsonLines(const std::string& path, const std::string& identity,
                                    Checkpoint checkpoint, uint64_t size) {
  if (size < checkpoint.offset) {
    logger_->Warn("file shrank below its checkpoint; ignoring the rewrite",
                  {{"file", path}, {"offset", checkpoint.offset}, {"size", size}});
    return absl::OkStatus();
  }
  int refusals_seen = 0;
  uint64_t offset = checkpoint.offset;
  uint64_t index = checkpoint.record_index;
  // Reads a window at a time (RSS: the window is allocated per read); only a line longer than
  // the window is read again with the line limit.
  const uint64_t base_window = std::max<uint64_t>(1, std::min(options_.read_window_bytes, options_.max_line_bytes));
  uint64_t window = base_window;
  while (offset < size && !stop_) {
    auto text = ReadRange(path, offset, std::min<uint64_t>(window, size - offset));
    if (!text.ok()) return text.status();
    size_t consumed = 0;
    auto lines = SplitJsonLines(*text, &consumed);
    if (consumed == 0) {
      if (text->size() < window) break;  // an incomplete last line: wait for its newline
      if (window < options_.max_line_bytes) {
        window = options_.max_line_bytes;  // a line longer than the window: read up to the limit
        continue;
      }
      window = base_window;
      auto next = SkipLongLine(path, identity, offset, size, index);
      if (!next.ok()) return next.status();
      if (!next->has_value()) break;  // the long line is still being written
      offset = **next;
      ++index;
      continue;
    }
    for (size_t i = 0, end = 0; i < lines.size(); i = end) {
      end = ChunkEnd(lines, i);
      std::vector<std::string_view> chunk(lines.begin() + i, lines.begin() + end);
      // Byte offset just after the chunk's last line.
      const uint64_t chunk_end_offset =
          end == lines.size() ? offset + consumed
                              : offset + static_cast<uint64_t>(lines[end].data() - text->data());
      Checkpoint next{chunk_end_offset, index + (end - i), false};
      auto spooled = SpoolChunk(path, chunk, index, identity, next, &refusals_seen);
      if (!spooled.ok()) return spooled.status();
      if (!*spooled) return absl::OkStatus();
      index += end - i;
    }
    window = base_window;
    offset += consumed;
  }
  return absl::OkStatus();
}

StatusOr<bool> FileSource::SpoolChunk(const std::string& path,
                                      const std::vector<std::string_view>& records,
                                      uint64_t first_index, const std::string& identity,
                                      const Checkpoint& checkpoint, int* refusals_seen) {
  std::vector<v1::Event> selected;
  selected.reserve(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    intake_->events_read()->Increment();
    auto event = intake_->Prepare(records[i], &extractor_);
    if (!event.ok()) {
      intake_->events_refused(absl::IsPermissionDenied(event.status()) ? "not_this_agent"
                                                                        : "invalid")
          ->Increment();
      const int seen = ++*refusals_seen;
      if (seen <= options_.max_logged_refusals_per_file) {
        logger_->Warn("record refused", {{"file", path},
                                         {"record_index", first_index + i},
                                         {"error", event.status().ToString()}});
      }
      if (seen <= options_.max_quarantined_records_per_file) {
        // Listed with its reason and bytes (orgtrail-agent dead-letters --quarantine). Written
        // before the checkpoint passes it: a crash re-reads it and rewrites the same key.
        ORGTRAIL_RETURN_IF_ERROR(spool_->Quarantine(
            identity + "#record=" + std::to_string(first_index + i),
            path + ": record " + std::to_string(first_index + i) + " refused: " + event.status().ToString() +
                "; base64: " + Base64Encode(records[i])));
      }
      continue;
    }
    if (!intake_->Selected(*event)) {
      intake_->events_unselected()->Increment();
      continue;
    }
    selected.push_back(std::move(*event));
  }
  const SourceCheckpoint cp{identity, EncodeCheckpoint(checkpoint.offset, checkpoint.record_index,
                                                       checkpoint.done, path)};
  if (!selected.empty() && !WaitForReadAheadRoom()) return false;
  bool paused = false;
  size_t selected_count = selected.size();  // SpoolEvents may move the events out
  while (true) {
    const Status status =
        batcher_ != nullptr ? batcher_->SpoolEvents(&selected, {cp}) : spool_->AppendEvents(selected, {cp});
    if (status.ok()) break;
    if (!absl::IsResourceExhausted(status)) return status;
    const SpoolStats stats = spool_->Stats();
    if (stats.pending_events == 0 && stats.sealed_batches == 0) {
      // The spool is empty and these records still do not fit: they never will.
      intake_->events_refused("larger_than_spool")->Increment(selected.size());
      logger_->Error("records larger than the whole spool refused",
                     {{"file", path}, {"record_index", first_index},
                      {"records", static_cast<uint64_t>(selected.size())}});
      selected.clear();
      selected_count = 0;
      continue;
    }
    if (!paused) {
      paused = true;
      pauses_->Increment();
      paused_->Set(1);
      logger_->Warn("spool full: file source paused", {{"file", path}});
    }
    if (on_spooled_) on_spooled_();
    if (stop_) {
      paused_->Set(0);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (paused) {
    paused_->Set(0);
    logger_->Info("spool has room again: file source resumed", {{"file", path}});
  }
  intake_->events_selected()->Increment(selected_count);
  if (on_spooled_ && selected_count > 0) on_spooled_();
  return true;
}

bool FileSource::WaitForReadAheadRoom() {
  if (options_.read_ahead_bytes == 0) return true;
  bool waited = false;
  while (!stop_) {
    const Spool::Backlog backlog =
        spool_->WaitForBacklogAtMost(options_.read_ahead_bytes, std::chrono::milliseconds(100));
    if (backlog.bytes <= options_.read_ahead_bytes) return true;
    if (backlog.ms_since_ack >= options_.read_ahead_ack_window_ms) return true;  // collector away
    if (!waited) {
      waited = true;
      read_ahead_waits_->Increment();
      if (on_spooled_) on_spooled_();  // pending events in the backlog: let the batcher seal them
    }
  }
  return false;
}

size_t FileSource::ChunkEnd(const std::vector<std::string_view>& records, size_t begin) const {
  size_t end = begin;
  uint64_t bytes = 0;
  while (end < records.size() && end - begin < options_.chunk_records) {
    bytes += records[end].size();
    if (end > begin && bytes > options_.max_chunk_bytes) break;
    ++end;
  }
  return end;
}

StatusOr<std::optional<uint64_t>> FileSource::SkipLongLine(const std::string& path, const std::string& identity,
                                                           uint64_t offset, uint64_t size, uint64_t index) {
  const uint64_t window = options_.max_line_bytes;
  for (uint64_t pos = offset + window; pos < size;) {
    auto chunk = ReadRange(path, pos, std::min<uint64_t>(window, size - pos));
    if (!chunk.ok()) return chunk.status();
    if (chunk->empty()) break;
    const size_t newline = chunk->find('\n');
    if (newline == std::string::npos) {
      pos += chunk->size();
      continue;
    }
    const uint64_t end = pos + newline + 1;
    const uint64_t length = end - 1 - offset;
    ORGTRAIL_RETURN_IF_ERROR(spool_->Quarantine(
        identity + "#offset=" + std::to_string(offset),
        path + ": line " + std::to_string(index) + " at offset " + std::to_string(offset) + " is " +
            std::to_string(length) + " bytes, over the limit of " + std::to_string(window) +
            "; refused, the lines after it are read"));
    intake_->events_read()->Increment();
    intake_->events_refused("line_too_long")->Increment();
    logger_->Error("line too long: refused, the rest of the file is read",
                   {{"file", path}, {"offset", offset}, {"bytes", length}, {"limit", window}});
    ORGTRAIL_RETURN_IF_ERROR(spool_->PutCheckpoint({identity, EncodeCheckpoint(end, index + 1, false, path)}));
    return std::optional<uint64_t>(end);
  }
  return std::optional<uint64_t>();
}

Status FileSource::QuarantineFile(const std::string& path, const std::string& identity,
                                  const std::string& reason) {
  ORGTRAIL_RETURN_IF_ERROR(spool_->Quarantine(identity, path + ": " + reason));
  files_quarantined_->Increment();
  logger_->Error("file quarantined", {{"file", path}, {"reason", reason}});
  return absl::OkStatus();
}

}  // namespace orgtrail::agent
