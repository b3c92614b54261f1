// Revocation and expiry of live ingest streams (issue 14, "Revocation"), with
// a real orgtrail-collector (--crl-file, --deny-list-file), real
// orgtrail-agent processes, the real `orgtrailctl pki revoke` and real
// certificates on loopback:
//   - revoking an agent's certificate while its stream is open closes the
//     stream within seconds (IngestError certificate_revoked), refuses its new
//     streams with PERMISSION_DENIED, stores nothing it sends afterwards (it
//     stays in the agent's spool, not dead-lettered), while another agent
//     keeps ingesting;
//   - the deny list (SPIFFE ID, fingerprint) does the same, also for Query
//     and Admin callers, and a malformed deny list or CRL on reload is
//     counted and keeps the last good list;
//   - a stream whose certificate expires (pki issue-agent --validity-seconds)
//     is closed at its notAfter.
#include <cctype>
#include <chrono>
#include <string>
#include <vector>

#include "cert_agent.h"
#include "orgtrail/common/identity.h"
#include "orgtrail/common/pki.h"
#include "orgtrail/common/revocation.h"
#include "orgtrail/v1/query.grpc.pb.h"
#include "orgtrail/common/time_util.h"
#include "testutil/ingest_client.h"
#include "testutil/pki_fixture.h"
#include "testutil/temp_dir.h"

namespace orgtrail::testutil {
namespace {

constexpr char kAccount[] = "111122223333";
constexpr char kRegion[] = "eu-west-1";
constexpr auto kCloseDeadline = std::chrono::seconds(10);  // "within seconds" (poll 1 s + close)

struct CtlRun {
  int exit_code = -1;
  std::string out;
};

// orgtrailctl <args> (no collector connection: the pki subcommands).
CtlRun Orgtrailctl(std::vector<std::string> args, const std::string& log_dir, const std::string& name) {
  SubprocessOptions o;
  o.binary = std::string(ORGTRAIL_BINARY_DIR) + "/cli/orgtrailctl";
  o.args = std::move(args);
  o.log_dir = log_dir;
  o.name = name;
  CtlRun run;
  auto p = Subprocess::Start(o);
  if (!p.ok()) return run;
  if (!(*p)->Wait(std::chrono::seconds(60))) (*p)->Stop(std::chrono::seconds(1));
  run.exit_code = (*p)->ExitCode();
  run.out = (*p)->ReadStdout() + (*p)->ReadStderr();
  return run;
}

std::string Event(const std::string& id) {
  SyntheticEvent e;
  e.event_id = id;
  return SyntheticEventJson(e);
}

// Reads until the stream ends; the last IngestError (if any) is in client->last_error().
grpc::Status ReadToEnd(IngestClient* client) {
  v1::IngestResponse response;
  while (client->Read(&response)) {
  }
  return client->Finish();
}

class IngestRevocationTest : public ::testing::Test {
 protected:
  IngestRevocationTest() : dir_("ingest-revocation"), pki_(dir_.MakeSubdir("pki")) {}

  void StartCollector() {
    // An empty CRL made by the real CLI, and an empty deny list.
    CtlRun init = Orgtrailctl({"pki", "revoke", "--dir", pki_.dir(), "--refresh"}, dir_.path(), "ctl-crl-init");
    ASSERT_EQ(init.exit_code, 0) << init.out;
    ASSERT_TRUE(WriteFileAtomically(deny_path(), "# nothing denied yet\n", 0644).ok());
    CollectorProcessOptions options;
    options.data_dir = dir_.Join("data");
    options.log_dir = dir_.path();
    options.tls = pki_.Collector();
    options.extra_args = {"--crl-file", crl_path(), "--deny-list-file", deny_path(), "--revocation-poll-ms", "1000"};
    auto collector = CollectorProcess::Start(options);
    ASSERT_TRUE(collector.ok()) << collector.status();
    collector_ = std::move(*collector);
  }

  std::string crl_path() const { return pki_.dir() + "/crl.pem"; }
  std::string deny_path() const { return dir_.path() + "/deny.txt"; }
  double Metric(const std::string& series) const { return collector_->MetricValue(series); }
  std::string Log() const { return collector_->process()->ReadLog(); }

  // A Hello'd probe stream that has had one batch acknowledged.
  std::unique_ptr<IngestClient> OpenProbe(const TlsFiles& tls, const std::string& name, const std::string& id_prefix) {
    auto client = IngestClient::Connect(collector_->target(), tls,
                                        AgentSpiffeId(pki_.trust_domain(), "111111111111", "us-east-1", name), 1,
                                        std::chrono::seconds(60));
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return nullptr;
    auto hello = (*client)->Hello();
    EXPECT_TRUE(hello.ok()) << hello.status();
    auto ack = (*client)->SendEvents({Event(id_prefix + "-0000-4000-8000-000000000001")});
    EXPECT_TRUE(ack.ok()) << ack.status() << "\n" << Log();
    return std::move(*client);
  }

  TempDir dir_;
  TestPki pki_;
  std::unique_ptr<CollectorProcess> collector_;
};

TEST_F(IngestRevocationTest, RevokedCertificateStreamsAreClosedAndRefusedWhileOthersIngest) {
  StartCollector();
  ASSERT_TRUE(collector_);
  const TlsFiles victim_tls = pki_.Agent(kAccount, kRegion, "victim");
  const TlsFiles bystander_tls = pki_.Agent(kAccount, kRegion, "bystander");
  const TlsFiles probe_tls = pki_.Agent("111111111111", "us-east-1", "probe");
  CertAgent victim = CertAgent::Start(collector_->target(), victim_tls, dir_.Join("spool-victim"), dir_.path(), "victim");
  CertAgent bystander =
      CertAgent::Start(collector_->target(), bystander_tls, dir_.Join("spool-bystander"), dir_.path(), "bystander");
  ASSERT_TRUE(victim.process && bystander.process);
  auto victim_api = victim.Api();
  auto bystander_api = bystander.Api();

  // Before: both agents ingest, and a probe stream of a third certificate is open.
  const auto victim_before = PutEventsRounds(victim_api.get(), "aaaaaaaa", 2, 5);
  const auto bystander_before = PutEventsRounds(bystander_api.get(), "bbbbbbbb", 2, 5);
  ASSERT_EQ(victim_before.size(), 10u);
  ASSERT_EQ(bystander_before.size(), 10u);
  std::unique_ptr<IngestClient> probe = OpenProbe(probe_tls, "probe", "cccccccc");
  ASSERT_TRUE(probe);
  ASSERT_TRUE(WaitFor([&] { return victim.Drained() && bystander.Drained() && Metric("orgtrail_collector_events_in_store") == 21; },
                      std::chrono::seconds(60)))
      << Log();
  ASSERT_TRUE(WaitFor([&] { return Metric("orgtrail_collector_ingest_streams") == 3; }, std::chrono::seconds(30)));
  EXPECT_EQ(Metric("orgtrail_collector_ingest_streams_closed_total{reason=\"certificate_revoked\"}"), 0);

  // Revoke the victim's and the probe's certificates with the real CLI.
  const auto revoked_at = std::chrono::steady_clock::now();
  CtlRun revoke = Orgtrailctl({"pki", "revoke", "--dir", pki_.dir(), "--cert", victim_tls.cert_path, "--cert",
                               probe_tls.cert_path},
                              dir_.path(), "ctl-revoke");
  ASSERT_EQ(revoke.exit_code, 0) << revoke.out;
  EXPECT_NE(revoke.out.find("revoked: serial"), std::string::npos) << revoke.out;

  // The probe's open stream is closed with certificate_revoked, within seconds.
  grpc::Status probe_end = ReadToEnd(probe.get());
  const auto probe_closed_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - revoked_at).count();
  ASSERT_TRUE(probe->last_error().has_value()) << probe_end.error_message() << "\n" << Log();
  EXPECT_EQ(probe->last_error()->rule(), "certificate_revoked");
  EXPECT_EQ(probe->last_error()->code(), static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
  EXPECT_FALSE(probe_end.ok());
  EXPECT_LT(probe_closed_ms, std::chrono::milliseconds(kCloseDeadline).count());
  // ... and so is the victim agent's.
  ASSERT_TRUE(WaitFor([&] {
    return Metric("orgtrail_collector_ingest_streams_closed_total{reason=\"certificate_revoked\"}") >= 2;
  }, kCloseDeadline)) << Log();

  // A new stream of a revoked certificate is refused at once, before its Hello is answered.
  auto again = IngestClient::Connect(collector_->target(), probe_tls, probe->agent_id(), 2, std::chrono::seconds(30));
  ASSERT_TRUE(again.ok());
  auto hello = (*again)->Hello();
  ASSERT_FALSE(hello.ok());
  EXPECT_EQ(hello.status().code(), absl::StatusCode::kPermissionDenied) << hello.status();
  ASSERT_TRUE((*again)->last_error().has_value());
  EXPECT_EQ((*again)->last_error()->rule(), "certificate_revoked");

  // The victim agent still accepts events into its spool, but none reaches the store:
  // its reconnects are refused.
  const double refusals = Metric("orgtrail_collector_revoked_refusals_total{service=\"ingest\"}");
  EXPECT_GE(refusals, 1);
  const auto victim_after = PutEventsRounds(victim_api.get(), "dddddddd", 2, 5);
  EXPECT_EQ(victim_after.size(), 10u);
  ASSERT_TRUE(WaitFor([&] {
    return Metric("orgtrail_collector_revoked_refusals_total{service=\"ingest\"}") > refusals;
  }, std::chrono::seconds(60))) << victim.process->ReadLog();

  // The bystander keeps ingesting.
  const auto bystander_after = PutEventsRounds(bystander_api.get(), "eeeeeeee", 2, 5);
  ASSERT_EQ(bystander_after.size(), 10u);
  ASSERT_TRUE(WaitFor([&] { return bystander.Drained() && Metric("orgtrail_collector_events_in_store") >= 31; },
                      std::chrono::seconds(60)))
      << Log();
  // Exactly: before (21) + the bystander's 10; nothing of the victim after the revocation.
  EXPECT_EQ(Metric("orgtrail_collector_events_in_store"), 31);
  EXPECT_FALSE(victim.Drained());  // its events wait in its spool (a new certificate would deliver them)
  EXPECT_EQ(victim.Metric("orgtrail_agent_dead_letter_batches"), 0);
  EXPECT_EQ(Metric("orgtrail_collector_ingest_streams"), 1);
  std::cerr << "revocation: probe stream closed " << probe_closed_ms << " ms after `pki revoke` started; "
            << Metric("orgtrail_collector_ingest_streams_closed_total{reason=\"certificate_revoked\"}")
            << " streams closed, " << Metric("orgtrail_collector_revoked_refusals_total{service=\"ingest\"}")
            << " new streams refused\n";
}

TEST_F(IngestRevocationTest, DenyListClosesStreamsAndABadReloadKeepsTheLastGoodList) {
  StartCollector();
  ASSERT_TRUE(collector_);
  const TlsFiles by_id_tls = pki_.Agent("111111111111", "us-east-1", "by-id");
  const TlsFiles by_fp_tls = pki_.Agent("111111111111", "us-east-1", "by-fp");
  const TlsFiles ok_tls = pki_.Agent("111111111111", "us-east-1", "ok");
  std::unique_ptr<IngestClient> by_id = OpenProbe(by_id_tls, "by-id", "11111111");
  std::unique_ptr<IngestClient> by_fp = OpenProbe(by_fp_tls, "by-fp", "22222222");
  ASSERT_TRUE(by_id && by_fp);
  auto fp_pem = ReadFile(by_fp_tls.cert_path);
  ASSERT_TRUE(fp_pem.ok());
  auto fingerprint = CertificateFingerprint(*fp_pem);
  ASSERT_TRUE(fingerprint.ok());
  // The fingerprint in the colon form openssl prints, upper case.
  std::string colon_fp;
  for (size_t i = 0; i < fingerprint->size(); i += 2) {
    if (i) colon_fp += ':';
    colon_fp += static_cast<char>(std::toupper((*fingerprint)[i]));
    colon_fp += static_cast<char>(std::toupper((*fingerprint)[i + 1]));
  }
  const TlsFiles mallory = pki_.Auditor("mallory");
  const TlsFiles alice = pki_.Auditor("alice");
  const TlsFiles eve = pki_.Admin("eve");
  const TlsFiles root = pki_.Admin("root");
  ASSERT_TRUE(WriteFileAtomically(deny_path(),
                                  "# stolen laptop, INC-1234\n" + by_id->agent_id() + "\n" + colon_fp +
                                      "   # cloned VM\n"
                                      "spiffe://example.org/auditor/mallory\n"
                                      "spiffe://example.org/admin/eve # left the company\n",
                                  0644)
                  .ok());
  for (IngestClient* client : {by_id.get(), by_fp.get()}) {
    const auto start = std::chrono::steady_clock::now();
    grpc::Status end = ReadToEnd(client);
    EXPECT_LT(std::chrono::steady_clock::now() - start, kCloseDeadline);
    ASSERT_TRUE(client->last_error().has_value()) << client->agent_id() << " " << end.error_message();
    EXPECT_EQ(client->last_error()->rule(), "certificate_revoked");
  }
  EXPECT_EQ(Metric("orgtrail_collector_revocation_entries{source=\"spiffe_id\"}"), 3);
  // Query and Admin calls of denied people are refused; the others are served.
  auto query_status = [&](const TlsFiles& tls) {
    auto creds = MakeChannelCredentials(tls);
    EXPECT_TRUE(creds.ok());
    auto stub = v1::Query::NewStub(grpc::CreateChannel(collector_->target(), *creds));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::GetEventRequest request;
    request.set_event_id("11111111-0000-4000-8000-000000000001");
    v1::GetEventResponse response;
    return stub->GetEvent(&ctx, request, &response);
  };
  auto admin_status = [&](const TlsFiles& tls) {
    auto stub = collector_->AdminStub(tls);
    EXPECT_TRUE(stub.ok());
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::GetStatusResponse response;
    return (*stub)->GetStatus(&ctx, v1::GetStatusRequest(), &response);
  };
  grpc::Status refused_query = query_status(mallory);
  EXPECT_EQ(refused_query.error_code(), grpc::StatusCode::PERMISSION_DENIED) << refused_query.error_message();
  EXPECT_NE(refused_query.error_message().find("certificate_revoked"), std::string::npos);
  EXPECT_TRUE(query_status(alice).ok());
  grpc::Status refused_admin = admin_status(eve);
  EXPECT_EQ(refused_admin.error_code(), grpc::StatusCode::PERMISSION_DENIED) << refused_admin.error_message();
  EXPECT_NE(refused_admin.error_message().find("certificate_revoked"), std::string::npos);
  EXPECT_TRUE(admin_status(root).ok());
  EXPECT_EQ(Metric("orgtrail_collector_revoked_refusals_total{service=\"query\"}"), 1);
  EXPECT_EQ(Metric("orgtrail_collector_revoked_refusals_total{service=\"admin\"}"), 1);
  EXPECT_EQ(Metric("orgtrail_collector_revocation_entries{source=\"fingerprint\"}"), 1);

  // A malformed deny list on reload: counted, logged, and the last good list stays in force.
  ASSERT_TRUE(WriteFileAtomically(deny_path(), "this is not an entry\n", 0644).ok());
  ASSERT_TRUE(WaitFor([&] {
    return Metric("orgtrail_collector_revocation_reload_errors_total{file=\"deny_list\"}") == 1;
  }, kCloseDeadline)) << Log();
  auto again = IngestClient::Connect(collector_->target(), by_id_tls, by_id->agent_id(), 2, std::chrono::seconds(30));
  ASSERT_TRUE(again.ok());
  auto hello = (*again)->Hello();
  EXPECT_EQ(hello.status().code(), absl::StatusCode::kPermissionDenied) << hello.status();
  std::unique_ptr<IngestClient> ok = OpenProbe(ok_tls, "ok", "33333333");
  ASSERT_TRUE(ok);
  EXPECT_NE(Log().find("revocation file rejected"), std::string::npos);

  // A malformed CRL on reload: the same.
  auto crl_before = ReadFile(crl_path());
  ASSERT_TRUE(crl_before.ok());
  std::string tampered = *crl_before;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  ASSERT_TRUE(WriteFileAtomically(crl_path(), tampered, 0644).ok());
  ASSERT_TRUE(WaitFor([&] {
    return Metric("orgtrail_collector_revocation_reload_errors_total{file=\"crl\"}") == 1;
  }, kCloseDeadline)) << Log();
  auto ack = ok->SendEvents({Event("33333333-0000-4000-8000-000000000002")});
  EXPECT_TRUE(ack.ok()) << ack.status();
  // The CRL error was seen by a later poll than the deny-list one, while the deny
  // list was still bad: the same bad contents are not counted again on every poll.
  EXPECT_EQ(Metric("orgtrail_collector_revocation_reload_errors_total{file=\"deny_list\"}"), 1);
  again = IngestClient::Connect(collector_->target(), by_fp_tls, by_fp->agent_id(), 2, std::chrono::seconds(30));
  ASSERT_TRUE(again.ok());
  hello = (*again)->Hello();
  EXPECT_EQ(hello.status().code(), absl::StatusCode::kPermissionDenied) << hello.status();
}

TEST_F(IngestRevocationTest, StreamIsClosedWhenItsCertificateExpires) {
  StartCollector();
  ASSERT_TRUE(collector_);
  constexpr int kValiditySeconds = 25;
  // A real agent with a short-lived certificate issued by the real CLI.
  CtlRun issued = Orgtrailctl({"pki", "issue-agent", "--dir", pki_.dir(), "--account", kAccount, "--region", kRegion,
                               "--name", "shortlived", "--validity-seconds", std::to_string(kValiditySeconds)},
                              dir_.path(), "ctl-issue-shortlived");
  ASSERT_EQ(issued.exit_code, 0) << issued.out;
  TlsFiles agent_tls;
  agent_tls.ca_cert_path = pki_.ca_cert_path();
  agent_tls.cert_path = pki_.dir() + "/agent-" + kAccount + "-" + kRegion + "-shortlived.crt";
  agent_tls.key_path = pki_.dir() + "/agent-" + kAccount + "-" + kRegion + "-shortlived.key";
  auto agent_pem = ReadFile(agent_tls.cert_path);
  ASSERT_TRUE(agent_pem.ok());
  auto agent_subject = RevocationSubjectFromPem(*agent_pem);
  ASSERT_TRUE(agent_subject.ok());
  // A probe with the same kind of certificate, to read the collector's error.
  CertOptions probe_options = pki_.AgentOptions("111111111111", "us-east-1", "shortprobe");
  probe_options.not_after_us = agent_subject->not_after_us;
  const TlsFiles probe_tls = pki_.Issue("agent-shortprobe", probe_options);

  CertAgent agent = CertAgent::Start(collector_->target(), agent_tls, dir_.Join("spool-short"), dir_.path(), "short");
  ASSERT_TRUE(agent.process);
  auto api = agent.Api();
  ASSERT_EQ(PutEventsRounds(api.get(), "ffffffff", 1, 5).size(), 5u);
  std::unique_ptr<IngestClient> probe = OpenProbe(probe_tls, "shortprobe", "44444444");
  ASSERT_TRUE(probe);
  ASSERT_TRUE(WaitFor([&] { return agent.Drained(); }, std::chrono::seconds(30)));
  ASSERT_LT(NowMicros(), agent_subject->not_after_us) << "the machine is too slow for this test's validity";
  EXPECT_EQ(Metric("orgtrail_collector_ingest_streams"), 2);

  grpc::Status end = ReadToEnd(probe.get());
  const int64_t closed_at = NowMicros();
  ASSERT_TRUE(probe->last_error().has_value()) << end.error_message() << "\n" << Log();
  EXPECT_EQ(probe->last_error()->rule(), "certificate_expired");
  EXPECT_EQ(probe->last_error()->code(), static_cast<int>(grpc::StatusCode::UNAUTHENTICATED));
  EXPECT_GE(closed_at, agent_subject->not_after_us);
  EXPECT_LT(closed_at, agent_subject->not_after_us + 5'000'000);
  ASSERT_TRUE(WaitFor([&] {
    return Metric("orgtrail_collector_ingest_streams_closed_total{reason=\"certificate_expired\"}") == 2 &&
           Metric("orgtrail_collector_ingest_streams") == 0;
  }, kCloseDeadline)) << Log();
  std::cerr << "expiry: probe stream closed " << (closed_at - agent_subject->not_after_us) / 1000
            << " ms after notAfter\n";
}

TEST_F(IngestRevocationTest, CollectorRefusesToStartWithAMissingOrMalformedRevocationFile) {
  const TlsFiles tls = pki_.Collector();
  CtlRun init = Orgtrailctl({"pki", "revoke", "--dir", pki_.dir(), "--refresh"}, dir_.path(), "ctl-crl-init");
  ASSERT_EQ(init.exit_code, 0) << init.out;
  ASSERT_TRUE(WriteFileAtomically(dir_.Join("bad-deny.txt"), "# ok\nspiffe://example.org/auditor/x\nnot-an-entry\n", 0644).ok());
  ASSERT_TRUE(WriteFileAtomically(dir_.Join("bad-crl.pem"), "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n", 0644).ok());
  struct Case {
    std::vector<std::string> args;
    const char* expect;
  };
  const Case cases[] = {
      {{"--deny-list-file", dir_.Join("bad-deny.txt")}, "line 3"},
      {{"--crl-file", dir_.Join("bad-crl.pem")}, "--crl-file"},
      {{"--crl-file", dir_.Join("missing.pem")}, "missing.pem"},
      {{"--crl-file", crl_path(), "--revocation-poll-ms", "5"}, "--revocation-poll-ms"},
  };
  int n = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.expect);
    SubprocessOptions o;
    o.binary = std::string(ORGTRAIL_BINARY_DIR) + "/collector/orgtrail-collector";
    o.args = {"--data-dir", dir_.Join("data-" + std::to_string(n)), "--ca", tls.ca_cert_path, "--cert", tls.cert_path,
              "--key", tls.key_path, "--trust-domain", "example.org", "--listen", "127.0.0.1:0",
              "--http-listen", "127.0.0.1:0"};
    o.args.insert(o.args.end(), c.args.begin(), c.args.end());
    o.log_dir = dir_.path();
    o.name = "collector-refused-" + std::to_string(n++);
    auto p = Subprocess::Start(o);
    ASSERT_TRUE(p.ok()) << p.status();
    ASSERT_TRUE((*p)->Wait(std::chrono::seconds(60)).has_value()) << "the collector started anyway";
    EXPECT_NE((*p)->ExitCode(), 0);
    EXPECT_NE((*p)->ReadStderr().find(c.expect), std::string::npos) << (*p)->ReadStderr();
    EXPECT_EQ((*p)->ReadStderr().find("collector listening"), std::string::npos);
  }
  // The flags are documented.
  SubprocessOptions help;
  help.binary = std::string(ORGTRAIL_BINARY_DIR) + "/collector/orgtrail-collector";
  help.args = {"--help"};
  help.log_dir = dir_.path();
  help.name = "collector-help";
  auto p = Subprocess::Start(help);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->Wait(std::chrono::seconds(60)).has_value());
  for (const char* flag : {"--crl-file", "--deny-list-file", "--revocation-poll-ms"}) {
    EXPECT_NE((*p)->ReadStdout().find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace orgtrail::testutil
