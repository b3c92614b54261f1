// ingest_load_bench: helpers every mode shares (see ingest_load_common.h).
#include "ingest_load_common.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace orgtrail::ingest_load {

int Fail(const std::string& what) {
  std::fprintf(stderr, "ingest_load_bench: %s\n", what.c_str());
  return 1;
}

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace orgtrail::ingest_load
