#include "orgtrail/common/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

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
  EXPECT_EQ(RawRequest(port_, "garbage\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
  EXPECT_EQ(RawRequest(port_, "GET /healthz HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n")
                .rfind("HTTP/1.1 431", 0), 0u);
  EXPECT_EQ(RawRequest(port_, std::string("\0\x01\x02\xff\r\n\r\n", 8)).rfind("HTTP/1.1 400", 0), 0u);
  // Still serving after all that.
  EXPECT_EQ(RawRequest(port_, "GET /healthz HTTP/1.0\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
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
