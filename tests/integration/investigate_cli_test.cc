// Investigations end to end with real processes on loopback: the collector
// (with the shipped CIS alarms pointed at a webhook receiver in this test),
// an agent stream (IngestClient) sending the invictus records, and the real
// orgtrailctl: `query` (table/json/csv, auditors only) and `tail` (filter
// pattern, cursor resumption without loss). Also times ingest -> alarm
// notification through the real collector.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "orgtrail/common/generator.h"
#include "orgtrail/common/time_util.h"
#include "orgtrail/common/tls.h"
#include "orgtrail/v1/query.grpc.pb.h"
#include "testutil/ingest_client.h"
#include "testutil/orgtrailctl_runner.h"
#include "testutil/pki_fixture.h"
#include "testutil/subprocess.h"
#include "testutil/temp_dir.h"
#include "testutil/wait_for.h"

namespace orgtrail {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kAccount[] = "123837392027";
const std::string kCtl = std::string(ORGTRAIL_BINARY_DIR) + "/cli/orgtrailctl";

// Records POST bodies (answers 200).
class WebhookReceiver {
 public:
  WebhookReceiver() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(fd_, 16), 0);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~WebhookReceiver() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/orgtrail/alarms"; }
  std::vector<std::pair<int64_t, std::string>> received() const {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd pfd{fd_, POLLIN, 0};
      if (poll(&pfd, 1, 50) <= 0) continue;
      int client = accept(fd_, nullptr, nullptr);
      if (client < 0) continue;
      std::string data;
      size_t header_end = std::string::npos, length = 0;
      auto deadline = std::chrono::steady_clock::now() + seconds(10);
      while (!stop_ && std::chrono::steady_clock::now() < deadline) {
        pollfd c{client, POLLIN, 0};
        if (poll(&c, 1, 50) <= 0) continue;
        char buf[4096];
        ssize_t n = recv(client, buf, sizeof buf, 0);
        if (n <= 0) break;
        data.append(buf, static_cast<size_t>(n));
        if (header_end == std::string::npos && (header_end = data.find("\r\n\r\n")) != std::string::npos) {
          size_t at = data.find("Content-Length: ");
          if (at != std::string::npos) length = std::stoul(data.substr(at + 16));
        }
        if (header_end != std::string::npos && data.size() >= header_end + 4 + length) break;
      }
      if (header_end != std::string::npos) {
        std::lock_guard<std::mutex> lock(mu_);
        received_.push_back({NowMicros(), data.substr(header_end + 4, length)});
      }
      const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
      (void)!send(client, answer, sizeof answer - 1, MSG_NOSIGNAL);
      close(client);
    }
  }
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<std::pair<int64_t, std::string>> received_;
  std::thread thread_;
};

std::string JsonString(const std::string& json, std::initializer_list<const char*> path) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(json).get(e) != simdjson::SUCCESS) return "<invalid>";
  for (const char* key : path) {
    if (e[key].get(e) != simdjson::SUCCESS) return "";
  }
  std::string_view s;
  return e.get_string().get(s) == simdjson::SUCCESS ? std::string(s) : "";
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

class InvestigateCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testutil::TempDir("investigate-cli");
    pki_ = new testutil::TestPki(dir_->MakeSubdir("pki"));
    webhook_ = new WebhookReceiver();
    testutil::CollectorProcessOptions options;
    options.data_dir = dir_->Join("data");
    options.log_dir = dir_->MakeSubdir("logs");
    options.tls = pki_->Collector();
    options.extra_args = {"--alarms", std::string(ORGTRAIL_SOURCE_DIR) + "/deploy/alarms/cis.json", "--alarm-webhook",
                          webhook_->url()};
    auto collector = testutil::CollectorProcess::Start(options);
    ASSERT_TRUE(collector.ok()) << collector.status();
    collector_ = collector->release();
    auditor_ = new TlsFiles(pki_->Auditor("alice"));
    agent_tls_ = new TlsFiles(pki_->Agent(kAccount, "us-east-1", "a1"));
    auto client = testutil::IngestClient::Connect(collector_->target(), *agent_tls_,
                                                  testutil::AgentSpiffeId("example.org", kAccount, "us-east-1", "a1"));
    ASSERT_TRUE(client.ok()) << client.status();
    agent_ = client->release();
    ASSERT_TRUE(agent_->Hello().ok());
    // The invictus records, in batches of 500.
    for (const auto& entry : std::filesystem::directory_iterator(std::string(ORGTRAIL_SHARED_DATA_DIR) +
                                                                 "/invictus-aws-dataset/CloudTrail")) {
      std::ifstream in(entry.path());
      std::stringstream text;
      text << in.rdbuf();
      auto records = testutil::SplitCloudTrailRecords(text.str());
      ASSERT_TRUE(records.ok());
      records_->insert(records_->end(), records->begin(), records->end());
    }
    ASSERT_EQ(records_->size(), 2900u);
    for (size_t i = 0; i < records_->size(); i += 500) {
      std::vector<std::string> batch(records_->begin() + i, records_->begin() + std::min(records_->size(), i + 500));
      auto ack = agent_->SendEvents(batch);
      ASSERT_TRUE(ack.ok()) << ack.status();
    }
  }
  static void TearDownTestSuite() {
    if (agent_) agent_->Finish();
    delete agent_;
    delete collector_;
    delete webhook_;
    delete auditor_;
    delete agent_tls_;
    delete pki_;
    delete dir_;
    records_->clear();
  }

  using Run = testutil::CtlResult;
  // Runs orgtrailctl with the connection flags of `tls` and waits for it.
  static Run Ctl(std::vector<std::string> args, const TlsFiles& tls, seconds timeout = seconds(60)) {
    static int counter = 0;
    return testutil::RunOrgtrailctl(std::move(args), collector_->target(), tls, dir_->MakeSubdir("ctl"),
                                    "ctl-" + std::to_string(++counter), timeout);
  }

  static std::set<std::string> EventIdsNamed(const std::string& name) {
    std::set<std::string> ids;
    for (const auto& r : *records_) {
      if (JsonString(r, {"eventName"}) == name) ids.insert(JsonString(r, {"eventID"}));
    }
    return ids;
  }

  static testutil::TempDir* dir_;
  static testutil::TestPki* pki_;
  static WebhookReceiver* webhook_;
  static testutil::CollectorProcess* collector_;
  static TlsFiles* auditor_;
  static TlsFiles* agent_tls_;
  static testutil::IngestClient* agent_;
  static std::vector<std::string>* records_;
};

testutil::TempDir* InvestigateCliTest::dir_ = nullptr;
testutil::TestPki* InvestigateCliTest::pki_ = nullptr;
WebhookReceiver* InvestigateCliTest::webhook_ = nullptr;
testutil::CollectorProcess* InvestigateCliTest::collector_ = nullptr;
TlsFiles* InvestigateCliTest::auditor_ = nullptr;
TlsFiles* InvestigateCliTest::agent_tls_ = nullptr;
testutil::IngestClient* InvestigateCliTest::agent_ = nullptr;
std::vector<std::string>* InvestigateCliTest::records_ = new std::vector<std::string>();

TEST_F(InvestigateCliTest, QueryOutputsTableJsonAndCsv) {
  std::set<std::string> deletes = EventIdsNamed("DeleteBucket");
  ASSERT_EQ(deletes.size(), 8u);
  Run csv = Ctl({"query", "SELECT eventid, useridentity_arn FROM events WHERE eventname = 'DeleteBucket' ORDER BY eventid",
                 "--output", "csv", "--stats"},
                *auditor_);
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  std::vector<std::string> lines = Lines(csv.out);
  ASSERT_EQ(lines.size(), 9u) << csv.out;
  EXPECT_EQ(lines[0], "eventid,useridentity_arn");
  std::set<std::string> got;
  for (size_t i = 1; i < lines.size(); ++i) got.insert(lines[i].substr(0, lines[i].find(',')));
  EXPECT_EQ(got, deletes);
  EXPECT_NE(csv.err.find("rows read 8;"), std::string::npos) << csv.err;
  EXPECT_NE(csv.err.find("plan: index EventName='DeleteBucket'"), std::string::npos) << csv.err;

  Run json = Ctl({"query", "SELECT eventname, COUNT(*) AS n FROM events WHERE eventname IN ('StopLogging','DeleteTrail') "
                           "GROUP BY eventname ORDER BY eventname",
                  "--output", "json"},
                 *auditor_);
  ASSERT_EQ(json.exit_code, 0) << json.err;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json.out).get(doc), simdjson::SUCCESS) << json.out;
  ASSERT_EQ(doc.get_array().size(), 2u);
  EXPECT_EQ(std::string(doc.at(0)["eventname"].get_string().value()), "DeleteTrail");
  EXPECT_EQ(doc.at(0)["n"].get_int64().value(), 3);
  EXPECT_EQ(doc.at(1)["n"].get_int64().value(), 3);

  // The agents' events (this test's own calls are in the collector's self-audit, eventSource orgtrail).
  Run table = Ctl({"query", "SELECT COUNT(*) AS total FROM events WHERE eventsource <> 'orgtrail'"}, *auditor_);
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(Lines(table.out), (std::vector<std::string>{"total", "-----", "2900"}));
}

TEST_F(InvestigateCliTest, QueryRefusesNonAuditorsAndWritesAndBadFlags) {
  Run agent = Ctl({"query", "SELECT COUNT(*) FROM events"}, *agent_tls_);
  EXPECT_EQ(agent.exit_code, 1);
  EXPECT_NE(agent.err.find("PERMISSION_DENIED"), std::string::npos) << agent.err;
  TlsFiles admin = pki_->Admin("root");
  Run by_admin = Ctl({"query", "SELECT COUNT(*) FROM events"}, admin);
  EXPECT_EQ(by_admin.exit_code, 1);
  EXPECT_NE(by_admin.err.find("only auditor identities"), std::string::npos) << by_admin.err;
  Run write = Ctl({"query", "DELETE FROM events"}, *auditor_);
  EXPECT_EQ(write.exit_code, 1);
  EXPECT_NE(write.err.find("INVALID_ARGUMENT"), std::string::npos) << write.err;
  Run rows = Ctl({"query", "SELECT eventid FROM events", "--max-rows", "10"}, *auditor_);
  EXPECT_EQ(rows.exit_code, 1);
  EXPECT_NE(rows.err.find("more than 10 rows"), std::string::npos) << rows.err;
  EXPECT_EQ(Ctl({"query", "SELECT 1", "--output", "xml"}, *auditor_).exit_code, 2);
  EXPECT_EQ(Ctl({"query", "SELECT 1", "--max-rows", "-3"}, *auditor_).exit_code, 2);
  EXPECT_EQ(Ctl({"query", "SELECT 1", "--query-timeout", "forever"}, *auditor_).exit_code, 2);
  EXPECT_EQ(Ctl({"query", std::string(20000, 'x')}, *auditor_).exit_code, 2);
  EXPECT_EQ(Ctl({"tail", "--filter", "{ $.a = \"x }"}, *auditor_).exit_code, 2);
  EXPECT_EQ(Ctl({"tail", "--from-cursor", "-1"}, *auditor_).exit_code, 2);
  EXPECT_EQ(Ctl({"tail", "--from-cursor", "99999999999999999999999"}, *auditor_).exit_code, 2);
}

TEST_F(InvestigateCliTest, TailResumesFromACursorWithoutLossOrRepeats) {
  std::set<std::string> deletes = EventIdsNamed("DeleteBucket");
  const std::string filter = "{ $.eventName = \"DeleteBucket\" }";
  Run first = Ctl({"tail", "--filter", filter, "--from-cursor", "0", "--max-events", "3"}, *auditor_);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  std::vector<std::string> lines = Lines(first.out);
  ASSERT_EQ(lines.size(), 3u) << first.out;
  std::vector<std::string> ids;
  uint64_t cursor = 0;
  for (const auto& line : lines) {
    simdjson::dom::parser parser;
    simdjson::dom::element e = parser.parse(line).value();
    uint64_t c = e["cursor"].get_uint64().value();
    EXPECT_GT(c, cursor);
    cursor = c;
    ids.push_back(std::string(e["eventID"].get_string().value()));
    EXPECT_EQ(std::string(e["event"]["eventName"].get_string().value()), "DeleteBucket");
  }
  Run rest = Ctl({"tail", "--filter", filter, "--from-cursor", std::to_string(cursor), "--max-events", "5", "--output", "raw"},
                 *auditor_);
  ASSERT_EQ(rest.exit_code, 0) << rest.err;
  for (const auto& line : Lines(rest.out)) ids.push_back(JsonString(line, {"eventID"}));
  EXPECT_EQ(ids.size(), 8u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), deletes);

  // Non-auditors may not subscribe; a bad pattern sent directly gets the column.
  Run agent = Ctl({"tail", "--max-events", "1", "--duration", "5s"}, *agent_tls_);
  EXPECT_EQ(agent.exit_code, 1);
  EXPECT_NE(agent.err.find("PERMISSION_DENIED"), std::string::npos) << agent.err;
  auto credentials = MakeChannelCredentials(*auditor_);
  ASSERT_TRUE(credentials.ok());
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  auto channel = grpc::CreateCustomChannel(collector_->target(), *credentials, args);
  auto stub = v1::Investigations::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + seconds(30));
  v1::SubscribeRequest request;
  request.set_filter_pattern("{ $.eventName = DeleteBucket && }");
  auto reader = stub->Subscribe(&context, request);
  v1::SubscribeResponse response;
  while (reader->Read(&response)) {
  }
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("filter_pattern: column 33"), std::string::npos) << status.error_message();
  grpc::ClientContext far_context;
  far_context.set_deadline(std::chrono::system_clock::now() + seconds(30));
  request.set_filter_pattern("");
  request.set_cursor(1ull << 60);
  auto far = stub->Subscribe(&far_context, request);
  while (far->Read(&response)) {
  }
  EXPECT_EQ(far->Finish().error_code(), grpc::StatusCode::OUT_OF_RANGE);
}

TEST_F(InvestigateCliTest, LiveTailAndCisAlarmsSeeANewRootCall) {
  // The CIS 4.1 alarm already fired on the invictus AccessDenied records.
  ASSERT_TRUE(testutil::WaitFor([&] {
    for (const auto& [t, body] : webhook_->received()) {
      if (JsonString(body, {"AlarmName"}) == "CIS-4.1-UnauthorizedAPICalls" &&
          JsonString(body, {"NewStateValue"}) == "ALARM") {
        return true;
      }
    }
    return false;
  }, seconds(60)));
  // Live: a tail from the current end, then a root call.
  Run last = Ctl({"query", "SELECT MAX(commitindex) FROM events", "--output", "csv"}, *auditor_);
  ASSERT_EQ(last.exit_code, 0) << last.err;
  std::string cursor = Lines(last.out).at(1);
  testutil::SubprocessOptions options;
  options.binary = kCtl;
  options.args = {"tail", "--filter", "{ $.userIdentity.type = \"Root\" }", "--from-cursor", cursor, "--max-events", "1",
                  "--collector", collector_->target(), "--ca", auditor_->ca_cert_path, "--cert", auditor_->cert_path,
                  "--key", auditor_->key_path, "--tls-server-name", "localhost"};
  options.log_dir = dir_->MakeSubdir("ctl");
  options.name = "live-tail";
  auto tail = testutil::Subprocess::Start(options);
  ASSERT_TRUE(tail.ok());

  GeneratorOptions gen;
  gen.account_id = kAccount;
  gen.use_wall_clock = true;
  gen.mix = GeneratorMix{0, 0, 0, 0, 0, 0, 0, 0, 1};
  EventGenerator generator(gen);
  GeneratedRecord root = generator.Next();
  size_t before = webhook_->received().size();
  int64_t sent = NowMicros();
  auto ack = agent_->SendEvents({root.json});
  ASSERT_TRUE(ack.ok()) << ack.status();
  int64_t acked = NowMicros();
  std::string notification;
  int64_t received_at = 0;
  ASSERT_TRUE(testutil::WaitFor([&] {
    auto all = webhook_->received();
    for (size_t i = before; i < all.size(); ++i) {
      if (JsonString(all[i].second, {"AlarmName"}) == "CIS-4.3-RootAccountUsage") {
        notification = all[i].second;
        received_at = all[i].first;
      }
    }
    return !notification.empty();
  }, seconds(60), milliseconds(1)));
  std::cout << "[ measure ] real collector: ingest->webhook " << (received_at - sent) / 1000.0 << " ms, ack->webhook "
            << (received_at - acked) / 1000.0 << " ms\n";
  EXPECT_EQ(JsonString(notification, {"NewStateValue"}), "ALARM");
  EXPECT_NE(notification.find(root.event_id), std::string::npos);

  auto status = (*tail)->Wait(seconds(60));
  ASSERT_TRUE(status.has_value()) << (*tail)->ReadLog();
  EXPECT_EQ((*tail)->ExitCode(), 0) << (*tail)->ReadLog();
  std::vector<std::string> lines = Lines((*tail)->ReadStdout());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(JsonString(lines[0], {"eventID"}), root.event_id);
  EXPECT_EQ(JsonString(lines[0], {"event", "userIdentity", "type"}), "Root");
}

}  // namespace
}  // namespace orgtrail
