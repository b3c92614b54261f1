// The HTTP/1.1 server of the operational endpoints (/healthz, /readyz,
// /metrics, …), on libmicrohttpd: one epoll thread serves up to 256
// connections at once, so idle or slow clients (dropped after 5 s) never hold
// up a probe. GET and HEAD only (others: 405); one request per connection;
// a request head over about 8 KiB is answered 431, a malformed one 400.
// Handlers run on the server's thread, one at a time, and must be thread-safe
// with respect to the rest of the program; they get the request target as
// sent (path and query). Start() binds and returns the bound port (port 0 =
// any free port); bind errors name --http-listen.
#ifndef ORGTRAIL_COMMON_HTTP_SERVER_H_
#define ORGTRAIL_COMMON_HTTP_SERVER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "orgtrail/common/status.h"

struct MHD_Daemon;

namespace orgtrail {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const std::string& path_and_query)>;
  HttpServer();
  ~HttpServer();  // stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Register before Start(). Exact path match (query string ignored for matching).
  void Handle(const std::string& path, Handler handler);
  // address: "127.0.0.1:9100", "0.0.0.0:0", "[::1]:9100".
  StatusOr<int> Start(const std::string& address);
  void Stop();
  int port() const { return port_; }

  // For fuzzing: serves `request` as one connection's bytes with the same parser, limits and
  // handlers as Start(), on the calling thread and without a listening socket or timing (a
  // private libmicrohttpd instance over a socketpair, stopped after the request was read and
  // answered). Returns what the server wrote, possibly nothing (a request it dropped, or one
  // still incomplete when the client side closed).
  std::string ServeOneForFuzzing(std::string_view request);

 private:
  MHD_Daemon* StartDaemon(unsigned flags, int listen_fd);
  friend struct HttpServerCallbacks;  // libmicrohttpd's request callback (http_server.cc)
  std::map<std::string, Handler> handlers_;
  int listen_fd_ = -1;
  int port_ = 0;
  MHD_Daemon* daemon_ = nullptr;
};

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_HTTP_SERVER_H_
