// The merged NextToken of a sharded lookup-events (cli/src/shard_fanout.h): what ShardedLookup
// writes is accepted back for the same shards; hostile, truncated, oversized and other maps'
// tokens are INVALID_ARGUMENT "--starting-token: ..." before any request is made.
#include "shard_fanout.h"

#include <gtest/gtest.h>

#include "orgtrail/common/hash.h"

namespace orgtrail::cli {
namespace {

std::vector<ShardTarget> Shards(std::vector<std::string> names) {
  std::vector<ShardTarget> shards;
  for (auto& name : names) shards.push_back(ShardTarget{name, ConnectionOptions()});
  return shards;
}

std::string Token(const std::string& text) { return "o1." + Base64Encode(text); }

TEST(ShardFanoutTokenTest, WellFormedTokensForTheseShardsAreAccepted) {
  const auto shards = Shards({"a", "b"});
  EXPECT_TRUE(CheckMergedNextToken(shards, "").ok());
  EXPECT_TRUE(CheckMergedNextToken(shards, Token("a\t\t0\t0\nb\t" + HexEncode("page-2") + "\t17\t0\n")).ok());
  EXPECT_TRUE(CheckMergedNextToken(shards, Token("a\t\t0\t1\nb\t\t1000\t0\n")).ok());
}

TEST(ShardFanoutTokenTest, HostileTokensAreUsageErrors) {
  const auto shards = Shards({"a", "b"});
  const std::vector<std::string> bad = {
      "x",
      "o1.",
      "o1.!!!not base64!!!",
      "o2." + Base64Encode("a\t\t0\t0\nb\t\t0\t0\n"),
      Token("a\t\t0\t0\n"),                                // fewer shards
      Token("a\t\t0\t0\nb\t\t0\t0\nc\t\t0\t0\n"),          // more shards
      Token("b\t\t0\t0\na\t\t0\t0\n"),                     // other order: another map
      Token("a\t\t0\t0\nx\t\t0\t0\n"),                     // another shard
      Token("a\tzz\t0\t0\nb\t\t0\t0\n"),                   // not hex
      Token("a\tabc\t0\t0\nb\t\t0\t0\n"),                  // odd hex
      Token("a\t\t-1\t0\nb\t\t0\t0\n"),                    // negative skip
      Token("a\t\t1001\t0\nb\t\t0\t0\n"),                  // skip beyond a page
      Token("a\t\t99999999999999999999\t0\nb\t\t0\t0\n"),  // overflow
      Token("a\t\t\t0\nb\t\t0\t0\n"),                      // empty skip
      Token("a\t\t0\t2\nb\t\t0\t0\n"),                     // bad flag
      Token("a\t\t0\nb\t\t0\t0\n"),                        // missing field
      Token("a\t\t0\t0\t5\nb\t\t0\t0\n"),                  // extra field
      Token(std::string(1, '\0') + "\t\t0\t0\n"),
      Token("\n\n"),                                        // empty lines
      Token("a\t\t0\t0\n\nb\t\t0\t0\n"),
      "o1." + std::string(70000, 'A'),                     // oversized
  };
  for (const std::string& token : bad) {
    Status s = CheckMergedNextToken(shards, token);
    ASSERT_FALSE(s.ok()) << token.substr(0, 80);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << token.substr(0, 80);
    EXPECT_EQ(std::string(s.message()).rfind("--starting-token: ", 0), 0u) << s;
  }
}

}  // namespace
}  // namespace orgtrail::cli
