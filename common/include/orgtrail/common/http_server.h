// A small HTTP/1.1 server for operational endpoints (/healthz, /metrics, …)
// on a dedicated thread. GET only (others: 405); one request per connection;
// request head limited to 8 KiB (431 beyond), slow clients time out after 5 s.
// Handlers run on the server thread and must be thread-safe with respect to
// the rest of the program. Start() binds and returns the bound port (port 0 =
// any free port).
#ifndef ORGTRAIL_COMMON_HTTP_SERVER_H_
#define ORGTRAIL_COMMON_HTTP_SERVER_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "orgtrail/common/status.h"

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

 private:
  void Serve();
  std::map<std::string, Handler> handlers_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_HTTP_SERVER_H_
