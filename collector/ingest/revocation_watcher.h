// RevocationWatcher: the collector's RevocationList (common/revocation.h),
// read from its --crl-file and --deny-list-file and kept current while the
// collector runs, the way the TLS files are.
//
// Open() reads and checks every configured file: a file that is missing,
// unreadable, too large or malformed (a CRL that does not verify against the
// CA bundle --ca, a deny-list line that is not an entry) is INVALID_ARGUMENT
// naming the flag and the file, and the collector does not start.
//
// Start() polls the files (and the CA bundle the CRL verifies against) every
// poll_interval_us on a thread of its own: a file whose inode, size and
// modification time are unchanged is not read again; one that changed is read
// and its contents compared with what was read last. A changed file that loads replaces its part of the list and
// the listener gets the new snapshot (on the watcher's thread). A changed file
// that does not load is logged at error level and counted in
// orgtrail_collector_revocation_reload_errors_total{file="crl"|"deny_list"},
// once per distinct failure; the last good part stays in force. The CRL and
// the deny list are independent: a bad deny list does not hold back a good
// new CRL. A CRL past its nextUpdate still applies (its revocations are still
// true) and is logged as a warning; orgtrail_collector_revocation_crl_next_update_seconds
// shows when.
//
// Other metrics: orgtrail_collector_revocation_reloads_total (new lists
// applied after Open) and orgtrail_collector_revocation_entries{source=
// "crl"|"fingerprint"|"spiffe_id"}.
//
// Thread safety: Current() from any thread; Start/Stop/Poll from one thread
// (Poll is for tests that drive the watcher without its thread).
#ifndef ORGTRAIL_COLLECTOR_INGEST_REVOCATION_WATCHER_H_
#define ORGTRAIL_COLLECTOR_INGEST_REVOCATION_WATCHER_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "orgtrail/common/crl.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/metrics.h"
#include "orgtrail/common/revocation.h"
#include "orgtrail/common/status.h"

namespace orgtrail::collector {

struct RevocationFiles {
  std::string crl_path;        // "" = no CRL
  std::string deny_list_path;  // "" = no deny list
  std::string ca_path;         // the CA bundle a CRL must verify against (required with crl_path)
  int64_t poll_interval_us = 1'000'000;
};

class RevocationWatcher {
 public:
  using Listener = std::function<void(std::shared_ptr<const RevocationList>)>;

  static StatusOr<std::unique_ptr<RevocationWatcher>> Open(RevocationFiles files, Logger* logger,
                                                           MetricsRegistry* metrics);
  ~RevocationWatcher();
  RevocationWatcher(const RevocationWatcher&) = delete;
  RevocationWatcher& operator=(const RevocationWatcher&) = delete;

  std::shared_ptr<const RevocationList> Current() const;
  // The current list's verdict on a certificate (nullopt also when the PEM
  // does not parse: TLS has verified it, so that does not happen).
  std::optional<std::string> CheckPem(const std::string& cert_pem) const;

  void Start(Listener listener);
  void Stop();
  // Reads the files once; true when a new list was applied (and the listener,
  // if started, was called).
  bool Poll();

 private:
  // What was last read from one file.
  struct Seen {
    std::string stat;       // StatSignature of the file(s) when last read: unchanged = not read again
    std::string attempted;  // key (hashes) of the contents last tried
    std::string good;       // key of the contents in force
    std::string error;      // the last failure logged ("" = none)
  };
  RevocationWatcher(RevocationFiles files, Logger* logger, MetricsRegistry* metrics);
  // Loads what changed; startup = errors are returned instead of logged.
  Status Load(bool startup, bool* changed);
  void Failed(const char* file, const std::string& path, Seen* seen, const std::string& error);
  void Publish();
  void Loop();

  const RevocationFiles files_;
  Logger* logger_;
  MetricsRegistry* metrics_;

  // Poll state (one thread).
  Seen crl_seen_;
  Seen deny_seen_;
  std::string ca_seen_;
  std::optional<Crl> crl_;
  DenyList deny_;
  int64_t stale_warned_for_ = -1;  // CRL number the nextUpdate warning was logged for
  Listener listener_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::shared_ptr<const RevocationList> current_;
  std::thread thread_;

  Counter* reloads_;
  Gauge* next_update_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_INGEST_REVOCATION_WATCHER_H_
