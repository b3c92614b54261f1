// The Query service of the real orgtrail-collector over mutual TLS, and
// orgtrailctl lookup-events / get-event / verify-event against it: auditors
// may query, agents and admins are refused; the CLI prints aws-cli's shape,
// pages, and verify-event catches a tampered get-event document (exit 1);
// bad flags are usage errors naming the flag (exit 2).
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "orgtrail/common/event_extractor.h"
#include "orgtrail/common/pki.h"
#include "orgtrail/common/tls.h"
#include "orgtrail/v1/query.grpc.pb.h"
#include "testutil/ingest_client.h"
#include "testutil/pki_fixture.h"
#include "testutil/subprocess.h"
#include "testutil/temp_dir.h"

namespace orgtrail {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

constexpr char kAccount[] = "123837392027";
constexpr size_t kRecords = 600;

struct CtlResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class QueryServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testutil::TempDir("query-service");
    pki_ = new testutil::TestPki(dir_->MakeSubdir("pki"));
    testutil::CollectorProcessOptions options;
    options.data_dir = dir_->Join("data");
    options.log_dir = dir_->MakeSubdir("logs");
    options.tls = pki_->Collector();
    auto collector = testutil::CollectorProcess::Start(options);
    ASSERT_TRUE(collector.ok()) << collector.status();
    collector_ = collector->release();
    auditor_ = new TlsFiles(pki_->Auditor("alice"));

    // The first kRecords invictus records, ingested by their agent over the wire.
    std::ifstream in;
    records_ = new std::vector<std::string>();
    namespace fs = std::filesystem;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(
             fs::path(ORGTRAIL_SHARED_DATA_DIR) / "invictus-aws-dataset" / "CloudTrail")) {
      files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      std::ifstream f(file);
      std::stringstream text;
      text << f.rdbuf();
      auto split = testutil::SplitCloudTrailRecords(text.str());
      ASSERT_TRUE(split.ok()) << split.status();
      for (auto& r : *split) {
        if (records_->size() < kRecords) records_->push_back(std::move(r));
      }
    }
    ASSERT_EQ(records_->size(), kRecords);
    const TlsFiles agent_tls = pki_->Agent(kAccount, "us-east-1", "invictus");
    auto agent = testutil::IngestClient::Connect(
        collector_->target(), agent_tls, testutil::AgentSpiffeId("example.org", kAccount, "us-east-1", "invictus"));
    ASSERT_TRUE(agent.ok()) << agent.status();
    ASSERT_TRUE((*agent)->Hello().ok());
    for (size_t i = 0; i < records_->size(); i += 100) {
      std::vector<std::string> batch(records_->begin() + i,
                                     records_->begin() + std::min(records_->size(), i + 100));
      auto ack = (*agent)->SendEvents(batch);
      ASSERT_TRUE(ack.ok()) << ack.status();
    }
    EXPECT_TRUE((*agent)->Finish().ok());

    // The ground truth for lookups, from the records themselves.
    event_names_ = new std::map<std::string, std::vector<std::string>>();
    EventExtractor extractor;
    for (const auto& raw : *records_) {
      v1::Event e;
      ASSERT_TRUE(extractor.Extract(raw, &e).ok());
      (*event_names_)[e.event_name()].push_back(e.event_id());
    }
  }
  static void TearDownTestSuite() {
    delete collector_;
    delete auditor_;
    delete records_;
    delete event_names_;
    delete pki_;
    delete dir_;
  }

  static std::unique_ptr<v1::Query::Stub> Stub(const TlsFiles& tls) {
    auto credentials = MakeChannelCredentials(tls);
    EXPECT_TRUE(credentials.ok()) << credentials.status();
    return v1::Query::NewStub(grpc::CreateChannel(collector_->target(), *credentials));
  }
  static void Deadline(grpc::ClientContext* context) {
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  }

  // Runs orgtrailctl with `args`; the connection flags of `tls` are appended
  // unless with_connection is false.
  static CtlResult Ctl(std::vector<std::string> args, const TlsFiles* tls = auditor_,
                       const std::map<std::string, std::string>& env = {}) {
    if (tls != nullptr) {
      for (const std::string& a : {std::string("--collector"), collector_->target(), std::string("--ca"),
                                   tls->ca_cert_path, std::string("--cert"), tls->cert_path,
                                   std::string("--key"), tls->key_path}) {
        args.push_back(a);
      }
    }
    testutil::SubprocessOptions options;
    options.binary = ORGTRAIL_BINARY_DIR "/cli/orgtrailctl";
    options.args = args;
    options.env = env;
    options.log_dir = dir_->MakeSubdir("ctl");
    options.name = "ctl-" + std::to_string(++ctl_runs_);
    CtlResult result;
    auto process = testutil::Subprocess::Start(options);
    EXPECT_TRUE(process.ok()) << process.status();
    if (!process.ok()) return result;
    auto status = (*process)->Wait(std::chrono::seconds(120));
    EXPECT_TRUE(status.has_value()) << "orgtrailctl did not finish";
    if (!status.has_value()) return result;
    result.exit_code = (*process)->ExitCode();
    result.out = (*process)->ReadStdout();
    result.err = (*process)->ReadStderr();
    return result;
  }

  static Struct ParseJson(const std::string& text) {
    Struct document;
    const auto status = google::protobuf::util::JsonStringToMessage(text, &document);
    EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << text.substr(0, 2000);
    return document;
  }

  static std::vector<std::string> EventIdsOf(const Struct& output) {
    std::vector<std::string> ids;
    auto it = output.fields().find("Events");
    if (it == output.fields().end()) return ids;
    for (const auto& event : it->second.list_value().values()) {
      ids.push_back(event.struct_value().fields().at("EventId").string_value());
    }
    return ids;
  }

  static std::string WriteTemp(const std::string& name, const std::string& contents) {
    const std::string path = dir_->Join(name);
    std::ofstream(path) << contents;
    return path;
  }

  static testutil::TempDir* dir_;
  static testutil::TestPki* pki_;
  static testutil::CollectorProcess* collector_;
  static TlsFiles* auditor_;
  static std::vector<std::string>* records_;
  static std::map<std::string, std::vector<std::string>>* event_names_;
  static int ctl_runs_;
};
testutil::TempDir* QueryServiceTest::dir_ = nullptr;
testutil::TestPki* QueryServiceTest::pki_ = nullptr;
testutil::CollectorProcess* QueryServiceTest::collector_ = nullptr;
TlsFiles* QueryServiceTest::auditor_ = nullptr;
std::vector<std::string>* QueryServiceTest::records_ = nullptr;
std::map<std::string, std::vector<std::string>>* QueryServiceTest::event_names_ = nullptr;
int QueryServiceTest::ctl_runs_ = 0;

TEST_F(QueryServiceTest, AuditorLooksUpAndGetsEvents) {
  auto stub = Stub(*auditor_);
  v1::LookupEventsRequest request;
  request.set_max_results(1000);
  grpc::ClientContext context;
  Deadline(&context);
  v1::LookupEventsResponse response;
  grpc::Status status = stub->LookupEvents(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.events_size(), static_cast<int>(kRecords));
  EXPECT_TRUE(response.next_token().empty());
  std::set<std::string> raw(records_->begin(), records_->end());
  for (const auto& event : response.events()) {
    EXPECT_EQ(raw.count(event.cloudtrail_event()), 1u) << "byte for byte";
  }

  v1::GetEventRequest get;
  get.set_event_id(response.events(17).event_id());
  grpc::ClientContext get_context;
  Deadline(&get_context);
  v1::GetEventResponse event;
  status = stub->GetEvent(&get_context, get, &event);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(event.event().raw_json(), response.events(17).cloudtrail_event());
  EXPECT_FALSE(event.provenance().agent_certificate_pem().empty());
  EXPECT_EQ(event.provenance().leaf_count(), 100u);

  // CloudTrail's error names travel over the wire.
  request.set_max_results(1001);
  grpc::ClientContext bad_context;
  Deadline(&bad_context);
  status = stub->LookupEvents(&bad_context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message().rfind("InvalidMaxResultsException: ", 0), 0u) << status.error_message();
}

TEST_F(QueryServiceTest, AgentsAndAdminsAreRefused) {
  const std::vector<std::pair<std::string, TlsFiles>> refused = {
      {"agent", pki_->Agent(kAccount, "us-east-1", "nosy")},
      {"admin", pki_->Admin("root")},
      {"account admin", pki_->AccountAdmin(kAccount, "ops")},
  };
  for (const auto& [who, tls] : refused) {
    auto stub = Stub(tls);
    grpc::ClientContext context;
    Deadline(&context);
    v1::LookupEventsResponse response;
    grpc::Status status = stub->LookupEvents(&context, v1::LookupEventsRequest(), &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << who << ": " << status.error_message();
    EXPECT_EQ(response.events_size(), 0);

    v1::GetEventRequest get;
    get.set_event_id("anything");
    grpc::ClientContext get_context;
    Deadline(&get_context);
    v1::GetEventResponse event;
    status = stub->GetEvent(&get_context, get, &event);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << who;
  }
  EXPECT_GE(collector_->MetricValue(
                "orgtrail_query_requests_total{method=\"LookupEvents\",outcome=\"denied\"}"),
            3.0);

  // The CLI reports it and fails.
  const TlsFiles agent = pki_->Agent(kAccount, "us-east-1", "nosy");
  CtlResult ctl = Ctl({"lookup-events"}, &agent);
  EXPECT_EQ(ctl.exit_code, 1) << ctl.err;
  EXPECT_NE(ctl.err.find("PERMISSION_DENIED"), std::string::npos) << ctl.err;
}

TEST_F(QueryServiceTest, CtlLookupEventsPrintsAwsCliShape) {
  // The most frequent event name of the feed.
  std::string name;
  size_t count = 0;
  for (const auto& [n, ids] : *event_names_) {
    if (ids.size() > count) {
      name = n;
      count = ids.size();
    }
  }
  ASSERT_GT(count, 3u);
  CtlResult ctl = Ctl({"lookup-events", "--lookup-attributes",
                       "AttributeKey=EventName,AttributeValue=" + name, "--max-results", "2"});
  ASSERT_EQ(ctl.exit_code, 0) << ctl.err;
  const Struct output = ParseJson(ctl.out);
  EXPECT_EQ(output.fields().count("NextToken"), 0u) << "paged to the end";
  const auto ids = EventIdsOf(output);
  EXPECT_EQ(ids.size(), count);
  std::set<std::string> want((*event_names_)[name].begin(), (*event_names_)[name].end());
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), want);
  const std::set<std::string> allowed = {"EventId", "EventName", "ReadOnly", "AccessKeyId", "EventTime",
                                         "EventSource", "Username", "Resources", "CloudTrailEvent"};
  for (const auto& event : output.fields().at("Events").list_value().values()) {
    const auto& fields = event.struct_value().fields();
    for (const auto& [key, value] : fields) EXPECT_EQ(allowed.count(key), 1u) << key;
    for (const char* required : {"EventId", "EventName", "ReadOnly", "EventTime", "EventSource",
                                 "Resources", "CloudTrailEvent"}) {
      EXPECT_EQ(fields.count(required), 1u) << required;
    }
    EXPECT_EQ(fields.at("EventName").string_value(), name);
    EXPECT_TRUE(fields.at("ReadOnly").string_value() == "true" ||
                fields.at("ReadOnly").string_value() == "false");
    EXPECT_EQ(fields.at("Resources").kind_case(), Value::kListValue);
    // CloudTrailEvent is the record as a JSON string, byte for byte.
    EXPECT_NE(std::find(records_->begin(), records_->end(), fields.at("CloudTrailEvent").string_value()),
              records_->end());
    EXPECT_EQ(fields.at("EventTime").string_value().size(), 25u);  // 2023-07-10T12:00:00+00:00
  }

  // --max-items stops early with a NextToken; --starting-token continues.
  // (Bounded to the records' year: the collector's self-audit records of these calls are newer.)
  CtlResult first = Ctl({"lookup-events", "--max-items", "3", "--end-time", "2025-01-01T00:00:00Z"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const Struct first_page = ParseJson(first.out);
  ASSERT_EQ(EventIdsOf(first_page).size(), 3u);
  ASSERT_EQ(first_page.fields().count("NextToken"), 1u);
  CtlResult rest = Ctl({"lookup-events", "--starting-token", first_page.fields().at("NextToken").string_value(),
                        "--max-results", "250", "--end-time", "2025-01-01T00:00:00Z"});
  ASSERT_EQ(rest.exit_code, 0) << rest.err;
  auto all = EventIdsOf(first_page);
  for (auto& id : EventIdsOf(ParseJson(rest.out))) all.push_back(id);
  EXPECT_EQ(all.size(), kRecords);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), kRecords) << "each once";

  // A token replayed with other parameters: CloudTrail's error, exit 1.
  CtlResult changed = Ctl({"lookup-events", "--starting-token",
                           first_page.fields().at("NextToken").string_value(), "--lookup-attributes",
                           "AttributeKey=ReadOnly,AttributeValue=true"});
  EXPECT_EQ(changed.exit_code, 1);
  EXPECT_NE(changed.err.find("InvalidNextTokenException"), std::string::npos) << changed.err;
}

TEST_F(QueryServiceTest, CtlTableTextAndFilters) {
  CtlResult table = Ctl({"lookup-events", "--output", "table", "--accounts", kAccount, "--regions",
                         "us-east-1", "--start-time", "2023-07-10T00:00:00Z", "--end-time", "1900000000"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("(" + std::to_string(kRecords) + " events)"), std::string::npos) << table.out;
  CtlResult text = Ctl({"lookup-events", "--output", "text", "--max-items", "5"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(std::count(text.out.begin(), text.out.end(), '\n') >= 6, true);
  EXPECT_EQ(text.out.rfind("EVENTS\t", 0), 0u);
  EXPECT_NE(text.out.find("NEXTTOKEN\t"), std::string::npos);
  CtlResult other = Ctl({"lookup-events", "--accounts", "999999999999"});
  ASSERT_EQ(other.exit_code, 0) << other.err;
  EXPECT_TRUE(EventIdsOf(ParseJson(other.out)).empty());
  // Environment instead of flags.
  CtlResult env = Ctl({"lookup-events", "--max-items", "1"}, nullptr,
                      {{"ORGTRAIL_COLLECTOR", collector_->target()},
                       {"ORGTRAIL_CA", auditor_->ca_cert_path},
                       {"ORGTRAIL_CERT", auditor_->cert_path},
                       {"ORGTRAIL_KEY", auditor_->key_path}});
  ASSERT_EQ(env.exit_code, 0) << env.err;
  EXPECT_EQ(EventIdsOf(ParseJson(env.out)).size(), 1u);
}

TEST_F(QueryServiceTest, CtlGetEventAndVerifyEvent) {
  EventExtractor extractor;
  v1::Event probe;
  ASSERT_TRUE(extractor.Extract((*records_)[333], &probe).ok());
  const std::string id = probe.event_id();

  CtlResult get = Ctl({"get-event", id});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  const Struct document = ParseJson(get.out);
  EXPECT_EQ(document.fields().at("EventId").string_value(), id);
  EXPECT_EQ(document.fields().at("CloudTrailEvent").string_value(), (*records_)[333]);
  const std::string saved = WriteTemp("event.json", get.out);

  // Offline, from the saved document, with only the CA.
  CtlResult offline = Ctl({"verify-event", "--from-file", saved, "--ca", pki_->ca_cert_path()}, nullptr);
  EXPECT_EQ(offline.exit_code, 0) << offline.out << offline.err;
  EXPECT_NE(offline.out.find("verification passed"), std::string::npos) << offline.out;
  for (const char* check : {"certificate chain", "identity", "signature", "inclusion proof"}) {
    EXPECT_NE(offline.out.find(std::string("OK    ") + check), std::string::npos) << check << "\n" << offline.out;
  }
  // Online by ID.
  CtlResult online = Ctl({"verify-event", id});
  EXPECT_EQ(online.exit_code, 0) << online.out << online.err;

  // Tampered documents fail with exit status 1.
  auto tamper = [&](const std::string& name, const std::string& from, const std::string& to) {
    std::string text = get.out;
    const size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    CtlResult result = Ctl({"verify-event", "--from-file", WriteTemp(name, text), "--ca",
                            pki_->ca_cert_path()},
                           nullptr);
    EXPECT_EQ(result.exit_code, 1) << name << "\n" << result.out << result.err;
    EXPECT_NE(result.out.find("FAIL"), std::string::npos) << name << "\n" << result.out;
  };
  tamper("record.json", probe.event_name(), probe.event_name() + "X");
  {
    // One hex digit of the first proof node changed: still well-formed, wrong path.
    std::string text = get.out;
    const std::string marker = "\"InclusionProof\": [\n            \"";
    const size_t at = text.find(marker);
    ASSERT_NE(at, std::string::npos);
    char& digit = text[at + marker.size()];
    digit = digit == '0' ? '1' : '0';
    CtlResult result = Ctl({"verify-event", "--from-file", WriteTemp("proof.json", text), "--ca",
                            pki_->ca_cert_path()},
                           nullptr);
    EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
    EXPECT_NE(result.out.find("FAIL  inclusion proof"), std::string::npos) << result.out;
  }
  tamper("leaf.json", "\"LeafIndex\": " + std::to_string(333 % 100) + ",\n        \"LeafCount\"",
         "\"LeafIndex\": " + std::to_string(333 % 100 + 1) + ",\n        \"LeafCount\"");
  tamper("sig.json", "\"SignatureAlgorithm\": \"", "\"SignatureAlgorithm\": \"X");
  tamper("garbage.json", "{", "[");
  // Another organization's CA does not vouch for the agent.
  CtlResult other_ca = Ctl({"verify-event", "--from-file", saved, "--ca", pki_->OtherCaCertPath()}, nullptr);
  EXPECT_EQ(other_ca.exit_code, 1);
  EXPECT_NE(other_ca.out.find("FAIL  certificate chain"), std::string::npos) << other_ca.out;

  CtlResult missing = Ctl({"get-event", "00000000-0000-4000-8000-00000000dead"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("NOT_FOUND"), std::string::npos) << missing.err;
}

TEST_F(QueryServiceTest, CtlBadFlagsNameTheFlag) {
  const std::string target = collector_->target();
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"lookup-events", "--max-results", "abc"}, "--max-results"},
      {{"lookup-events", "--max-results", "0"}, "--max-results"},
      {{"lookup-events", "--max-results", "1001"}, "--max-results"},
      {{"lookup-events", "--max-results", "-5"}, "max-results"},
      {{"lookup-events", "--max-items", "99999999999999999999"}, "--max-items"},
      {{"lookup-events", "--lookup-attributes", "EventName=DeleteBucket"}, "--lookup-attributes"},
      {{"lookup-events", "--lookup-attributes", "AttributeKey=Bogus,AttributeValue=x"}, "--lookup-attributes"},
      {{"lookup-events", "--lookup-attributes", "AttributeKey=EventName,AttributeValue="}, "--lookup-attributes"},
      {{"lookup-events", "--start-time", "yesterday"}, "--start-time"},
      {{"lookup-events", "--end-time", "2023-13-45T99:00:00Z"}, "--end-time"},
      {{"lookup-events", "--start-time", "2023-07-11", "--end-time", "2023-07-10"}, "--start-time"},
      {{"lookup-events", "--output", "xml"}, "--output"},
      {{"lookup-events", "--accounts", "12345"}, "--accounts"},
      {{"lookup-events", "--regions", "US EAST"}, "--regions"},
      {{"lookup-events", "--event-category", "data"}, "--event-category"},
      {{"lookup-events", "--bogus-flag"}, "bogus-flag"},
      {{"lookup-events", "--timeout", "soon"}, "--timeout"},
      {{"get-event"}, "EVENT_ID"},
      {{"get-event", std::string(2000, 'e')}, "EVENT_ID"},
      {{"verify-event"}, "EVENT_ID"},
  };
  for (const auto& [args, flag] : cases) {
    CtlResult result = Ctl(args);
    EXPECT_EQ(result.exit_code, 2) << args[1] << " " << (args.size() > 2 ? args[2] : "") << "\n" << result.err;
    EXPECT_NE(result.err.find(flag), std::string::npos) << flag << ": " << result.err;
  }
  for (const std::string address : {"no-port-here", "host:99999", ":7443"}) {
    CtlResult result = Ctl({"lookup-events", "--collector", address, "--ca", auditor_->ca_cert_path,
                            "--cert", auditor_->cert_path, "--key", auditor_->key_path},
                           nullptr);
    EXPECT_EQ(result.exit_code, 2) << address;
    EXPECT_NE(result.err.find("--collector"), std::string::npos) << result.err;
  }
  // Missing or unreadable credentials name their flag.
  CtlResult no_ca = Ctl({"lookup-events", "--collector", target, "--ca", dir_->Join("nope.pem"), "--cert",
                         auditor_->cert_path, "--key", auditor_->key_path},
                        nullptr);
  EXPECT_EQ(no_ca.exit_code, 2);
  EXPECT_NE(no_ca.err.find("--ca: cannot read"), std::string::npos) << no_ca.err;
  CtlResult no_key = Ctl({"lookup-events", "--collector", target, "--ca", auditor_->ca_cert_path, "--cert",
                          auditor_->cert_path},
                         nullptr, {{"ORGTRAIL_KEY", ""}});
  EXPECT_EQ(no_key.exit_code, 2);
  EXPECT_NE(no_key.err.find("--key: required"), std::string::npos) << no_key.err;
  CtlResult no_file = Ctl({"verify-event", "--from-file", dir_->Join("absent.json"), "--ca",
                           auditor_->ca_cert_path},
                          nullptr);
  EXPECT_EQ(no_file.exit_code, 2);
  EXPECT_NE(no_file.err.find("--from-file"), std::string::npos) << no_file.err;
  // --help works and lists the flags.
  CtlResult help = Ctl({"lookup-events", "--help"}, nullptr);
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--lookup-attributes"), std::string::npos);
  EXPECT_NE(help.out.find("ORGTRAIL_COLLECTOR"), std::string::npos);
}

}  // namespace
}  // namespace orgtrail
