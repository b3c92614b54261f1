#include "collector/ingest/revocation_watcher.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "orgtrail/common/hash.h"
#include "orgtrail/common/time_util.h"

namespace orgtrail::collector {

namespace {

constexpr char kReloadErrors[] = "orgtrail_collector_revocation_reload_errors_total";
constexpr char kReloadErrorsHelp[] =
    "Revocation files that changed but did not load (the last good list stays in force), by file";
constexpr char kEntries[] = "orgtrail_collector_revocation_entries";
constexpr char kEntriesHelp[] = "Entries of the revocation list in force, by source";
constexpr size_t kMaxCaBundleBytes = 4u << 20;

// The whole file, if it is a regular file of at most `limit` bytes.
StatusOr<std::string> ReadBounded(const std::string& path, size_t limit) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return absl::InvalidArgumentError("cannot open: " + std::string(std::strerror(errno)));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError("not a regular file");
  }
  std::string out;
  char buffer[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string error = std::strerror(errno);
      ::close(fd);
      return absl::InvalidArgumentError("read failed: " + error);
    }
    if (n == 0) break;
    out.append(buffer, static_cast<size_t>(n));
    if (out.size() > limit) {
      ::close(fd);
      return absl::InvalidArgumentError("larger than " + std::to_string(limit) + " bytes");
    }
  }
  ::close(fd);
  return out;
}

std::string Key(std::string_view a, std::string_view b = {}) { return HexEncode(Sha256(a)) + HexEncode(Sha256(b)); }

// Identity, size and modification time of a file ("" if it cannot be stat'ed):
// while it is unchanged the file is not read again.
std::string StatSignature(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return "";
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

}  // namespace

RevocationWatcher::RevocationWatcher(RevocationFiles files, Logger* logger, MetricsRegistry* metrics)
    : files_(std::move(files)), logger_(logger), metrics_(metrics) {
  for (const char* file : {"crl", "deny_list"}) metrics_->GetCounter(kReloadErrors, kReloadErrorsHelp, {{"file", file}});
  reloads_ = metrics_->GetCounter("orgtrail_collector_revocation_reloads_total",
                                  "New revocation lists applied after startup (a revocation file changed)");
  next_update_ = metrics_->GetGauge("orgtrail_collector_revocation_crl_next_update_seconds",
                                    "nextUpdate of the CRL in force, Unix seconds (0: no CRL or none given)");
}

RevocationWatcher::~RevocationWatcher() { Stop(); }

StatusOr<std::unique_ptr<RevocationWatcher>> RevocationWatcher::Open(RevocationFiles files, Logger* logger,
                                                                     MetricsRegistry* metrics) {
  if (!files.crl_path.empty() && files.ca_path.empty()) {
    return absl::InvalidArgumentError("--crl-file: needs the CA bundle (--ca) to verify it against");
  }
  if (files.poll_interval_us < 10'000) return absl::InvalidArgumentError("revocation poll interval under 10 ms");
  std::unique_ptr<RevocationWatcher> watcher(new RevocationWatcher(std::move(files), logger, metrics));
  bool changed = false;
  ORGTRAIL_RETURN_IF_ERROR(watcher->Load(/*startup=*/true, &changed));
  watcher->Publish();
  return watcher;
}

std::shared_ptr<const RevocationList> RevocationWatcher::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

std::optional<std::string> RevocationWatcher::CheckPem(const std::string& cert_pem) const {
  StatusOr<RevocationSubject> subject = RevocationSubjectFromPem(cert_pem);
  if (!subject.ok()) return std::nullopt;
  return Current()->Check(*subject);
}

void RevocationWatcher::Start(Listener listener) {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  listener_ = std::move(listener);
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void RevocationWatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RevocationWatcher::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::microseconds(files_.poll_interval_us), [&] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    Poll();
    lock.lock();
  }
}

bool RevocationWatcher::Poll() {
  bool changed = false;
  (void)Load(/*startup=*/false, &changed);  // failures are logged and counted by Load
  if (!changed) return false;
  Publish();
  reloads_->Increment();
  if (listener_) listener_(Current());
  return true;
}

void RevocationWatcher::Failed(const char* file, const std::string& path, Seen* seen, const std::string& error) {
  if (seen->error == error) return;  // the same failure again: said already
  seen->error = error;
  metrics_->GetCounter(kReloadErrors, kReloadErrorsHelp, {{"file", file}})->Increment();
  logger_->Error("revocation file rejected; the last good list stays in force",
                 {{"file", file}, {"path", path}, {"error", error}});
}

Status RevocationWatcher::Load(bool startup, bool* changed) {
  *changed = false;
  const std::string crl_stat = files_.crl_path.empty() ? "" : StatSignature(files_.crl_path) + "|" +
                                                                   StatSignature(files_.ca_path);
  if (!files_.crl_path.empty() && (startup || crl_stat != crl_seen_.stat || crl_stat.front() == '|')) {
    crl_seen_.stat = crl_stat;
    std::string error;
    auto crl_text = ReadBounded(files_.crl_path, kMaxCrlBytes);
    auto ca_text = ReadBounded(files_.ca_path, kMaxCaBundleBytes);
    if (!crl_text.ok()) {
      error = std::string(crl_text.status().message());
      crl_seen_.attempted = "unreadable";
    } else if (!ca_text.ok()) {
      error = "the CA bundle '" + files_.ca_path + "': " + std::string(ca_text.status().message());
      crl_seen_.attempted = "unreadable";
    } else {
      const std::string key = Key(*crl_text, *ca_text);
      if (key == crl_seen_.good) {
        crl_seen_.attempted = key;
        if (!crl_seen_.error.empty()) logger_->Info("revocation file readable again", {{"path", files_.crl_path}});
        crl_seen_.error.clear();
      } else if (key != crl_seen_.attempted || startup) {
        crl_seen_.attempted = key;
        auto crl = ParseAndVerifyCrl(*crl_text, *ca_text);
        if (crl.ok()) {
          crl_ = std::move(*crl);
          crl_seen_.good = key;
          crl_seen_.error.clear();
          *changed = true;
        } else {
          error = std::string(crl.status().message());
        }
      } else {
        error = crl_seen_.error;  // the same bad contents as last time
      }
    }
    if (!error.empty()) {
      if (startup) return absl::InvalidArgumentError("--crl-file '" + files_.crl_path + "': " + error);
      Failed("crl", files_.crl_path, &crl_seen_, error);
    }
  }
  const std::string deny_stat = files_.deny_list_path.empty() ? "" : StatSignature(files_.deny_list_path);
  if (!files_.deny_list_path.empty() && (startup || deny_stat != deny_seen_.stat || deny_stat.empty())) {
    deny_seen_.stat = deny_stat;
    std::string error;
    auto text = ReadBounded(files_.deny_list_path, kMaxDenyListBytes);
    if (!text.ok()) {
      error = std::string(text.status().message());
      deny_seen_.attempted = "unreadable";
    } else {
      const std::string key = Key(*text);
      if (key == deny_seen_.good) {
        deny_seen_.attempted = key;
        if (!deny_seen_.error.empty()) logger_->Info("revocation file readable again", {{"path", files_.deny_list_path}});
        deny_seen_.error.clear();
      } else if (key != deny_seen_.attempted || startup) {
        deny_seen_.attempted = key;
        auto deny = ParseDenyList(*text);
        if (deny.ok()) {
          deny_ = std::move(*deny);
          deny_seen_.good = key;
          deny_seen_.error.clear();
          *changed = true;
        } else {
          error = std::string(deny.status().message());
        }
      } else {
        error = deny_seen_.error;
      }
    }
    if (!error.empty()) {
      if (startup) return absl::InvalidArgumentError("--deny-list-file '" + files_.deny_list_path + "': " + error);
      Failed("deny_list", files_.deny_list_path, &deny_seen_, error);
    }
  }
  return Status();
}

void RevocationWatcher::Publish() {
  auto list = std::make_shared<const RevocationList>(crl_ ? &*crl_ : nullptr, deny_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    current_ = list;
  }
  metrics_->GetGauge(kEntries, kEntriesHelp, {{"source", "crl"}})->Set(static_cast<double>(list->crl_entries()));
  metrics_->GetGauge(kEntries, kEntriesHelp, {{"source", "fingerprint"}})
      ->Set(static_cast<double>(list->denied_fingerprints()));
  metrics_->GetGauge(kEntries, kEntriesHelp, {{"source", "spiffe_id"}})
      ->Set(static_cast<double>(list->denied_spiffe_ids()));
  next_update_->Set(crl_ ? static_cast<double>(crl_->next_update_us / 1'000'000) : 0.0);
  logger_->Info("revocation list loaded", {{"crl", files_.crl_path},
                                           {"crl_number", crl_ ? crl_->number : uint64_t{0}},
                                           {"crl_entries", list->crl_entries()},
                                           {"deny_list", files_.deny_list_path},
                                           {"denied_fingerprints", list->denied_fingerprints()},
                                           {"denied_spiffe_ids", list->denied_spiffe_ids()}});
  if (crl_ && crl_->next_update_us != 0 && crl_->next_update_us < NowMicros() &&
      stale_warned_for_ != static_cast<int64_t>(crl_->number)) {
    stale_warned_for_ = static_cast<int64_t>(crl_->number);
    logger_->Warn("the CRL is past its nextUpdate; it still applies, but re-sign it (orgtrailctl pki revoke --refresh)",
                  {{"crl", files_.crl_path}, {"next_update", FormatRfc3339Seconds(crl_->next_update_us)}});
  }
}

}  // namespace orgtrail::collector
