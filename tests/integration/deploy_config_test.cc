// The configuration examples of the deployment kit, loaded by the real
// binaries: deploy/config/collector.conf and agent.conf (and the same files
// embedded in the Kubernetes ConfigMaps) start a collector and an agent that
// delivers generated events to it; deploy/config/trails.json parses as orgtrail.v1 Trails and
// every trail in it is created through the Admin API. Only machine-specific
// values (paths, ports, the test PKI) are overridden on the command line,
// which wins over the file.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "orgtrail/v1/admin.grpc.pb.h"
#include "testutil/ingest_client.h"
#include "testutil/net.h"
#include "testutil/pki_fixture.h"
#include "testutil/subprocess.h"
#include "testutil/temp_dir.h"
#include "testutil/wait_for.h"

namespace orgtrail {
namespace {

using testutil::CollectorProcess;
using testutil::Subprocess;
using testutil::SubprocessOptions;
using testutil::TempDir;
using testutil::WaitFor;

const std::string kSource = ORGTRAIL_SOURCE_DIR;

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The indented block under `<name>: |` in a ConfigMap manifest, de-indented.
std::string ConfigMapBlock(const std::string& manifest_path, const std::string& key) {
  std::istringstream in(ReadText(manifest_path));
  std::string line, block;
  bool inside = false;
  size_t key_indent = 0, block_indent = std::string::npos;
  while (std::getline(in, line)) {
    size_t first = line.find_first_not_of(' ');
    if (!inside) {
      if (first != std::string::npos && line.compare(first, key.size() + 3, key + ": |") == 0) {
        inside = true;
        key_indent = first;
      }
      continue;
    }
    if (first != std::string::npos && first <= key_indent) break;
    if (first == std::string::npos) {
      block += "\n";
      continue;
    }
    if (block_indent == std::string::npos) block_indent = first;
    block += line.substr(std::min(first, block_indent)) + "\n";
  }
  return block;
}

class DeployConfigTest : public ::testing::Test {
 protected:
  DeployConfigTest() : pki_(dir_.Join("pki")) {}

  std::unique_ptr<CollectorProcess> StartCollector(const std::string& config_path, const std::string& name) {
    testutil::CollectorProcessOptions options;
    options.data_dir = dir_.Join(name + "-data");
    options.log_dir = logs_;
    options.tls = collector_tls_;
    options.name = name;
    options.extra_args = {"--config", config_path};
    auto collector = CollectorProcess::Start(options);
    EXPECT_TRUE(collector.ok()) << collector.status();
    return collector.ok() ? std::move(*collector) : nullptr;
  }

  std::unique_ptr<v1::Admin::Stub> Admin(CollectorProcess* collector) {
    auto stub = collector->AdminStub(admin_tls_);
    EXPECT_TRUE(stub.ok()) << stub.status();
    return stub.ok() ? std::move(*stub) : nullptr;
  }

  static bool Healthy(int port) {
    auto response = testutil::HttpGet("127.0.0.1", port, "/healthz", std::chrono::seconds(5));
    return response.ok() && response->status == 200;
  }

  std::string WriteConfig(const std::string& name, const std::string& text) {
    std::string path = dir_.Join(name);
    std::ofstream(path) << text;
    return path;
  }

  // The agent with `config_path`, overriding only machine-specific values.
  std::unique_ptr<Subprocess> StartAgent(const std::string& config_path, const std::string& name,
                                         const std::string& collector_target, const TlsFiles& tls,
                                         int ops_port) {
    SubprocessOptions options;
    options.binary = ORGTRAIL_BINARY_DIR "/agent/orgtrail-agent";
    options.log_dir = logs_;
    options.name = name;
    options.args = {"--config", config_path,
                    "--collector", collector_target,
                    "--ca", tls.ca_cert_path,
                    "--cert", tls.cert_path,
                    "--key", tls.key_path,
                    "--spool-dir", dir_.Join(name + "-spool"),
                    "--watch-dir", dir_.MakeSubdir(name + "-cloudtrail"),
                    "--ops-listen", "127.0.0.1:" + std::to_string(ops_port),
                    // A few generated events, so the collector has something to show.
                    "--generator-rate", "100", "--generator-limit", "20"};
    auto agent = Subprocess::Start(options);
    EXPECT_TRUE(agent.ok()) << agent.status();
    return agent.ok() ? std::move(*agent) : nullptr;
  }

  // True once the collector has stored batches from `agent_id`.
  bool AgentDelivered(v1::Admin::Stub* admin, const std::string& agent_id) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::GetStatusResponse status;
    if (!admin->GetStatus(&context, v1::GetStatusRequest(), &status).ok()) return false;
    for (const auto& agent : status.agents()) {
      if (agent.agent_id() == agent_id && agent.high_water_sequence() >= 1) return true;
    }
    return false;
  }

  TempDir dir_;
  testutil::TestPki pki_;
  TlsFiles collector_tls_ = pki_.Collector();
  TlsFiles admin_tls_ = pki_.Admin();
  std::string logs_ = dir_.MakeSubdir("logs");
};

TEST_F(DeployConfigTest, CollectorStartsFromTheExampleConfigs) {
  const std::string configs[] = {
      kSource + "/deploy/config/collector.conf",
      WriteConfig("k8s-collector.conf",
                  ConfigMapBlock(kSource + "/deploy/k8s/collector-configmap.yaml", "collector.conf")),
  };
  ASSERT_NE(ReadText(configs[1]).find("trust-domain"), std::string::npos) << "ConfigMap block not found";
  int n = 0;
  for (const std::string& config : configs) {
    auto collector = StartCollector(config, "collector-" + std::to_string(n++));
    ASSERT_NE(collector, nullptr) << config;
    EXPECT_TRUE(WaitFor([&] { return Healthy(collector->http_port()); }, std::chrono::seconds(60))) << config;
    auto admin = Admin(collector.get());
    ASSERT_NE(admin, nullptr);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::GetStatusResponse status;
    grpc::Status s = admin->GetStatus(&context, v1::GetStatusRequest(), &status);
    ASSERT_TRUE(s.ok()) << s.error_message();
    // home-region comes from the file (both examples say us-east-1).
    EXPECT_EQ(status.home_region(), "us-east-1") << config;
  }
}

TEST_F(DeployConfigTest, TrailDefinitionsParseAndAreAccepted) {
  v1::DescribeTrailsResponse file;
  google::protobuf::util::JsonParseOptions strict;
  strict.ignore_unknown_fields = false;
  auto parsed = google::protobuf::util::JsonStringToMessage(ReadText(kSource + "/deploy/config/trails.json"),
                                                            &file, strict);
  ASSERT_TRUE(parsed.ok()) << parsed.ToString();
  ASSERT_EQ(file.trails_size(), 3);
  for (const auto& trail : file.trails()) {
    EXPECT_FALSE(trail.name().empty());
    EXPECT_TRUE(trail.event_selectors_size() > 0 || trail.advanced_event_selectors_size() > 0) << trail.name();
  }

  auto collector = StartCollector(kSource + "/deploy/config/collector.conf", "collector-trails");
  ASSERT_NE(collector, nullptr);
  auto admin = Admin(collector.get());
  ASSERT_NE(admin, nullptr);
  for (const auto& trail : file.trails()) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::CreateTrailRequest request;
    *request.mutable_trail() = trail;
    v1::TrailResponse response;
    grpc::Status s = admin->CreateTrail(&context, request, &response);
    EXPECT_TRUE(s.ok()) << trail.name() << ": " << s.error_message();
  }
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::DescribeTrailsResponse described;
  grpc::Status s = admin->DescribeTrails(&context, v1::DescribeTrailsRequest(), &described);
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::vector<std::string> names;
  for (const auto& trail : described.trails()) names.push_back(trail.name());
  for (const auto& trail : file.trails()) {
    EXPECT_NE(std::find(names.begin(), names.end(), trail.name()), names.end()) << trail.name();
  }
}

TEST_F(DeployConfigTest, AgentStartsFromTheExampleConfigsAndDelivers) {
  auto collector = StartCollector(kSource + "/deploy/config/collector.conf", "collector-agents");
  ASSERT_NE(collector, nullptr);
  auto admin = Admin(collector.get());
  ASSERT_NE(admin, nullptr);
  const std::string configs[] = {
      kSource + "/deploy/config/agent.conf",
      WriteConfig("k8s-agent.conf", ConfigMapBlock(kSource + "/deploy/k8s/agent-configmap.yaml", "agent.conf")),
  };
  ASSERT_NE(ReadText(configs[1]).find("collector"), std::string::npos) << "ConfigMap block not found";
  int n = 0;
  for (const std::string& config : configs) {
    const std::string name = "a" + std::to_string(n++);
    TlsFiles tls = pki_.Agent("111111111111", "us-east-1", name);
    auto agent = StartAgent(config, "agent-" + name, collector->target(), tls, 0);
    ASSERT_NE(agent, nullptr);
    EXPECT_TRUE(WaitFor([&] {
      const int ops_port = testutil::PortFromLog(agent->ReadStderr(), "agent starting", "ops_port").value_or(0);
      return (ops_port != 0 && Healthy(ops_port)) || !agent->Running();
    }, std::chrono::seconds(60)));
    ASSERT_TRUE(agent->Running()) << config << " " << agent->DescribeExit() << "\n" << agent->ReadLog();
    const std::string id = testutil::AgentSpiffeId("example.org", "111111111111", "us-east-1", name);
    EXPECT_TRUE(WaitFor([&] { return AgentDelivered(admin.get(), id); }, std::chrono::seconds(60)))
        << config << "\n" << agent->ReadLog();
    agent->Stop();
  }
}

}  // namespace
}  // namespace orgtrail
