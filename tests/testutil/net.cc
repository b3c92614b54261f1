#include "testutil/net.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace orgtrail::testutil {
namespace {

constexpr size_t kMaxResponseBytes = 64 << 20;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { if (fd_ >= 0) ::close(fd_); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Opens a TCP connection (blocking connect with a poll timeout).
StatusOr<int> Connect(const std::string& host, int port, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  std::string port_text = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), port_text.c_str(), &hints, &result);
  if (rc != 0) return absl::UnavailableError("resolving " + host + ": " + gai_strerror(rc));
  std::string last_error = "no address";
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, static_cast<int>(timeout.count())) == 1 ? 0 : -1;
      int err = 0;
      socklen_t len = sizeof(err);
      if (rc == 0 && (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)) {
        errno = err;
        rc = -1;
      } else if (rc != 0) {
        errno = ETIMEDOUT;
      }
    }
    if (rc == 0) {
      ::freeaddrinfo(result);
      return fd;
    }
    last_error = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(result);
  return absl::UnavailableError("connect " + host + ":" + port_text + ": " + last_error);
}

Status SendAll(int fd, const std::string& data, std::chrono::milliseconds timeout) {
  size_t sent = 0;
  while (sent < data.size()) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
      return absl::UnavailableError("HTTP send timed out");
    }
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return absl::UnavailableError(std::string("HTTP send: ") + std::strerror(errno));
    }
    sent += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// True once `raw` holds the headers and a Content-Length body in full.
bool CompleteByContentLength(const std::string& raw) {
  size_t header_end = raw.find("\r\n\r\n");
  if (header_end == std::string::npos) return false;
  std::string headers = Lower(raw.substr(0, header_end));
  size_t pos = headers.find("\r\ncontent-length:");
  if (pos == std::string::npos) return false;
  size_t length = std::strtoul(headers.c_str() + pos + 17, nullptr, 10);
  return raw.size() >= header_end + 4 + length;
}

// Reads until EOF (we send Connection: close) or a complete Content-Length body.
StatusOr<std::string> ReceiveAll(int fd, std::chrono::milliseconds timeout) {
  std::string out;
  char buffer[16384];
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return absl::UnavailableError("HTTP response timed out");
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc != 1) return absl::UnavailableError("HTTP response timed out");
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == ECONNRESET && !out.empty()) return out;
      return absl::UnavailableError(std::string("HTTP receive: ") + std::strerror(errno));
    }
    if (n == 0) return out;
    out.append(buffer, static_cast<size_t>(n));
    if (out.size() > kMaxResponseBytes) return absl::DataLossError("HTTP response too large");
    if (CompleteByContentLength(out)) return out;
  }
}

StatusOr<std::string> DecodeChunked(std::string_view body) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t eol = body.find("\r\n", pos);
    if (eol == std::string_view::npos) return absl::DataLossError("truncated chunk size");
    std::string size_text(body.substr(pos, eol - pos));
    char* end = nullptr;
    unsigned long size = std::strtoul(size_text.c_str(), &end, 16);
    if (end == size_text.c_str()) return absl::DataLossError("bad chunk size");
    pos = eol + 2;
    if (size == 0) return out;
    if (pos + size > body.size()) return absl::DataLossError("truncated chunk");
    out.append(body.substr(pos, size));
    pos += size + 2;
  }
}

StatusOr<HttpResponse> ParseResponse(const std::string& raw) {
  size_t header_end = raw.find("\r\n\r\n");
  if (raw.compare(0, 5, "HTTP/") != 0 || header_end == std::string::npos) {
    return absl::DataLossError("not an HTTP response: '" + raw.substr(0, 64) + "'");
  }
  HttpResponse response;
  size_t space = raw.find(' ');
  if (space == std::string::npos || space > header_end) return absl::DataLossError("bad status line");
  response.status = std::atoi(raw.c_str() + space + 1);
  size_t line_start = raw.find("\r\n") + 2;
  while (line_start < header_end) {
    size_t line_end = raw.find("\r\n", line_start);
    std::string line = raw.substr(line_start, line_end - line_start);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      size_t first = value.find_first_not_of(" \t");
      response.headers[Lower(line.substr(0, colon))] =
          first == std::string::npos ? "" : value.substr(first);
    }
    line_start = line_end + 2;
  }
  std::string_view body(raw);
  body.remove_prefix(header_end + 4);
  auto te = response.headers.find("transfer-encoding");
  if (te != response.headers.end() && Lower(te->second).find("chunked") != std::string::npos) {
    auto decoded = DecodeChunked(body);
    if (!decoded.ok()) return decoded.status();
    response.body = std::move(*decoded);
  } else {
    response.body = std::string(body);
  }
  return response;
}

}  // namespace

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::fprintf(stderr, "FreePort: %s\n", std::strerror(errno));
    std::abort();
  }
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

std::optional<int> PortFromLog(std::string_view log, std::string_view message, std::string_view key) {
  const std::string quoted = "\"" + std::string(message) + "\"";
  const size_t at = log.find(quoted);
  if (at == std::string_view::npos) return std::nullopt;
  const size_t newline_before = log.rfind('\n', at);
  const size_t line_start = newline_before == std::string_view::npos ? 0 : newline_before + 1;
  const size_t line_end = std::min(log.find('\n', at), log.size());
  const std::string_view line = log.substr(line_start, line_end - line_start);
  const std::string field = "\"" + std::string(key) + "\":";
  const size_t k = line.find(field);
  if (k == std::string_view::npos) return std::nullopt;
  size_t i = k + field.size();
  int port = 0;
  bool digits = false;
  while (i < line.size() && line[i] >= '0' && line[i] <= '9' && port < 65536) {
    port = port * 10 + (line[i++] - '0');
    digits = true;
  }
  if (!digits || port <= 0 || port > 65535) return std::nullopt;
  return port;
}

bool PortAcceptsConnections(const std::string& host, int port) {
  auto fd = Connect(host, port, std::chrono::milliseconds(1000));
  if (!fd.ok()) return false;
  ::close(*fd);
  return true;
}

StatusOr<HttpResponse> HttpGet(const std::string& host, int port, const std::string& path,
                               std::chrono::milliseconds timeout) {
  auto fd_or = Connect(host, port, timeout);
  if (!fd_or.ok()) return fd_or.status();
  Fd fd(*fd_or);
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + host + ":" +
                        std::to_string(port) + "\r\nConnection: close\r\nAccept: */*\r\n\r\n";
  ORGTRAIL_RETURN_IF_ERROR(SendAll(fd.get(), request, timeout));
  auto raw = ReceiveAll(fd.get(), timeout);
  if (!raw.ok()) return raw.status();
  return ParseResponse(*raw);
}

double PrometheusValue(const std::string& body, const std::string& series) {
  for (size_t pos = 0; (pos = body.find(series, pos)) != std::string::npos; pos += series.size()) {
    const size_t after = pos + series.size();
    if ((pos == 0 || body[pos - 1] == '\n') && after < body.size() && body[after] == ' ') {
      return std::stod(body.substr(after + 1, body.find('\n', after) - after - 1));
    }
  }
  return -1;
}

}  // namespace orgtrail::testutil
