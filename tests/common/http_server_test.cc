#include "orgtrail/common/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

namespace orgtrail {
namespace {

// Sends raw bytes to 127.0.0.1:port and returns everything the server answers.
std::string RawRequest(int port, const std::string& bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);  // the request is complete: no client waits for a timeout
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Handle("/healthz", [](const std::string&) { return HttpResponse{200, "text/plain", "ok\n"}; });
    server_.Handle("/metrics", [](const std::string& target) {
      return HttpResponse{200, "text/plain; version=0.0.4", "target=" + target + "\n"};
    });
    auto port = server_.Start("127.0.0.1:0");
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
  }
  HttpServer server_;
  int port_ = 0;
};

TEST_F(HttpServerTest, ServesRegisteredPaths) {
  const std::string r = RawRequest(port_, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("\r\n\r\nok\n"), std::string::npos);
  const std::string m = RawRequest(port_, "GET /metrics?x=1 HTTP/1.1\r\n\r\n");
  EXPECT_NE(m.find("target=/metrics?x=1"), std::string::npos);
}

TEST_F(HttpServerTest, RejectsBadRequests) {
  EXPECT_EQ(RawRequest(port_, "GET /nope HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_EQ(RawRequest(port_, "POST /healthz HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405", 0), 0u);
  EXPECT_EQ(RawRequest(port_, "GET /healthz HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n")
                .rfind("HTTP/1.1 431", 0), 0u);
  // What is not HTTP at all is dropped (libmicrohttpd closes the connection; at most a 400).
  for (const std::string& junk : {std::string("garbage\r\n\r\n"), std::string("\0\x01\x02\xff\r\n\r\n", 8)}) {
    const std::string r = RawRequest(port_, junk);
    EXPECT_TRUE(r.empty() || r.rfind("HTTP/1.1 400", 0) == 0) << r;
  }
  // Still serving after all that.
  EXPECT_EQ(RawRequest(port_, "GET /healthz HTTP/1.0\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
}

// Found by an operator: the old server read one connection at a time, so one idle TCP connection
// held every probe for its 5 s timeout (Kubernetes then killed a healthy pod). With 100 idle
// connections open, a probe is answered while they are all still open, i.e. before any of them
// timed out; and the server drops them by itself afterwards.
TEST_F(HttpServerTest, IdleConnectionsDoNotHoldUpAProbe) {
  std::vector<int> idle;
  for (int i = 0; i < 100; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    idle.push_back(fd);
  }
  ASSERT_EQ(::send(idle[0], "GET /hea", 8, MSG_NOSIGNAL), 8);  // one that stalls mid-request too
  const std::string r = RawRequest(port_, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  int still_open = 0;
  for (int fd : idle) {
    char c;
    const ssize_t n = ::recv(fd, &c, 1, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) ++still_open;
  }
  EXPECT_EQ(still_open, 100) << "the probe was answered only after idle connections timed out";
  // The server closes idle connections by itself (its timeout), so they cannot pile up.
  pollfd p{idle[1], POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 30000), 1);
  char c;
  EXPECT_EQ(::recv(idle[1], &c, 1, 0), 0);
  for (int fd : idle) ::close(fd);
}

// The fuzzing entry point answers as the listening server does, with no timing involved: an
// incomplete request is dropped at once instead of after the client timeout.
TEST_F(HttpServerTest, ServeOneForFuzzingAnswersAsTheServerDoes) {
  const std::string ok = server_.ServeOneForFuzzing("GET /metrics?a=%20b HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << ok;
  EXPECT_NE(ok.find("target=/metrics?a=%20b"), std::string::npos) << ok;
  EXPECT_EQ(server_.ServeOneForFuzzing("DELETE /healthz HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405", 0), 0u);
  EXPECT_EQ(server_.ServeOneForFuzzing("GET /x HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n")
                .rfind("HTTP/1.1 431", 0), 0u);
  EXPECT_EQ(server_.ServeOneForFuzzing("GET /hea"), "");
  EXPECT_EQ(server_.ServeOneForFuzzing(std::string("\0\x01\x02\xff\r\n\r\n", 8)), "");
}

TEST(HttpServer, RejectsBadListenAddress) {
  HttpServer s;
  auto r = s.Start("not-an-address");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("--http-listen"), std::string::npos);
  EXPECT_FALSE(s.Start("999.1.1.1:80").ok());
}

}  // namespace
}  // namespace orgtrail
