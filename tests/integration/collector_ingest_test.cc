// The real orgtrail-collector over mutual TLS on loopback: the impersonation
// and tamper matrices (each refused, counted, nothing stored) and dedup over
// the wire. One collector process serves the whole suite; every test uses its
// own agents so tests do not interfere.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <fstream>
#include <algorithm>
#include <map>
#include <sstream>

#include "orgtrail/common/batch.h"
#include "orgtrail/common/signer.h"
#include "orgtrail/common/hash.h"
#include "orgtrail/common/merkle.h"
#include "orgtrail/common/tls.h"
#include "orgtrail/v1/admin.grpc.pb.h"
#include "orgtrail/v1/query.grpc.pb.h"
#include "testutil/ingest_client.h"
#include "testutil/orgtrailctl_runner.h"
#include "testutil/pki_fixture.h"
#include "testutil/temp_dir.h"
#include "testutil/wait_for.h"

namespace orgtrail {
namespace {

using testutil::CollectorProcess;
using testutil::IngestClient;
using testutil::SyntheticEvent;
using testutil::SyntheticEventJson;

constexpr char kAccountA[] = "111111111111";
constexpr char kAccountB[] = "222222222222";

class CollectorIngestTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testutil::TempDir("collector-ingest");
    pki_ = new testutil::TestPki(dir_->MakeSubdir("pki"));
    testutil::CollectorProcessOptions options;
    options.data_dir = dir_->Join("data");
    options.log_dir = dir_->MakeSubdir("logs");
    options.tls = pki_->Collector();
    auto collector = CollectorProcess::Start(options);
    ASSERT_TRUE(collector.ok()) << collector.status();
    collector_ = collector->release();
    issued_ = new std::map<std::string, TlsFiles>();
  }
  static void TearDownTestSuite() {
    delete collector_;
    delete issued_;
    delete pki_;
    delete dir_;
  }

  static std::string AgentId(const std::string& account, const std::string& region, const std::string& name) {
    return testutil::AgentSpiffeId("example.org", account, region, name);
  }
  // Agents keep their key across reconnects: issue each certificate once.
  std::unique_ptr<IngestClient> Agent(const std::string& account, const std::string& region, const std::string& name) {
    std::string id = AgentId(account, region, name);
    if (issued_->count(id) == 0) (*issued_)[id] = pki_->Agent(account, region, name);
    TlsFiles tls = (*issued_)[id];
    auto client = IngestClient::Connect(collector_->target(), tls, AgentId(account, region, name));
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? std::move(*client) : nullptr;
  }
  static std::string Event(const std::string& id, const std::string& account = kAccountA,
                           const std::string& region = "us-east-1", const std::string& source = "ec2.amazonaws.com") {
    SyntheticEvent e;
    e.event_id = id;
    e.account_id = account;
    e.region = region;
    e.event_source = source;
    return SyntheticEventJson(e);
  }
  static v1::GetStatusResponse Status() {
    auto stub = collector_->AdminStub(pki_->Admin());
    EXPECT_TRUE(stub.ok());
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::GetStatusResponse response;
    grpc::Status s = (*stub)->GetStatus(&context, v1::GetStatusRequest(), &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }
  // The agents' events (the collector's self-audit records of these status calls excluded).
  static uint64_t EventsStored() {
    const v1::GetStatusResponse status = Status();
    return status.events_stored() - status.self_audit_events_stored();
  }
  static double Refused(const std::string& rule) {
    return collector_->MetricValue("orgtrail_collector_batches_refused_total{rule=\"" + rule + "\"}");
  }
  // Sends one batch and expects it refused with `code` and `rule`, nothing stored.
  void ExpectRefused(IngestClient* client, const v1::Batch& batch, grpc::StatusCode code, const std::string& rule,
                     int event_index = -1) {
    uint64_t stored_before = EventsStored();
    double refused_before = std::max(0.0, Refused(rule));
    ASSERT_TRUE(client->Send(batch).ok());
    auto ack = client->WaitAck(batch.sequence());
    EXPECT_FALSE(ack.ok());
    grpc::Status final_status = client->Finish();
    EXPECT_EQ(final_status.error_code(), code) << final_status.error_message();
    ASSERT_TRUE(client->last_error().has_value());
    EXPECT_EQ(client->last_error()->rule(), rule);
    EXPECT_EQ(client->last_error()->code(), static_cast<int>(code));
    EXPECT_EQ(client->last_error()->event_index(), event_index);
    EXPECT_FALSE(client->last_error()->message().empty());
    EXPECT_EQ(EventsStored(), stored_before);
    EXPECT_EQ(Refused(rule), refused_before + 1);
  }

  static v1::ListRefusedResponse ListRefused(const std::string& agent_id, bool identity_violations_only) {
    auto credentials = MakeChannelCredentials(pki_->Auditor());
    EXPECT_TRUE(credentials.ok()) << credentials.status();
    auto stub = v1::Query::NewStub(grpc::CreateChannel(collector_->target(), *credentials));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::ListRefusedRequest request;
    request.set_agent_id(agent_id);
    request.set_identity_violations_only(identity_violations_only);
    request.set_max_items(1000);
    v1::ListRefusedResponse response;
    grpc::Status s = stub->ListRefused(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }
  static double EventsRefused(const std::string& rule) {
    return std::max(0.0, collector_->MetricValue("orgtrail_collector_events_refused_total{rule=\"" + rule + "\"}"));
  }
  // Sends one batch whose events at the indexes of `bad` each break their rule:
  // the batch is acked, the other events stored, the bad ones listed in the Ack
  // and recorded with their bytes.
  void ExpectRefusedAlone(IngestClient* client, const std::vector<std::string>& events,
                          const std::map<int, std::string>& bad, bool identity_violation) {
    const uint64_t stored_before = EventsStored();
    std::map<std::string, double> refused_before;
    for (const auto& [index, rule] : bad) refused_before[rule] = EventsRefused(rule);
    auto batch = client->MakeBatch(events);
    ASSERT_TRUE(batch.ok()) << batch.status();
    ASSERT_TRUE(client->Send(*batch).ok());
    auto ack = client->WaitAck(batch->sequence());
    ASSERT_TRUE(ack.ok()) << ack.status();
    EXPECT_EQ(ack->sequence(), batch->sequence());
    EXPECT_EQ(ack->events_stored(), events.size() - bad.size());
    EXPECT_EQ(ack->events_refused(), bad.size());
    ASSERT_EQ(ack->refused_size(), static_cast<int>(bad.size()));
    for (const v1::RefusedEventNotice& notice : ack->refused()) {
      auto expected = bad.find(static_cast<int>(notice.leaf_index()));
      ASSERT_NE(expected, bad.end()) << notice.leaf_index();
      EXPECT_EQ(notice.rule(), expected->second);
      EXPECT_FALSE(notice.message().empty());
    }
    EXPECT_EQ(EventsStored(), stored_before + events.size() - bad.size());
    std::map<std::string, double> refused_after;
    for (const auto& [index, rule] : bad) refused_after[rule] += 1;
    for (const auto& [rule, n] : refused_after) EXPECT_EQ(EventsRefused(rule), refused_before[rule] + n) << rule;
    size_t listed = 0;
    const v1::ListRefusedResponse listed_now = ListRefused(batch->agent_id(), false);
    for (const v1::RefusedEvent& r : listed_now.refused()) {
      if (r.batch_sequence() != batch->sequence()) continue;
      ++listed;
      auto expected = bad.find(static_cast<int>(r.leaf_index()));
      ASSERT_NE(expected, bad.end()) << r.leaf_index();
      EXPECT_EQ(r.rule(), expected->second);
      EXPECT_EQ(r.raw_json(), events[expected->first]);
      EXPECT_EQ(r.identity_violation(), identity_violation);
      EXPECT_FALSE(r.raw_json_dropped());
      EXPECT_EQ(r.leaf_hash(), DigestToString(MerkleLeafHash(events[expected->first])));
      EXPECT_EQ(r.agent_account_id(), kAccountA);
    }
    EXPECT_EQ(listed, bad.size()) << "refused events of batch " << batch->sequence() << " listed";
  }

  static testutil::TempDir* dir_;
  static testutil::TestPki* pki_;
  static CollectorProcess* collector_;
  static std::map<std::string, TlsFiles>* issued_;
};

testutil::TempDir* CollectorIngestTest::dir_ = nullptr;
testutil::TestPki* CollectorIngestTest::pki_ = nullptr;
CollectorProcess* CollectorIngestTest::collector_ = nullptr;
std::map<std::string, TlsFiles>* CollectorIngestTest::issued_ = nullptr;

TEST_F(CollectorIngestTest, ValidBatchIsAckedAndStored) {
  auto agent = Agent(kAccountA, "us-east-1", "valid");
  auto hello = agent->Hello();
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_EQ(hello->high_water_sequence(), 0u);
  EXPECT_EQ(hello->home_region(), "us-east-1");
  uint64_t before = EventsStored();
  auto ack = agent->SendEvents({Event("valid-1"), Event("valid-2")});
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->sequence(), 1u);
  EXPECT_EQ(ack->events_stored(), 2u);
  EXPECT_EQ(EventsStored(), before + 2);
  EXPECT_TRUE(agent->Finish().ok());
}

// ---- impersonation matrix ----

// An event that breaks a per-event rule is refused alone: its neighbours are
// stored, the batch is acked with the refusal listed, the event is recorded
// with its bytes and reason (Query.ListRefused), and the stream goes on.
TEST_F(CollectorIngestTest, AgentOfAccountASendingAccountBEventIsRefusedAloneAsEvidence) {
  auto agent = Agent(kAccountA, "us-east-1", "imp-acct");
  ASSERT_TRUE(agent->Hello().ok());
  ExpectRefusedAlone(agent.get(), {Event("imp-acct-ok"), Event("imp-acct-b", kAccountB), Event("imp-acct-ok2")},
                     {{1, "recipient_account_mismatch"}}, true);
  EXPECT_EQ(ListRefused(AgentId(kAccountA, "us-east-1", "imp-acct"), true).refused_size(), 1);
}

TEST_F(CollectorIngestTest, WrongRegionIsRefusedAlone) {
  auto agent = Agent(kAccountA, "eu-west-1", "imp-region");
  ASSERT_TRUE(agent->Hello().ok());
  ExpectRefusedAlone(agent.get(),
                     {Event("imp-region-1", kAccountA, "us-west-2"), Event("imp-region-ok", kAccountA, "eu-west-1")},
                     {{0, "region_mismatch"}}, true);
}

TEST_F(CollectorIngestTest, PoisonNeighboursAreRefusedAloneAndTheGoodEventIsStored) {
  auto agent = Agent(kAccountA, "us-east-1", "poison");
  ASSERT_TRUE(agent->Hello().ok());
  // A global-service event with a bogus region, then a 300-character eventID, then malformed JSON.
  ExpectRefusedAlone(agent.get(),
                     {Event("poison-ok-1"), Event("poison-iam", kAccountA, "bogus", "iam.amazonaws.com")},
                     {{1, "invalid_region"}}, false);
  ExpectRefusedAlone(agent.get(), {Event(std::string(300, 'p')), Event("poison-ok-2")}, {{0, "event_id_invalid"}},
                     false);
  ExpectRefusedAlone(agent.get(), {Event("poison-ok-3"), "{\"eventID\":"}, {{1, "malformed_event"}}, false);
  EXPECT_EQ(ListRefused(AgentId(kAccountA, "us-east-1", "poison"), true).refused_size(), 0);
  EXPECT_EQ(ListRefused(AgentId(kAccountA, "us-east-1", "poison"), false).refused_size(), 3);
  EXPECT_TRUE(agent->Finish().ok());

  // What an operator sees: orgtrailctl list-refused, one JSON object per refused event.
  auto ctl = [&](std::vector<std::string> args, const std::string& name) {
    return testutil::RunOrgtrailctl(std::move(args), collector_->target(), pki_->Auditor(), dir_->path(), name);
  };
  testutil::CtlResult listed =
      ctl({"list-refused", "--agent", AgentId(kAccountA, "us-east-1", "poison")}, "list-refused");
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(std::count(listed.out.begin(), listed.out.end(), '\n'), 3) << listed.out;
  EXPECT_NE(listed.out.find("\"rule\":\"invalid_region\""), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("poison-iam"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("\"identityViolation\":false"), std::string::npos) << listed.out;
  testutil::CtlResult violations = ctl({"list-refused", "--identity-violations", "--agent",
                                        AgentId(kAccountA, "us-east-1", "poison")},
                                       "list-refused-violations");
  ASSERT_EQ(violations.exit_code, 0) << violations.err;
  EXPECT_TRUE(violations.out.empty()) << violations.out;
  for (const auto& bad : std::vector<std::vector<std::string>>{{"list-refused", "--max-items", "0"},
                                                               {"list-refused", "--agent", "not-a-spiffe-id"},
                                                               {"list-refused", "--max-items", "x"}}) {
    testutil::CtlResult refused = ctl(bad, "list-refused-bad");
    EXPECT_EQ(refused.exit_code, 2) << bad[1] << ": " << refused.err;
    EXPECT_NE(refused.err.find("orgtrailctl list-refused"), std::string::npos) << refused.err;
  }
}

TEST_F(CollectorIngestTest, FakeRegionNameIsRefusedAloneWithoutAllowList) {
  auto agent = Agent(kAccountA, "us-east-1", "imp-fake-region");
  auto hello = agent->Hello();
  ASSERT_TRUE(hello.ok());
  // The HelloAck announces the rules an agent applies before it acknowledges its sources.
  EXPECT_EQ(hello->allowed_regions_size(), 0);
  EXPECT_GT(hello->global_event_sources_size(), 0);
  EXPECT_EQ(hello->max_event_id_bytes(), 256u);
  EXPECT_GT(hello->max_event_bytes(), 0u);
  ExpectRefusedAlone(agent.get(), {Event("fake-region-1", kAccountA, "sagov-westsouth-1r")}, {{0, "invalid_region"}},
                     false);
}

TEST_F(CollectorIngestTest, HelloOrBatchClaimingAnotherAgentIsRefused) {
  {
    TlsFiles tls = pki_->Agent(kAccountA, "us-east-1", "imp-claim");
    auto client = IngestClient::Connect(collector_->target(), tls, AgentId(kAccountB, "us-east-1", "imp-claim"));
    ASSERT_TRUE(client.ok());
    auto hello = (*client)->Hello();
    EXPECT_EQ(hello.status().code(), absl::StatusCode::kPermissionDenied) << hello.status();
  }
  auto agent = Agent(kAccountA, "us-east-1", "imp-claim2");
  ASSERT_TRUE(agent->Hello().ok());
  auto batch = agent->MakeBatch({Event("imp-claim-1")});
  ASSERT_TRUE(batch.ok());
  batch->set_agent_id(AgentId(kAccountB, "us-east-1", "imp-claim2"));
  ASSERT_TRUE(agent->Reseal(&*batch).ok());
  ExpectRefused(agent.get(), *batch, grpc::StatusCode::PERMISSION_DENIED, "agent_id_mismatch");
}

TEST_F(CollectorIngestTest, AuditorAndAdminMayNotIngest) {
  for (const TlsFiles& tls : {pki_->Auditor("ingest-auditor"), pki_->Admin("ingest-admin")}) {
    uint64_t before = EventsStored();
    auto client = IngestClient::Connect(collector_->target(), tls, "spiffe://example.org/auditor/ingest-auditor");
    ASSERT_TRUE(client.ok());
    auto hello = (*client)->Hello();
    EXPECT_EQ(hello.status().code(), absl::StatusCode::kPermissionDenied) << hello.status();
    ASSERT_TRUE((*client)->last_error().has_value());
    EXPECT_EQ((*client)->last_error()->rule(), "not_an_agent");
    EXPECT_EQ(EventsStored(), before);
  }
  EXPECT_GE(Refused("not_an_agent"), 2);
}

TEST_F(CollectorIngestTest, AgentMayNotCallAdmin) {
  auto stub = collector_->AdminStub(pki_->Agent(kAccountA, "us-east-1", "admin-caller"));
  ASSERT_TRUE(stub.ok());
  grpc::ClientContext context;
  v1::GetStatusResponse response;
  grpc::Status s = (*stub)->GetStatus(&context, v1::GetStatusRequest(), &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  grpc::ClientContext context2;
  v1::CreateTrailRequest create;
  create.mutable_trail()->set_name("agent-made-trail");
  v1::TrailResponse trail;
  s = (*stub)->CreateTrail(&context2, create, &trail);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

// Certificates TLS or the SVID rules refuse before any batch is read.
// Connects with OpenSSL directly (no gRPC) and returns the TLS error the
// collector's handshake produced, as OpenSSL names it ("" if it succeeded):
// the named reason a certificate was refused, not just "unavailable".
std::string TlsRefusalReason(const std::string& port, const TlsFiles& tls) {
  signal(SIGPIPE, SIG_IGN);  // writing to a connection the server refused must not kill the test
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return "SSL_CTX_new failed";
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx_owner(ctx, SSL_CTX_free);
  if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert_path.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, tls.key_path.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_load_verify_locations(ctx, tls.ca_cert_path.c_str(), nullptr) != 1) {
    return "client setup failed";
  }
  const std::string alpn("\x02h2", 3);
  SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(alpn.data()), alpn.size());
  BIO* bio = BIO_new_ssl_connect(ctx);
  std::unique_ptr<BIO, decltype(&BIO_free_all)> bio_owner(bio, BIO_free_all);
  BIO_set_conn_hostname(bio, ("127.0.0.1:" + port).c_str());
  SSL* ssl = nullptr;
  BIO_get_ssl(bio, &ssl);
  SSL_set_tlsext_host_name(ssl, "localhost");
  ERR_clear_error();
  std::string reason;
  if (BIO_do_connect(bio) != 1) {
    reason = ERR_reason_error_string(ERR_peek_last_error()) ? ERR_reason_error_string(ERR_peek_last_error()) : "?";
    return reason;
  }
  // TLS 1.3: the server judges the client certificate after the client's Finished; its alert
  // arrives on the first read (bounded: a server that says nothing is an answer too).
  int fd = -1;
  BIO_get_fd(bio, &fd);
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  BIO_write(bio, preface, sizeof(preface) - 1);
  char buf[256];
  const int n = BIO_read(bio, buf, sizeof(buf));
  if (n > 0) return "";
  const unsigned long err = ERR_peek_last_error();
  return err != 0 && ERR_reason_error_string(err) != nullptr ? ERR_reason_error_string(err) : "closed without an alert";
}

TEST_F(CollectorIngestTest, HostileCertificatesCannotIngest) {
  // Refused by the TLS handshake itself: the connection is made, the collector's TLS layer
  // refuses the certificate and says why in its log ("certificate verify failed"), and the
  // same path with a valid agent certificate works (so this is no unavailable collector).
  const std::string port = collector_->target().substr(collector_->target().rfind(':') + 1);
  const auto verify_failures = [&] {
    const std::string log = collector_->process()->ReadStderr();
    size_t count = 0;
    for (size_t at = log.find("certificate verify failed"); at != std::string::npos;
         at = log.find("certificate verify failed", at + 1)) {
      ++count;
    }
    return count;
  };
  EXPECT_EQ(TlsRefusalReason(port, pki_->Agent(kAccountA, "us-east-1", "tls-ok")), "");
  uint64_t before = EventsStored();
  for (const auto& [what, tls] : {std::pair{"certificate from another CA", pki_->FromOtherCa()},
                                  std::pair{"expired certificate", pki_->Expired()}}) {
    SCOPED_TRACE(what);
    const size_t failures_before = verify_failures();
    EXPECT_NE(TlsRefusalReason(port, tls), "");
    ASSERT_TRUE(testutil::WaitFor([&] { return verify_failures() > failures_before; }, std::chrono::seconds(30)))
        << "the collector logged no certificate verification failure:\n" << collector_->process()->ReadStderr();
    auto client = IngestClient::Connect(collector_->target(), tls, AgentId(kAccountA, "us-east-1", "a1"), 1,
                                        std::chrono::seconds(20));
    ASSERT_TRUE(client.ok()) << client.status();
    auto hello = (*client)->Hello();
    ASSERT_FALSE(hello.ok());
    EXPECT_EQ(hello.status().code(), absl::StatusCode::kUnavailable) << hello.status();
  }
  // Valid at the TLS level, refused by the collector's identity rules, each for its named reason.
  struct IdentityCase {
    const char* what;
    TlsFiles tls;
    const char* reason;
  };
  for (const IdentityCase& c :
       {IdentityCase{"two URI SANs", pki_->TwoUriSans(), "exactly one URI SAN, has 2"},
        IdentityCase{"CA=true leaf", pki_->CaLeaf(), "CA:TRUE"},
        IdentityCase{"other trust domain", pki_->OtherTrustDomain(), "expected 'example.org'"},
        IdentityCase{"no URI SAN", pki_->NoUriSan(), "exactly one URI SAN, has 0"}}) {
    SCOPED_TRACE(c.what);
    EXPECT_EQ(TlsRefusalReason(port, c.tls), "") << "the handshake must succeed: the refusal is the collector's";
    auto client = IngestClient::Connect(collector_->target(), c.tls, AgentId(kAccountA, "us-east-1", "a1"), 1,
                                        std::chrono::seconds(20));
    ASSERT_TRUE(client.ok()) << client.status();
    auto hello = (*client)->Hello();
    ASSERT_FALSE(hello.ok());
    EXPECT_EQ(hello.status().code(), absl::StatusCode::kPermissionDenied) << hello.status();
    EXPECT_NE(hello.status().message().find(c.reason), std::string_view::npos) << hello.status();
  }
  EXPECT_EQ(EventsStored(), before);
}

TEST_F(CollectorIngestTest, NoClientCertificateIsRefusedByTls) {
  std::ifstream in(pki_->ca_cert_path());
  std::stringstream ca;
  ca << in.rdbuf();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ca.str();
  auto channel = grpc::CreateChannel(collector_->target(), grpc::SslCredentials(ssl));
  auto stub = v1::Ingest::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  auto stream = stub->Stream(&context);
  v1::IngestRequest hello;
  hello.mutable_hello()->set_agent_id(AgentId(kAccountA, "us-east-1", "a1"));
  stream->Write(hello);
  v1::IngestResponse response;
  EXPECT_FALSE(stream->Read(&response));
  grpc::Status s = stream->Finish();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
}

// ---- tamper matrix ----

TEST_F(CollectorIngestTest, OneByteChangedInOneEventIsRefused) {
  auto agent = Agent(kAccountA, "us-east-1", "tamper-byte");
  ASSERT_TRUE(agent->Hello().ok());
  auto batch = agent->MakeBatch({Event("tb-1"), Event("tb-2"), Event("tb-3")});
  ASSERT_TRUE(batch.ok());
  std::string* raw = batch->mutable_events(1)->mutable_raw_json();
  (*raw)[raw->find("192.0.2.10")] = '9';  // one byte of sourceIPAddress
  ExpectRefused(agent.get(), *batch, grpc::StatusCode::INVALID_ARGUMENT, "merkle_root_mismatch");
}

TEST_F(CollectorIngestTest, ReorderedEventsAreRefused) {
  auto agent = Agent(kAccountA, "us-east-1", "tamper-order");
  ASSERT_TRUE(agent->Hello().ok());
  auto batch = agent->MakeBatch({Event("to-1"), Event("to-2")});
  ASSERT_TRUE(batch.ok());
  batch->mutable_events()->SwapElements(0, 1);
  ExpectRefused(agent.get(), *batch, grpc::StatusCode::INVALID_ARGUMENT, "merkle_root_mismatch");
}

TEST_F(CollectorIngestTest, WrongRootIsRefused) {
  auto agent = Agent(kAccountA, "us-east-1", "tamper-root");
  ASSERT_TRUE(agent->Hello().ok());
  auto batch = agent->MakeBatch({Event("tr-1")});
  ASSERT_TRUE(batch.ok());
  batch->set_merkle_root(std::string(32, '\x42'));
  ExpectRefused(agent.get(), *batch, grpc::StatusCode::INVALID_ARGUMENT, "merkle_root_mismatch");
}

TEST_F(CollectorIngestTest, SignatureByAnotherAgentsKeyIsRefused) {
  TlsFiles other = pki_->Agent(kAccountA, "us-east-1", "tamper-other-key");
  auto other_signer = Signer::FromPrivateKeyFile(other.key_path);
  ASSERT_TRUE(other_signer.ok());
  auto agent = Agent(kAccountA, "us-east-1", "tamper-sig");
  ASSERT_TRUE(agent->Hello().ok());
  auto batch = agent->MakeBatch({Event("ts-1")});
  ASSERT_TRUE(batch.ok());
  ASSERT_TRUE(agent->Reseal(&*batch, other_signer->get()).ok());
  ExpectRefused(agent.get(), *batch, grpc::StatusCode::UNAUTHENTICATED, "bad_signature");
}

TEST_F(CollectorIngestTest, MalformedEventsAreRefusedAloneNamingThem) {
  auto agent = Agent(kAccountA, "us-east-1", "malformed");
  ASSERT_TRUE(agent->Hello().ok());
  std::string no_id = Event("will-remove");
  no_id.replace(no_id.find("\"eventID\":\"will-remove\","), std::string("\"eventID\":\"will-remove\",").size(), "");
  ExpectRefusedAlone(agent.get(), {Event("mf-ok"), "{\"eventTime\": 5, \"broken", std::string("\xff\xfe{}", 4)},
                     {{1, "malformed_event"}, {2, "malformed_event"}}, false);
  ExpectRefusedAlone(agent.get(), {no_id, Event("mf-ok-2")}, {{0, "event_id_missing"}}, false);
  EXPECT_TRUE(agent->Finish().ok());
}

TEST_F(CollectorIngestTest, ReplayedOldBatchUnderNewSequenceIsDeduplicated) {
  auto agent = Agent(kAccountA, "us-east-1", "tamper-replay");
  ASSERT_TRUE(agent->Hello().ok());
  std::vector<std::string> events = {Event("rp-1"), Event("rp-2")};
  auto first = agent->SendEvents(events);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->events_stored(), 2u);
  uint64_t before = EventsStored();
  auto again = agent->SendEvents(events);  // same events, new sequence, valid signature
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->sequence(), 2u);
  EXPECT_EQ(again->events_stored(), 0u);
  EXPECT_EQ(again->events_duplicate(), 2u);
  EXPECT_EQ(EventsStored(), before);
}

// ---- dedup ----

TEST_F(CollectorIngestTest, LostAckReplayIsAckedNotStoredTwice) {
  const std::string name = "lost-ack";
  std::vector<v1::Batch> sent;
  {
    auto agent = Agent(kAccountA, "us-east-1", name);
    ASSERT_TRUE(agent->Hello().ok());
    for (int i = 0; i < 3; ++i) {
      auto batch = agent->MakeBatch({Event("la-" + std::to_string(i))});
      ASSERT_TRUE(batch.ok());
      ASSERT_TRUE(agent->Send(*batch).ok());
      sent.push_back(*batch);
    }
    ASSERT_TRUE(agent->WaitAck(3).ok());
    // The agent "loses" the acks: it disconnects and resends everything.
  }
  uint64_t before = EventsStored();
  auto agent = Agent(kAccountA, "us-east-1", name);
  auto hello = agent->Hello();
  ASSERT_TRUE(hello.ok());
  EXPECT_EQ(hello->high_water_sequence(), 3u);
  for (const v1::Batch& batch : sent) ASSERT_TRUE(agent->Send(batch).ok());
  auto ack = agent->WaitAck(3);
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->events_stored(), 0u);
  EXPECT_EQ(EventsStored(), before);
  EXPECT_TRUE(agent->Finish().ok());
}

TEST_F(CollectorIngestTest, TwoAgentsSameEventIdStoredOnce) {
  auto a = Agent(kAccountA, "us-east-1", "dup-a");
  auto b = Agent(kAccountA, "us-east-1", "dup-b");
  ASSERT_TRUE(a->Hello().ok());
  ASSERT_TRUE(b->Hello().ok());
  uint64_t before = EventsStored();
  auto ack_a = a->SendEvents({Event("shared-id")});
  auto ack_b = b->SendEvents({Event("shared-id")});
  ASSERT_TRUE(ack_a.ok() && ack_b.ok());
  EXPECT_EQ(ack_a->events_stored() + ack_b->events_stored(), 1u);
  EXPECT_EQ(ack_b->events_duplicate(), 1u);
  EXPECT_EQ(EventsStored(), before + 1);
}

TEST_F(CollectorIngestTest, IamEventFromThreeRegionsStoredOnceInHomeRegion) {
  uint64_t before = EventsStored();
  const std::string iam = Event("iam-three-regions", kAccountB, "us-east-1", "iam.amazonaws.com");
  uint32_t stored = 0;
  for (const char* region : {"eu-west-1", "ap-southeast-2", "us-west-2"}) {
    auto agent = Agent(kAccountB, region, std::string("iam-") + region);
    ASSERT_TRUE(agent->Hello().ok());
    auto ack = agent->SendEvents({iam});
    ASSERT_TRUE(ack.ok()) << region << ": " << ack.status();
    stored += ack->events_stored();
  }
  EXPECT_EQ(stored, 1u);
  EXPECT_EQ(EventsStored(), before + 1);
  // (The partition region is checked on the stored record in collector_durability_test.)
}

TEST_F(CollectorIngestTest, StatusReportsAgentsAndMetricsCountBatches) {
  auto agent = Agent(kAccountA, "us-east-1", "status");
  ASSERT_TRUE(agent->Hello().ok());
  ASSERT_TRUE(agent->SendEvents({Event("status-1")}).ok());
  v1::GetStatusResponse status = Status();
  EXPECT_TRUE(status.healthy());
  bool found = false;
  for (const auto& a : status.agents()) {
    if (a.agent_id() == AgentId(kAccountA, "us-east-1", "status")) {
      found = true;
      EXPECT_EQ(a.high_water_sequence(), 1u);
      EXPECT_TRUE(a.connected());
      EXPECT_EQ(a.events_stored(), 1u);
      EXPECT_EQ(a.account_id(), kAccountA);
    }
  }
  EXPECT_TRUE(found);
  EXPECT_GE(collector_->MetricValue("orgtrail_collector_batches_stored_total"), 1);
  EXPECT_GE(collector_->MetricValue("orgtrail_collector_events_stored_total"), 1);
  EXPECT_GE(collector_->MetricValue("orgtrail_collector_agent_high_water_sequence{agent=\"" +
                                    AgentId(kAccountA, "us-east-1", "status") + "\"}"),
            1);
}

}  // namespace
}  // namespace orgtrail
