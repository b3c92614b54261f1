// common/tls.h over a real gRPC server on 127.0.0.1 with mutual TLS and
// certificates generated at test time: who gets in, who is refused, what
// identity the server sees, and certificate rotation without restart.
#include "orgtrail/common/tls.h"

#include <stdlib.h>

#include <chrono>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <gtest/gtest.h>

#include "orgtrail/common/identity.h"
#include "orgtrail/common/pki.h"
#include "orgtrail/common/status.h"
#include "orgtrail/v1/admin.grpc.pb.h"
#include "testutil/pki_fixture.h"
#include "testutil/temp_dir.h"
#include "testutil/wait_for.h"

namespace orgtrail {
namespace {

// gRPC 1.51's c-ares resolver leaks a few bytes on a name lookup
// ("localhost"), which LeakSanitizer reports; the native resolver does not.
// Set before gRPC initializes (static initialization, before main).
[[maybe_unused]] const bool kNativeDnsResolver = [] {
  ::setenv("GRPC_DNS_RESOLVER", "native", /*overwrite=*/0);
  return true;
}();

using testutil::TempDir;
using testutil::TestPki;

// Answers GetStatus with the caller's SPIFFE ID (collector_id) and role
// (health_reason), or the PeerIdentity error.
class EchoIdentityAdmin final : public orgtrail::v1::Admin::Service {
 public:
  grpc::Status GetStatus(grpc::ServerContext* context, const orgtrail::v1::GetStatusRequest*,
                         orgtrail::v1::GetStatusResponse* response) override {
    auto id = PeerIdentity(*context, "example.org");
    if (!id.ok()) return ToGrpcStatus(id.status());
    response->set_collector_id(id->spiffe_id);
    response->set_health_reason(std::string(RoleName(id->role)));
    response->set_healthy(!PeerCertificatePem(*context).empty());
    return grpc::Status::OK;
  }
};

class TlsServer {
 public:
  explicit TlsServer(const TlsFiles& files) {
    auto creds = MakeServerCredentials(files);
    EXPECT_TRUE(creds.ok()) << creds.status();
    if (!creds.ok()) return;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", *creds, &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    EXPECT_NE(server_, nullptr);
    EXPECT_GT(port_, 0);
  }
  ~TlsServer() {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  EchoIdentityAdmin service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

struct CallResult {
  grpc::Status status;
  orgtrail::v1::GetStatusResponse response;
  std::string server_cert_pem;  // what the server presented
};

// One call on a fresh connection (local subchannel pool: no reuse).
CallResult Call(const std::string& address, std::shared_ptr<grpc::ChannelCredentials> creds) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel = grpc::CreateCustomChannel(address, creds, args);
  auto stub = orgtrail::v1::Admin::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  CallResult result;
  orgtrail::v1::GetStatusRequest request;
  result.status = stub->GetStatus(&context, request, &result.response);
  if (auto auth = context.auth_context()) {
    auto values = auth->FindPropertyValues("x509_pem_cert");
    if (!values.empty()) result.server_cert_pem.assign(values.front().data(), values.front().size());
  }
  return result;
}

CallResult CallWith(const std::string& address, const TlsFiles& files) {
  auto creds = MakeChannelCredentials(files);
  EXPECT_TRUE(creds.ok()) << creds.status();
  if (!creds.ok()) return CallResult{grpc::Status(grpc::StatusCode::INTERNAL, "no creds"), {}, {}};
  return Call(address, *creds);
}

class TlsTest : public ::testing::Test {
 protected:
  TlsTest() : pki_(dir_.Join("pki")) {}
  TlsFiles ServerFiles() {
    TlsFiles files = pki_.Collector("main");
    files.refresh_interval_seconds = 1;
    return files;
  }
  TempDir dir_;
  TestPki pki_;
};

TEST_F(TlsTest, ValidClientsAreAcceptedAndIdentified) {
  TlsServer server(ServerFiles());
  CallResult agent = CallWith(server.address(), pki_.Agent("111111111111", "us-east-1", "a1"));
  ASSERT_TRUE(agent.status.ok()) << agent.status.error_message();
  EXPECT_EQ(agent.response.collector_id(),
            "spiffe://example.org/account/111111111111/region/us-east-1/agent/a1");
  EXPECT_EQ(agent.response.health_reason(), "agent");
  EXPECT_TRUE(agent.response.healthy());
  EXPECT_FALSE(agent.server_cert_pem.empty());
  auto server_id = IdentityFromCertificatePem(agent.server_cert_pem);
  ASSERT_TRUE(server_id.ok());
  EXPECT_EQ(server_id->spiffe_id, "spiffe://example.org/collector/main");

  CallResult auditor = CallWith(server.address(), pki_.Auditor("alice"));
  ASSERT_TRUE(auditor.status.ok()) << auditor.status.error_message();
  EXPECT_EQ(auditor.response.collector_id(), "spiffe://example.org/auditor/alice");
  EXPECT_EQ(auditor.response.health_reason(), "auditor");
}

TEST_F(TlsTest, DnsNameLocalhostAlsoVerifies) {
  TlsServer server(ServerFiles());
  std::string port = server.address().substr(server.address().rfind(':'));
  CallResult result = CallWith("localhost" + port, pki_.Admin("root"));
  EXPECT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.response.health_reason(), "admin");
}

TEST_F(TlsTest, ClientFromAnotherCaIsRefused) {
  TlsServer server(ServerFiles());
  CallResult result = CallWith(server.address(), pki_.FromOtherCa());
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAVAILABLE) << result.status.error_message();
}

TEST_F(TlsTest, ExpiredClientIsRefused) {
  TlsServer server(ServerFiles());
  CallResult result = CallWith(server.address(), pki_.Expired());
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAVAILABLE) << result.status.error_message();
}

TEST_F(TlsTest, ClientWithoutCertificateIsRefused) {
  TlsServer server(ServerFiles());
  // Root certificate only: server verification but no client identity.
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      pki_.ca_cert_path(), 1);
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(provider);
  options.watch_root_certs();
  CallResult result = Call(server.address(), grpc::experimental::TlsCredentials(options));
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAVAILABLE) << result.status.error_message();
  // And a plaintext client.
  CallResult plain = Call(server.address(), grpc::InsecureChannelCredentials());
  EXPECT_EQ(plain.status.error_code(), grpc::StatusCode::UNAVAILABLE) << plain.status.error_message();
}

TEST_F(TlsTest, ChainValidButNotAnSvidIsPermissionDenied) {
  TlsServer server(ServerFiles());
  for (const TlsFiles& files : {pki_.TwoUriSans(), pki_.NonSpiffeUri(), pki_.ElevenDigitAccount(),
                                pki_.OtherTrustDomain(), pki_.NoUriSan()}) {
    CallResult result = CallWith(server.address(), files);
    EXPECT_EQ(result.status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << files.cert_path << ": " << result.status.error_message();
  }
}

TEST_F(TlsTest, ClientRefusesServerFromAnotherCaOrWithWrongName) {
  // Server certificate with no SAN for 127.0.0.1.
  CertOptions wrong_name = pki_.CollectorOptions("main");
  wrong_name.dns_sans = {"collector.other.example"};
  wrong_name.ip_sans = {"10.9.9.9"};
  TlsFiles wrong = pki_.Issue("collector-wrong-name", wrong_name);
  wrong.refresh_interval_seconds = 1;
  {
    TlsServer server(wrong);
    CallResult result = CallWith(server.address(), pki_.Auditor("alice"));
    EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAVAILABLE) << result.status.error_message();
  }
  // A client that trusts a different CA than the server's.
  TlsServer server(ServerFiles());
  TlsFiles client = pki_.Auditor("alice");
  client.ca_cert_path = pki_.OtherCaCertPath();
  CallResult result = CallWith(server.address(), client);
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAVAILABLE) << result.status.error_message();
}

TEST_F(TlsTest, ServerCertificateRotatesWithoutRestart) {
  TlsFiles files = ServerFiles();
  TlsServer server(files);
  TlsFiles client = pki_.Auditor("alice");
  CallResult before = CallWith(server.address(), client);
  ASSERT_TRUE(before.status.ok()) << before.status.error_message();
  auto old_fp = CertificateFingerprint(before.server_cert_pem);
  ASSERT_TRUE(old_fp.ok());

  // Re-issue the collector certificate in place (atomic replacement).
  TlsFiles rotated = pki_.Collector("main");
  ASSERT_EQ(rotated.cert_path, files.cert_path);
  auto new_pem = ReadFile(rotated.cert_path);
  ASSERT_TRUE(new_pem.ok());
  auto new_fp = CertificateFingerprint(*new_pem);
  ASSERT_TRUE(new_fp.ok());
  ASSERT_NE(*new_fp, *old_fp);

  std::string seen;
  bool rotated_in = testutil::WaitFor(
      [&] {
        CallResult result = CallWith(server.address(), client);
        if (!result.status.ok()) return false;
        auto fp = CertificateFingerprint(result.server_cert_pem);
        seen = fp.ok() ? *fp : "";
        return seen == *new_fp;
      },
      std::chrono::seconds(30), std::chrono::milliseconds(250));
  EXPECT_TRUE(rotated_in) << "server still presents " << seen << ", expected " << *new_fp;
}

TEST_F(TlsTest, ClientCertificateRotatesWithoutNewCredentials) {
  TlsServer server(ServerFiles());
  TlsFiles client = pki_.Auditor("alice");
  client.refresh_interval_seconds = 1;
  auto creds = MakeChannelCredentials(client);
  ASSERT_TRUE(creds.ok());
  CallResult before = Call(server.address(), *creds);
  ASSERT_TRUE(before.status.ok()) << before.status.error_message();
  EXPECT_EQ(before.response.collector_id(), "spiffe://example.org/auditor/alice");
  // Same files, now holding an admin identity: the same credentials object
  // must pick it up on a new handshake.
  CertOptions admin;
  admin.uri_sans = {"spiffe://example.org/admin/alice"};
  ASSERT_TRUE(pki_.TryIssue("auditor-alice", admin).ok());
  std::string seen;
  EXPECT_TRUE(testutil::WaitFor(
      [&] {
        CallResult result = Call(server.address(), *creds);
        seen = result.response.collector_id();
        return result.status.ok() && seen == "spiffe://example.org/admin/alice";
      },
      std::chrono::seconds(30), std::chrono::milliseconds(250)))
      << "still " << seen;
}

TEST_F(TlsTest, BadFilesAreClearErrorsNamingTheFile) {
  TlsFiles good = ServerFiles();
  TlsFiles missing = good;
  missing.key_path = dir_.Join("no-such.key");
  auto result = MakeServerCredentials(missing);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("no-such.key"), std::string::npos) << result.status();

  TlsFiles swapped = good;
  swapped.key_path = pki_.Auditor("bob").key_path;  // someone else's key
  result = MakeServerCredentials(swapped);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("does not match"), std::string::npos) << result.status();

  ASSERT_TRUE(WriteFileAtomically(dir_.Join("garbage.pem"), "-----BEGIN CERTIFICATE-----\nxx\n", 0644).ok());
  TlsFiles garbage = good;
  garbage.ca_cert_path = dir_.Join("garbage.pem");
  auto channel = MakeChannelCredentials(garbage);
  ASSERT_FALSE(channel.ok());
  EXPECT_NE(channel.status().message().find("garbage.pem"), std::string::npos) << channel.status();

  TlsFiles empty;
  EXPECT_EQ(MakeServerCredentials(empty).status().code(), absl::StatusCode::kInvalidArgument);
  TlsFiles zero = good;
  zero.refresh_interval_seconds = 0;
  EXPECT_EQ(MakeChannelCredentials(zero).status().code(), absl::StatusCode::kInvalidArgument);
  TlsFiles directory = good;
  directory.cert_path = dir_.path();
  EXPECT_EQ(MakeServerCredentials(directory).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace orgtrail
