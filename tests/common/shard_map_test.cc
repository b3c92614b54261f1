// ShardMap: accounts go to the shard that lists them, others to the default shard; every malformed,
// ambiguous or oversized map is INVALID_ARGUMENT naming what is wrong.
#include "orgtrail/common/shard_map.h"

#include <gtest/gtest.h>

#include <fstream>

#include "testutil/temp_dir.h"

namespace orgtrail {
namespace {

constexpr char kMap[] = R"({"shards":[
  {"name":"a","endpoint":"collector-a.example.org:7443","accounts":["111111111111","333333333333"]},
  {"name":"b","endpoint":"10.0.0.2:7443","default":true},
  {"name":"c","endpoint":"[::1]:7443","accounts":["444444444444"],"default":false}]})";

TEST(ShardMapTest, AccountsGoToTheirShardOthersToTheDefault) {
  auto map = ShardMap::Parse(kMap);
  ASSERT_TRUE(map.ok()) << map.status();
  EXPECT_EQ(map->shards().size(), 3u);
  EXPECT_EQ(map->ShardForAccount("111111111111").name, "a");
  EXPECT_EQ(map->ShardForAccount("333333333333").name, "a");
  EXPECT_EQ(map->ShardForAccount("444444444444").name, "c");
  EXPECT_EQ(map->ShardForAccount("222222222222").name, "b");
  EXPECT_EQ(map->ShardForAccount("").name, "b");
  EXPECT_EQ(map->ShardForAccount("111111111111").endpoint, "collector-a.example.org:7443");
  ASSERT_NE(map->Find("c"), nullptr);
  EXPECT_EQ(map->Find("c")->endpoint, "[::1]:7443");
  EXPECT_EQ(map->Find("d"), nullptr);
  EXPECT_TRUE(map->Find("b")->is_default);
}

TEST(ShardMapTest, LoadsAFileAndNamesItInErrors) {
  testutil::TempDir dir("shard-map");
  const std::string path = dir.Join("shards.json");
  std::ofstream(path) << kMap;
  auto map = ShardMap::Load(path);
  ASSERT_TRUE(map.ok()) << map.status();
  EXPECT_EQ(map->shards().size(), 3u);
  auto missing = ShardMap::Load(dir.Join("missing.json"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  std::ofstream(dir.Join("bad.json")) << "{";
  auto bad = ShardMap::Load(dir.Join("bad.json"));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("bad.json"), std::string::npos) << bad.status();
}

TEST(ShardMapTest, MalformedAndAmbiguousMapsAreRefusedWithTheReason) {
  const std::string a = R"({"name":"a","endpoint":"h:1","default":true})";
  struct Case {
    std::string json;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"", "not valid JSON"},
      {"not json", "not valid JSON"},
      {"[]", "expected {\"shards\""},
      {R"({"shards":{}})", "expected {\"shards\""},
      {R"({"shards":[]})", "no shards"},
      {R"({"shards":[1]})", "not an object"},
      {R"({"shards":[{"endpoint":"h:1","default":true}]})", "\"name\""},
      {R"({"shards":[{"name":"","endpoint":"h:1","default":true}]})", "\"name\""},
      {R"({"shards":[{"name":"a/b","endpoint":"h:1","default":true}]})", "\"name\""},
      {R"({"shards":[{"name":")" + std::string(65, 'n') + R"(","endpoint":"h:1","default":true}]})", "\"name\""},
      {R"({"shards":[{"name":"a","default":true}]})", "\"endpoint\""},
      {R"({"shards":[{"name":"a","endpoint":"h","default":true}]})", "\"endpoint\""},
      {R"({"shards":[{"name":"a","endpoint":"h:0","default":true}]})", "\"endpoint\""},
      {R"({"shards":[{"name":"a","endpoint":"h:65536","default":true}]})", "\"endpoint\""},
      {R"({"shards":[{"name":"a","endpoint":"h:x","default":true}]})", "\"endpoint\""},
      {R"({"shards":[{"name":"a","endpoint":":1","default":true}]})", "\"endpoint\""},
      {R"({"shards":[{"name":"a","endpoint":"h h:1","default":true}]})", "\"endpoint\""},
      {R"({"shards":[{"name":"a","endpoint":"http://h:1","default":true}]})", "\"endpoint\""},
      {R"({"shards":[{"name":"a","endpoint":"h:1","default":"yes"}]})", "\"default\""},
      {R"({"shards":[{"name":"a","endpoint":"h:1","accounts":"111111111111","default":true}]})", "\"accounts\""},
      {R"({"shards":[{"name":"a","endpoint":"h:1","accounts":["1111"],"default":true}]})", "12-digit"},
      {R"({"shards":[{"name":"a","endpoint":"h:1","accounts":[111111111111],"default":true}]})", "12-digit"},
      {R"({"shards":[{"name":"a","endpoint":"h:1"}]})", "exactly one shard must be"},
      {"{\"shards\":[" + a + "," + R"({"name":"b","endpoint":"h:2","default":true}]})", "exactly one shard must be"},
      {"{\"shards\":[" + a + "," + R"({"name":"a","endpoint":"h:2"}]})", "listed twice"},
      {"{\"shards\":[" + a + "," + R"({"name":"b","endpoint":"h:1"}]})", "another shard's"},
      {R"({"shards":[{"name":"a","endpoint":"h:1","accounts":["111111111111"],"default":true},)"
       R"({"name":"b","endpoint":"h:2","accounts":["111111111111"]}]})", "in shard 'a' and in shard 'b'"},
      {std::string(17u << 20, ' '), "larger than"},
      // Found by fuzz_shard_map: an account listed twice in one shard read past the shard list.
      {R"({"shards":[{"name":"a","endpoint":"h:1","accounts":["111111111111","111111111111"],"default":true}]})",
       "shard 'a': account 111111111111 is listed twice"},
  };
  for (const auto& c : cases) {
    auto map = ShardMap::Parse(c.json);
    ASSERT_FALSE(map.ok()) << c.json.substr(0, 200);
    EXPECT_EQ(map.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(map.status().message().find(c.reason), std::string::npos)
        << c.json.substr(0, 200) << " -> " << map.status();
  }
}

}  // namespace
}  // namespace orgtrail
