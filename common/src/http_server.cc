#include "orgtrail/common/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "orgtrail/common/config.h"

namespace orgtrail {
namespace {

constexpr size_t kMaxRequestHead = 8192;
constexpr int kClientTimeoutMs = 5000;

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

void SendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    off += static_cast<size_t>(n);
  }
}

void SendResponse(int fd, const HttpResponse& r) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + Reason(r.status) + "\r\n";
  out += "Content-Type: " + r.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  out += "Connection: close\r\n\r\n";
  out += r.body;
  SendAll(fd, out);
}

// Reads the request head (up to the blank line). Returns the HTTP status to
// answer with on failure (400, 408, 431), or 0 on success.
int ReadRequestHead(int fd, std::string* head) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kClientTimeoutMs);
  char buf[1024];
  while (head->find("\r\n\r\n") == std::string::npos && head->find("\n\n") == std::string::npos) {
    if (head->size() > kMaxRequestHead) return 431;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return 408;
    pollfd p{fd, POLLIN, 0};
    const int pr = ::poll(&p, 1, static_cast<int>(left));
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) return 408;
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 400;
    head->append(buf, static_cast<size_t>(n));
  }
  return head->size() > kMaxRequestHead + 4 ? 431 : 0;
}

}  // namespace

HttpServer::HttpServer() = default;
HttpServer::~HttpServer() { Stop(); }

void HttpServer::Handle(const std::string& path, Handler handler) {
  handlers_[path] = std::move(handler);
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
  stop_ = false;
  thread_ = std::thread([this] { Serve(); });
  return port_;
}

void HttpServer::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
}

void HttpServer::Serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    const int pr = ::poll(&p, 1, 200);
    if (pr <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::string head;
    const int err = ReadRequestHead(fd, &head);
    if (err != 0) {
      SendResponse(fd, HttpResponse{err, "text/plain; charset=utf-8", std::string(Reason(err)) + "\n"});
      ::close(fd);
      continue;
    }
    const size_t line_end = head.find_first_of("\r\n");
    const std::string request_line = head.substr(0, line_end);
    const size_t sp1 = request_line.find(' ');
    const size_t sp2 = sp1 == std::string::npos ? std::string::npos : request_line.find(' ', sp1 + 1);
    if (sp1 == std::string::npos || sp2 == std::string::npos) {
      SendResponse(fd, HttpResponse{400, "text/plain; charset=utf-8", "Bad Request\n"});
      ::close(fd);
      continue;
    }
    const std::string method = request_line.substr(0, sp1);
    const std::string target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string path = target.substr(0, target.find('?'));
    HttpResponse response;
    if (method != "GET" && method != "HEAD") {
      response = HttpResponse{405, "text/plain; charset=utf-8", "Method Not Allowed\n"};
    } else {
      auto it = handlers_.find(path);
      if (it == handlers_.end()) {
        response = HttpResponse{404, "text/plain; charset=utf-8", "Not Found\n"};
      } else {
        response = it->second(target);
      }
      if (method == "HEAD") response.body.clear();
    }
    SendResponse(fd, response);
    ::close(fd);
  }
}

}  // namespace orgtrail
