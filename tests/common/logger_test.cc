#include "orgtrail/common/logger.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

namespace orgtrail {
namespace {

std::string Capture(const std::function<void(Logger&)>& fn, LogLevel min = LogLevel::kDebug) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  {
    Logger logger("test", fds[1], min);
    fn(logger);
  }
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  return out;
}

TEST(Logger, OneJsonObjectPerLine) {
  const std::string out = Capture([](Logger& l) {
    l.Info("batch refused", {{"agent", "spiffe://x/y"}, {"seq", 42}, {"ok", false}, {"ratio", 0.5}});
  });
  ASSERT_EQ(out.back(), '\n');
  EXPECT_EQ(out.find('\n'), out.size() - 1);
  EXPECT_EQ(out.rfind("{\"ts\":\"", 0), 0u);
  EXPECT_NE(out.find("\"level\":\"info\""), std::string::npos);
  EXPECT_NE(out.find("\"component\":\"test\""), std::string::npos);
  EXPECT_NE(out.find("\"msg\":\"batch refused\""), std::string::npos);
  EXPECT_NE(out.find("\"agent\":\"spiffe://x/y\",\"seq\":42,\"ok\":false,\"ratio\":0.5}"), std::string::npos);
}

TEST(Logger, EscapesHostileText) {
  const std::string out = Capture([](Logger& l) {
    l.Warn("line1\nline2\t\"q\"\\", {{"bad_utf8", std::string("a\xff\xfe" "b")}, {"ctl", std::string("\x01", 1)}});
  });
  EXPECT_EQ(out.find('\n'), out.size() - 1);
  EXPECT_NE(out.find("line1\\nline2\\t\\\"q\\\"\\\\"), std::string::npos);
  EXPECT_NE(out.find("a\\ufffd\\ufffdb"), std::string::npos);
  EXPECT_NE(out.find("\\u0001"), std::string::npos);
}

TEST(Logger, FiltersByLevel) {
  const std::string out = Capture([](Logger& l) {
    l.Debug("hidden");
    l.Error("shown");
  }, LogLevel::kWarn);
  EXPECT_EQ(out.find("hidden"), std::string::npos);
  EXPECT_NE(out.find("shown"), std::string::npos);
  LogLevel level;
  EXPECT_TRUE(ParseLogLevel("warn", &level));
  EXPECT_EQ(level, LogLevel::kWarn);
  EXPECT_FALSE(ParseLogLevel("loud", &level));
}

}  // namespace
}  // namespace orgtrail
