// Trail evaluation and trail definition validation (see selectors.h).
#include "orgtrail/common/selectors.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <string>

#include <type_traits>
#include "orgtrail/common/classify.h"

#include "orgtrail/common/str_cat.h"

namespace orgtrail {
namespace {


using google::protobuf::RepeatedPtrField;

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}
bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool ReadWriteTypeFits(v1::ReadWriteType type, const v1::Event& event) {
  switch (type) {
    case v1::READ_ONLY:
      return IsReadOnly(event);
    case v1::WRITE_ONLY:
      return !IsReadOnly(event);
    default:
      return true;
  }
}

// "arn:<partition>:<service>" or "arn:<partition>:<service>:::" style values
// that stand for every resource of the type.
bool IsAllOfTypeValue(std::string_view value, std::string_view service) {
  if (!StartsWith(value, "arn:")) return false;
  const size_t partition_end = value.find(':', 4);
  if (partition_end == std::string_view::npos) return false;
  std::string_view rest = value.substr(partition_end + 1);
  if (!StartsWith(rest, service)) return false;
  rest.remove_prefix(service.size());
  return rest.empty() || rest.find_first_not_of(':') == std::string_view::npos;
}

std::string_view ServiceOfDataResourceType(std::string_view type) {
  if (type == "AWS::S3::Object") return "s3";
  if (type == "AWS::Lambda::Function") return "lambda";
  if (type == "AWS::DynamoDB::Table") return "dynamodb";
  return "";
}

bool DataResourceValueMatches(std::string_view type, std::string_view value,
                              std::string_view arn) {
  const std::string_view service = ServiceOfDataResourceType(type);
  if (service.empty() || value.empty()) return false;
  if (IsAllOfTypeValue(value, service)) return StartsWith(arn, "arn:");
  if (type == "AWS::S3::Object") return StartsWith(arn, value);  // bucket or object prefix
  return arn == value;                                          // Lambda, DynamoDB: exact
}

// Values of a non-resource field; null when the event does not carry it.
bool EventFieldValue(std::string_view field, const v1::Event& event, std::string* out) {
  if (field == "eventCategory") {
    *out = event.event_category().empty() ? "Management" : event.event_category();
  } else if (field == "readOnly") {
    *out = IsReadOnly(event) ? "true" : "false";
  } else if (field == "eventSource") {
    *out = event.event_source();
  } else if (field == "eventName") {
    *out = event.event_name();
  } else if (field == "eventType") {
    *out = event.event_type();
  } else if (field == "userIdentity.arn") {
    if (event.principal_arn().empty()) return false;
    *out = event.principal_arn();
  } else if (field == "sessionCredentialFromConsole") {
    if (event.session_credential_from_console().empty()) return false;
    *out = event.session_credential_from_console();
  } else if (field == "errorCode") {
    if (event.error_code().empty()) return false;
    *out = event.error_code();
  } else if (field == "vpcEndpointId") {
    if (event.vpc_endpoint_id().empty()) return false;
    *out = event.vpc_endpoint_id();
  } else {
    return false;
  }
  return true;
}

bool IsResourceField(std::string_view field) {
  return field == "resources.type" || field == "resources.ARN";
}

bool ResourceSatisfies(const std::vector<const v1::AdvancedFieldSelector*>& conditions,
                       const v1::Resource& resource) {
  for (const auto* condition : conditions) {
    const std::string& value =
        condition->field() == "resources.type" ? resource.type() : resource.arn();
    const std::string* present = value.empty() ? nullptr : &value;
    if (!AdvancedFieldSelectorMatchesValue(*condition, present)) return false;
  }
  return true;
}

Status InvalidSelector(std::string_view message) {
  return absl::InvalidArgumentError(StrCat("InvalidEventSelectorsException: ", message));
}

bool IsIpAddressLike(std::string_view name) {
  int dots = 0;
  for (char c : name) {
    if (c == '.') {
      ++dots;
    } else if (!std::isdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return dots == 3;
}

bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

}  // namespace

bool TrailCoversRegion(const v1::Trail& trail, const v1::Event& event, bool is_global_event,
                       std::string_view global_home_region) {
  if (is_global_event) {
    if (!trail.include_global_service_events()) return false;
    return trail.is_multi_region_trail() || trail.home_region() == global_home_region;
  }
  return trail.is_multi_region_trail() || trail.home_region() == event.aws_region();
}

bool DataResourceMatches(const v1::DataResource& resource, const v1::Event& event) {
  for (const auto& event_resource : event.resources()) {
    if (event_resource.type() != resource.type()) continue;
    for (const auto& value : resource.values()) {
      if (DataResourceValueMatches(resource.type(), value, event_resource.arn())) return true;
    }
  }
  return false;
}

bool EventSelectorMatches(const v1::EventSelector& selector, const v1::Event& event) {
  if (!ReadWriteTypeFits(selector.read_write_type(), event)) return false;
  if (IsManagementEvent(event)) {
    const bool include = !selector.has_include_management_events() ||
                         selector.include_management_events();
    if (!include) return false;
    const auto& excluded = selector.exclude_management_event_sources();
    return std::find(excluded.begin(), excluded.end(), event.event_source()) == excluded.end();
  }
  if (IsDataEvent(event)) {
    for (const auto& resource : selector.data_resources()) {
      if (DataResourceMatches(resource, event)) return true;
    }
  }
  return false;
}

bool BasicSelectorsMatch(const RepeatedPtrField<v1::EventSelector>& selectors,
                         const v1::Event& event) {
  if (selectors.empty()) return IsManagementEvent(event);
  for (const auto& selector : selectors) {
    if (EventSelectorMatches(selector, event)) return true;
  }
  return false;
}

bool AdvancedFieldSelectorMatchesValue(const v1::AdvancedFieldSelector& field,
                                       const std::string* value) {
  const bool has_select_ops =
      field.equals_size() + field.starts_with_size() + field.ends_with_size() > 0;
  if (has_select_ops) {
    if (value == nullptr) return false;
    bool selected = false;
    for (const auto& v : field.equals()) selected = selected || *value == v;
    for (const auto& v : field.starts_with()) selected = selected || StartsWith(*value, v);
    for (const auto& v : field.ends_with()) selected = selected || EndsWith(*value, v);
    if (!selected) return false;
  }
  if (value == nullptr) return true;
  for (const auto& v : field.not_equals()) {
    if (*value == v) return false;
  }
  for (const auto& v : field.not_starts_with()) {
    if (StartsWith(*value, v)) return false;
  }
  for (const auto& v : field.not_ends_with()) {
    if (EndsWith(*value, v)) return false;
  }
  return true;
}

bool AdvancedSelectorMatches(const v1::AdvancedEventSelector& selector, const v1::Event& event) {
  std::vector<const v1::AdvancedFieldSelector*> resource_conditions;
  std::string value;
  for (const auto& field : selector.field_selectors()) {
    if (IsResourceField(field.field())) {
      resource_conditions.push_back(&field);
      continue;
    }
    const bool present = EventFieldValue(field.field(), event, &value);
    if (!present && !(field.field() == "userIdentity.arn" ||
                      field.field() == "sessionCredentialFromConsole" ||
                      field.field() == "errorCode" || field.field() == "vpcEndpointId")) {
      return false;  // unknown field
    }
    if (!AdvancedFieldSelectorMatchesValue(field, present ? &value : nullptr)) return false;
  }
  if (resource_conditions.empty()) return true;
  for (const auto& resource : event.resources()) {
    if (ResourceSatisfies(resource_conditions, resource)) return true;
  }
  // No resource at all: the conditions are judged against an absent value.
  if (event.resources().empty()) {
    for (const auto* condition : resource_conditions) {
      if (!AdvancedFieldSelectorMatchesValue(*condition, nullptr)) return false;
    }
    return true;
  }
  return false;
}

bool TrailSelectsEvent(const v1::Trail& trail, const v1::Event& event, bool is_global_event,
                       std::string_view global_home_region) {
  if (!trail.is_logging()) return false;
  if (!TrailCoversRegion(trail, event, is_global_event, global_home_region)) return false;
  if (!trail.advanced_event_selectors().empty()) {
    for (const auto& selector : trail.advanced_event_selectors()) {
      if (AdvancedSelectorMatches(selector, event)) return true;
    }
    return false;
  }
  return BasicSelectorsMatch(trail.event_selectors(), event);
}

TrailEvaluator::TrailEvaluator(v1::TrailConfig config, GlobalServiceClassifier classifier)
    : config_(std::move(config)),
      classifier_(std::move(classifier)),
      global_home_region_(config_.home_region().empty() ? std::string(kDefaultGlobalHomeRegion)
                                                        : config_.home_region()) {}

bool TrailEvaluator::Selects(const v1::Event& event, std::vector<std::string>* trails) const {
  if (trails != nullptr) trails->clear();
  const bool is_global = classifier_.IsGlobal(event);
  bool selected = false;
  for (const auto& trail : config_.trails()) {
    if (!TrailSelectsEvent(trail, event, is_global, global_home_region_)) continue;
    selected = true;
    if (trails == nullptr) break;
    trails->push_back(trail.name());
  }
  return selected;
}

// ---------------------------------------------------------------------------
// Validation.

Status ValidateTrailName(std::string_view name) {
  auto invalid = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        StrCat("InvalidTrailNameException: trail name '", name, "' ", why));
  };
  if (name.size() < 3 || name.size() > 128) return invalid("must be 3-128 characters");
  for (char c : name) {
    if (!IsAlnum(c) && c != '.' && c != '_' && c != '-') {
      return invalid("may contain only letters, digits, '.', '_' and '-'");
    }
  }
  if (!IsAlnum(name.front()) || !IsAlnum(name.back())) {
    return invalid("must start and end with a letter or digit");
  }
  for (size_t i = 1; i < name.size(); ++i) {
    if (!IsAlnum(name[i]) && !IsAlnum(name[i - 1])) {
      return invalid("must not have adjacent '.', '_' or '-'");
    }
  }
  if (IsIpAddressLike(name)) return invalid("must not be an IP address");
  return absl::OkStatus();
}

Status ValidateEventSelectors(const RepeatedPtrField<v1::EventSelector>& selectors) {
  if (selectors.size() > 5) return InvalidSelector("at most 5 event selectors per trail");
  int data_resource_values = 0;
  for (int i = 0; i < selectors.size(); ++i) {
    const auto& selector = selectors[i];
    for (const auto& source : selector.exclude_management_event_sources()) {
      if (source != "kms.amazonaws.com" && source != "rdsdata.amazonaws.com") {
        return InvalidSelector(StrCat(
            "ExcludeManagementEventSources accepts only kms.amazonaws.com and "
            "rdsdata.amazonaws.com, got '", source, "'"));
      }
    }
    for (const auto& resource : selector.data_resources()) {
      const std::string_view service = ServiceOfDataResourceType(resource.type());
      if (service.empty()) {
        return InvalidSelector(StrCat(
            "DataResources Type must be AWS::S3::Object, AWS::Lambda::Function or "
            "AWS::DynamoDB::Table, got '", resource.type(), "'"));
      }
      if (resource.values().empty()) {
        return InvalidSelector(StrCat("DataResources of type ", resource.type(),
                                            " need at least one value"));
      }
      for (const auto& value : resource.values()) {
        if (!StartsWith(value, "arn:")) {
          return InvalidSelector(StrCat("data resource value '", value,
                                              "' is not an ARN"));
        }
        if (!IsAllOfTypeValue(value, service)) ++data_resource_values;
      }
    }
  }
  if (data_resource_values > 250) {
    return InvalidSelector("at most 250 data resources per trail");
  }
  return absl::OkStatus();
}

namespace {

bool IsKnownAdvancedField(std::string_view field) {
  static const std::set<std::string_view> kFields = {
      "eventCategory", "readOnly",         "eventSource",     "eventName",
      "eventType",     "resources.type",   "resources.ARN",   "userIdentity.arn",
      "sessionCredentialFromConsole", "errorCode", "vpcEndpointId"};
  return kFields.count(field) > 0;
}

int CountValues(const v1::AdvancedFieldSelector& f) {
  return f.equals_size() + f.starts_with_size() + f.ends_with_size() + f.not_equals_size() +
         f.not_starts_with_size() + f.not_ends_with_size();
}

bool OnlyEquals(const v1::AdvancedFieldSelector& f) {
  return CountValues(f) == f.equals_size();
}

Status ValidateFieldValues(const v1::AdvancedFieldSelector& f) {
  for (const auto* list : {&f.equals(), &f.starts_with(), &f.ends_with(), &f.not_equals(),
                           &f.not_starts_with(), &f.not_ends_with()}) {
    for (const auto& value : *list) {
      if (value.empty() || value.size() > 2048) {
        return InvalidSelector(StrCat("field '", f.field(),
                                            "': every value must be 1-2048 characters"));
      }
    }
  }
  return absl::OkStatus();
}

Status ValidateFieldRules(const v1::AdvancedFieldSelector& f) {
  const std::string& field = f.field();
  if (field == "eventCategory") {
    if (!OnlyEquals(f)) return InvalidSelector("eventCategory supports only Equals");
    for (const auto& v : f.equals()) {
      if (v != "Management" && v != "Data" && v != "NetworkActivity") {
        return InvalidSelector(StrCat(
            "eventCategory must be Management, Data or NetworkActivity, got '", v, "'"));
      }
    }
  } else if (field == "readOnly") {
    if (!OnlyEquals(f)) return InvalidSelector("readOnly supports only Equals");
    for (const auto& v : f.equals()) {
      if (v != "true" && v != "false") {
        return InvalidSelector(StrCat("readOnly must be true or false, got '", v, "'"));
      }
    }
  } else if (field == "resources.type") {
    if (!OnlyEquals(f)) return InvalidSelector("resources.type supports only Equals");
  } else if (field == "sessionCredentialFromConsole") {
    if (f.starts_with_size() + f.ends_with_size() + f.not_starts_with_size() +
            f.not_ends_with_size() > 0) {
      return InvalidSelector("sessionCredentialFromConsole supports only Equals and NotEquals");
    }
  } else if (field == "errorCode") {
    if (!OnlyEquals(f)) return InvalidSelector("errorCode supports only Equals");
    for (const auto& v : f.equals()) {
      if (v != "VpceAccessDenied") {
        return InvalidSelector("errorCode supports only the value VpceAccessDenied");
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

Status ValidateAdvancedEventSelectors(
    const RepeatedPtrField<v1::AdvancedEventSelector>& selectors) {
  int total_values = 0;
  for (const auto& selector : selectors) {
    if (selector.name().size() > 1000) {
      return InvalidSelector("advanced event selector name longer than 1000 characters");
    }
    if (selector.field_selectors().empty()) {
      return InvalidSelector(StrCat("advanced event selector '", selector.name(),
                                          "' needs at least one field selector"));
    }
    bool has_category = false;
    for (const auto& field : selector.field_selectors()) {
      if (!IsKnownAdvancedField(field.field())) {
        return InvalidSelector(StrCat("unknown field '", field.field().substr(0, 100),
                                            "' in advanced event selector '",
                                            selector.name(), "'"));
      }
      if (CountValues(field) == 0) {
        return InvalidSelector(StrCat("field '", field.field(),
                                            "' needs at least one operator with a value"));
      }
      ORGTRAIL_RETURN_IF_ERROR(ValidateFieldValues(field));
      ORGTRAIL_RETURN_IF_ERROR(ValidateFieldRules(field));
      has_category = has_category || field.field() == "eventCategory";
      total_values += CountValues(field);
    }
    if (!has_category) {
      return InvalidSelector(StrCat("advanced event selector '", selector.name(),
                                          "' must have an eventCategory field selector"));
    }
  }
  if (total_values > 500) {
    return InvalidSelector("at most 500 values across all advanced event selectors");
  }
  return absl::OkStatus();
}

Status ValidateTrail(const v1::Trail& trail) {
  ORGTRAIL_RETURN_IF_ERROR(ValidateTrailName(trail.name()));
  if (!trail.home_region().empty() && !IsValidRegionName(trail.home_region())) {
    return absl::InvalidArgumentError(StrCat(
        "InvalidHomeRegionException: '", trail.home_region(), "' is not a Region name"));
  }
  if (trail.s3_key_prefix().size() > 200) {
    return absl::InvalidArgumentError(
        "InvalidS3PrefixException: S3KeyPrefix longer than 200 characters");
  }
  if (!trail.event_selectors().empty() && !trail.advanced_event_selectors().empty()) {
    return InvalidSelector("a trail uses basic or advanced event selectors, not both");
  }
  ORGTRAIL_RETURN_IF_ERROR(ValidateEventSelectors(trail.event_selectors()));
  ORGTRAIL_RETURN_IF_ERROR(ValidateInsightSelectors(trail.insight_selectors()));
  return ValidateAdvancedEventSelectors(trail.advanced_event_selectors());
}

Status ValidateInsightSelectors(const google::protobuf::RepeatedPtrField<v1::InsightSelector>& selectors) {
  bool seen_call = false, seen_error = false;
  for (const v1::InsightSelector& selector : selectors) {
    bool* seen = selector.insight_type() == "ApiCallRateInsight"    ? &seen_call
                 : selector.insight_type() == "ApiErrorRateInsight" ? &seen_error
                                                                     : nullptr;
    if (seen == nullptr) {
      return absl::InvalidArgumentError(StrCat("InvalidInsightSelectorsException: InsightType '",
                                               selector.insight_type().substr(0, 64),
                                               "' is not ApiCallRateInsight or ApiErrorRateInsight"));
    }
    if (*seen) {
      return absl::InvalidArgumentError(
          StrCat("InvalidInsightSelectorsException: InsightType ", selector.insight_type(), " given twice"));
    }
    *seen = true;
  }
  return absl::OkStatus();
}

std::string TrailArn(std::string_view home_region, std::string_view account_id,
                     std::string_view name) {
  return StrCat("arn:aws:cloudtrail:", home_region, ":", account_id, ":trail/", name);
}

}  // namespace orgtrail
