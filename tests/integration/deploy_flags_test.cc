// The deployment kit (deploy/) against the real binaries:
//  - every flag that a systemd unit, a Kubernetes manifest, a configuration
//    example or deploy/README.md passes to a binary exists in that binary's
//    --help;
//  - `systemd-analyze verify` accepts the units (skipped where absent);
//  - `systemd-sysusers --dry-run` accepts the service user definition;
//  - `kubectl kustomize deploy/k8s` renders the manifests (skipped where absent).
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "orgtrail/common/build_info.h"

#include "testutil/subprocess.h"
#include "testutil/temp_dir.h"

namespace orgtrail {
namespace {

using testutil::Subprocess;
using testutil::SubprocessOptions;
using testutil::TempDir;

const std::string kSource = ORGTRAIL_SOURCE_DIR;
const std::string kCollector = ORGTRAIL_BINARY_DIR "/collector/orgtrail-collector";
const std::string kAgent = ORGTRAIL_BINARY_DIR "/agent/orgtrail-agent";
const std::string kCtl = ORGTRAIL_BINARY_DIR "/cli/orgtrailctl";

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs a command to completion; its output files go to a fresh subdirectory of `logs`.
RunResult RunCommand(const TempDir& logs, const std::string& binary, const std::vector<std::string>& args) {
  SubprocessOptions options;
  options.binary = binary;
  options.args = args;
  options.log_dir = logs.path();
  std::string stem = logs.Join("run-XXXXXX");
  if (::mkdtemp(stem.data()) != nullptr) options.log_dir = stem;
  options.name = "run";
  RunResult result;
  auto proc = Subprocess::Start(options);
  if (!proc.ok()) {
    result.err = std::string(proc.status().message());
    return result;
  }
  if (!(*proc)->Wait(std::chrono::seconds(60)).has_value()) {
    result.err = "timed out";
    return result;
  }
  result.exit_code = (*proc)->ExitCode();
  result.out = (*proc)->ReadStdout();
  result.err = (*proc)->ReadStderr();
  return result;
}

// The long flags a --help text lists ("--data-dir arg", "-h [ --help ]").
std::set<std::string> FlagsInHelp(const std::string& help) {
  std::set<std::string> flags;
  static const std::regex kFlag("--([a-z0-9][a-z0-9-]*)");
  for (std::sregex_iterator it(help.begin(), help.end(), kFlag), end; it != end; ++it) {
    flags.insert((*it)[1]);
  }
  return flags;
}

// Where a flag was used, for failure messages.
struct FlagUse {
  std::string binary;  // "orgtrail-collector", "orgtrail-agent", "orgtrailctl pki issue-agent", ...
  std::string flag;
  std::string where;
};

std::string FlagName(const std::string& token) {
  std::string name = token.substr(2);
  size_t eq = name.find('=');
  return eq == std::string::npos ? name : name.substr(0, eq);
}

std::string BinaryOf(const std::string& path_token) {
  std::string base = path_token.substr(path_token.rfind('/') + 1);
  return base;
}

// ExecStart= lines of a unit (continuation lines joined).
void CollectUnitFlags(const std::string& path, std::vector<FlagUse>* uses) {
  std::string text = std::regex_replace(ReadText(path), std::regex("\\\\\n"), " ");
  for (const std::string& line : Lines(text)) {
    if (line.rfind("ExecStart=", 0) != 0) continue;
    std::istringstream tokens(line.substr(10));
    std::string binary_token, token;
    tokens >> binary_token;
    while (!binary_token.empty() && (binary_token[0] == '-' || binary_token[0] == '@' ||
                                     binary_token[0] == '+' || binary_token[0] == '!')) {
      binary_token.erase(0, 1);
    }
    while (tokens >> token) {
      if (token.rfind("--", 0) == 0) uses->push_back({BinaryOf(binary_token), FlagName(token), path});
    }
  }
}

// "key = value" lines of a config file (comments and blanks skipped).
void CollectConfFlags(const std::vector<std::string>& lines, const std::string& binary,
                      const std::string& where, std::vector<FlagUse>* uses) {
  static const std::regex kKey(R"(^\s*([a-z0-9][a-z0-9-]*)\s*=)");
  for (const std::string& line : lines) {
    std::smatch m;
    if (std::regex_search(line, m, kKey)) uses->push_back({binary, m[1], where});
  }
}

// Kubernetes manifests: container args ("- \"--flag=value\"") belong to the
// binary named by the preceding `command:`; an embedded collector.conf or
// agent.conf block (`collector.conf: |`) holds conf lines.
void CollectManifestFlags(const std::string& path, std::vector<FlagUse>* uses) {
  static const std::regex kArg(R"(^\s*-\s*"?(--[a-z0-9][a-z0-9-]*))");
  static const std::regex kBlock(R"(^(\s*)(collector|agent)\.conf:\s*\|\s*$)");
  std::vector<std::string> lines = Lines(ReadText(path));
  std::string binary;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    std::smatch m;
    if (std::regex_search(line, m, kBlock)) {
      size_t indent = m[1].length();
      std::string block_binary = "orgtrail-" + std::string(m[2]);
      std::vector<std::string> block;
      for (size_t j = i + 1; j < lines.size(); ++j) {
        const std::string& inner = lines[j];
        size_t first = inner.find_first_not_of(' ');
        if (first != std::string::npos && first <= indent) break;
        block.push_back(inner);
        i = j;
      }
      CollectConfFlags(block, block_binary, path, uses);
      continue;
    }
    if (line.find("command:") != std::string::npos) {
      binary.clear();
      for (const char* b : {"orgtrail-collector", "orgtrail-agent", "orgtrailctl"}) {
        if (line.find(b) != std::string::npos) binary = b;
      }
      continue;
    }
    if (!binary.empty() && std::regex_search(line, m, kArg)) {
      uses->push_back({binary, FlagName(m[1]), path});
    }
  }
}

// Commands in deploy/README.md code: `orgtrailctl pki <sub>`,
// `orgtrailctl backup <sub>` and `orgtrailctl <command> --flags` lines, and
// orgtrail-collector/agent lines (continuation lines joined).
void CollectReadmeFlags(const std::string& path, std::vector<FlagUse>* uses) {
  std::string text = std::regex_replace(ReadText(path), std::regex("\\\\\n"), " ");
  static const std::regex kCtl(R"(orgtrailctl\s+(pki|backup)\s+([a-z][a-z-]*)([^\n`]*))");
  static const std::regex kCtlSingle(R"(orgtrailctl\s+((?!pki\b|backup\b)[a-z][a-z-]*)\s+(--[^\n`]*))");
  static const std::regex kDaemon(R"((?:^|[\s/])(orgtrail-collector|orgtrail-agent)\s+(--[^\n`]*))");
  static const std::regex kFlag(R"((?:^|\s)(--[a-z0-9][a-z0-9-]*))");
  for (std::sregex_iterator it(text.begin(), text.end(), kCtl), end; it != end; ++it) {
    std::string binary = "orgtrailctl " + std::string((*it)[1]) + " " + std::string((*it)[2]);
    std::string rest = (*it)[3];
    for (std::sregex_iterator f(rest.begin(), rest.end(), kFlag); f != end; ++f) {
      uses->push_back({binary, FlagName((*f)[1]), path});
    }
  }
  for (std::sregex_iterator it(text.begin(), text.end(), kCtlSingle), end; it != end; ++it) {
    std::string rest = (*it)[2];
    for (std::sregex_iterator f(rest.begin(), rest.end(), kFlag); f != end; ++f) {
      uses->push_back({"orgtrailctl " + std::string((*it)[1]), FlagName((*f)[1]), path});
    }
  }
  for (std::sregex_iterator it(text.begin(), text.end(), kDaemon), end; it != end; ++it) {
    std::string rest = (*it)[2];
    for (std::sregex_iterator f(rest.begin(), rest.end(), kFlag); f != end; ++f) {
      uses->push_back({std::string((*it)[1]), FlagName((*f)[1]), path});
    }
  }
}

class DeployFlagsTest : public ::testing::Test {
 protected:
  // --help of a binary ("orgtrail-agent") or an orgtrailctl subcommand
  // ("orgtrailctl pki renew"), cached.
  const std::set<std::string>& HelpFlags(const std::string& binary) {
    auto it = help_.find(binary);
    if (it != help_.end()) return it->second;
    RunResult r;
    if (binary == "orgtrail-collector") {
      r = RunCommand(logs_, kCollector, {"--help"});
    } else if (binary == "orgtrail-agent") {
      r = RunCommand(logs_, kAgent, {"--help"});
    } else if (binary.rfind("orgtrailctl ", 0) == 0) {
      std::istringstream words(binary.substr(12));
      std::vector<std::string> args;
      for (std::string w; words >> w;) args.push_back(w);
      args.push_back("--help");
      r = RunCommand(logs_, kCtl, args);
    }
    EXPECT_EQ(r.exit_code, 0) << binary << " --help failed: " << r.err;
    return help_[binary] = FlagsInHelp(r.out);
  }

  void ExpectAllKnown(const std::vector<FlagUse>& uses) {
    for (const FlagUse& use : uses) {
      const auto& known = HelpFlags(use.binary);
      EXPECT_TRUE(known.count(use.flag))
          << use.where << " passes --" << use.flag << " to " << use.binary
          << ", which its --help does not list";
    }
  }

  static size_t CountFor(const std::vector<FlagUse>& uses, const std::string& binary) {
    return std::count_if(uses.begin(), uses.end(), [&](const FlagUse& u) { return u.binary == binary; });
  }

  TempDir logs_;
  std::map<std::string, std::set<std::string>> help_;
};

TEST_F(DeployFlagsTest, SystemdUnitsUseOnlyRealFlags) {
  std::vector<FlagUse> uses;
  CollectUnitFlags(kSource + "/deploy/systemd/orgtrail-collector.service", &uses);
  CollectUnitFlags(kSource + "/deploy/systemd/orgtrail-agent@.service", &uses);
  EXPECT_GE(CountFor(uses, "orgtrail-collector"), 2u) << "parser found no collector flags";
  EXPECT_GE(CountFor(uses, "orgtrail-agent"), 3u) << "parser found no agent flags";
  ExpectAllKnown(uses);
}

TEST_F(DeployFlagsTest, KubernetesManifestsUseOnlyRealFlags) {
  std::vector<FlagUse> uses;
  for (const auto& entry : std::filesystem::directory_iterator(kSource + "/deploy/k8s")) {
    if (entry.path().extension() == ".yaml") CollectManifestFlags(entry.path().string(), &uses);
  }
  EXPECT_GE(CountFor(uses, "orgtrail-collector"), 10u) << "parser found too few collector flags";
  EXPECT_GE(CountFor(uses, "orgtrail-agent"), 10u) << "parser found too few agent flags";
  ExpectAllKnown(uses);
}

TEST_F(DeployFlagsTest, ConfigExamplesUseOnlyRealOptions) {
  std::vector<FlagUse> uses;
  const std::string collector_conf = kSource + "/deploy/config/collector.conf";
  const std::string agent_conf = kSource + "/deploy/config/agent.conf";
  CollectConfFlags(Lines(ReadText(collector_conf)), "orgtrail-collector", collector_conf, &uses);
  CollectConfFlags(Lines(ReadText(agent_conf)), "orgtrail-agent", agent_conf, &uses);
  EXPECT_GE(CountFor(uses, "orgtrail-collector"), 8u);
  EXPECT_GE(CountFor(uses, "orgtrail-agent"), 8u);
  ExpectAllKnown(uses);
}

TEST_F(DeployFlagsTest, ReadmeCommandsUseOnlyRealFlags) {
  std::vector<FlagUse> uses;
  CollectReadmeFlags(kSource + "/deploy/README.md", &uses);
  size_t pki = std::count_if(uses.begin(), uses.end(),
                             [](const FlagUse& u) { return u.binary.rfind("orgtrailctl pki", 0) == 0; });
  EXPECT_GE(pki, 10u) << "parser found too few orgtrailctl pki flags in deploy/README.md";
  EXPECT_GE(CountFor(uses, "orgtrailctl create-trail"), 5u) << "parser missed the create-trail example";
  EXPECT_GE(CountFor(uses, "orgtrailctl backup create"), 2u) << "parser missed the backup examples";
  ExpectAllKnown(uses);
}

// The checker itself must catch a flag that does not exist.
TEST_F(DeployFlagsTest, CheckerCatchesAnUnknownFlag) {
  TempDir dir;
  std::ofstream(dir.Join("bad.service"))
      << "[Service]\nExecStart=/usr/local/bin/orgtrail-collector --data-dir /x \\\n  --no-such-flag=1\n";
  std::vector<FlagUse> uses;
  CollectUnitFlags(dir.Join("bad.service"), &uses);
  ASSERT_EQ(uses.size(), 2u);
  EXPECT_TRUE(HelpFlags("orgtrail-collector").count("data-dir"));
  EXPECT_FALSE(HelpFlags("orgtrail-collector").count("no-such-flag"));
}

bool HaveTool(const std::string& name) {
  for (const char* dir : {"/usr/bin/", "/bin/", "/usr/local/bin/"}) {
    if (::access((std::string(dir) + name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

std::string ToolPath(const std::string& name) {
  for (const char* dir : {"/usr/bin/", "/bin/", "/usr/local/bin/"}) {
    std::string path = std::string(dir) + name;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return name;
}

TEST_F(DeployFlagsTest, SystemdAnalyzeVerifiesTheUnits) {
  if (!HaveTool("systemd-analyze")) GTEST_SKIP() << "systemd-analyze not installed";
  TempDir dir;
  // The units with ExecStart pointing at the binaries just built (verify
  // checks that the command exists and is executable).
  auto install = [&](const std::string& source, const std::string& name) {
    std::string text = ReadText(kSource + "/deploy/systemd/" + source);
    text = std::regex_replace(text, std::regex("/usr/local/bin/orgtrail-collector"), kCollector);
    text = std::regex_replace(text, std::regex("/usr/local/bin/orgtrail-agent"), kAgent);
    std::ofstream(dir.Join(name)) << text;
    return dir.Join(name);
  };
  std::string collector = install("orgtrail-collector.service", "orgtrail-collector.service");
  install("orgtrail-agent@.service", "orgtrail-agent@.service");
  std::string agent = install("orgtrail-agent@.service", "orgtrail-agent@111111111111-us-east-1.service");
  RunResult r = RunCommand(logs_, ToolPath("systemd-analyze"), {"verify", "--man=no", collector, agent});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // Unknown keys or bad values are only warnings: any line naming our units fails.
  for (const std::string& line : Lines(r.out + r.err)) {
    EXPECT_EQ(line.find("orgtrail"), std::string::npos) << line;
  }

  // And a broken unit is caught (the check can fail).
  std::string broken = dir.Join("broken.service");
  std::ofstream(broken) << "[Service]\nExecStart=" << kCollector << " --help\nProtectSystem=bogus\n";
  RunResult bad = RunCommand(logs_, ToolPath("systemd-analyze"), {"verify", "--man=no", broken});
  EXPECT_NE((bad.out + bad.err).find("broken.service"), std::string::npos) << bad.out << bad.err;
}

TEST_F(DeployFlagsTest, SysusersDefinitionIsValid) {
  if (!HaveTool("systemd-sysusers")) GTEST_SKIP() << "systemd-sysusers not installed";
  RunResult r = RunCommand(logs_, ToolPath("systemd-sysusers"),
                    {"--dry-run", kSource + "/deploy/systemd/orgtrail.sysusers.conf"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ((r.out + r.err).find("not a valid"), std::string::npos) << r.out << r.err;
}

TEST_F(DeployFlagsTest, KustomizeRendersTheManifests) {
  if (!HaveTool("kubectl")) GTEST_SKIP() << "kubectl not installed";
  RunResult r = RunCommand(logs_, ToolPath("kubectl"), {"kustomize", kSource + "/deploy/k8s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* kind : {"kind: Namespace", "kind: StatefulSet", "kind: Service", "kind: Deployment",
                           "kind: ConfigMap", "kind: PersistentVolumeClaim", "volumeClaimTemplates:",
                           "secretName: orgtrail-collector-tls"}) {
    EXPECT_NE(r.out.find(kind), std::string::npos) << kind;
  }
  // Both workloads run the image the Dockerfile builds, tagged with the version the binaries report
  // (its ORGTRAIL_VERSION build argument), and the programs the .deb packages install.
  const std::string version = GetBuildInfo().version;
  const std::string image = "image: registry.example.org/orgtrail/orgtrail:" + version;
  size_t first = r.out.find(image);
  ASSERT_NE(first, std::string::npos) << r.out;
  EXPECT_NE(r.out.find(image, first + 1), std::string::npos) << "the agent's image too";
  EXPECT_NE(r.out.find("/usr/bin/orgtrail-collector"), std::string::npos);
  EXPECT_NE(r.out.find("/usr/bin/orgtrail-agent"), std::string::npos);
  std::ifstream dockerfile(kSource + "/Dockerfile");
  std::stringstream text;
  text << dockerfile.rdbuf();
  EXPECT_NE(text.str().find("ARG ORGTRAIL_VERSION=" + version + "\n"), std::string::npos)
      << "the Dockerfile's default version argument is the project version";
}

}  // namespace
}  // namespace orgtrail
