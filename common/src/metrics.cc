#include "orgtrail/common/metrics.h"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace orgtrail {

struct MetricsRegistry::Family {
  std::string name;
  std::string help;
  std::string type;  // counter | gauge | histogram
  std::map<MetricLabels, std::unique_ptr<Counter>> counters;
  std::map<MetricLabels, std::unique_ptr<Gauge>> gauges;
  std::map<MetricLabels, std::unique_ptr<Histogram>> histograms;
  std::vector<GaugeCallback> callbacks;
};

namespace {

std::string EscapeLabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string EscapeHelp(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string FormatLabels(const MetricLabels& labels, const std::string& extra_key = "",
                         const std::string& extra_value = "") {
  if (labels.empty() && extra_key.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ",";
    first = false;
    out += k + "=\"" + EscapeLabelValue(v) + "\"";
  }
  if (!extra_key.empty()) {
    if (!first) out += ",";
    out += extra_key + "=\"" + extra_value + "\"";
  }
  out += "}";
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  } else {
    std::snprintf(buf, sizeof(buf), "%.9g", v);
  }
  return buf;
}

}  // namespace

void Gauge::Add(double d) {
  double cur = value_.load(std::memory_order_relaxed);
  while (!value_.compare_exchange_weak(cur, cur + d, std::memory_order_relaxed)) {
  }
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  if (v > 0 && std::isfinite(v)) {
    sum_micros_.fetch_add(static_cast<uint64_t>(v * 1e6), std::memory_order_relaxed);
  }
}

std::vector<uint64_t> Histogram::bucket_counts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out[i] = cumulative;
  }
  return out;
}

double Histogram::sum() const { return static_cast<double>(sum_micros_.load()) / 1e6; }

std::vector<double> DefaultLatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

MetricsRegistry::Family* MetricsRegistry::FamilyLocked(const std::string& name,
                                                       const std::string& help, const char* type) {
  auto& slot = families_[name];
  if (!slot) {
    slot = std::make_unique<Family>();
    slot->name = name;
    slot->help = help;
    slot->type = type;
  }
  return slot.get();
}

Counter* MetricsRegistry::GetCounter(const std::string& name, const std::string& help,
                                     const MetricLabels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Family* f = FamilyLocked(name, help, "counter");
  auto& c = f->counters[labels];
  if (!c) c = std::make_unique<Counter>();
  return c.get();
}

Gauge* MetricsRegistry::GetGauge(const std::string& name, const std::string& help,
                                 const MetricLabels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Family* f = FamilyLocked(name, help, "gauge");
  auto& g = f->gauges[labels];
  if (!g) g = std::make_unique<Gauge>();
  return g.get();
}

Histogram* MetricsRegistry::GetHistogram(const std::string& name, const std::string& help,
                                         const MetricLabels& labels,
                                         std::vector<double> upper_bounds) {
  std::lock_guard<std::mutex> lock(mu_);
  Family* f = FamilyLocked(name, help, "histogram");
  auto& h = f->histograms[labels];
  if (!h) h = std::make_unique<Histogram>(std::move(upper_bounds));
  return h.get();
}

void MetricsRegistry::AddGaugeCallback(const std::string& name, const std::string& help,
                                       GaugeCallback callback) {
  std::lock_guard<std::mutex> lock(mu_);
  FamilyLocked(name, help, "gauge")->callbacks.push_back(std::move(callback));
}

std::string MetricsRegistry::RenderPrometheus() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + " " + EscapeHelp(f->help) + "\n";
    out += "# TYPE " + name + " " + f->type + "\n";
    for (const auto& [labels, c] : f->counters) {
      out += name + FormatLabels(labels) + " " + std::to_string(c->value()) + "\n";
    }
    for (const auto& [labels, g] : f->gauges) {
      out += name + FormatLabels(labels) + " " + FormatValue(g->value()) + "\n";
    }
    for (const auto& cb : f->callbacks) {
      for (const auto& [labels, v] : cb()) {
        out += name + FormatLabels(labels) + " " + FormatValue(v) + "\n";
      }
    }
    for (const auto& [labels, h] : f->histograms) {
      const auto counts = h->bucket_counts();
      for (size_t i = 0; i < h->upper_bounds().size(); ++i) {
        out += name + "_bucket" + FormatLabels(labels, "le", FormatValue(h->upper_bounds()[i])) +
               " " + std::to_string(counts[i]) + "\n";
      }
      out += name + "_bucket" + FormatLabels(labels, "le", "+Inf") + " " +
             std::to_string(counts.back()) + "\n";
      out += name + "_sum" + FormatLabels(labels) + " " + FormatValue(h->sum()) + "\n";
      out += name + "_count" + FormatLabels(labels) + " " + std::to_string(h->count()) + "\n";
    }
  }
  return out;
}

}  // namespace orgtrail
