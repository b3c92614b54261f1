// ingest_load_bench: what every mode shares: the parsed command line
// (`ingest_load_bench <mode> --flag value ...`), the failure exit, and timing
// helpers. Contract: Flags::Get / Flags::Int return the default when the flag
// is absent (Int reads the value with atoll). Fail prints
// "ingest_load_bench: <what>" on stderr and returns exit status 1.
// Percentile(v, p) (0 <= p <= 1) is the element at index round(p * (n - 1))
// of v sorted, -1 for an empty v. Pure functions; thread-safe.
#ifndef ORGTRAIL_BENCH_INGEST_LOAD_COMMON_H_
#define ORGTRAIL_BENCH_INGEST_LOAD_COMMON_H_

#include <chrono>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace orgtrail::ingest_load {

using Clock = std::chrono::steady_clock;

struct Flags {
  std::string mode;
  std::map<std::string, std::string> values;
  std::string Get(const std::string& k, const std::string& d = "") const {
    auto it = values.find(k);
    return it == values.end() ? d : it->second;
  }
  long long Int(const std::string& k, long long d) const {
    auto it = values.find(k);
    return it == values.end() ? d : std::atoll(it->second.c_str());
  }
};

int Fail(const std::string& what);

double Seconds(Clock::time_point a, Clock::time_point b);

double Percentile(std::vector<double> v, double p);

}  // namespace orgtrail::ingest_load

#endif  // ORGTRAIL_BENCH_INGEST_LOAD_COMMON_H_
