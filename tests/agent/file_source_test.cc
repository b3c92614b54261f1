// FileSource: every format, exactly-once via checkpoints (rescan, rename,
// restart, growing JSON Lines), malformed and hostile files quarantined,
// foreign records refused, back-pressure pauses instead of dropping.
#include "orgtrail/agent/file_source.h"

#include <zlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "agent_test_util.h"
#include "orgtrail/common/generator.h"
#include "orgtrail/common/pki.h"
#include "testutil/temp_dir.h"
#include "testutil/wait_for.h"

namespace orgtrail::agent {
namespace {

using testing::JsonArray;
using testing::JsonLines;
using testing::Records;

void WriteFile(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

void AppendFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << content;
}

std::string GzipText(const std::string& data) {
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

class FileSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.MakeSubdir("watch");
    OpenSpool();
  }
  void OpenSpool(uint64_t max_bytes = 64 << 20) {
    source_.reset();
    spool_.reset();
    spool_ = testing::OpenSpool(dir_.Join("spool"), max_bytes);
    ASSERT_NE(spool_, nullptr);
    intake_ = std::make_unique<EventIntake>(
        IntakeOptions{testing::kAccount, testing::kRegion, UnconfiguredSelection::kAll}, &metrics_);
    FileSourceOptions options_fs;
    options_fs.roots = {root_};
    options_fs.settle_ms = settle_ms_;
    options_fs.quarantine_after_ms = 0;
    options_fs.chunk_records = 7;
    options_fs.max_line_bytes = max_line_bytes_;
    options_fs.read_window_bytes = read_window_bytes_;
    options_fs.read_ahead_bytes = read_ahead_bytes_;
    options_fs.read_ahead_ack_window_ms = read_ahead_ack_window_ms_;
    batcher_.reset();
    if (with_batcher_) {
      BatcherOptions batcher_options;
      batcher_options.max_batch_events = 20;  // chunks of 7 are a quarter batch or more
      batcher_ = std::make_unique<Batcher>(spool_.get(), testing::AgentId(), batcher_options, &logger_, &metrics_);
      batcher_->SetSigner(signer_);
      ASSERT_TRUE(batcher_->Reconcile(0, "").ok());
    }
    source_ = std::make_unique<FileSource>(options_fs, spool_.get(), intake_.get(), &logger_, &metrics_, nullptr,
                                           batcher_.get());
  }
  // Every spooled record, sealed or pending, in spool order.
  std::vector<std::string> SpooledRecords() {
    std::vector<std::string> out;
    for (const auto& b : spool_->ReadBatchesFrom(0, 100000)) {
      for (const auto& e : b.events()) out.push_back(e.raw_json());
    }
    for (const auto& p : spool_->ReadPending(100000, 1ull << 40)) out.push_back(p.event.raw_json());
    return out;
  }
  uint64_t Pending() { return spool_->Stats().pending_events; }
  uint64_t Counter(const std::string& name, const MetricLabels& labels = {}) {
    return metrics_.GetCounter(name, "", labels)->value();
  }
  double GaugeValue(const std::string& name) { return metrics_.GetGauge(name, "")->value(); }

  testutil::TempDir dir_;
  std::string root_;
  uint64_t max_line_bytes_ = 8ull << 20;
  uint64_t read_window_bytes_ = 1ull << 20;
  int settle_ms_ = 0;
  uint64_t read_ahead_bytes_ = 8ull << 20;
  int read_ahead_ack_window_ms_ = 5000;
  Logger logger_{"test", 2, LogLevel::kError};
  MetricsRegistry metrics_;
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<EventIntake> intake_;
  bool with_batcher_ = false;
  std::shared_ptr<const Signer> signer_{testing::NewSigner()};
  std::unique_ptr<Batcher> batcher_;
  std::unique_ptr<FileSource> source_;
};

TEST_F(FileSourceTest, ReadsEveryFormatOnceByteForByte) {
  const auto a = Records(20, 1), b = Records(15, 2), c = Records(9, 3), d = Records(5, 4);
  WriteFile(root_ + "/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/01/01/x_CloudTrail.json",
            WrapRecords(a));
  WriteFile(root_ + "/deep/er/y.json.gz", GzipText(WrapRecords(b)));
  WriteFile(root_ + "/arr.json", JsonArray(c));
  WriteFile(root_ + "/lines.jsonl", JsonLines(d));
  WriteFile(root_ + "/ignored.txt", JsonLines(d));
  WriteFile(root_ + "/.hidden.json", WrapRecords(d));
  ASSERT_TRUE(source_->ScanOnce().ok());
  EXPECT_EQ(Pending(), 49u);
  // Rescans do not read anything twice.
  ASSERT_TRUE(source_->ScanOnce().ok());
  EXPECT_EQ(Pending(), 49u);
  std::set<std::string> raws;
  for (const auto& p : spool_->ReadPending(1000, 1 << 30)) raws.insert(p.event.raw_json());
  for (const auto* set : {&a, &b, &c, &d}) {
    for (const auto& r : *set) EXPECT_TRUE(raws.count(r)) << "missing record";
  }
  EXPECT_EQ(Counter("orgtrail_agent_files_read_total"), 3u);  // whole documents
}

// With a batcher, chunks are sealed straight into batches with their checkpoints: every record
// once, in file order, across a restart; a small file waits as pending events.
TEST_F(FileSourceTest, ChunksAreSealedDirectlyOnceAcrossARestart) {
  with_batcher_ = true;
  OpenSpool();
  const auto lines = Records(60, 5);
  const auto small = Records(3, 6);
  WriteFile(root_ + "/feed.jsonl", JsonLines({lines.begin(), lines.begin() + 40}));
  WriteFile(root_ + "/small.json", WrapRecords(small));
  ASSERT_TRUE(source_->ScanOnce().ok());
  EXPECT_EQ(Pending(), 3u);  // 3 records: under a quarter batch
  EXPECT_EQ(spool_->Stats().sealed_batches, 6u);  // 40 lines in chunks of 7
  EXPECT_EQ(Counter("orgtrail_agent_events_sealed_directly_total"), 40u);
  OpenSpool();  // restart: checkpoints say where to go on
  AppendFile(root_ + "/feed.jsonl", JsonLines({lines.begin() + 40, lines.end()}));
  ASSERT_TRUE(source_->ScanOnce().ok());
  ASSERT_TRUE(source_->ScanOnce().ok());
  std::vector<std::string> expected(lines.begin(), lines.begin() + 40);
  expected.insert(expected.end(), lines.begin() + 40, lines.end());
  std::vector<std::string> spooled = SpooledRecords();
  ASSERT_EQ(spooled.size(), 63u);
  // Sealed batches first (the feed, in file order), then the small file's pending records.
  EXPECT_EQ(std::vector<std::string>(spooled.begin(), spooled.begin() + 60), expected);
  EXPECT_EQ(std::vector<std::string>(spooled.begin() + 60, spooled.end()), small);
}

TEST_F(FileSourceTest, RenameAndRestartDoNotRereadAndGrowingLinesAreTailed) {
  const auto a = Records(12, 1);
  WriteFile(root_ + "/a.json", WrapRecords(a));
  const auto lines = Records(30, 2);
  WriteFile(root_ + "/feed.jsonl", JsonLines({lines.begin(), lines.begin() + 10}));
  ASSERT_TRUE(source_->ScanOnce().ok());
  EXPECT_EQ(Pending(), 22u);
  std::filesystem::rename(root_ + "/a.json", root_ + "/renamed-a.json");
  // A partial last line waits for its newline.
  AppendFile(root_ + "/feed.jsonl", JsonLines({lines.begin() + 10, lines.begin() + 20}) +
                                        lines[20].substr(0, 100));
  ASSERT_TRUE(source_->ScanOnce().ok());
  EXPECT_EQ(Pending(), 32u);
  // Restart: a new source and a reopened spool continue from the checkpoints.
  OpenSpool();
  AppendFile(root_ + "/feed.jsonl", lines[20].substr(100) + "\n" +
                                        JsonLines({lines.begin() + 21, lines.end()}));
  ASSERT_TRUE(source_->ScanOnce().ok());
  EXPECT_EQ(Pending(), 42u);
  ASSERT_TRUE(source_->ScanOnce().ok());
  EXPECT_EQ(Pending(), 42u);
  std::multiset<std::string> raws;
  for (const auto& p : spool_->ReadPending(1000, 1 << 30)) raws.insert(p.event.raw_json());
  for (const auto& r : lines) EXPECT_EQ(raws.count(r), 1u);
  for (const auto& r : a) EXPECT_EQ(raws.count(r), 1u);
}

TEST_F(FileSourceTest, MalformedAndHostileFilesAreQuarantinedAndTheRestGoesOn) {
  const auto good = Records(10, 1);
  const std::string valid = WrapRecords(good);
  WriteFile(root_ + "/good.json", valid);
  WriteFile(root_ + "/truncated.json", valid.substr(0, valid.size() / 2));
  WriteFile(root_ + "/binary.json", std::string("\x89PNG\r\n\x1a\n", 8) + std::string(200, '\0'));
  WriteFile(root_ + "/wrong-wrapper.json", "{\"Records\": {\"not\": \"an array\"}, \"pad\": \"" + std::string(80, 'p') + "\"}");
  WriteFile(root_ + "/bomb.json", std::string(200000, '['));
  WriteFile(root_ + "/corrupt.json.gz", std::string("\x1f\x8b\x08\x00", 4) + std::string(200, 'x'));
  WriteFile(root_ + "/html.json", "<html><body>" + std::string(100, 'x') + "</body></html>");
  ASSERT_TRUE(source_->ScanOnce().ok());
  EXPECT_EQ(Pending(), 10u);
  EXPECT_EQ(Counter("orgtrail_agent_files_quarantined_total"), 6u);
  const auto quarantined = spool_->ListQuarantine();
  ASSERT_EQ(quarantined.size(), 6u);
  bool saw_truncated = false;
  for (const auto& [key, reason] : quarantined) {
    EXPECT_EQ(key.rfind("file:", 0), 0u);
    if (reason.find("truncated.json") != std::string::npos) {
      saw_truncated = true;
      EXPECT_NE(reason.find("unterminated"), std::string::npos) << reason;
    }
  }
  EXPECT_TRUE(saw_truncated);
  // Quarantined files are not retried.
  ASSERT_TRUE(source_->ScanOnce().ok());
  EXPECT_EQ(Counter("orgtrail_agent_files_quarantined_total"), 6u);
}

TEST_F(FileSourceTest, OversizedJsonLinesLineIsRefusedAloneAndLaterLinesAreRead) {
  max_line_bytes_ = 16 * 1024;
  OpenSpool();
  const auto before = Records(3, 1), after = Records(4, 2);
  // A record padded past the line limit (it would be a valid event otherwise).
  std::string huge = before[0];
  huge.insert(huge.size() - 1, ",\"pad\":\"" + std::string(40 * 1024, 'p') + "\"");
  WriteFile(root_ + "/feed.jsonl", JsonLines(before) + huge + "\n" + JsonLines(after));
  ASSERT_TRUE(source_->ScanOnce().ok());
  EXPECT_EQ(Pending(), 7u);  // was 3: the file was quarantined at the long line
  EXPECT_EQ(Counter("orgtrail_agent_events_refused_total", {{"reason", "line_too_long"}}), 1u);
  EXPECT_EQ(Counter("orgtrail_agent_files_quarantined_total"), 0u);
  const auto quarantined = spool_->ListQuarantine();
  ASSERT_EQ(quarantined.size(), 1u);
  EXPECT_NE(quarantined[0].first.find("#offset="), std::string::npos) << quarantined[0].first;
  EXPECT_NE(quarantined[0].second.find("over the limit"), std::string::npos) << quarantined[0].second;
  // The file keeps being tailed, and a restart does not re-read or re-refuse anything.
  const auto more = Records(2, 3);
  AppendFile(root_ + "/feed.jsonl", JsonLines(more));
  ASSERT_TRUE(source_->ScanOnce().ok());
  EXPECT_EQ(Pending(), 9u);
  OpenSpool();
  ASSERT_TRUE(source_->ScanOnce().ok());
  EXPECT_EQ(Pending(), 9u);
  EXPECT_EQ(spool_->ListQuarantine().size(), 1u);
  std::multiset<std::string> raws;
  for (const auto& p : spool_->ReadPending(100, 1 << 30)) raws.insert(p.event.raw_json());
  for (const auto* set : {&before, &after, &more}) {
    for (const auto& r : *set) EXPECT_EQ(raws.count(r), 1u);
  }
}

// Lines are read a window at a time; a line longer than the window but within the line limit
// is read whole (the window grows for it, then shrinks back), byte for byte.
TEST_F(FileSourceTest, LineLongerThanTheReadWindowIsReadWhole) {
  read_window_bytes_ = 4 * 1024;
  max_line_bytes_ = 64 * 1024;
  OpenSpool();
  const auto before = Records(3, 1), after = Records(40, 2);
  std::string long_record = before[0];
  long_record.insert(long_record.size() - 1, ",\"pad\":\"" + std::string(20 * 1024, 'p') + "\"");
  WriteFile(root_ + "/feed.jsonl", JsonLines(before) + long_record + "\n" + JsonLines(after));
  ASSERT_TRUE(source_->ScanOnce().ok());
  EXPECT_EQ(Pending(), 44u);
  EXPECT_TRUE(spool_->ListQuarantine().empty());
  std::multiset<std::string> raws;
  for (const auto& p : spool_->ReadPending(100, 1 << 30)) raws.insert(p.event.raw_json());
  EXPECT_EQ(raws.count(long_record), 1u);
  for (const auto* set : {&before, &after}) {
    for (const auto& r : *set) EXPECT_EQ(raws.count(r), 1u);
  }
}

// "Every input read" for operators and scripts (scripts/orgtrail-local.sh waits on it): the
// unfinished-files gauge counts what the last complete scan could not read to the end, from the
// spool's checkpoints, so it is right after a restart too (files_read_total restarts at 0 and a
// drain check on it waited forever); deleted files drop out of it.
TEST_F(FileSourceTest, UnfinishedFilesGaugeHoldsAcrossRestarts) {
  settle_ms_ = 3600 * 1000;  // a whole document waits this long for its writer
  OpenSpool();
  WriteFile(root_ + "/a.json", WrapRecords(Records(2, 1)));
  WriteFile(root_ + "/b.jsonl", JsonLines(Records(3, 2)));
  ASSERT_TRUE(source_->ScanOnce().ok());
  EXPECT_EQ(GaugeValue("orgtrail_agent_files_unfinished"), 1);  // a.json is still settling
  EXPECT_EQ(Counter("orgtrail_agent_file_scans_total"), 1u);
  EXPECT_EQ(Pending(), 3u);

  settle_ms_ = 0;
  OpenSpool();  // a restart
  ASSERT_TRUE(source_->ScanOnce().ok());
  EXPECT_EQ(GaugeValue("orgtrail_agent_files_unfinished"), 0);
  EXPECT_EQ(Pending(), 5u);

  OpenSpool();  // another restart: nothing to read again, and nothing unfinished
  ASSERT_TRUE(source_->ScanOnce().ok());
  EXPECT_EQ(GaugeValue("orgtrail_agent_files_unfinished"), 0);
  EXPECT_EQ(Pending(), 5u);

  settle_ms_ = 3600 * 1000;
  OpenSpool();
  WriteFile(root_ + "/c.json", "{\"Records\":[]}");
  ASSERT_TRUE(source_->ScanOnce().ok());
  EXPECT_EQ(GaugeValue("orgtrail_agent_files_unfinished"), 1);
  std::filesystem::remove(root_ + "/c.json");  // gone before it was read: no longer waited for
  ASSERT_TRUE(source_->ScanOnce().ok());
  EXPECT_EQ(GaugeValue("orgtrail_agent_files_unfinished"), 0);
}

TEST_F(FileSourceTest, LongLineStillBeingWrittenWaitsForItsNewline) {
  max_line_bytes_ = 16 * 1024;
  OpenSpool();
  const auto lines = Records(2, 1);
  WriteFile(root_ + "/feed.jsonl", JsonLines(lines) + std::string(40 * 1024, 'x'));
  ASSERT_TRUE(source_->ScanOnce().ok());
  EXPECT_EQ(Pending(), 2u);
  EXPECT_TRUE(spool_->ListQuarantine().empty());
  AppendFile(root_ + "/feed.jsonl", "\n" + JsonLines(Records(1, 2)));
  ASSERT_TRUE(source_->ScanOnce().ok());
  EXPECT_EQ(Pending(), 3u);
  EXPECT_EQ(spool_->ListQuarantine().size(), 1u);
}

TEST_F(FileSourceTest, BadAndForeignRecordsAreRefusedOneByOne) {
  auto mine = Records(5, 1);
  auto other_account = Records(3, 2, "999999999999", testing::kRegion);
  auto other_region = Records(4, 3, testing::kAccount, "us-west-2");
  std::vector<std::string> mixed = mine;
  mixed.insert(mixed.end(), other_account.begin(), other_account.end());
  mixed.insert(mixed.end(), other_region.begin(), other_region.end());
  mixed.push_back(R"({"eventID":"no-time","eventName":"X","recipientAccountId":"111122223333"})");
  mixed.push_back(R"({"eventTime":"yesterday","eventID":"bad-time"})");
  mixed.push_back("{\"eventTime\":\"2026-01-01T00:00:00Z\",\"bad\":\"\xff\xfe\"}");
  mixed.push_back("[1,2,3]");
  // A record without eventID gets one (UUIDv4, first member).
  mixed.push_back(R"({"eventTime":"2026-01-01T00:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"eu-west-1","recipientAccountId":"111122223333"})");
  WriteFile(root_ + "/mixed.jsonl", JsonLines(mixed));
  ASSERT_TRUE(source_->ScanOnce().ok());
  EXPECT_EQ(Pending(), 6u);
  EXPECT_EQ(Counter("orgtrail_agent_events_refused_total", {{"reason", "not_this_agent"}}), 7u);
  EXPECT_EQ(Counter("orgtrail_agent_events_refused_total", {{"reason", "invalid"}}), 4u);
  EXPECT_EQ(Counter("orgtrail_agent_events_read_total"), mixed.size());
  bool assigned = false;
  for (const auto& p : spool_->ReadPending(100, 1 << 30)) {
    if (p.event.event_name() == "RunInstances" && p.event.raw_json().rfind("{\"eventID\":\"", 0) == 0) {
      assigned = true;
      EXPECT_EQ(p.event.event_id().size(), 36u);
    }
  }
  EXPECT_TRUE(assigned);
}

// Seals the oldest pending events (at most `max_events`) into batch `sequence` and acknowledges
// it, as the batcher and an acknowledging collector would; returns their records (none, and
// nothing sealed, when nothing is pending).
std::vector<std::string> SealAndAcknowledge(Spool* spool, uint64_t sequence, size_t max_events = 100000) {
  std::vector<std::string> records;
  v1::Batch batch;
  batch.set_sequence(sequence);
  std::vector<uint64_t> ids;
  uint64_t bytes = 0;
  for (auto& p : spool->ReadPending(max_events, 1ull << 40)) {
    ids.push_back(p.id);
    bytes += p.stored_bytes;
    records.push_back(p.event.raw_json());
    *batch.add_events() = p.event;
  }
  if (records.empty()) return records;
  EXPECT_TRUE(spool->CommitSealedBatch(batch, Digest{}, ids, bytes).ok());
  EXPECT_TRUE(spool->PruneThrough(sequence).ok());
  return records;
}

TEST_F(FileSourceTest, FullSpoolPausesTheSourceAndNothingIsLost) {
  OpenSpool(/*max_bytes=*/64 * 1024);
  const auto records = Records(300, 9);  // ~600 KB serialized: ten times the spool
  WriteFile(root_ + "/big.json", WrapRecords(records));
  ASSERT_TRUE(source_->Start().ok());
  Gauge* paused = metrics_.GetGauge("orgtrail_agent_source_paused", "", {{"source", "files"}});
  ASSERT_TRUE(testutil::WaitFor([&] { return paused->value() == 1; }, std::chrono::seconds(30)));
  // Drain like the batcher + an acknowledging collector would.
  std::multiset<std::string> drained;
  uint64_t sequence = 0;
  ASSERT_TRUE(spool_->SetSequencePosition(1, Digest{}).ok());
  ASSERT_TRUE(testutil::WaitFor([&] {
    const auto sealed = SealAndAcknowledge(spool_.get(), sequence + 1, /*max_events=*/50);
    if (!sealed.empty()) ++sequence;
    drained.insert(sealed.begin(), sealed.end());
    return drained.size() >= records.size();
  }, std::chrono::seconds(60), std::chrono::milliseconds(10)));
  source_->Stop();
  EXPECT_EQ(drained.size(), records.size());
  for (const auto& r : records) EXPECT_EQ(drained.count(r), 1u);
  EXPECT_GE(Counter("orgtrail_agent_source_pauses_total", {{"source", "files"}}), 1u);
  EXPECT_EQ(paused->value(), 0);
}

TEST_F(FileSourceTest, ReadAheadWaitsForAcknowledgementsWhileTheCollectorAcknowledges) {
  read_ahead_bytes_ = 1;  // any backlog is too much (files of one 7-record chunk each)
  read_ahead_ack_window_ms_ = 600000;
  OpenSpool();
  ASSERT_TRUE(spool_->SetSequencePosition(1, Digest{}).ok());
  const auto a = Records(7, 21);
  const auto b = Records(7, 22);
  WriteFile(root_ + "/a.json", WrapRecords(a));
  ASSERT_TRUE(source_->ScanOnce().ok());  // one chunk, nothing was unacknowledged: read
  ASSERT_EQ(Pending(), 7u);

  WriteFile(root_ + "/b.json", WrapRecords(b));
  std::atomic<bool> scanned{false};
  std::thread scan([&] {
    EXPECT_TRUE(source_->ScanOnce().ok());
    scanned = true;
  });
  ASSERT_TRUE(testutil::WaitFor([&] { return Counter("orgtrail_agent_file_read_ahead_waits_total") == 1; },
                                std::chrono::seconds(30)));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(scanned);
  EXPECT_EQ(Pending(), 7u);  // b waits in its file

  const auto first = SealAndAcknowledge(spool_.get(), 1);
  ASSERT_TRUE(testutil::WaitFor([&] { return scanned.load(); }, std::chrono::seconds(30)));
  scan.join();
  EXPECT_EQ(first, a);
  EXPECT_EQ(SealAndAcknowledge(spool_.get(), 2), b);
}

TEST_F(FileSourceTest, ReadAheadCopiesIntoTheSpoolWhenTheCollectorStopsAcknowledging) {
  read_ahead_bytes_ = 1;
  read_ahead_ack_window_ms_ = 1500;  // long enough that reading a.json ends well inside it
  OpenSpool();
  const auto a = Records(7, 23);
  const auto b = Records(7, 24);
  WriteFile(root_ + "/a.json", WrapRecords(a));
  ASSERT_TRUE(source_->ScanOnce().ok());
  WriteFile(root_ + "/b.json", WrapRecords(b));
  // No acknowledgement since the spool opened: after the window b is copied in anyway, so a
  // file rotated away during an outage is not lost.
  ASSERT_TRUE(source_->ScanOnce().ok());
  EXPECT_EQ(Counter("orgtrail_agent_file_read_ahead_waits_total"), 1u);  // it waited, then copied
  EXPECT_EQ(Pending(), 14u);
  std::multiset<std::string> spooled;
  for (const auto& r : SpooledRecords()) spooled.insert(r);
  for (const auto& r : a) EXPECT_EQ(spooled.count(r), 1u);
  for (const auto& r : b) EXPECT_EQ(spooled.count(r), 1u);
  EXPECT_GE(spool_->WaitForBacklogAtMost(1, std::chrono::milliseconds(0)).ms_since_ack, 1500);
}

TEST_F(FileSourceTest, NewFilesArePickedUpByTheWatcher) {
  ASSERT_TRUE(source_->Start().ok());
  const auto a = Records(8, 5);
  WriteFile(root_ + "/later/new.json", WrapRecords(a));
  EXPECT_TRUE(testutil::WaitFor([&] { return Pending() == 8; }, std::chrono::seconds(30)));
  source_->Stop();
}

TEST(FileSourceStartTest, MissingRootIsAClearError) {
  testutil::TempDir dir;
  SpoolOptions options;
  options.path = dir.Join("spool");
  auto spool = Spool::Open(options);
  MetricsRegistry metrics;
  Logger logger("test", 2, LogLevel::kError);
  EventIntake intake(IntakeOptions{testing::kAccount, testing::kRegion, UnconfiguredSelection::kAll}, &metrics);
  FileSourceOptions fs;
  fs.roots = {dir.Join("does-not-exist")};
  FileSource source(fs, spool->get(), &intake, &logger, &metrics);
  const Status s = source.Start();
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_NE(s.message().find("not a directory"), std::string::npos);
}

}  // namespace
}  // namespace orgtrail::agent
