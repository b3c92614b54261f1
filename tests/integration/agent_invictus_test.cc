// The invictus CloudTrail set (55 real delivery files, 2,900 records) replayed
// from files through a real agent to a real collector over mTLS: every record
// arrives, once, byte for byte.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent_harness.h"
#include "orgtrail/agent/record_splitter.h"
#include "orgtrail/common/event_extractor.h"

namespace orgtrail::testutil {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(AgentInvictusTest, ReplayedFromFilesArrivesCompleteByteForByte) {
  const std::string data_dir = std::string(ORGTRAIL_SHARED_DATA_DIR) + "/invictus-aws-dataset/CloudTrail";
  ASSERT_TRUE(std::filesystem::is_directory(data_dir)) << data_dir;
  // Expected: eventID -> raw record bytes, straight from the files.
  std::map<std::string, std::string> expected;
  EventExtractor extractor;
  for (const auto& entry : std::filesystem::directory_iterator(data_dir)) {
    const std::string text = Slurp(entry.path().string());
    auto split = agent::SplitRecords(text);
    ASSERT_TRUE(split.ok()) << entry.path() << ": " << split.status();
    for (auto record : split->records) {
      v1::Event event;
      ASSERT_TRUE(extractor.Extract(record, &event).ok());
      expected[event.event_id()] = std::string(record);
    }
  }
  ASSERT_EQ(expected.size(), 2900u);

  AgentHarness h;
  h.StartCollector();
  // Copy the files into a watched tree in CloudTrail's S3 layout (the agent
  // reads them where they are; the copy keeps the shared data untouched by
  // any accidental write and exercises the nested layout).
  const std::string watch = h.dir().MakeSubdir(
      "bucket/AWSLogs/o-example/123837392027/CloudTrail/us-east-1/2023/07/10");
  AgentProcess* agent = h.StartAgent("invictus", "123837392027", "us-east-1",
                                     {"--watch-dir", h.dir().Join("bucket")});
  for (const auto& entry : std::filesystem::directory_iterator(data_dir)) {
    std::filesystem::copy_file(entry.path(), watch + "/" + entry.path().filename().string());
  }
  ASSERT_TRUE(h.WaitForStored(2900, std::chrono::seconds(120)))
      << "stored " << h.EventsStored() << "\n" << agent->process->ReadLog();
  EXPECT_EQ(h.EventsStored(), 2900);
  EXPECT_EQ(h.AgentMetric(*agent, "orgtrail_agent_events_read_total"), 2900);
  EXPECT_EQ(h.AgentMetric(*agent, "orgtrail_agent_files_read_total"), 55);
  EXPECT_EQ(h.AgentMetric(*agent, "orgtrail_agent_files_quarantined_total"), 0);
  EXPECT_EQ(h.CollectorMetric("orgtrail_collector_events_deduplicated_total"), 0);

  auto query = h.Query();
  size_t identical = 0;
  for (const auto& [event_id, raw] : expected) {
    auto stored = h.StoredRecord(event_id, query.get());
    ASSERT_TRUE(stored.ok()) << event_id << ": " << stored.status();
    if (*stored == raw) {
      ++identical;
    } else {
      ADD_FAILURE() << "record " << event_id << " differs";
    }
  }
  EXPECT_EQ(identical, 2900u);
}

}  // namespace
}  // namespace orgtrail::testutil
