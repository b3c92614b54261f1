// Record splitting: byte-exact records for every accepted format, clear
// errors for malformed and hostile input.
#include "orgtrail/agent/record_splitter.h"

#include <zlib.h>

#include <gtest/gtest.h>

namespace orgtrail::agent {
namespace {

std::string Gzip(const std::string& data) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(compressBound(data.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = data.size();
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = out.size();
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

TEST(RecordSplitterTest, RecordsWrapperKeepsBytesExactly) {
  const std::string a = R"({"eventID":"a", "x" : [1, {"y":"]}"}] })";
  const std::string b = R"({"eventID":"b\"}","z":null})";
  const std::string text = "{ \"Other\": {\"Records\": 5},\n \"Records\" : [ " + a + " ,\n" + b + "\n] }\n";
  auto r = SplitRecords(text);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->format, FileFormat::kRecordsWrapper);
  ASSERT_EQ(r->records.size(), 2u);
  EXPECT_EQ(r->records[0], a);
  EXPECT_EQ(r->records[1], b);
}

TEST(RecordSplitterTest, ArraysLinesAndEmpty) {
  auto arr = SplitRecords("[{\"a\":1},\n {\"b\":[]} ]");
  ASSERT_TRUE(arr.ok());
  EXPECT_EQ(arr->format, FileFormat::kJsonArray);
  ASSERT_EQ(arr->records.size(), 2u);
  EXPECT_EQ(arr->records[1], "{\"b\":[]}");
  auto lines = SplitRecords("{\"a\":1}\r\n\n  {\"b\":2}\n{\"c\":3}");
  ASSERT_TRUE(lines.ok());
  EXPECT_EQ(lines->format, FileFormat::kJsonLines);
  ASSERT_EQ(lines->records.size(), 3u);
  EXPECT_EQ(lines->records[0], "{\"a\":1}");
  EXPECT_EQ(lines->records[2], "{\"c\":3}");
  EXPECT_TRUE(SplitRecords("").ok());
  EXPECT_TRUE(SplitRecords("  \n").value().records.empty());
  EXPECT_TRUE(SplitRecords("{\"Records\":[]}").value().records.empty());
  EXPECT_TRUE(SplitRecords("[]").value().records.empty());
}

TEST(RecordSplitterTest, IncrementalJsonLines) {
  size_t consumed = 0;
  auto lines = SplitJsonLines("{\"a\":1}\n{\"b\":2}\n{\"c\":", &consumed);
  EXPECT_EQ(lines.size(), 2u);
  EXPECT_EQ(consumed, 16u);
  lines = SplitJsonLines("{\"partial\":", &consumed);
  EXPECT_TRUE(lines.empty());
  EXPECT_EQ(consumed, 0u);
}

TEST(RecordSplitterTest, HostileInputGetsClearErrors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{\"Records\":[{\"a\":1}", "unterminated"},
      {"{\"Records\":[{\"a\":1}]", "unterminated object"},
      {"{\"Records\":{\"a\":1}}", "must be an array"},
      {"{\"Records\":[{\"a\":\"x]}", "unterminated string"},
      {"{\"Records\":[{\"a\":1]]}", "unbalanced"},
      {"[{\"a\":1}] trailing", "trailing bytes"},
      {"{\"Records\":[]} {}", "trailing bytes"},
      {"\x89PNG\r\n\x1a\n", "not a CloudTrail file"},
      {"<html>", "not a CloudTrail file"},
      {"{\"Records\" 5}", "expected ':'"},
      {"{5:1}", "expected a member name"},
      {std::string(100000, '['), "nesting deeper"},
      {"[" + std::string(3000, '{'), "unterminated"},
  };
  for (const auto& [input, expected] : cases) {
    auto r = SplitRecords(input);
    ASSERT_FALSE(r.ok()) << input.substr(0, 40);
    EXPECT_TRUE(absl::IsInvalidArgument(r.status()));
    EXPECT_NE(std::string(r.status().message()).find(expected), std::string::npos)
        << r.status() << " for " << input.substr(0, 40);
  }
  // Deep but balanced nesting inside a record is fine for the splitter (the
  // extractor enforces its own depth limit).
  auto deep = SplitRecords("[" + std::string(2000, '[') + std::string(2000, ']') + "]");
  ASSERT_TRUE(deep.ok()) << deep.status();
  EXPECT_EQ(deep->records.size(), 1u);
}

TEST(RecordSplitterTest, GunzipRoundTripAndLimits) {
  const std::string data = "{\"Records\":[" + std::string(100000, ' ') + "]}";
  auto out = Gunzip(Gzip(data), 1 << 20);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, data);
  // Concatenated members are one stream.
  auto two = Gunzip(Gzip("ab") + Gzip("cd"), 100);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(*two, "abcd");
  // A gzip bomb stops at the limit.
  EXPECT_TRUE(absl::IsResourceExhausted(Gunzip(Gzip(std::string(10 << 20, 'a')), 1 << 20).status()));
  // Truncated, corrupt, trailing garbage, not gzip at all.
  const std::string gz = Gzip(data);
  EXPECT_TRUE(absl::IsInvalidArgument(Gunzip(gz.substr(0, gz.size() / 2), 1 << 20).status()));
  std::string corrupt = gz;
  corrupt[corrupt.size() / 2] ^= 0x55;
  EXPECT_FALSE(Gunzip(corrupt, 1 << 20).ok());
  EXPECT_FALSE(Gunzip(gz + "garbage", 1 << 20).ok());
  EXPECT_FALSE(Gunzip("plain text", 1 << 20).ok());
  EXPECT_FALSE(Gunzip("", 1 << 20).ok());
}

}  // namespace
}  // namespace orgtrail::agent
