#include "collector/query/query_request.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace orgtrail::collector {
namespace {

Status LookupAttributesError(const std::string& detail) {
  return absl::InvalidArgumentError(absl::StrCat("InvalidLookupAttributesException: ", detail));
}

bool IsAccountId(std::string_view text) {
  if (text.size() != 12) return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool IsRegionToken(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// A short, printable rendering of hostile input for error messages.
std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 64)) {
    const unsigned char u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
  }
  if (text.size() > 64) out += "...";
  return out;
}

template <typename Container>
void SortUnique(Container* values) {
  std::sort(values->begin(), values->end());
  values->erase(std::unique(values->begin(), values->end()), values->end());
}

Status NormalizeAttributes(const v1::LookupEventsRequest& request, bool insight,
                           NormalizedLookup* out) {
  if (request.lookup_attributes_size() > kMaxLookupAttributes) {
    return LookupAttributesError(absl::StrCat("at most ", kMaxLookupAttributes,
                                              " lookup attributes are allowed, got ",
                                              request.lookup_attributes_size()));
  }
  for (int i = 0; i < request.lookup_attributes_size(); ++i) {
    const auto& attribute = request.lookup_attributes(i);
    IndexKind kind;
    if (!IndexKindFromAttributeKey(attribute.attribute_key(), &kind)) {
      return LookupAttributesError(absl::StrCat(
          "lookup_attributes[", i, "]: unknown AttributeKey '", Printable(attribute.attribute_key()),
          "' (expected EventId, EventName, ReadOnly, Username, ResourceType, ResourceName, "
          "EventSource or AccessKeyId)"));
    }
    if (insight && kind != IndexKind::kEventId && kind != IndexKind::kEventName &&
        kind != IndexKind::kEventSource) {
      return LookupAttributesError(absl::StrCat(
          "lookup_attributes[", i, "]: AttributeKey ", attribute.attribute_key(),
          " is not supported for Insights events (only EventId, EventName, EventSource)"));
    }
    const std::string& value = attribute.attribute_value();
    if (value.empty()) {
      return LookupAttributesError(
          absl::StrCat("lookup_attributes[", i, "]: AttributeValue must not be empty"));
    }
    const int64_t length = CloudTrailAttributeValueLength(value);
    if (length > kMaxAttributeValueLength) {
      return LookupAttributesError(absl::StrCat("lookup_attributes[", i,
                                                "]: AttributeValue is too long (", length,
                                                " > ", kMaxAttributeValueLength, " characters)"));
    }
    out->attributes.emplace_back(kind, value);
  }
  SortUnique(&out->attributes);
  return absl::OkStatus();
}

Status NormalizeFilters(const v1::LookupEventsRequest& request, NormalizedLookup* out) {
  if (request.account_ids_size() > kMaxFilterValues) {
    return absl::InvalidArgumentError(absl::StrCat("InvalidParameterException: at most ",
                                                   kMaxFilterValues, " account_ids"));
  }
  if (request.regions_size() > kMaxFilterValues) {
    return absl::InvalidArgumentError(
        absl::StrCat("InvalidParameterException: at most ", kMaxFilterValues, " regions"));
  }
  for (int i = 0; i < request.account_ids_size(); ++i) {
    if (!IsAccountId(request.account_ids(i))) {
      return absl::InvalidArgumentError(
          absl::StrCat("InvalidParameterException: account_ids[", i, "]: expected 12 digits, got '",
                       Printable(request.account_ids(i)), "'"));
    }
    out->account_ids.push_back(request.account_ids(i));
  }
  for (int i = 0; i < request.regions_size(); ++i) {
    if (!IsRegionToken(request.regions(i))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "InvalidParameterException: regions[", i,
          "]: expected a region name (1-64 of a-z, 0-9, '-'), got '", Printable(request.regions(i)),
          "'"));
    }
    out->regions.push_back(request.regions(i));
  }
  SortUnique(&out->account_ids);
  SortUnique(&out->regions);
  return absl::OkStatus();
}

void PutField(std::string* out, std::string_view bytes) {
  PutLengthPrefixed(out, bytes);
}

}  // namespace

int64_t CloudTrailAttributeValueLength(std::string_view value) {
  int64_t length = 0;
  for (char c : value) {
    const unsigned char u = static_cast<unsigned char>(c);
    if ((u & 0xC0) == 0x80) continue;  // UTF-8 continuation byte: same character
    length += (c == '_' || c == ' ' || c == ',' || c == '\n') ? 2 : 1;
  }
  return length;
}

StatusOr<NormalizedLookup> NormalizeLookupRequest(const v1::LookupEventsRequest& request) {
  NormalizedLookup out;
  if (!request.event_category().empty()) {
    if (request.event_category() != "insight") {
      return absl::InvalidArgumentError(
          absl::StrCat("InvalidEventCategoryException: EventCategory must be 'insight', got '",
                       Printable(request.event_category()), "'"));
    }
    out.insight = true;
  }
  ORGTRAIL_RETURN_IF_ERROR(NormalizeAttributes(request, out.insight, &out));

  if (request.has_start_time_us()) {
    out.has_start_time = true;
    out.start_time_us = request.start_time_us();
  }
  if (request.has_end_time_us()) {
    out.has_end_time = true;
    out.end_time_us = request.end_time_us();
  }
  if (out.start_time_us > out.end_time_us) {
    return absl::InvalidArgumentError(absl::StrCat(
        "InvalidTimeRangeException: StartTime (", out.start_time_us,
        " us) is after EndTime (", out.end_time_us, " us)"));
  }

  if (request.max_results() < 0 || request.max_results() > kMaxMaxResults) {
    return absl::InvalidArgumentError(absl::StrCat(
        "InvalidMaxResultsException: MaxResults must be between 1 and ", kMaxMaxResults,
        " (1-", kCloudTrailMaxResults, " as CloudTrail; 0 or absent = ", kDefaultMaxResults,
        "), got ", request.max_results()));
  }
  out.max_results = request.max_results() == 0 ? kDefaultMaxResults : request.max_results();

  ORGTRAIL_RETURN_IF_ERROR(NormalizeFilters(request, &out));
  out.include_data_events = request.include_data_events();

  if (request.next_token().size() > kMaxNextTokenBytes) {
    return absl::InvalidArgumentError(
        "InvalidNextTokenException: NextToken is too long to be a token from this collector");
  }
  out.next_token = request.next_token();
  return out;
}

Digest RequestFingerprint(const NormalizedLookup& lookup) {
  std::string canonical = "orgtrail-lookup-v1";
  PutFixed64BE(&canonical, lookup.attributes.size());
  for (const auto& [kind, value] : lookup.attributes) {
    canonical.push_back(static_cast<char>(kind));
    PutField(&canonical, value);
  }
  canonical.push_back(lookup.has_start_time ? 1 : 0);
  PutFixed64BE(&canonical, static_cast<uint64_t>(lookup.start_time_us));
  canonical.push_back(lookup.has_end_time ? 1 : 0);
  PutFixed64BE(&canonical, static_cast<uint64_t>(lookup.end_time_us));
  PutFixed64BE(&canonical, lookup.account_ids.size());
  for (const auto& account : lookup.account_ids) PutField(&canonical, account);
  PutFixed64BE(&canonical, lookup.regions.size());
  for (const auto& region : lookup.regions) PutField(&canonical, region);
  canonical.push_back(lookup.include_data_events ? 1 : 0);
  canonical.push_back(lookup.insight ? 1 : 0);
  return Sha256(canonical);
}

}  // namespace orgtrail::collector
