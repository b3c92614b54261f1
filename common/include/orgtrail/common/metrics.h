// Prometheus metrics (text exposition format 0.0.4): counters, gauges,
// histograms and callback gauges, registered in a MetricsRegistry owned by
// main() and passed to components. Metric objects are owned by the registry,
// live as long as it does, and are updated lock-free (atomics); registration
// and rendering take a mutex. Registering the same name+labels twice returns
// the same object.
#ifndef ORGTRAIL_COMMON_METRICS_H_
#define ORGTRAIL_COMMON_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace orgtrail {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Increment(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }
 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double d);
  double value() const { return value_.load(std::memory_order_relaxed); }
 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double v);
  std::vector<uint64_t> bucket_counts() const;  // cumulative, one per bound, then +Inf
  const std::vector<double>& upper_bounds() const { return bounds_; }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const;
 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};  // sum scaled by 1e6
};

// Default latency buckets in seconds: 0.0005 .. 10.
std::vector<double> DefaultLatencyBuckets();

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();  // out of line: Family is incomplete here
  Counter* GetCounter(const std::string& name, const std::string& help, const MetricLabels& labels = {});
  Gauge* GetGauge(const std::string& name, const std::string& help, const MetricLabels& labels = {});
  Histogram* GetHistogram(const std::string& name, const std::string& help,
                          const MetricLabels& labels = {},
                          std::vector<double> upper_bounds = DefaultLatencyBuckets());
  // Gauge family computed at render time (e.g. per-agent high-water marks).
  using GaugeCallback = std::function<std::vector<std::pair<MetricLabels, double>>()>;
  void AddGaugeCallback(const std::string& name, const std::string& help, GaugeCallback callback);

  std::string RenderPrometheus() const;

 private:
  struct Family;
  Family* FamilyLocked(const std::string& name, const std::string& help, const char* type);
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>> families_;
};

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_METRICS_H_
