// The ops HTTP server's request handling (common/http_server.h): libmicrohttpd's
// request parser with the server's limits (request head, connection memory)
// and orgtrail's dispatch (method check, exact path match, the raw request
// target handed to the handler). Each input is one connection's bytes, served
// by HttpServer::ServeOneForFuzzing: the same parser, options and handlers as
// the listening server, on this thread over a socketpair, without timing (an
// incomplete request is dropped as soon as the input is consumed). Handlers as
// in the daemons: /healthz and /metrics (which echoes the target).
// Invariant: whatever the server wrote is an HTTP/1.1 response, and a
// response to /metrics carries the request target byte for byte.
#include <cstdint>
#include <cstdio>
#include <string>

#include "fuzz_util.h"
#include "orgtrail/common/http_server.h"

namespace {

orgtrail::HttpServer* MakeServer() {
  auto* server = new orgtrail::HttpServer();
  server->Handle("/healthz", [](const std::string&) {
    return orgtrail::HttpResponse{200, "text/plain; charset=utf-8", "ok\n"};
  });
  server->Handle("/metrics", [](const std::string& target) {
    ORGTRAIL_FUZZ_CHECK(target.rfind("/metrics", 0) == 0);
    return orgtrail::HttpResponse{200, "text/plain; version=0.0.4", "# target " + target + "\n"};
  });
  return server;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static orgtrail::HttpServer* server = MakeServer();
  if (size > 12 * 1024) return 0;
  const std::string response = server->ServeOneForFuzzing(orgtrail::fuzz::AsView(data, size));
  if (!response.empty()) ORGTRAIL_FUZZ_CHECK(response.rfind("HTTP/1.1 ", 0) == 0);
  return 0;
}
