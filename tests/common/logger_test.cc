#include "orgtrail/common/logger.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

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

namespace orgtrail {
namespace {

// journalctl -p err found nothing: every line landed as "info". Under systemd (stderr is the
// journal stream named by $JOURNAL_STREAM) each line carries its priority prefix.
TEST(Logger, JournalStreamLinesCarryTheirPriority) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  struct stat st;
  ASSERT_EQ(::fstat(fds[1], &st), 0);
  const std::string stream = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  EXPECT_TRUE(IsJournalStream(fds[1], stream.c_str()));
  EXPECT_FALSE(IsJournalStream(fds[1], nullptr));
  EXPECT_FALSE(IsJournalStream(fds[1], "1:2"));
  EXPECT_FALSE(IsJournalStream(fds[1], (stream + "x").c_str()));
  EXPECT_FALSE(IsJournalStream(fds[1], "not-a-stream"));
  EXPECT_FALSE(IsJournalStream(2, stream.c_str()));  // another fd (inherited stderr) is not it

  const char* saved = std::getenv("JOURNAL_STREAM");
  const std::string saved_value = saved ? saved : "";
  ::setenv("JOURNAL_STREAM", stream.c_str(), 1);
  {
    Logger logger("test", fds[1], LogLevel::kDebug);
    logger.Error("disk full");
    logger.Warn("slow");
    logger.Info("started");
    logger.Debug("detail");
  }
  if (saved) ::setenv("JOURNAL_STREAM", saved_value.c_str(), 1); else ::unsetenv("JOURNAL_STREAM");
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  std::vector<std::string> prefixes;
  for (size_t start = 0; start < out.size();) {
    const size_t end = out.find('\n', start);
    prefixes.push_back(out.substr(start, 4));
    start = end == std::string::npos ? out.size() : end + 1;
  }
  EXPECT_EQ(prefixes, (std::vector<std::string>{"<3>{", "<4>{", "<6>{", "<7>{"})) << out;
  // Without the journal, plain JSON lines.
  EXPECT_EQ(Capture([](Logger& l) { l.Error("x"); }).rfind("{\"ts\"", 0), 0u);
}

}  // namespace
}  // namespace orgtrail
