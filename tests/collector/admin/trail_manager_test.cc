// TrailManager against a real store: CloudTrail validation, limits,
// permissions of org vs account admins, durable versions, change pushes.
#include "collector/admin/trail_manager.h"

#include <gtest/gtest.h>

#include "testutil/temp_dir.h"

namespace orgtrail::collector {
namespace {

Identity Admin() {
  Identity id;
  id.role = Role::kAdmin;
  id.spiffe_id = "spiffe://example.org/admin/root";
  return id;
}

Identity AccountAdmin(const std::string& account) {
  Identity id;
  id.role = Role::kAccountAdmin;
  id.account_id = account;
  id.spiffe_id = "spiffe://example.org/account/" + account + "/admin/ops";
  return id;
}

Identity Auditor() {
  Identity id;
  id.role = Role::kAuditor;
  id.spiffe_id = "spiffe://example.org/auditor/alice";
  return id;
}

v1::Trail Trail(const std::string& name, bool org = true) {
  v1::Trail t;
  t.set_name(name);
  t.set_is_organization_trail(org);
  t.set_is_multi_region_trail(true);
  t.set_include_global_service_events(true);
  t.set_s3_bucket_name("org-trail-bucket");
  return t;
}

class TrailManagerTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    manager_.reset();
    store_.reset();
    StoreOptions options;
    options.org = "example.org";
    auto store = EventStore::Open(dir_.Join("db"), options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto manager = TrailManager::Open(store_.get(), TrailManagerOptions{});
    ASSERT_TRUE(manager.ok()) << manager.status();
    manager_ = std::move(*manager);
    manager_->SetChangeListener([this](const v1::TrailConfig& c) { pushed_.push_back(c); });
  }

  testutil::TempDir dir_;
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<TrailManager> manager_;
  std::vector<v1::TrailConfig> pushed_;
};

TEST_F(TrailManagerTest, CreateAssignsArnAndVersionAndPushes) {
  auto t = manager_->Create(Trail("org-trail"), Admin());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->trail_arn(), "arn:aws:cloudtrail:us-east-1:000000000000:trail/org-trail");
  EXPECT_EQ(t->home_region(), "us-east-1");
  EXPECT_FALSE(t->is_logging());
  ASSERT_EQ(pushed_.size(), 1u);
  EXPECT_EQ(pushed_[0].version(), 1u);
  EXPECT_EQ(pushed_[0].trails_size(), 1);
  ASSERT_TRUE(manager_->SetLogging("org-trail", true, Admin()).ok());
  EXPECT_EQ(manager_->Config().version(), 2u);
  auto status = manager_->GetStatus(t->trail_arn(), Admin());  // by ARN
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(status->is_logging());
  EXPECT_GT(status->start_logging_time_us(), 0);
}

TEST_F(TrailManagerTest, TrailsAndVersionSurviveReopen) {
  ASSERT_TRUE(manager_->Create(Trail("durable-trail"), Admin()).ok());
  ASSERT_TRUE(manager_->SetLogging("durable-trail", true, Admin()).ok());
  Reopen();
  v1::TrailConfig config = manager_->Config();
  EXPECT_EQ(config.version(), 2u);
  ASSERT_EQ(config.trails_size(), 1);
  EXPECT_TRUE(config.trails(0).is_logging());
  ASSERT_TRUE(manager_->Delete("durable-trail", Admin()).ok());
  Reopen();
  EXPECT_EQ(manager_->Config().trails_size(), 0);
  EXPECT_EQ(manager_->Config().version(), 3u);
}

TEST_F(TrailManagerTest, InvalidNamesAndSelectorsAreRefusedWithCloudTrailErrors) {
  for (const char* bad : {"ab", "-abc", "abc-", "a..b", "a_-b", "192.168.1.1", "has space", ""}) {
    auto t = manager_->Create(Trail(bad), Admin());
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(manager_->Create(Trail(std::string(129, 'a')), Admin()).status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::Trail both = Trail("both-kinds");
  both.add_event_selectors()->set_read_write_type(v1::ALL);
  auto* adv = both.add_advanced_event_selectors();
  auto* field = adv->add_field_selectors();
  field->set_field("eventCategory");
  field->add_equals("Management");
  EXPECT_EQ(manager_->Create(both, Admin()).status().code(), absl::StatusCode::kInvalidArgument);
  v1::Trail six = Trail("six-selectors");
  for (int i = 0; i < 6; ++i) six.add_event_selectors()->set_read_write_type(v1::ALL);
  EXPECT_EQ(manager_->Create(six, Admin()).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(pushed_.empty());
  EXPECT_EQ(manager_->Config().version(), 0u);
}

TEST_F(TrailManagerTest, LimitsDuplicatesAndNotFound) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(manager_->Create(Trail("trail-" + std::to_string(i)), Admin()).ok());
  EXPECT_EQ(manager_->Create(Trail("trail-5"), Admin()).status().code(), absl::StatusCode::kResourceExhausted);
  auto dup = manager_->Create(Trail("trail-0", false), AccountAdmin("333333333333"));
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists);
  auto missing = manager_->Get("nope", Admin());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("TrailNotFoundException"), std::string::npos);
  EXPECT_EQ(manager_->Delete("nope", Admin()).code(), absl::StatusCode::kNotFound);
}

TEST_F(TrailManagerTest, AccountAdminsCannotTouchOrganizationTrails) {
  ASSERT_TRUE(manager_->Create(Trail("org-trail"), Admin()).ok());
  Identity ops = AccountAdmin("222222222222");
  EXPECT_EQ(manager_->Create(Trail("mine", true), ops).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(manager_->SetLogging("org-trail", false, ops).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(manager_->Delete("org-trail", ops).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(manager_->Update(Trail("org-trail"), ops).status().code(), absl::StatusCode::kPermissionDenied);
  v1::PutEventSelectorsRequest put;
  put.set_trail_name("org-trail");
  put.add_event_selectors()->set_read_write_type(v1::WRITE_ONLY);
  EXPECT_EQ(manager_->PutEventSelectors(put, ops).status().code(), absl::StatusCode::kPermissionDenied);
  // It sees the org trail, may manage its own account trail, cannot see others'.
  EXPECT_TRUE(manager_->Get("org-trail", ops).ok());
  auto own = manager_->Create(Trail("ops-trail", false), ops);
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_EQ(own->owner_account_id(), "222222222222");
  ASSERT_TRUE(manager_->SetLogging("ops-trail", true, ops).ok());
  Identity other = AccountAdmin("444444444444");
  EXPECT_EQ(manager_->Get("ops-trail", other).status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(manager_->Delete("ops-trail", other).code(), absl::StatusCode::kOk);
  auto described = manager_->Describe({}, other);
  ASSERT_TRUE(described.ok());
  ASSERT_EQ(described->size(), 1u);
  EXPECT_EQ((*described)[0].name(), "org-trail");
  EXPECT_EQ(manager_->Create(Trail("x-trail"), Auditor()).status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(TrailManagerTest, PutEventSelectorsReplacesTheOtherKind) {
  v1::Trail t = Trail("sel-trail");
  t.add_event_selectors()->set_read_write_type(v1::WRITE_ONLY);
  ASSERT_TRUE(manager_->Create(t, Admin()).ok());
  v1::PutEventSelectorsRequest put;
  put.set_trail_name("sel-trail");
  auto* field = put.add_advanced_event_selectors()->add_field_selectors();
  field->set_field("eventCategory");
  field->add_equals("Management");
  auto updated = manager_->PutEventSelectors(put, Admin());
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->event_selectors_size(), 0);
  EXPECT_EQ(updated->advanced_event_selectors_size(), 1);
  EXPECT_TRUE(updated->has_custom_event_selectors());
  v1::PutEventSelectorsRequest empty;
  empty.set_trail_name("sel-trail");
  EXPECT_EQ(manager_->PutEventSelectors(empty, Admin()).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(TrailManagerTest, InsightSelectorsArePersistedPushedCheckedAndTurnedOffByAnEmptyList) {
  ASSERT_TRUE(manager_->Create(Trail("org-trail"), Admin()).ok());
  v1::PutInsightSelectorsRequest put;
  put.set_trail_name("org-trail");
  put.add_insight_selectors()->set_insight_type("ApiCallRateInsight");
  put.add_insight_selectors()->set_insight_type("ApiErrorRateInsight");
  EXPECT_EQ(manager_->PutInsightSelectors(put, AccountAdmin("222222222222")).status().code(),
            absl::StatusCode::kPermissionDenied);
  const uint64_t version = manager_->Config().version();
  auto updated = manager_->PutInsightSelectors(put, Admin());
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->insight_selectors_size(), 2);
  EXPECT_EQ(pushed_.back().version(), version + 1);  // agents and the Insights engine see the change
  Reopen();
  ASSERT_EQ(manager_->Config().trails(0).insight_selectors_size(), 2);

  v1::PutInsightSelectorsRequest bad = put;
  bad.add_insight_selectors()->set_insight_type("ApiCallRateInsight");
  auto refused = manager_->PutInsightSelectors(bad, Admin());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("InvalidInsightSelectorsException"), std::string_view::npos);
  bad.set_trail_name("no-such-trail");
  bad.mutable_insight_selectors()->RemoveLast();
  EXPECT_EQ(manager_->PutInsightSelectors(bad, Admin()).status().code(), absl::StatusCode::kNotFound);

  v1::PutInsightSelectorsRequest off;
  off.set_trail_name("org-trail");
  auto cleared = manager_->PutInsightSelectors(off, Admin());
  ASSERT_TRUE(cleared.ok()) << cleared.status();
  EXPECT_EQ(cleared->insight_selectors_size(), 0);
  Reopen();
  EXPECT_EQ(manager_->Config().trails(0).insight_selectors_size(), 0);
}

TEST_F(TrailManagerTest, DeliveriesUpdateTheStatusOfLoggingTrailsWithoutANewConfiguration) {
  v1::Trail validated = Trail("org-trail");
  validated.set_log_file_validation_enabled(true);
  ASSERT_TRUE(manager_->Create(validated, Admin()).ok());
  v1::Trail other = Trail("other-trail");
  other.set_s3_bucket_name("other-bucket");
  ASSERT_TRUE(manager_->Create(other, Admin()).ok());
  ASSERT_TRUE(manager_->Create(Trail("stopped-trail"), Admin()).ok());
  ASSERT_TRUE(manager_->SetLogging("org-trail", true, Admin()).ok());
  ASSERT_TRUE(manager_->SetLogging("other-trail", true, Admin()).ok());
  const uint64_t version = manager_->Config().version();
  const size_t pushes = pushed_.size();

  // The archive's deliveries (no trail name): for the trails naming its bucket and key prefix.
  TrailDelivery logs{"", false, 1'000'000, "", "org-trail-bucket", ""};
  ASSERT_TRUE(manager_->RecordDelivery(logs).ok());
  TrailDelivery digests{"", true, 2'000'000, "", "org-trail-bucket", ""};
  ASSERT_TRUE(manager_->RecordDelivery(digests).ok());
  TrailDelivery failed{"", false, 3'000'000, "UNAVAILABLE: connection refused", "org-trail-bucket", ""};
  ASSERT_TRUE(manager_->RecordDelivery(failed).ok());
  EXPECT_EQ(manager_->Config().version(), version) << "status is not configuration";
  EXPECT_EQ(pushed_.size(), pushes) << "nothing is pushed to agents";

  Reopen();  // persisted
  auto status = manager_->GetStatus("org-trail", Admin());
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->latest_delivery_time_us(), 1'000'000);  // the last success stays
  EXPECT_EQ(status->latest_delivery_attempt_time_us(), 3'000'000);
  EXPECT_EQ(status->latest_delivery_error(), "UNAVAILABLE: connection refused");
  EXPECT_EQ(status->latest_digest_delivery_time_us(), 2'000'000);
  EXPECT_GT(status->start_logging_time_us(), 0) << "the logging times are kept";
  auto elsewhere = manager_->GetStatus("other-trail", Admin());
  ASSERT_TRUE(elsewhere.ok());
  EXPECT_EQ(elsewhere->latest_delivery_time_us(), 0) << "the archive does not deliver for it";
  EXPECT_EQ(elsewhere->latest_delivery_attempt_time_us(), 0);
  // Its own delivery (trail name set) updates it alone; digests only with validation.
  TrailDelivery own{"other-trail", false, 5'000'000, "", "other-bucket", ""};
  ASSERT_TRUE(manager_->RecordDelivery(own).ok());
  TrailDelivery own_digest{"other-trail", true, 5'000'000, "", "other-bucket", ""};
  ASSERT_TRUE(manager_->RecordDelivery(own_digest).ok());
  elsewhere = manager_->GetStatus("other-trail", Admin());
  EXPECT_EQ(elsewhere->latest_delivery_time_us(), 5'000'000);
  EXPECT_EQ(elsewhere->latest_digest_delivery_time_us(), 0) << "no log file validation: no digests to report";
  EXPECT_EQ(manager_->GetStatus("org-trail", Admin())->latest_delivery_attempt_time_us(), 3'000'000);
  // A trail naming the archive's bucket under another key prefix is not the archive's.
  TrailDelivery prefixed{"", false, 6'000'000, "", "org-trail-bucket", "some/prefix"};
  ASSERT_TRUE(manager_->RecordDelivery(prefixed).ok());
  EXPECT_EQ(manager_->GetStatus("org-trail", Admin())->latest_delivery_attempt_time_us(), 3'000'000);
  auto stopped = manager_->GetStatus("stopped-trail", Admin());
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(stopped->latest_delivery_attempt_time_us(), 0);

  TrailDelivery recovered{"", false, 4'000'000, "", "org-trail-bucket", ""};
  ASSERT_TRUE(manager_->RecordDelivery(recovered).ok());
  status = manager_->GetStatus("org-trail", Admin());
  EXPECT_EQ(status->latest_delivery_error(), "");
  EXPECT_EQ(status->latest_delivery_time_us(), 4'000'000);
}

}  // namespace
}  // namespace orgtrail::collector
