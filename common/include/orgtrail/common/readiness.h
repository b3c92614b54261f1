// Readiness: the named checks behind a daemon's /readyz endpoint. Each check
// answers "" when it passes, or why it fails; Evaluate() runs them all (every
// request, in the order added) and answers 200 {"status":"ready",...} or 503
// {"status":"not ready",...} with every check's name, state and reason, so a
// probe's failure says which check failed. Liveness (/healthz) is separate: a
// daemon that is not ready is still alive.
//
// Thread safety: Add() before serving; Evaluate() from any thread, as long as
// the checks themselves are thread-safe. Checks must be quick (no I/O beyond a
// statvfs): they run on the ops server's thread.
#ifndef ORGTRAIL_COMMON_READINESS_H_
#define ORGTRAIL_COMMON_READINESS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "orgtrail/common/http_server.h"

namespace orgtrail {

class Readiness {
 public:
  using Check = std::function<std::string()>;  // "" = passing, else the reason it fails
  void Add(std::string name, Check check) { checks_.emplace_back(std::move(name), std::move(check)); }
  HttpResponse Evaluate() const;

 private:
  std::vector<std::pair<std::string, Check>> checks_;
};

// "" when the file system holding `path` has at least min_free_bytes available to this user,
// else the reason (free bytes, the threshold, or why statvfs failed).
std::string DiskSpaceFailure(const std::string& path, uint64_t min_free_bytes);

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_READINESS_H_
