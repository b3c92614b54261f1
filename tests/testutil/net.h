// Loopback networking helpers for integration tests: a free TCP port, a
// "is something listening" probe, and a minimal HTTP/1.1 GET over a plain
// socket (for /healthz and /metrics), and a reader of one Prometheus series.
// Thread-safe (no shared state).
//
// Servers under test listen on port 0 and log the port the kernel chose;
// PortFromLog reads it back (no window in which another process could take
// it). FreePort() binds 127.0.0.1:0, reads the port and closes the socket:
// only for a port that must stay closed (nothing listens on it) or when a
// client must know an address before its server exists.
#ifndef ORGTRAIL_TESTS_TESTUTIL_NET_H_
#define ORGTRAIL_TESTS_TESTUTIL_NET_H_

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "orgtrail/common/status.h"

namespace orgtrail::testutil {

// A currently free TCP port on 127.0.0.1 (aborts if none can be bound).
int FreePort();

// The port a daemon logged: the integer after "<key>": on the first log line that holds the JSON
// string "<message>" (e.g. "collector listening" / "grpc_port"), or nullopt.
std::optional<int> PortFromLog(std::string_view log, std::string_view message, std::string_view key);

// True if a TCP connect to host:port succeeds now.
bool PortAcceptsConnections(const std::string& host, int port);

struct HttpResponse {
  int status = 0;                              // e.g. 200
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                            // chunked bodies decoded
};

// GET http://host:port/path. UNAVAILABLE if the connection fails or times
// out, DATA_LOSS if the answer is not HTTP.
StatusOr<HttpResponse> HttpGet(const std::string& host, int port, const std::string& path,
                               std::chrono::milliseconds timeout = std::chrono::seconds(10));

// The value of one series in a Prometheus text body ("name{labels}" exactly as rendered, or the
// bare name), or -1 if absent.
double PrometheusValue(const std::string& body, const std::string& series);

}  // namespace orgtrail::testutil

#endif  // ORGTRAIL_TESTS_TESTUTIL_NET_H_
