#include "trail_json.h"

#include "orgtrail/common/time_util.h"

namespace orgtrail::cli {
namespace {



std::string StringArray(const google::protobuf::RepeatedPtrField<std::string>& values) {
  std::string out = "[";
  for (int i = 0; i < values.size(); ++i) out += (i ? ", " : "") + JsonQuote(values[i]);
  return out + "]";
}

const char* ReadWriteName(v1::ReadWriteType type) {
  switch (type) {
    case v1::READ_ONLY: return "ReadOnly";
    case v1::WRITE_ONLY: return "WriteOnly";
    default: return "All";
  }
}

}  // namespace

std::string TrailJson(const v1::Trail& t) {
  return JsonObject()
      .Str("Name", t.name())
      .Str("S3BucketName", t.s3_bucket_name())
      .Str("S3KeyPrefix", t.s3_key_prefix())
      .Bool("IncludeGlobalServiceEvents", t.include_global_service_events())
      .Bool("IsMultiRegionTrail", t.is_multi_region_trail())
      .Str("HomeRegion", t.home_region())
      .Str("TrailARN", t.trail_arn())
      .Bool("LogFileValidationEnabled", t.log_file_validation_enabled())
      .Bool("HasCustomEventSelectors", t.has_custom_event_selectors())
      .Bool("HasInsightSelectors", t.insight_selectors_size() > 0)
      .Bool("IsOrganizationTrail", t.is_organization_trail())
      .Done();
}

namespace {

std::string EventSelectorsJson(const google::protobuf::RepeatedPtrField<v1::EventSelector>& selectors) {
  std::string out = "[";
  for (int i = 0; i < selectors.size(); ++i) {
    const auto& s = selectors[i];
    std::string resources = "[";
    for (int j = 0; j < s.data_resources_size(); ++j) {
      resources += (j ? ", " : "") + JsonObject()
                                         .Str("Type", s.data_resources(j).type())
                                         .Raw("Values", StringArray(s.data_resources(j).values()))
                                         .Done();
    }
    resources += "]";
    out += (i ? ", " : "") +
           JsonObject()
               .Str("ReadWriteType", ReadWriteName(s.read_write_type()))
               .Bool("IncludeManagementEvents",
                     !s.has_include_management_events() || s.include_management_events())
               .Raw("DataResources", resources)
               .Raw("ExcludeManagementEventSources", StringArray(s.exclude_management_event_sources()))
               .Done();
  }
  return out + "]";
}

std::string AdvancedSelectorsJson(
    const google::protobuf::RepeatedPtrField<v1::AdvancedEventSelector>& selectors) {
  std::string out = "[";
  for (int i = 0; i < selectors.size(); ++i) {
    std::string fields = "[";
    for (int j = 0; j < selectors[i].field_selectors_size(); ++j) {
      const auto& f = selectors[i].field_selectors(j);
      JsonObject o;
      o.Str("Field", f.field());
      if (f.equals_size()) o.Raw("Equals", StringArray(f.equals()));
      if (f.starts_with_size()) o.Raw("StartsWith", StringArray(f.starts_with()));
      if (f.ends_with_size()) o.Raw("EndsWith", StringArray(f.ends_with()));
      if (f.not_equals_size()) o.Raw("NotEquals", StringArray(f.not_equals()));
      if (f.not_starts_with_size()) o.Raw("NotStartsWith", StringArray(f.not_starts_with()));
      if (f.not_ends_with_size()) o.Raw("NotEndsWith", StringArray(f.not_ends_with()));
      fields += (j ? ", " : "") + o.Done();
    }
    fields += "]";
    out += (i ? ", " : "") +
           JsonObject().Str("Name", selectors[i].name()).Raw("FieldSelectors", fields).Done();
  }
  return out + "]";
}

}  // namespace

std::string SelectorsResponseJson(const v1::GetEventSelectorsResponse& r) {
  JsonObject o;
  o.Str("TrailARN", r.trail_arn());
  if (r.advanced_event_selectors_size() > 0) {
    o.Raw("AdvancedEventSelectors", AdvancedSelectorsJson(r.advanced_event_selectors()));
  } else {
    o.Raw("EventSelectors", EventSelectorsJson(r.event_selectors()));
  }
  return o.Done();
}

std::string InsightSelectorsJson(const v1::GetInsightSelectorsResponse& r) {
  std::string list = "[";
  for (int i = 0; i < r.insight_selectors_size(); ++i) {
    list += (i ? ", " : "") + JsonObject().Str("InsightType", r.insight_selectors(i).insight_type()).Done();
  }
  return JsonObject().Str("TrailARN", r.trail_arn()).Raw("InsightSelectors", list + "]").Done();
}

namespace {

std::string TimeOrNull(int64_t micros) {
  return micros > 0 ? JsonQuote(FormatRfc3339Seconds(micros)) : "null";
}

}  // namespace

std::string TrailStatusJson(const v1::TrailStatus& s) {
  return JsonObject()
      .Bool("IsLogging", s.is_logging())
      .Raw("StartLoggingTime", TimeOrNull(s.start_logging_time_us()))
      .Raw("StopLoggingTime", TimeOrNull(s.stop_logging_time_us()))
      .Raw("LatestDeliveryTime", TimeOrNull(s.latest_delivery_time_us()))
      .Raw("LatestDeliveryError", s.latest_delivery_error().empty() ? "null" : JsonQuote(s.latest_delivery_error()))
      .Raw("LatestDigestDeliveryTime", TimeOrNull(s.latest_digest_delivery_time_us()))
      .Raw("LatestDigestDeliveryError",
           s.latest_digest_delivery_error().empty() ? "null" : JsonQuote(s.latest_digest_delivery_error()))
      .Raw("LatestDeliveryAttemptTime", TimeOrNull(s.latest_delivery_attempt_time_us()))
      .Raw("LatestDeliveryAttemptSucceeded", TimeOrNull(s.latest_delivery_time_us()))
      .Done();
}

}  // namespace orgtrail::cli
