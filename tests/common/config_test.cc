#include "orgtrail/common/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

namespace po = boost::program_options;

namespace orgtrail {
namespace {

po::options_description Options() {
  po::options_description d("Options");
  d.add_options()
      ("listen", po::value<std::string>()->default_value("127.0.0.1:7443"), "address")
      ("window", po::value<int>()->default_value(8), "window")
      ("home-region", po::value<std::string>()->default_value("us-east-1"), "home");
  return d;
}

StatusOr<ParseOutcome> Parse(std::vector<const char*> args, po::variables_map* vm,
                             std::vector<std::string> env = {}) {
  args.insert(args.begin(), "prog");
  return ParseCommandLine(static_cast<int>(args.size()), args.data(),
                          BinaryInfo{"prog", "test", "prog [options]"}, Options(), vm, env);
}

TEST(Config, DefaultsFlagsAndHelp) {
  po::variables_map vm;
  ASSERT_EQ(*Parse({"--window", "3"}, &vm), ParseOutcome::kRun);
  EXPECT_EQ(vm["window"].as<int>(), 3);
  EXPECT_EQ(vm["listen"].as<std::string>(), "127.0.0.1:7443");
  po::variables_map vm2;
  EXPECT_EQ(*Parse({"--help"}, &vm2), ParseOutcome::kExitSuccess);
  po::variables_map vm3;
  EXPECT_EQ(*Parse({"--version"}, &vm3), ParseOutcome::kExitSuccess);
}

TEST(Config, ErrorsNameTheOption) {
  po::variables_map vm;
  auto r = Parse({"--window", "many"}, &vm);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("window"), std::string::npos) << r.status();
  po::variables_map vm2;
  auto u = Parse({"--no-such-flag"}, &vm2);
  ASSERT_FALSE(u.ok());
  EXPECT_NE(std::string(u.status().message()).find("no-such-flag"), std::string::npos) << u.status();
  po::variables_map vm3;
  auto c = Parse({"--config", "/nonexistent/file.conf"}, &vm3);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(std::string(c.status().message()).find("--config"), std::string::npos);
}

// boost::program_options loops forever formatting an error whose text holds one
// of its own placeholders (found by fuzz_config): refused up front, never a hang.
TEST(Config, BoostPlaceholdersInInputAreRefusedNotAHang) {
  po::variables_map vm;
  auto flag = Parse({"--max%canonical_option%"}, &vm);
  ASSERT_FALSE(flag.ok());
  EXPECT_NE(std::string(flag.status().message()).find("'%canonical_option%' is not allowed"), std::string::npos)
      << flag.status();
  po::variables_map vm2;
  EXPECT_FALSE(Parse({"--window", "%value%"}, &vm2).ok());
  char path[] = "/tmp/orgtrail_config_placeholderXXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  { std::ofstream(path) << "window = 5\nmax-option '%canonical_option%'event-bytes = 1MiB\n"; }
  po::variables_map vm3;
  auto file = Parse({"--config", path}, &vm3);
  ASSERT_FALSE(file.ok());
  EXPECT_NE(std::string(file.status().message()).find("--config"), std::string::npos) << file.status();
  { std::ofstream(path) << "window = 5\n# 100% sure: a lone percent sign is fine\n"; }
  po::variables_map vm4;
  EXPECT_TRUE(Parse({"--config", path}, &vm4).ok());
  unlink(path);
}

TEST(Config, FileAndEnvironmentPrecedence) {
  char path[] = "/tmp/orgtrail_config_testXXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  { std::ofstream(path) << "window = 5\nhome-region = eu-west-1\n"; }
  setenv("ORGTRAIL_HOME_REGION", "ap-south-1", 1);
  po::variables_map vm;
  ASSERT_TRUE(Parse({"--config", path}, &vm, {"home-region"}).ok());
  EXPECT_EQ(vm["window"].as<int>(), 5);
  EXPECT_EQ(vm["home-region"].as<std::string>(), "ap-south-1");  // env beats file
  po::variables_map vm2;
  ASSERT_TRUE(Parse({"--config", path, "--home-region", "us-west-2"}, &vm2, {"home-region"}).ok());
  EXPECT_EQ(vm2["home-region"].as<std::string>(), "us-west-2");  // flag beats env
  unsetenv("ORGTRAIL_HOME_REGION");
  { std::ofstream(path) << "bogus = 1\n"; }
  po::variables_map vm3;
  EXPECT_FALSE(Parse({"--config", path}, &vm3).ok());
  unlink(path);
}

TEST(Config, ValueParsers) {
  EXPECT_EQ(ParseHostPort("--listen", "127.0.0.1:80")->port, 80);
  EXPECT_EQ(ParseHostPort("--listen", "[::1]:7443")->host, "::1");
  for (const char* bad : {"abc", ":80", "host:", "host:99999", "host:8x", "::1:80", "[::1]80"}) {
    auto r = ParseHostPort("--listen", bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(std::string(r.status().message()).rfind("--listen:", 0), 0u);
  }
  EXPECT_EQ(*ParseByteSize("--spool", "64MiB"), 64ull << 20);
  EXPECT_EQ(*ParseByteSize("--spool", "4096"), 4096u);
  EXPECT_FALSE(ParseByteSize("--spool", "lots").ok());
  EXPECT_FALSE(ParseByteSize("--spool", "5XB").ok());
  EXPECT_FALSE(ParseByteSize("--spool", "99999999999999999999GiB").ok());
  EXPECT_EQ(*ParseDuration("--age", "250ms"), 250000);
  EXPECT_EQ(*ParseDuration("--age", "5m"), 300000000);
  EXPECT_FALSE(ParseDuration("--age", "-5s").ok());
  EXPECT_FALSE(ParseDuration("--age", "5 parsecs").ok());
  EXPECT_TRUE(CheckPositive("--n", 1).ok());
  EXPECT_FALSE(CheckPositive("--n", 0).ok());
}

}  // namespace
}  // namespace orgtrail
