// StreamRegistry and revocation: CloseMatching closes exactly the streams its
// predicate picks (Hello'd or not, once each), and the watchdog closes a
// stream when its certificate's notAfter passes, counting both by reason.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>

#include "collector/ingest/stream_registry.h"
#include "orgtrail/common/time_util.h"
#include "testutil/wait_for.h"

namespace orgtrail::collector {
namespace {

class RecordingCloser : public StreamCloser {
 public:
  bool FenceAndDrain(int64_t) override { return true; }
  void Close(const StreamClose& why) override {
    std::lock_guard<std::mutex> lock(mu);
    code = why.code;
    rule = why.rule;
    message = why.message;
    ++closed;
  }
  std::string Rule() {
    std::lock_guard<std::mutex> lock(mu);
    return rule;
  }
  std::atomic<int> closed{0};
  std::mutex mu;
  absl::StatusCode code = absl::StatusCode::kOk;
  std::string rule;
  std::string message;
};

RevocationSubject Cert(const std::string& serial, int64_t not_after_us = 0) {
  RevocationSubject s;
  s.issuer = "CN=ca";
  s.serial = serial;
  s.fingerprint = std::string(64, serial.empty() ? '0' : serial[0]);
  s.not_after_us = not_after_us;
  return s;
}

class StreamRegistryRevocationTest : public ::testing::Test {
 protected:
  std::shared_ptr<AdmittedStream> Admit(StreamRegistry& r, const std::string& id, RevocationSubject cert) {
    std::string rule;
    auto s = r.Admit(id, "peer-" + id, nullptr, &rule, std::move(cert));
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : nullptr;
  }
  double Closed(const std::string& reason) {
    return static_cast<double>(
        metrics_.GetCounter("orgtrail_collector_ingest_streams_closed_total", "", {{"reason", reason}})->value());
  }
  Logger logger_{"test", 2, LogLevel::kError};
  MetricsRegistry metrics_;
};

TEST_F(StreamRegistryRevocationTest, CloseMatchingClosesOnlyPickedStreamsOnce) {
  StreamRegistry r(StreamLimits{}, &logger_, &metrics_);
  auto revoked = Admit(r, "a", Cert("1a"));
  auto kept = Admit(r, "b", Cert("2b"));
  auto revoked_without_hello = Admit(r, "c", Cert("1a"));
  auto revoked_closer = std::make_shared<RecordingCloser>();
  auto kept_closer = std::make_shared<RecordingCloser>();
  revoked->SetCloser(revoked_closer);
  kept->SetCloser(kept_closer);
  ASSERT_TRUE(r.Activate(revoked, 1).ok());
  ASSERT_TRUE(r.Activate(kept, 1).ok());

  auto pick = [](const AdmittedStream& s) -> std::optional<StreamClose> {
    if (s.certificate().serial != "1a") return std::nullopt;
    return StreamClose{absl::StatusCode::kPermissionDenied, "certificate_revoked", "serial 1a is revoked"};
  };
  EXPECT_EQ(r.CloseMatching(pick), 2u);
  EXPECT_EQ(revoked_closer->closed.load(), 1);
  EXPECT_EQ(revoked_closer->Rule(), "certificate_revoked");
  EXPECT_EQ(revoked_closer->code, absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(kept_closer->closed.load(), 0);
  ASSERT_TRUE(revoked_without_hello->closed_by_registry().has_value());  // no closer: the call is cancelled
  EXPECT_EQ(revoked_without_hello->closed_by_registry()->rule, "certificate_revoked");
  EXPECT_FALSE(kept->closed_by_registry().has_value());
  EXPECT_EQ(Closed("certificate_revoked"), 2);

  // A second reload naming the same certificate closes nothing more.
  EXPECT_EQ(r.CloseMatching(pick), 0u);
  EXPECT_EQ(revoked_closer->closed.load(), 1);
  EXPECT_EQ(Closed("certificate_revoked"), 2);
  // Closed streams stay registered until their handler releases them.
  EXPECT_EQ(r.open_streams(), 3u);
  r.Release(revoked);
  r.Release(revoked_without_hello);
  EXPECT_EQ(r.open_streams(), 1u);
}

TEST_F(StreamRegistryRevocationTest, WatchdogClosesAStreamWhenItsCertificateExpires) {
  StreamLimits limits;
  limits.watchdog_period_us = 10'000;
  StreamRegistry r(limits, &logger_, &metrics_);
  r.Start();
  const int64_t expires = NowMicros() + 300'000;
  auto expiring = Admit(r, "a", Cert("1a", expires));
  auto lasting = Admit(r, "b", Cert("2b", NowMicros() + 3600'000'000LL));
  auto unknown = Admit(r, "c", RevocationSubject{});  // no certificate facts: never closed for expiry
  auto expiring_closer = std::make_shared<RecordingCloser>();
  auto lasting_closer = std::make_shared<RecordingCloser>();
  expiring->SetCloser(expiring_closer);
  lasting->SetCloser(lasting_closer);
  ASSERT_TRUE(r.Activate(expiring, 1).ok());
  ASSERT_TRUE(r.Activate(lasting, 1).ok());
  EXPECT_EQ(expiring_closer->closed.load(), 0);

  ASSERT_TRUE(testutil::WaitFor([&] { return expiring_closer->closed.load() == 1; }, std::chrono::seconds(10)));
  EXPECT_GE(NowMicros(), expires);
  EXPECT_EQ(expiring_closer->Rule(), "certificate_expired");
  EXPECT_EQ(expiring_closer->code, absl::StatusCode::kUnauthenticated);
  EXPECT_NE(expiring_closer->message.find("serial 1a"), std::string::npos) << expiring_closer->message;
  EXPECT_EQ(Closed("certificate_expired"), 1);
  // The round that closed it looked at the others too, and left them alone.
  EXPECT_EQ(lasting_closer->closed.load(), 0);
  EXPECT_FALSE(unknown->closed_by_registry().has_value());
  EXPECT_EQ(Closed("certificate_expired"), 1);
  r.Stop();
}

}  // namespace
}  // namespace orgtrail::collector
