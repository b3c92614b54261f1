// The ops HTTP server's request parsing (common/http_server.h). The request
// head reader and request-line parser are internal to HttpServer::Serve, so
// the target goes through the smallest public entry point: a real HttpServer
// on 127.0.0.1:0 (started once, with /healthz and /metrics handlers as in the
// daemons); each input is sent on a fresh connection, the write side is shut
// down, and the response is read to the end. A response must always be an
// HTTP/1.1 status line (the server answered and did not crash or hang).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "fuzz_util.h"
#include "orgtrail/common/http_server.h"

namespace {

orgtrail::HttpServer* StartServer() {
  auto* server = new orgtrail::HttpServer();
  server->Handle("/healthz", [](const std::string&) {
    return orgtrail::HttpResponse{200, "text/plain; charset=utf-8", "ok\n"};
  });
  server->Handle("/metrics", [](const std::string& target) {
    return orgtrail::HttpResponse{200, "text/plain; version=0.0.4", "# target " + target + "\n"};
  });
  auto port = server->Start("127.0.0.1:0");
  if (!port.ok()) {
    std::fprintf(stderr, "fuzz_http_request: %s\n", std::string(port.status().message()).c_str());
    std::abort();
  }
  return server;
}

// A connection to the server. libFuzzer's timers (SIGALRM) interrupt system calls: a connect()
// interrupted (EINTR) is dropped and made again, as are one that found no free local port
// (EADDRNOTAVAIL: the client shuts its write side first, so each input leaves a port in
// TIME_WAIT, and at thousands of inputs a second the kernel reuses them only after 1 s,
// net.ipv4.tcp_tw_reuse), up to 10 s. Any other failure (refused: the server is gone) is a finding.
int Connect(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int attempt = 0;; ++attempt) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ORGTRAIL_FUZZ_CHECK(fd >= 0);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) return fd;
    const int error = errno;
    ::close(fd);
    if ((error != EADDRNOTAVAIL && error != EINTR) || attempt == 10000) {
      std::fprintf(stderr, "fuzz_http_request: connect: %s\n", std::strerror(error));
      std::abort();
    }
    if (error == EADDRNOTAVAIL) ::usleep(1000);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static orgtrail::HttpServer* server = StartServer();
  if (size > 12 * 1024) return 0;
  const int fd = Connect(server->port());
  size_t off = 0;
  while (off < size) {
    const ssize_t n = ::send(fd, data + off, size - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the server may answer (431) and close before reading everything
    off += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string response;
  char buf[4096];
  while (true) {
    pollfd p{fd, POLLIN, 0};
    // The server answers a closed, incomplete request at once (400); 10 s means it hung.
    const int pr = ::poll(&p, 1, 10000);
    if (pr < 0 && errno == EINTR) continue;
    ORGTRAIL_FUZZ_CHECK(pr > 0);
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    response.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  // A reset after an early answer can lose the response; otherwise it is HTTP.
  if (!response.empty()) ORGTRAIL_FUZZ_CHECK(response.rfind("HTTP/1.1 ", 0) == 0);
  return 0;
}
