// The per-event acceptance rules shared by the collector and the agent: each
// rule in its order, identity violations flagged, hostile values refused with
// clear, bounded messages.
#include "orgtrail/common/event_acceptance.h"

#include <gtest/gtest.h>

#include "orgtrail/common/time_util.h"

namespace orgtrail {
namespace {

class EventAcceptanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rules_.account_id = "111111111111";
    rules_.region = "eu-west-1";
    rules_.classifier = std::make_shared<const GlobalServiceClassifier>();
  }
  static v1::Event Event(const std::string& id, const std::string& account = "111111111111",
                         const std::string& region = "eu-west-1", const std::string& source = "ec2.amazonaws.com") {
    v1::Event e;
    e.set_event_id(id);
    e.set_recipient_account_id(account);
    e.set_aws_region(region);
    e.set_event_source(source);
    return e;
  }
  std::string Rule(const v1::Event& e) {
    auto rejection = CheckEventAcceptance(e, rules_);
    if (!rejection) return "";
    EXPECT_FALSE(rejection->message.empty());
    EXPECT_LT(rejection->message.size(), 800u);
    EXPECT_EQ(rejection->identity_violation, IsIdentityViolation(rejection->rule));
    return rejection->rule;
  }
  AcceptanceRules rules_;
};

TEST_F(EventAcceptanceTest, EachRule) {
  EXPECT_EQ(Rule(Event("ok")), "");
  EXPECT_EQ(Rule(Event("iam", "111111111111", "us-east-1", "iam.amazonaws.com")), "");
  EXPECT_EQ(Rule(Event("")), "event_id_missing");
  EXPECT_EQ(Rule(Event(std::string(257, 'x'))), "event_id_invalid");
  EXPECT_EQ(Rule(Event(std::string(256, 'x'))), "");
  EXPECT_EQ(Rule(Event(std::string("a\nb"))), "event_id_invalid");
  EXPECT_EQ(Rule(Event("acct", "222222222222")), "recipient_account_mismatch");
  EXPECT_EQ(Rule(Event("bogus", "111111111111", "bogus", "iam.amazonaws.com")), "invalid_region");
  EXPECT_EQ(Rule(Event("other", "111111111111", "us-west-2")), "region_mismatch");
  EXPECT_TRUE(IsIdentityViolation("recipient_account_mismatch"));
  EXPECT_TRUE(IsIdentityViolation("region_mismatch"));
  EXPECT_FALSE(IsIdentityViolation("invalid_region"));
}

TEST_F(EventAcceptanceTest, AllowedRegionsAndCustomGlobalServices) {
  rules_.allowed_regions = {"bogus"};
  rules_.classifier = std::make_shared<const GlobalServiceClassifier>(std::vector<std::string>{"custom.example.com"});
  EXPECT_EQ(Rule(Event("b", "111111111111", "bogus", "custom.example.com")), "");
  EXPECT_EQ(Rule(Event("iam", "111111111111", "us-east-1", "iam.amazonaws.com")), "region_mismatch");
  rules_.max_event_id_bytes = 4;
  EXPECT_EQ(Rule(Event("12345")), "event_id_invalid");
  v1::Event big = Event("big");
  big.set_raw_json(std::string(100, 'x'));
  rules_.max_event_bytes = 99;
  EXPECT_EQ(Rule(big), "event_too_large");
  rules_.max_event_bytes = 100;
  EXPECT_EQ(Rule(big), "");
}

TEST_F(EventAcceptanceTest, OlderThanTheRetentionIsRefused) {
  v1::Event old = Event("old");
  old.set_event_time_us(NowMicros() - 3LL * 86400 * 1000000);
  v1::Event recent = Event("recent");
  recent.set_event_time_us(NowMicros() - 3600LL * 1000000);
  EXPECT_EQ(Rule(old), "");  // no retention: every age is accepted
  rules_.retention_us = 2LL * 86400 * 1000000;
  EXPECT_EQ(Rule(old), "older_than_retention");
  EXPECT_EQ(Rule(recent), "");
}

TEST_F(EventAcceptanceTest, HostileValuesGiveBoundedMessages) {
  EXPECT_EQ(Rule(Event("h", std::string(100000, '9'))), "recipient_account_mismatch");
  EXPECT_EQ(Rule(Event("h", "111111111111", std::string(100000, 'r'))), "invalid_region");
  EXPECT_EQ(Rule(Event(std::string(100000, 'i'))), "event_id_invalid");
}

}  // namespace
}  // namespace orgtrail
