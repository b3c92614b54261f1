// Proves the shared test helpers work: TempDir, Subprocess, FreePort,
// HttpGet, WaitFor, TestPki.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <gtest/gtest-spi.h>

#include "orgtrail/common/identity.h"
#include "orgtrail/common/pki.h"
#include "testutil/net.h"
#include "testutil/pki_fixture.h"
#include "testutil/sanitizer_report.h"
#include "testutil/subprocess.h"
#include "testutil/temp_dir.h"
#include "testutil/wait_for.h"

namespace orgtrail::testutil {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::unique_ptr<Subprocess> StartShell(const TempDir& dir, const std::string& script,
                                       std::map<std::string, std::string> env = {}) {
  SubprocessOptions options;
  options.binary = "/bin/sh";
  options.args = {"-c", script};
  options.log_dir = dir.path();
  options.name = "sh";
  options.env = std::move(env);
  auto proc = Subprocess::Start(options);
  EXPECT_TRUE(proc.ok()) << proc.status();
  return proc.ok() ? std::move(*proc) : nullptr;
}

TEST(TempDirTest, CreatesUniqueDirectoryAndRemovesItWithContents) {
  std::string path;
  {
    TempDir a;
    TempDir b;
    path = a.path();
    EXPECT_NE(a.path(), b.path());
    ASSERT_TRUE(std::filesystem::is_directory(a.path()));
    std::string sub = a.MakeSubdir("x/y");
    std::ofstream(sub + "/file") << "data";
    ASSERT_TRUE(std::filesystem::exists(a.Join("x/y/file")));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(SubprocessTest, CapturesOutputAndExitCodeAndEnvironment) {
  TempDir dir;
  auto proc = StartShell(dir, "echo out-$ORGTRAIL_T; echo err >&2; exit 7", {{"ORGTRAIL_T", "v"}});
  ASSERT_NE(proc, nullptr);
  auto status = proc->Wait(seconds(30));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(proc->exited());
  EXPECT_EQ(proc->ExitCode(), 7);
  EXPECT_EQ(proc->TermSignal(), 0);
  EXPECT_EQ(proc->ReadStdout(), "out-v\n");
  EXPECT_EQ(proc->ReadStderr(), "err\n");
  EXPECT_NE(proc->ReadLog().find("out-v"), std::string::npos);
  EXPECT_EQ(proc->DescribeExit(), "exit code 7");
}

TEST(SubprocessTest, StopContinueAndKill) {
  TempDir dir;
  auto proc = StartShell(dir, "while true; do sleep 0.05; done");
  ASSERT_NE(proc, nullptr);
  EXPECT_GT(proc->Pid(), 0);
  EXPECT_FALSE(proc->Wait(milliseconds(100)).has_value());
  ASSERT_TRUE(proc->Kill(SIGSTOP));
  EXPECT_TRUE(proc->Running());  // stopped is not exited
  ASSERT_TRUE(proc->Kill(SIGCONT));
  EXPECT_TRUE(proc->Running());
  ASSERT_TRUE(proc->Kill(SIGKILL));
  ASSERT_TRUE(proc->Wait(seconds(30)).has_value());
  EXPECT_EQ(proc->TermSignal(), SIGKILL);
  EXPECT_EQ(proc->ExitCode(), -1);
  EXPECT_FALSE(proc->Kill(SIGTERM));  // already reaped
}

TEST(SubprocessTest, StopEscalatesFromTermToKill) {
  TempDir dir;
  auto proc = StartShell(dir, "trap '' TERM; while true; do sleep 0.05; done");
  ASSERT_NE(proc, nullptr);
  // Give the shell time to install its trap before SIGTERM (poll: it
  // writes nothing, so just check it is alive a little while).
  std::this_thread::sleep_for(milliseconds(200));
  int status = proc->Stop(milliseconds(500));
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

TEST(SubprocessTest, DestructorKillsTheChild) {
  TempDir dir;
  pid_t pid;
  {
    auto proc = StartShell(dir, "exec sleep 600");
    ASSERT_NE(proc, nullptr);
    pid = proc->Pid();
    ASSERT_EQ(::kill(pid, 0), 0);
  }
  EXPECT_NE(::kill(pid, 0), 0);  // reaped: the pid no longer exists
}

TEST(SubprocessTest, MissingBinaryIsAnError) {
  TempDir dir;
  SubprocessOptions options;
  options.binary = dir.Join("does-not-exist");
  options.log_dir = dir.path();
  EXPECT_FALSE(Subprocess::Start(options).ok());
  options.binary = "/bin/sh";
  options.log_dir = "";
  EXPECT_FALSE(Subprocess::Start(options).ok());
  options.log_dir = dir.Join("no/such/dir");
  EXPECT_FALSE(Subprocess::Start(options).ok());
}

TEST(NetTest, FreePortIsBindable) {
  int port = FreePort();
  EXPECT_GT(port, 0);
  EXPECT_LT(port, 65536);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(fd);
}

// A one-shot HTTP server on a thread: accepts one connection, answers `reply`.
class OneShotServer {
 public:
  explicit OneShotServer(std::string reply) : reply_(std::move(reply)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(fd_, 4);
    thread_ = std::thread([this] {
      int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      char buffer[4096];
      ssize_t n = ::recv(client, buffer, sizeof(buffer), 0);
      if (n > 0) request_.assign(buffer, static_cast<size_t>(n));
      ::send(client, reply_.data(), reply_.size(), MSG_NOSIGNAL);
      ::close(client);
    });
  }
  ~OneShotServer() {
    ::shutdown(fd_, SHUT_RDWR);  // wakes a pending accept()
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  std::string request() {
    if (thread_.joinable()) thread_.join();
    return request_;
  }

 private:
  std::string reply_;
  int fd_ = -1;
  int port_ = 0;
  std::string request_;
  std::thread thread_;
};

TEST(NetTest, PortFromLogReadsTheFieldOfTheNamedLineOnly) {
  const std::string log =
      "{\"level\":\"info\",\"msg\":\"local PutEvents API listening\",\"tcp_port\":4100}\n"
      "{\"level\":\"info\",\"msg\":\"agent starting\",\"epoch\":3,\"ops_port\":41234,\"fresh\":true}\n";
  EXPECT_EQ(PortFromLog(log, "agent starting", "ops_port"), 41234);
  EXPECT_EQ(PortFromLog(log, "local PutEvents API listening", "tcp_port"), 4100);
  EXPECT_EQ(PortFromLog(log, "agent starting", "tcp_port"), std::nullopt) << "another line's field";
  EXPECT_EQ(PortFromLog(log, "collector listening", "grpc_port"), std::nullopt);
  EXPECT_EQ(PortFromLog("{\"msg\":\"agent starting\",\"ops_port\":0}", "agent starting", "ops_port"), std::nullopt);
  EXPECT_EQ(PortFromLog("{\"msg\":\"agent starting\",\"ops_port\":99999}", "agent starting", "ops_port"),
            std::nullopt);
  EXPECT_EQ(PortFromLog("{\"msg\":\"agent starting\",\"ops_port\":\"x\"}", "agent starting", "ops_port"),
            std::nullopt);
}

TEST(NetTest, HttpGetReadsStatusHeadersAndBody) {
  OneShotServer server("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n");
  auto response = HttpGet("127.0.0.1", server.port(), "/healthz");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "ok\n");
  EXPECT_EQ(response->headers["content-type"], "text/plain");
  EXPECT_EQ(server.request().rfind("GET /healthz HTTP/1.1\r\n", 0), 0u);
}

TEST(NetTest, HttpGetDecodesChunkedBodies) {
  OneShotServer server(
      "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4\r\nnot \r\n5\r\nready\r\n0\r\n\r\n");
  auto response = HttpGet("127.0.0.1", server.port(), "/healthz");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(response->body, "not ready");
}

TEST(NetTest, HttpGetRejectsNonHttpAndClosedPorts) {
  OneShotServer server("garbage that is not http");
  EXPECT_FALSE(HttpGet("127.0.0.1", server.port(), "/").ok());
  int closed = FreePort();
  EXPECT_FALSE(PortAcceptsConnections("127.0.0.1", closed));
  auto response = HttpGet("127.0.0.1", closed, "/", milliseconds(2000));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable);
}

TEST(WaitForTest, ReturnsTrueWhenConditionHoldsAndFalseAtDeadline) {
  std::atomic<int> counter{0};
  EXPECT_TRUE(WaitFor([&] { return ++counter >= 3; }, seconds(30), milliseconds(1)));
  EXPECT_EQ(counter.load(), 3);
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(WaitFor([] { return false; }, milliseconds(100), milliseconds(10)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(100));
}

TEST(TestPkiTest, IssuesFilesWithTheRightIdentitiesAndModes) {
  TempDir dir;
  TestPki pki(dir.Join("pki"));
  ASSERT_TRUE(pki.ok());
  struct stat st;
  ASSERT_EQ(::stat((dir.Join("pki") + "/ca.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  TlsFiles collector = pki.Collector();
  TlsFiles agent = pki.Agent("222222222222", "eu-west-1", "edge");
  ASSERT_FALSE(agent.cert_path.empty());
  EXPECT_EQ(agent.ca_cert_path, pki.ca_cert_path());
  ASSERT_EQ(::stat(agent.key_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto pem = ReadFile(agent.cert_path);
  ASSERT_TRUE(pem.ok());
  auto id = IdentityFromCertificatePem(*pem, "example.org");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->role, Role::kAgent);
  EXPECT_EQ(id->account_id, "222222222222");
  EXPECT_EQ(id->region, "eu-west-1");
  EXPECT_EQ(id->name, "edge");

  auto collector_pem = ReadFile(collector.cert_path);
  ASSERT_TRUE(collector_pem.ok());
  auto collector_id = IdentityFromCertificatePem(*collector_pem, "example.org");
  ASSERT_TRUE(collector_id.ok()) << collector_id.status();
  EXPECT_EQ(collector_id->spiffe_id, "spiffe://example.org/collector/main");
  auto ca_pem = ReadFile(pki.ca_cert_path());
  ASSERT_TRUE(ca_pem.ok());
  EXPECT_TRUE(VerifyCertificateChain(*collector_pem, *ca_pem).ok());

  auto other = ReadFile(pki.FromOtherCa().cert_path);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(VerifyCertificateChain(*other, *ca_pem).ok());
}

TEST(SanitizerReportTest, FindsEachSanitizersReportAndNothingElse) {
  EXPECT_FALSE(FindSanitizerReport("{\"level\":\"info\",\"msg\":\"runtime ok\"}\n").has_value());
  EXPECT_FALSE(FindSanitizerReport("").has_value());
  for (const char* report : {"==12==ERROR: AddressSanitizer: heap-use-after-free on address 0x1",
                             "==12==ERROR: LeakSanitizer: detected memory leaks",
                             "WARNING: ThreadSanitizer: data race (pid=7)",
                             "==7==WARNING: ThreadSanitizer: lock-order-inversion (potential deadlock) (pid=7)",
                             "FATAL: ThreadSanitizer: unexpected memory mapping 0x7f0000000000-0x7f0000001000",
                             "store.cc:42:7: runtime error: signed integer overflow"}) {
    auto found = FindSanitizerReport(std::string("{\"msg\":\"started\"}\n") + report + "\n    #0 0x1 in f\n");
    ASSERT_TRUE(found.has_value()) << report;
    EXPECT_EQ(found->rfind(report, 0), 0u) << *found;  // starts at the report's first line
    EXPECT_NE(found->find("#0 0x1 in f"), std::string::npos);
  }
}

void RunChildThatPrintsAnAsanReport(const std::string& log_dir) {
  SubprocessOptions options;
  options.binary = "/bin/sh";
  options.args = {"-c", "echo '==9==ERROR: AddressSanitizer: stack-buffer-overflow' >&2"};
  options.log_dir = log_dir;
  options.name = "asan-child";
  auto proc = Subprocess::Start(options);
  ASSERT_TRUE(proc.ok());
  (*proc)->Wait(std::chrono::seconds(30));
}

TEST(SanitizerReportTest, AChildsReportFailsTheTestThatStartedIt) {
  TempDir dir;
  EXPECT_NONFATAL_FAILURE(RunChildThatPrintsAnAsanReport(dir.path()), "printed a sanitizer report");
}

// A daemon the test leaves running is killed and reaped by the destructor: its log is scanned too.
void LeaveATsanChildToTheDestructor(const std::string& log_dir) {
  SubprocessOptions options;
  options.binary = "/bin/sh";
  options.args = {"-c", "echo 'WARNING: ThreadSanitizer: data race (pid=9)' >&2; exec sleep 60"};
  options.log_dir = log_dir;
  options.name = "tsan-child";
  auto proc = Subprocess::Start(options);
  ASSERT_TRUE(proc.ok());
  // The report is written before the child is destroyed (else the test would pass over nothing).
  Subprocess* child = proc->get();
  ASSERT_TRUE(WaitFor([child] { return child->ReadStderr().find("ThreadSanitizer") != std::string::npos; },
                      std::chrono::seconds(30)));
}

TEST(SanitizerReportTest, AReportOfAChildLeftToTheDestructorFailsTheTest) {
  TempDir dir;
  EXPECT_NONFATAL_FAILURE(LeaveATsanChildToTheDestructor(dir.path()), "printed a sanitizer report");
}

}  // namespace
}  // namespace orgtrail::testutil
