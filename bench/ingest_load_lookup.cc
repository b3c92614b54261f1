// ingest_load_bench lookup: LookupEvents over gRPC/mTLS by each lookup
// attribute (values from the newest stored events) and by a 1-hour time
// range; p50/p99 ms per query. Flags and output: the header comment of
// ingest_load_bench.cc.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "ingest_load_common.h"
#include "ingest_load_modes.h"
#include "ingest_load_stream.h"
#include "orgtrail/common/tls.h"
#include "orgtrail/v1/query.grpc.pb.h"

namespace orgtrail::ingest_load {

int RunLookup(const Flags& f) {
  const std::string target = f.Get("target"), pki = f.Get("pki");
  const int iterations = static_cast<int>(f.Int("iterations", 50));
  if (target.empty() || pki.empty() || iterations < 1) return Fail("lookup: --target --pki --iterations >= 1");
  auto creds = MakeChannelCredentials(PkiFiles(pki, "auditor"));
  if (!creds.ok()) return Fail("auditor credentials: " + creds.status().ToString());
  auto query = v1::Query::NewStub(grpc::CreateChannel(target, *creds));
  auto call = [&](const v1::LookupEventsRequest& request, v1::LookupEventsResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return query->LookupEvents(&context, request, response);
  };
  // Values from a sample of stored events (newest page, data events included).
  v1::LookupEventsRequest sample_request;
  sample_request.set_max_results(200);
  sample_request.set_include_data_events(true);
  v1::LookupEventsResponse sample;
  grpc::Status st = call(sample_request, &sample);
  if (!st.ok() || sample.events_size() == 0) return Fail("lookup: no sample: " + st.error_message());
  std::map<std::string, std::vector<std::string>> values;
  int64_t newest = 0;
  for (const auto& e : sample.events()) {
    newest = std::max(newest, e.event_time_us());
    values["EventId"].push_back(e.event_id());
    values["EventName"].push_back(e.event_name());
    values["ReadOnly"].push_back(e.read_only());
    if (!e.username().empty()) values["Username"].push_back(e.username());
    if (!e.access_key_id().empty()) values["AccessKeyId"].push_back(e.access_key_id());
    values["EventSource"].push_back(e.event_source());
    for (const auto& r : e.resources()) {
      if (!r.resource_type().empty()) values["ResourceType"].push_back(r.resource_type());
      if (!r.resource_name().empty()) values["ResourceName"].push_back(r.resource_name());
    }
  }
  std::string out = "{\"mode\":\"lookup\",\"iterations\":" + std::to_string(iterations) + ",\"queries\":[";
  bool first_entry = true;
  auto report = [&](const std::string& name, std::vector<double> ms, long long results) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "%s{\"query\":\"%s\",\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"mean_results\":%.1f}",
                  first_entry ? "" : ",", name.c_str(), Percentile(ms, 0.5), Percentile(ms, 0.99),
                  static_cast<double>(results) / static_cast<double>(ms.size()));
    out += buf;
    first_entry = false;
  };
  for (const std::string key :
       {"EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource", "AccessKeyId"}) {
    const auto& vs = values[key];
    if (vs.empty()) continue;
    std::vector<double> ms;
    long long results = 0;
    for (int i = 0; i < iterations; ++i) {
      v1::LookupEventsRequest request;
      auto* a = request.add_lookup_attributes();
      a->set_attribute_key(key);
      a->set_attribute_value(vs[(i * 7919) % vs.size()]);
      request.set_max_results(50);
      request.set_include_data_events(true);
      v1::LookupEventsResponse response;
      auto t0 = Clock::now();
      st = call(request, &response);
      ms.push_back(Seconds(t0, Clock::now()) * 1000);
      if (!st.ok()) return Fail("lookup " + key + ": " + st.error_message());
      results += response.events_size();
    }
    report(key, ms, results);
  }
  {
    std::vector<double> ms;
    long long results = 0;
    for (int i = 0; i < iterations; ++i) {
      v1::LookupEventsRequest request;
      request.set_end_time_us(newest - static_cast<int64_t>(i) * 60'000'000);
      request.set_start_time_us(newest - static_cast<int64_t>(i) * 60'000'000 - 3'600'000'000LL);
      request.set_max_results(50);
      request.set_include_data_events(true);
      v1::LookupEventsResponse response;
      auto t0 = Clock::now();
      st = call(request, &response);
      ms.push_back(Seconds(t0, Clock::now()) * 1000);
      if (!st.ok()) return Fail("lookup time range: " + st.error_message());
      results += response.events_size();
    }
    report("TimeRange1h", ms, results);
  }
  out += "]";
  // The jq comparison target: the EventName of the first sample event.
  out += ",\"jq_event_name\":\"" + values["EventName"].front() + "\"}";
  std::printf("%s\n", out.c_str());
  return 0;
}

}  // namespace orgtrail::ingest_load
