// Global-service, management/data and read/write classification; region and
// account id shape checks.
#include "orgtrail/common/classify.h"

#include <array>

namespace orgtrail {
namespace {

constexpr char kStsSource[] = "sts.amazonaws.com";
constexpr char kStsGlobalHost[] = "sts.amazonaws.com";

bool IsLowerAlpha(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Partition qualifiers that may follow the two-letter geography
// ("us-gov-west-1", "us-iso-east-1", "us-isob-east-1", "eu-isoe-west-1",
// "us-isof-south-1").
bool IsPartitionQualifier(std::string_view part) {
  static constexpr std::array<std::string_view, 5> kQualifiers = {"gov", "iso", "isob", "isoe",
                                                                  "isof"};
  for (std::string_view q : kQualifiers) {
    if (part == q) return true;
  }
  return false;
}

bool IsDirection(std::string_view part) {
  static constexpr std::array<std::string_view, 9> kDirections = {
      "north", "south", "east", "west", "central", "northeast", "northwest", "southeast",
      "southwest"};
  for (std::string_view d : kDirections) {
    if (part == d) return true;
  }
  return false;
}

// Splits on '-' into at most 5 parts; returns false when there are more.
bool SplitDashes(std::string_view text, std::array<std::string_view, 5>* parts, size_t* count) {
  *count = 0;
  size_t start = 0;
  while (true) {
    if (*count == parts->size()) return false;
    const size_t dash = text.find('-', start);
    (*parts)[(*count)++] = text.substr(start, dash == std::string_view::npos ? dash : dash - start);
    if (dash == std::string_view::npos) return true;
    start = dash + 1;
  }
}

}  // namespace

GlobalServiceClassifier::GlobalServiceClassifier()
    : GlobalServiceClassifier({"iam.amazonaws.com", "sts.amazonaws.com", "cloudfront.amazonaws.com",
                               "route53.amazonaws.com", "organizations.amazonaws.com",
                               "signin.amazonaws.com", "health.amazonaws.com"}) {}

GlobalServiceClassifier::GlobalServiceClassifier(std::vector<std::string> event_sources)
    : sources_(event_sources.begin(), event_sources.end()) {}

bool GlobalServiceClassifier::IsGlobal(const v1::Event& event) const {
  if (sources_.count(event.event_source()) == 0) return false;
  if (event.event_source() == kStsSource) {
    // Regional STS endpoints (sts.<region>.amazonaws.com) stay regional.
    return event.client_host_header().empty() || event.client_host_header() == kStsGlobalHost;
  }
  return true;
}

std::string PartitionRegion(const v1::Event& event, const GlobalServiceClassifier& classifier,
                            std::string_view home_region) {
  if (classifier.IsGlobal(event)) return std::string(home_region);
  return event.aws_region();
}

bool IsManagementEvent(const v1::Event& event) { return event.event_category() == "Management"; }

bool IsDataEvent(const v1::Event& event) { return event.event_category() == "Data"; }

bool IsReadOnly(const v1::Event& event) { return event.has_read_only() && event.read_only(); }

// Shape: <geo>[-<qualifier>]-<direction>-<number>, where geo is two lowercase
// letters, qualifier one of gov/iso/isob/isoe/isof, direction a compass word,
// number 1-2 digits without a leading zero. Refuses every fake region of the
// stratus set ("sagov-westsouth-1r", "us-north-2r", ...).
bool IsValidRegionName(std::string_view region) {
  if (region.size() > 32) return false;
  std::array<std::string_view, 5> parts;
  size_t count = 0;
  if (!SplitDashes(region, &parts, &count)) return false;
  if (count != 3 && count != 4) return false;
  const std::string_view geo = parts[0];
  if (geo.size() != 2 || !IsLowerAlpha(geo[0]) || !IsLowerAlpha(geo[1])) return false;
  if (count == 4 && !IsPartitionQualifier(parts[1])) return false;
  if (!IsDirection(parts[count - 2])) return false;
  const std::string_view number = parts[count - 1];
  if (number.empty() || number.size() > 2 || number[0] == '0') return false;
  for (char c : number) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

bool IsValidAccountId(std::string_view account) {
  if (account.size() != 12) return false;
  for (char c : account) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

}  // namespace orgtrail
