// orgtrailctl's event output formats, the get-event document parser (with
// hostile input), offline provenance verification on a real signed batch,
// and the shared connection options' error messages.
#include <cstdlib>
#include <random>

#include <boost/program_options.hpp>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "connection.h"
#include "events_format.h"
#include "events_verify.h"
#include "orgtrail/common/batch.h"
#include "orgtrail/common/merkle.h"
#include "orgtrail/common/pki.h"
#include "orgtrail/common/signer.h"
#include "testutil/pki_fixture.h"
#include "testutil/temp_dir.h"

namespace orgtrail::cli {
namespace {

namespace po = boost::program_options;

std::string Record(const std::string& id, const std::string& account, const std::string& region,
                   const std::string& source = "ec2.amazonaws.com") {
  return "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\",\"userName\":\"alice\","
         "\"accountId\":\"" + account + "\"},\"eventTime\":\"2024-05-01T10:00:00Z\",\"eventSource\":\"" +
         source + "\",\"eventName\":\"RunInstances\",\"awsRegion\":\"" + region +
         "\",\"eventID\":\"" + id + "\",\"readOnly\":false,\"eventType\":\"AwsApiCall\","
         "\"recipientAccountId\":\"" + account + "\",\"note\":\"quote \\\" and \\\\ and \\u00e9\"}";
}

// A GetEventResponse for record `index` of a real sealed batch of 5 events.
class SignedEventTest : public ::testing::Test {
 protected:
  void SetUp() override {
    files_ = pki_.Agent("111122223333", "eu-west-1", "a1");
    auto kc = ReadKeyAndCert(files_.key_path, files_.cert_path);
    ASSERT_TRUE(kc.ok());
    auto signer = Signer::FromPrivateKeyPem(kc->key_pem);
    ASSERT_TRUE(signer.ok());
    v1::Batch batch;
    batch.set_agent_id(testutil::AgentSpiffeId("example.org", "111122223333", "eu-west-1", "a1"));
    batch.set_epoch(3);
    batch.set_sequence(9);
    batch.set_prev_batch_hash(std::string(32, '\0'));
    batch.set_created_time_us(1714557600000000 + 5'000'000);
    for (int i = 0; i < 5; ++i) {
      batch.add_events()->set_raw_json(
          i == 4 ? Record("e4", "111122223333", "us-east-1", "iam.amazonaws.com")
                 : Record("e" + std::to_string(i), "111122223333", "eu-west-1"));
    }
    ASSERT_TRUE(SealBatch(**signer, &batch).ok());
    auto header = HeaderOfBatch(batch);
    ASSERT_TRUE(header.ok());
    const auto leaves = BatchLeafHashes(batch);
    for (int index = 0; index < 5; ++index) {
      v1::GetEventResponse response;
      response.mutable_event()->set_event_id("e" + std::to_string(index));
      response.mutable_event()->set_raw_json(batch.events(index).raw_json());
      response.mutable_meta()->set_agent_id(batch.agent_id());
      response.mutable_meta()->set_batch_sequence(9);
      response.mutable_meta()->set_leaf_index(index);
      auto* p = response.mutable_provenance();
      p->set_signed_header(CanonicalBatchHeader(*header));
      p->set_signature(batch.signature());
      p->set_signature_algorithm(batch.signature_algorithm());
      p->set_agent_certificate_pem(kc->cert_pem);
      p->set_agent_certificate_sha256(*CertificateFingerprint(kc->cert_pem));
      p->set_merkle_root(batch.merkle_root());
      p->set_leaf_index(index);
      p->set_leaf_count(5);
      auto proof = MerkleInclusionProof(leaves, index);
      ASSERT_TRUE(proof.ok());
      for (const auto& node : *proof) p->add_inclusion_proof(DigestToString(node));
      events_.push_back(response);
    }
    auto ca = ReadFile(pki_.ca_cert_path());
    ASSERT_TRUE(ca.ok());
    ca_pem_ = *ca;
  }

  static std::string FailedChecks(const VerifyReport& report) {
    std::string out;
    for (const auto& c : report.checks) {
      if (!c.ok) out += c.name + ": " + c.detail + "\n";
    }
    return out;
  }

  testutil::TempDir dir_{"events-format"};
  testutil::TestPki pki_{dir_.MakeSubdir("pki")};
  TlsFiles files_;
  std::vector<v1::GetEventResponse> events_;
  std::string ca_pem_;
};

TEST_F(SignedEventTest, GenuineEventsVerifyIncludingAGlobalOne) {
  for (const auto& event : events_) {
    const VerifyReport report = VerifyEventProvenance(event, ca_pem_, event.event().event_id());
    EXPECT_TRUE(report.ok()) << FailedChecks(report);
    EXPECT_EQ(report.checks.size(), 7u);
  }
}

TEST_F(SignedEventTest, DocumentRoundTripsAndStillVerifies) {
  const std::string text = FormatGetEventDocument(events_[2]);
  auto parsed = ParseGetEventDocument(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->event().raw_json(), events_[2].event().raw_json()) << "byte for byte through JSON";
  EXPECT_EQ(parsed->provenance().SerializeAsString(), events_[2].provenance().SerializeAsString());
  EXPECT_TRUE(VerifyEventProvenance(*parsed, ca_pem_, "e2").ok());
}

TEST_F(SignedEventTest, EveryTamperFailsItsCheck) {
  struct Case {
    const char* name;
    std::function<void(v1::GetEventResponse*)> edit;
    const char* failing_check;
  };
  const std::vector<Case> cases = {
      {"record byte", [](auto* e) { (*e->mutable_event()->mutable_raw_json())[30] ^= 1; }, "inclusion proof"},
      {"other event id", [](auto* e) { e->mutable_event()->set_event_id("e3"); }, "record"},
      {"proof node", [](auto* e) { (*e->mutable_provenance()->mutable_inclusion_proof(0))[0] ^= 1; },
       "inclusion proof"},
      {"proof dropped", [](auto* e) { e->mutable_provenance()->mutable_inclusion_proof()->RemoveLast(); },
       "inclusion proof"},
      {"leaf index", [](auto* e) { e->mutable_provenance()->set_leaf_index(3); }, "inclusion proof"},
      {"leaf count", [](auto* e) { e->mutable_provenance()->set_leaf_count(6); }, "inclusion proof"},
      {"header count", [](auto* e) {
         std::string h = e->provenance().signed_header();
         h.replace(h.find("count=5"), 7, "count=6");
         e->mutable_provenance()->set_signed_header(h);
       }, "signature"},
      {"signature byte", [](auto* e) { (*e->mutable_provenance()->mutable_signature())[10] ^= 1; },
       "signature"},
      {"algorithm", [](auto* e) { e->mutable_provenance()->set_signature_algorithm("ED25519"); }, "signature"},
      {"certificate of another agent", [&](auto* e) {
         const TlsFiles other = pki_.Agent("111122223333", "eu-west-1", "other");
         e->mutable_provenance()->set_agent_certificate_pem(*ReadFile(other.cert_path));
       }, "signature"},
      {"certificate from another CA", [&](auto* e) {
         const TlsFiles other = pki_.FromOtherCa();
         e->mutable_provenance()->set_agent_certificate_pem(*ReadFile(other.cert_path));
       }, "certificate chain"},
      {"no certificate", [](auto* e) { e->mutable_provenance()->clear_agent_certificate_pem(); },
       "certificate chain"},
      {"garbage header", [](auto* e) { e->mutable_provenance()->set_signed_header("hello"); },
       "signed header"},
  };
  for (const auto& c : cases) {
    v1::GetEventResponse event = events_[1];
    c.edit(&event);
    const VerifyReport report = VerifyEventProvenance(event, ca_pem_, "");
    EXPECT_FALSE(report.ok()) << c.name;
    bool found = false;
    for (const auto& check : report.checks) found |= (!check.ok && check.name == c.failing_check);
    EXPECT_TRUE(found) << c.name << " should fail '" << c.failing_check << "':\n" << FailedChecks(report);
  }
}

TEST_F(SignedEventTest, RecordOfAnotherAccountOrRegionFailsIdentity) {
  // Re-sign nothing: the agent is eu-west-1 but the record claims eu-central-1,
  // so even a matching proof cannot make the identity check pass.
  v1::GetEventResponse event = events_[0];
  std::string raw = event.event().raw_json();
  raw.replace(raw.find("eu-west-1"), 9, "eu-central-1");
  event.mutable_event()->set_raw_json(raw);
  const VerifyReport report = VerifyEventProvenance(event, ca_pem_, "");
  EXPECT_FALSE(report.ok());
  EXPECT_NE(FailedChecks(report).find("identity: record awsRegion eu-central-1"), std::string::npos)
      << FailedChecks(report);
}

TEST(EventsDocumentTest, HostileDocumentsAreErrorsNotCrashes) {
  const std::vector<std::string> documents = {
      "", "{", "[]", "null", "42", "\"x\"", "{\"EventId\": 5}",
      "{\"EventId\":\"a\"}",
      "{\"EventId\":\"a\",\"CloudTrailEvent\":\"{}\"}",
      "{\"EventId\":\"a\",\"CloudTrailEvent\":\"{}\",\"Provenance\":[]}",
      "{\"EventId\":\"a\",\"CloudTrailEvent\":\"{}\",\"Provenance\":{\"SignedHeader\":\"h\"}}",
      std::string(100000, '[') + std::string(100000, ']'),
      "{\"EventId\":\"a\",\"CloudTrailEvent\":\"{}\",\"Provenance\":{\"SignedHeader\":\"h\","
      "\"Signature\":\"!!\",\"SignatureAlgorithm\":\"x\",\"AgentCertificatePem\":\"p\","
      "\"MerkleRoot\":\"00\",\"LeafIndex\":0,\"LeafCount\":1,\"InclusionProof\":[]}}",
      "{\"EventId\":\"a\",\"CloudTrailEvent\":\"{}\",\"Provenance\":{\"SignedHeader\":\"h\","
      "\"Signature\":\"AA==\",\"SignatureAlgorithm\":\"x\",\"AgentCertificatePem\":\"p\","
      "\"MerkleRoot\":\"" + std::string(64, 'a') + "\",\"LeafIndex\":-1,\"LeafCount\":1,\"InclusionProof\":[]}}",
      "{\"EventId\":\"a\",\"CloudTrailEvent\":\"{}\",\"Provenance\":{\"SignedHeader\":\"h\","
      "\"Signature\":\"AA==\",\"SignatureAlgorithm\":\"x\",\"AgentCertificatePem\":\"p\","
      "\"MerkleRoot\":\"" + std::string(64, 'a') + "\",\"LeafIndex\":1.5,\"LeafCount\":1e300,\"InclusionProof\":[]}}",
      "{\"EventId\":\"a\",\"CloudTrailEvent\":\"{}\",\"Provenance\":{\"SignedHeader\":\"h\","
      "\"Signature\":\"AA==\",\"SignatureAlgorithm\":\"x\",\"AgentCertificatePem\":\"p\","
      "\"MerkleRoot\":\"" + std::string(64, 'a') + "\",\"LeafIndex\":0,\"LeafCount\":1,\"InclusionProof\":[7]}}",
  };
  for (const auto& document : documents) {
    auto parsed = ParseGetEventDocument(document);
    EXPECT_FALSE(parsed.ok()) << document.substr(0, 200);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_FALSE(ParseGetEventDocument(std::string(kMaxGetEventDocumentBytes + 1, ' ')).ok());
  std::mt19937 rng(3);
  for (int i = 0; i < 300; ++i) {
    std::string noise(rng() % 400, '\0');
    for (char& c : noise) c = static_cast<char>(rng());
    EXPECT_FALSE(ParseGetEventDocument(noise).ok());
  }
}

TEST(EventsOutputTest, LookupJsonIsAwsCliShaped) {
  v1::LookupEvent event;
  event.set_event_id("id-1");
  event.set_event_name("DeleteBucket");
  event.set_read_only("false");
  event.set_event_time_us(1625140800000000);
  event.set_event_source("s3.amazonaws.com");
  event.set_cloudtrail_event("{\"eventName\":\"DeleteBucket\",\"x\":\"\\n\"}");
  auto* resource = event.add_resources();
  resource->set_resource_name("arn:aws:s3:::b");
  v1::LookupEvent second = event;
  second.set_event_id("id-2");
  second.set_username("bob");
  second.set_access_key_id("AKIA1");
  second.clear_resources();

  char* buffer = nullptr;
  size_t size = 0;
  FILE* out = open_memstream(&buffer, &size);
  LookupEventsWriter writer(OutputFormat::kJson, out);
  writer.Begin();
  writer.Add(event);
  writer.Add(second);
  writer.End("tok/en+");
  std::fclose(out);
  const std::string text(buffer, size);
  std::free(buffer);

  google::protobuf::Struct parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(text, &parsed).ok()) << text;
  EXPECT_EQ(parsed.fields().at("NextToken").string_value(), "tok/en+");
  const auto& events = parsed.fields().at("Events").list_value();
  ASSERT_EQ(events.values_size(), 2);
  const auto& first = events.values(0).struct_value().fields();
  EXPECT_EQ(first.at("EventTime").string_value(), "2021-07-01T12:00:00+00:00");
  EXPECT_EQ(first.at("CloudTrailEvent").string_value(), event.cloudtrail_event());
  EXPECT_EQ(first.count("Username"), 0u) << "absent members are omitted";
  EXPECT_EQ(first.count("AccessKeyId"), 0u);
  const auto& resources = first.at("Resources").list_value();
  ASSERT_EQ(resources.values_size(), 1);
  EXPECT_EQ(resources.values(0).struct_value().fields().count("ResourceType"), 0u);
  const auto& next = events.values(1).struct_value().fields();
  EXPECT_EQ(next.at("Username").string_value(), "bob");
  EXPECT_EQ(next.at("Resources").list_value().values_size(), 0);
  EXPECT_NE(text.find("\n    \"Events\": [\n        {\n            \"EventId\": \"id-1\""), std::string::npos)
      << "aws-cli indentation:\n" << text;

  // No events, no token.
  buffer = nullptr;
  out = open_memstream(&buffer, &size);
  LookupEventsWriter empty(OutputFormat::kJson, out);
  empty.Begin();
  empty.End("");
  std::fclose(out);
  EXPECT_EQ(std::string(buffer, size), "{\n    \"Events\": []\n}\n");
  std::free(buffer);

  EXPECT_FALSE(ParseOutputFormat("yaml").ok());
  EXPECT_NE(std::string(ParseOutputFormat("yaml").status().message()).find("--output"), std::string::npos);
}

po::variables_map Parse(const std::vector<std::string>& args) {
  po::options_description options;
  AddConnectionOptions(&options);
  std::vector<const char*> argv = {"test"};
  for (const auto& a : args) argv.push_back(a.c_str());
  po::variables_map values;
  po::store(po::parse_command_line(static_cast<int>(argv.size()), argv.data(), options), values);
  return values;
}

TEST(ConnectionOptionsTest, ErrorsNameTheFlag) {
  testutil::TempDir dir("connection");
  testutil::TestPki pki(dir.MakeSubdir("pki"));
  const TlsFiles auditor = pki.Auditor();
  ::unsetenv("ORGTRAIL_COLLECTOR");
  ::unsetenv("ORGTRAIL_CA");
  ::unsetenv("ORGTRAIL_CERT");
  ::unsetenv("ORGTRAIL_KEY");
  ::unsetenv("ORGTRAIL_TIMEOUT");
  const std::vector<std::string> good = {"--ca", auditor.ca_cert_path, "--cert", auditor.cert_path,
                                         "--key", auditor.key_path};
  auto ok = ConnectionOptionsFromValues(Parse(good));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->collector, "127.0.0.1:7443");
  EXPECT_EQ(ok->timeout_us, 30'000'000);
  EXPECT_TRUE(MakeCollectorChannel(*ok).ok());

  auto with = [&](std::vector<std::string> extra) {
    auto args = good;
    args.insert(args.end(), extra.begin(), extra.end());
    return ConnectionOptionsFromValues(Parse(args));
  };
  EXPECT_EQ(with({"--timeout", "250ms"})->timeout_us, 250'000);
  EXPECT_EQ(with({"--timeout", "7"})->timeout_us, 7'000'000);
  for (const auto& [args, flag] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--timeout", "0"}, "--timeout"},
           {{"--timeout", "soon"}, "--timeout"},
           {{"--timeout=-3s"}, "--timeout"},
           {{"--collector", "nohost"}, "--collector"},
           {{"--collector", "h:70000"}, "--collector"},
           {{"--collector", ":1"}, "--collector"},
           {{"--tls-server-name", ""}, "--tls-server-name"}}) {
    auto result = with(args);
    ASSERT_FALSE(result.ok()) << args.back();
    EXPECT_EQ(std::string(result.status().message()).rfind(flag, 0), 0u) << result.status();
  }
  auto missing = ConnectionOptionsFromValues(Parse({"--ca", auditor.ca_cert_path}));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(std::string(missing.status().message()), "--cert: required (or set ORGTRAIL_CERT)");
  auto unreadable = ConnectionOptionsFromValues(
      Parse({"--ca", dir.Join("nope"), "--cert", auditor.cert_path, "--key", auditor.key_path}));
  ASSERT_FALSE(unreadable.ok());
  EXPECT_EQ(std::string(unreadable.status().message()).rfind("--ca: cannot read", 0), 0u);

  // Environment fills what the flags leave out; flags win.
  ::setenv("ORGTRAIL_CA", auditor.ca_cert_path.c_str(), 1);
  ::setenv("ORGTRAIL_CERT", auditor.cert_path.c_str(), 1);
  ::setenv("ORGTRAIL_KEY", auditor.key_path.c_str(), 1);
  ::setenv("ORGTRAIL_COLLECTOR", "10.0.0.1:9000", 1);
  auto from_env = ConnectionOptionsFromValues(Parse({}));
  ASSERT_TRUE(from_env.ok()) << from_env.status();
  EXPECT_EQ(from_env->collector, "10.0.0.1:9000");
  EXPECT_EQ(ConnectionOptionsFromValues(Parse({"--collector", "h:1"}))->collector, "h:1");
  ::unsetenv("ORGTRAIL_COLLECTOR");
  ::unsetenv("ORGTRAIL_CA");
  ::unsetenv("ORGTRAIL_CERT");
  ::unsetenv("ORGTRAIL_KEY");
}

}  // namespace
}  // namespace orgtrail::cli
