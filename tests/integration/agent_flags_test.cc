// orgtrail-agent command line: --help/--version, and every bad flag value is
// a clear usage error (exit 2, message naming the flag), never a crash.
#include "agent_harness.h"

namespace orgtrail::testutil {
namespace {

struct Run {
  int exit_code = -1;
  std::string out;
  std::string err;
};

Run RunAgent(AgentHarness& h, std::vector<std::string> args, int* counter) {
  SubprocessOptions o;
  o.binary = std::string(ORGTRAIL_BINARY_DIR) + "/agent/orgtrail-agent";
  o.args = std::move(args);
  o.log_dir = h.dir().path();
  o.name = "agent-flags-" + std::to_string(++*counter);
  auto p = Subprocess::Start(o);
  EXPECT_TRUE(p.ok()) << p.status();
  Run r;
  if (!p.ok()) return r;
  if (!(*p)->Wait(std::chrono::seconds(60)).has_value()) {
    ADD_FAILURE() << "agent did not exit";
    return r;
  }
  r.exit_code = (*p)->ExitCode();
  r.out = (*p)->ReadStdout();
  r.err = (*p)->ReadStderr();
  return r;
}

TEST(AgentFlagsTest, HelpVersionAndBadValues) {
  AgentHarness h;
  int counter = 0;
  auto help = RunAgent(h, {"--help"}, &counter);
  EXPECT_EQ(help.exit_code, 0);
  for (const char* flag : {"--collector", "--spool-dir", "--watch-dir", "--file-read-ahead", "--api-socket", "--generator-rate",
                           "--batch-max-age", "--window", "--ack-timeout-ms", "--ops-listen"}) {
    EXPECT_NE(help.out.find(flag), std::string::npos) << flag;
  }
  auto version = RunAgent(h, {"--version"}, &counter);
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.out.find("orgtrail"), std::string::npos);

  const TlsFiles agent = h.pki().Agent("111122223333", "eu-west-1", "flags");
  const std::string port = "0";
  const std::vector<std::string> base = {"--collector", "127.0.0.1:1", "--ca", agent.ca_cert_path,
                                         "--cert", agent.cert_path, "--key", agent.key_path,
                                         "--spool-dir", h.dir().Join("spool-flags"),
                                         "--ops-listen", "127.0.0.1:" + port};
  struct Case { std::vector<std::string> extra; std::string expected; };
  const std::vector<Case> cases = {
      {{"--collector", "nohostport"}, "--collector"},
      {{"--spool-max-bytes", "lots"}, "--spool-max-bytes"},
      {{"--spool-max-bytes", "1KiB"}, "--spool-max-bytes: must be at least"},
      {{"--file-read-ahead", "far"}, "--file-read-ahead"},
      {{"--file-read-ahead", "-1MiB"}, "--file-read-ahead"},
      {{"--batch-max-bytes", "-5"}, "--batch-max-bytes"},
      {{"--batch-max-age", "soon"}, "--batch-max-age"},
      {{"--batch-max-events", "0"}, "--batch-max-events"},
      {{"--window", "0"}, "--window"},
      {{"--ack-timeout-ms", "0"}, "--ack-timeout-ms: must be between"},
      {{"--ack-timeout-ms", "soon"}, "--ack-timeout-ms"},
      {{"--generator-rate", "-1"}, "--generator-rate"},
      {{"--generator-rate", "nan"}, "--generator-rate"},
      {{"--unconfigured-selection", "maybe"}, "--unconfigured-selection"},
      {{"--log-level", "loud"}, "--log-level"},
      {{"--ops-listen", "nowhere"}, "--ops-listen"},
      {{"--tls-refresh-seconds", "0"}, "--tls-refresh-seconds"},
      {{"--api-listen", "0.0.0.0:0"}, "loopback only"},
      {{"--watch-dir", h.dir().Join("no-such-dir")}, "not a directory"},
      {{"--no-such-flag"}, "no-such-flag"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = base;
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    auto r = RunAgent(h, args, &counter);
    EXPECT_EQ(r.exit_code, 2) << c.expected << "\n" << r.err;
    EXPECT_NE(r.err.find(c.expected), std::string::npos) << c.expected << "\n" << r.err;
  }
  // Missing required flags and a certificate that is not an agent identity.
  auto missing = RunAgent(h, {"--collector", "127.0.0.1:1"}, &counter);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("required"), std::string::npos) << missing.err;
  std::vector<std::string> admin_args = base;
  admin_args[5] = h.admin_tls().cert_path;
  admin_args[7] = h.admin_tls().key_path;
  auto not_agent = RunAgent(h, admin_args, &counter);
  EXPECT_EQ(not_agent.exit_code, 2);
  EXPECT_NE(not_agent.err.find("not an agent identity"), std::string::npos) << not_agent.err;
  std::vector<std::string> garbage_key = base;
  garbage_key[7] = agent.ca_cert_path;  // a certificate where the key should be
  auto bad_key = RunAgent(h, garbage_key, &counter);
  EXPECT_EQ(bad_key.exit_code, 2);
  EXPECT_NE(bad_key.err.find("--key"), std::string::npos) << bad_key.err;
}

}  // namespace
}  // namespace orgtrail::testutil
