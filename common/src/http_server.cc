#include "orgtrail/common/http_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "orgtrail/common/config.h"

namespace orgtrail {
namespace {

// Per connection: idle or slow clients are dropped after this many seconds; they never hold up
// other clients (libmicrohttpd serves every connection from one epoll loop).
constexpr unsigned kClientTimeoutSeconds = 5;
constexpr unsigned kMaxConnections = 256;
// Memory pool per connection: the request head must fit (about 8 KiB of it; a larger head is
// answered 431 by libmicrohttpd).
constexpr size_t kConnectionMemory = 12 * 1024;

MHD_Result Send(MHD_Connection* connection, const HttpResponse& r, bool head_only) {
  MHD_Response* response = MHD_create_response_from_buffer(
      head_only ? 0 : r.body.size(), const_cast<char*>(r.body.data()), MHD_RESPMEM_MUST_COPY);
  if (response == nullptr) return MHD_NO;
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, r.content_type.c_str());
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION, "close");
  const MHD_Result queued = MHD_queue_response(connection, static_cast<unsigned>(r.status), response);
  MHD_destroy_response(response);
  return queued;
}

// libmicrohttpd hands the raw request target (path and query, as sent) to this callback before
// it parses the query; what it returns is the request's context, freed in RequestCompleted.
void* KeepRawTarget(void*, const char* uri, MHD_Connection*) { return new std::string(uri ? uri : ""); }

void RequestCompleted(void*, MHD_Connection*, void** context, MHD_RequestTerminationCode) {
  delete static_cast<std::string*>(*context);
  *context = nullptr;
}

}  // namespace

struct HttpServerCallbacks {
  static MHD_Result OnRequest(void* self, MHD_Connection* connection, const char* url, const char* method,
                              const char* version, const char* upload, size_t* upload_size, void** context);
};

HttpServer::HttpServer() = default;
HttpServer::~HttpServer() { Stop(); }

void HttpServer::Handle(const std::string& path, Handler handler) {
  handlers_[path] = std::move(handler);
}

MHD_Daemon* HttpServer::StartDaemon(unsigned flags, int listen_fd) {
  MHD_OptionItem options[] = {
      {MHD_OPTION_CONNECTION_TIMEOUT, kClientTimeoutSeconds, nullptr},
      {MHD_OPTION_CONNECTION_LIMIT, kMaxConnections, nullptr},
      {MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<intptr_t>(kConnectionMemory), nullptr},
      {MHD_OPTION_URI_LOG_CALLBACK, reinterpret_cast<intptr_t>(&KeepRawTarget), nullptr},
      {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&RequestCompleted), nullptr},
      {listen_fd >= 0 ? MHD_OPTION_LISTEN_SOCKET : MHD_OPTION_END, listen_fd, nullptr},
      {MHD_OPTION_END, 0, nullptr},
  };
  return MHD_start_daemon(flags | MHD_USE_SUPPRESS_DATE_NO_CLOCK | (listen_fd < 0 ? MHD_USE_NO_LISTEN_SOCKET : 0),
                          0, nullptr, nullptr, &HttpServerCallbacks::OnRequest, this,
                          MHD_OPTION_ARRAY, options, MHD_OPTION_END);
}

std::string HttpServer::ServeOneForFuzzing(std::string_view request) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return "";
  // The whole request is in the socket before the server looks; the client side is then shut,
  // as a client that sent everything.
  size_t off = 0;
  while (off < request.size()) {
    const ssize_t n = ::send(fds[0], request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  ::shutdown(fds[0], SHUT_WR);
  MHD_Daemon* daemon = StartDaemon(0, -1);  // external polling: runs only in MHD_run below
  std::string answer;
  if (daemon != nullptr) {
    sockaddr_in peer{};
    peer.sin_family = AF_INET;
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (MHD_add_connection(daemon, fds[1], reinterpret_cast<sockaddr*>(&peer), sizeof(peer)) == MHD_YES) {
      fds[1] = -1;  // the daemon owns it now
      // Each pass reads or writes what is ready without blocking. Passes go on until the server
      // answered or closed (then two more, to finish writing), at most 64 (the request is then
      // incomplete: the server waits for more, which the client will never send).
      for (int pass = 0, after_answer = -1; pass < 64 && after_answer != 0; ++pass) {
        MHD_run(daemon);
        pollfd client{fds[0], POLLIN, 0};
        if (after_answer < 0 && ::poll(&client, 1, 0) == 1) after_answer = 2;
        if (after_answer > 0) --after_answer;
      }
    }
    MHD_stop_daemon(daemon);  // closes what the request left open
  }
  if (fds[1] >= 0) ::close(fds[1]);
  char buffer[4096];
  ssize_t n;
  while ((n = ::recv(fds[0], buffer, sizeof(buffer), MSG_DONTWAIT)) > 0) answer.append(buffer, static_cast<size_t>(n));
  ::close(fds[0]);
  return answer;
}

StatusOr<int> HttpServer::Start(const std::string& address) {
  auto hp = ParseHostPort("--http-listen", address);
  if (!hp.ok()) return hp.status();
  const bool v6 = hp->host.find(':') != std::string::npos;
  listen_fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return absl::UnavailableError(std::string("socket: ") + std::strerror(errno));
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_storage ss{};
  socklen_t len;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(hp->port));
    if (::inet_pton(AF_INET6, hp->host.c_str(), &a->sin6_addr) != 1) {
      return absl::InvalidArgumentError("--http-listen: bad IPv6 address '" + hp->host + "'");
    }
    len = sizeof(*a);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(hp->port));
    const std::string host = hp->host == "localhost" ? "127.0.0.1" : hp->host;
    if (::inet_pton(AF_INET, host.c_str(), &a->sin_addr) != 1) {
      return absl::InvalidArgumentError("--http-listen: bad IPv4 address '" + hp->host + "'");
    }
    len = sizeof(*a);
  }
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(listen_fd_, 64) != 0) {
    const std::string err = std::strerror(errno);
    ::close(listen_fd_);
    listen_fd_ = -1;
    return absl::UnavailableError("--http-listen: cannot listen on " + address + ": " + err);
  }
  sockaddr_storage bound{};
  socklen_t blen = sizeof(bound);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &blen);
  port_ = v6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
             : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  daemon_ = StartDaemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, listen_fd_);
  if (daemon_ == nullptr) {
    ::close(listen_fd_);
    listen_fd_ = -1;
    return absl::UnavailableError("--http-listen: cannot start the HTTP server on " + address);
  }
  return port_;
}

void HttpServer::Stop() {
  if (daemon_ != nullptr) {
    MHD_stop_daemon(daemon_);  // joins its thread; the listening socket is ours to close
    daemon_ = nullptr;
  }
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
}

MHD_Result HttpServerCallbacks::OnRequest(void* self, MHD_Connection* connection, const char* url,
                                          const char* method, const char*, const char*, size_t* upload_size,
                                          void** context) {
  auto* server = static_cast<HttpServer*>(self);
  const std::string target = *context ? *static_cast<std::string*>(*context) : std::string(url);
  const bool is_get = std::strcmp(method, MHD_HTTP_METHOD_GET) == 0;
  const bool is_head = std::strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
  if (!is_get && !is_head) {
    *upload_size = 0;  // a body is not read: the connection is closed after the answer
    return Send(connection, HttpResponse{405, "text/plain; charset=utf-8", "Method Not Allowed\n"}, false);
  }
  auto it = server->handlers_.find(url);
  if (it == server->handlers_.end()) {
    return Send(connection, HttpResponse{404, "text/plain; charset=utf-8", "Not Found\n"}, is_head);
  }
  return Send(connection, it->second(target), is_head);
}

}  // namespace orgtrail
