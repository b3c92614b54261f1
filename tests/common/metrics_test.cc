#include "orgtrail/common/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace orgtrail {
namespace {

TEST(Metrics, RendersPrometheusText) {
  MetricsRegistry r;
  r.GetCounter("orgtrail_events_refused_total", "Refused events.", {{"reason", "region_mismatch"}})->Increment(3);
  r.GetCounter("orgtrail_events_refused_total", "Refused events.", {{"reason", "bad \"sig\""}})->Increment();
  r.GetGauge("orgtrail_spool_depth", "Spool depth.")->Set(7);
  auto* h = r.GetHistogram("orgtrail_sync_seconds", "Sync latency.", {}, {0.001, 0.01});
  h->Observe(0.0005);
  h->Observe(0.005);
  h->Observe(5);
  r.AddGaugeCallback("orgtrail_agent_high_water", "Per agent.", [] {
    return std::vector<std::pair<MetricLabels, double>>{{{{"agent", "a1"}}, 12}};
  });
  const std::string text = r.RenderPrometheus();
  EXPECT_NE(text.find("# TYPE orgtrail_events_refused_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("orgtrail_events_refused_total{reason=\"region_mismatch\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("orgtrail_events_refused_total{reason=\"bad \\\"sig\\\"\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("orgtrail_spool_depth 7\n"), std::string::npos);
  EXPECT_NE(text.find("orgtrail_sync_seconds_bucket{le=\"0.001\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("orgtrail_sync_seconds_bucket{le=\"0.01\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("orgtrail_sync_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("orgtrail_sync_seconds_count 3\n"), std::string::npos);
  EXPECT_NE(text.find("orgtrail_agent_high_water{agent=\"a1\"} 12\n"), std::string::npos);
}

TEST(Metrics, SameNameAndLabelsIsSameObject) {
  MetricsRegistry r;
  EXPECT_EQ(r.GetCounter("c", "h", {{"a", "1"}}), r.GetCounter("c", "h", {{"a", "1"}}));
  EXPECT_NE(r.GetCounter("c", "h", {{"a", "1"}}), r.GetCounter("c", "h", {{"a", "2"}}));
}

TEST(Metrics, ConcurrentIncrementsAreCounted) {
  MetricsRegistry r;
  Counter* c = r.GetCounter("c", "h");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([c] { for (int i = 0; i < 10000; ++i) c->Increment(); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(c->value(), 40000u);
}

}  // namespace
}  // namespace orgtrail
