// Deduplication per (recipient account, eventID) through the real collector
// over mTLS, and the evidence the security team sees through the real
// orgtrailctl: another account's agent cannot suppress an event by sending its
// eventID first, and the same eventID with other bytes in one account is a
// visible conflict (acknowledged, both copies kept, counted, listed), never a
// silently dropped "duplicate".
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "testutil/ingest_client.h"
#include "testutil/orgtrailctl_runner.h"
#include "testutil/pki_fixture.h"
#include "testutil/temp_dir.h"

namespace orgtrail {
namespace {

using testutil::CollectorProcess;
using testutil::IngestClient;
using testutil::SyntheticEvent;
using testutil::SyntheticEventJson;

constexpr char kAccountA[] = "111111111111";
constexpr char kAccountB[] = "222222222222";

class CollectorDedupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<testutil::TempDir>("collector-dedup");
    pki_ = std::make_unique<testutil::TestPki>(dir_->MakeSubdir("pki"));
    testutil::CollectorProcessOptions options;
    options.data_dir = dir_->Join("data");
    options.log_dir = dir_->MakeSubdir("logs");
    options.tls = pki_->Collector();
    auto collector = CollectorProcess::Start(options);
    ASSERT_TRUE(collector.ok()) << collector.status();
    collector_ = std::move(*collector);
  }

  std::unique_ptr<IngestClient> Agent(const std::string& account, const std::string& name) {
    const std::string id = testutil::AgentSpiffeId("example.org", account, "us-east-1", name);
    auto client = IngestClient::Connect(collector_->target(), pki_->Agent(account, "us-east-1", name), id);
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return nullptr;
    EXPECT_TRUE((*client)->Hello().ok());
    return std::move(*client);
  }
  static std::string Event(const std::string& id, const std::string& account, const std::string& name) {
    SyntheticEvent e;
    e.event_id = id;
    e.account_id = account;
    e.event_name = name;
    return SyntheticEventJson(e);
  }
  testutil::CtlResult Ctl(std::vector<std::string> args) {
    return testutil::RunOrgtrailctl(std::move(args), collector_->target(), pki_->Auditor(), dir_->MakeSubdir("ctl"),
                                    "ctl-" + std::to_string(++ctl_runs_));
  }

  std::unique_ptr<testutil::TempDir> dir_;
  std::unique_ptr<testutil::TestPki> pki_;
  std::unique_ptr<CollectorProcess> collector_;
  int ctl_runs_ = 0;
};

TEST_F(CollectorDedupTest, AnotherAccountCannotSuppressAnEventBySendingItsIdFirst) {
  auto squatter = Agent(kAccountA, "squatter");
  auto victim = Agent(kAccountB, "victim");
  ASSERT_NE(squatter, nullptr);
  ASSERT_NE(victim, nullptr);
  auto first = squatter->SendEvents({Event("E-squat", kAccountA, "DescribeInstances")});
  ASSERT_TRUE(first.ok()) << first.status();
  auto real = victim->SendEvents({Event("E-squat", kAccountB, "DeleteBucket")});
  ASSERT_TRUE(real.ok()) << real.status();
  EXPECT_EQ(real->events_stored(), 1u);  // was acknowledged as a "duplicate" and lost before
  EXPECT_EQ(real->events_duplicate(), 0u);

  // The eventID is in two accounts: get-event says so and asks for the account.
  testutil::CtlResult ambiguous = Ctl({"get-event", "E-squat"});
  EXPECT_EQ(ambiguous.exit_code, 1) << ambiguous.out << ambiguous.err;
  EXPECT_NE(ambiguous.err.find("2 accounts"), std::string::npos) << ambiguous.err;
  testutil::CtlResult in_b = Ctl({"get-event", "E-squat", "--account", kAccountB});
  ASSERT_EQ(in_b.exit_code, 0) << in_b.err;
  EXPECT_NE(in_b.out.find("DeleteBucket"), std::string::npos) << in_b.out;
  testutil::CtlResult in_a = Ctl({"get-event", "E-squat", "--account", kAccountA});
  ASSERT_EQ(in_a.exit_code, 0) << in_a.err;
  EXPECT_NE(in_a.out.find("DescribeInstances"), std::string::npos) << in_a.out;
  EXPECT_EQ(collector_->MetricValue("orgtrail_collector_event_conflicts_total"), 0);
}

TEST_F(CollectorDedupTest, SameIdOtherBytesInOneAccountIsAVisibleConflictNotALoss) {
  auto one = Agent(kAccountA, "one");
  auto two = Agent(kAccountA, "two");
  ASSERT_NE(one, nullptr);
  ASSERT_NE(two, nullptr);
  auto original = one->SendEvents({Event("E-conflict", kAccountA, "CreateUser"), Event("E-same", kAccountA, "GetUser")});
  ASSERT_TRUE(original.ok()) << original.status();
  EXPECT_EQ(original->events_stored(), 2u);
  auto copy = two->SendEvents({Event("E-conflict", kAccountA, "DeleteUser"), Event("E-same", kAccountA, "GetUser")});
  ASSERT_TRUE(copy.ok()) << copy.status();  // acknowledged: nothing of it is lost
  EXPECT_EQ(copy->events_stored(), 0u);
  EXPECT_EQ(copy->events_duplicate(), 1u);  // E-same: the same bytes
  EXPECT_EQ(collector_->MetricValue("orgtrail_collector_event_conflicts_total"), 1);

  testutil::CtlResult listed = Ctl({"list-conflicts"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("\"eventID\":\"E-conflict\""), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find(testutil::AgentSpiffeId("example.org", kAccountA, "us-east-1", "two")), std::string::npos)
      << listed.out;
  EXPECT_NE(listed.out.find("DeleteUser"), std::string::npos) << listed.out;  // the copy, byte for byte
  EXPECT_EQ(listed.out.find("E-same"), std::string::npos) << listed.out;      // a duplicate is no conflict
  EXPECT_NE(listed.err.find("1 recorded"), std::string::npos) << listed.err;
  // The original is what GetEvent returns.
  testutil::CtlResult got = Ctl({"get-event", "E-conflict"});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_NE(got.out.find("CreateUser"), std::string::npos);

  testutil::CtlResult bad = Ctl({"list-conflicts", "--max-items", "0"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--max-items"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace orgtrail
