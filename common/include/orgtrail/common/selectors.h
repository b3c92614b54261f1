// Trail evaluation with CloudTrail's semantics (reference/cloudtrail-format.md
// §4, §5, §8): which trails of a TrailConfig log a given event, and the pure
// validation rules for trail definitions that the collector's admin service
// reuses.
//
// Evaluation rules (per trail; an event is selected when ANY trail takes it):
// - A trail that is not logging takes nothing.
// - Region scope: a multi-Region trail takes events of every Region; a
//   single-Region trail only events whose awsRegion is its home_region.
//   Global-service events (GlobalServiceClassifier) are recorded in the
//   configuration's home region (TrailConfig.home_region, default us-east-1)
//   since Nov 2021: a trail takes them only with IncludeGlobalServiceEvents and
//   only if it is multi-Region or its home_region is that home region.
// - Basic selectors (no selectors at all = every management event, no data
//   events): an event matches a selector when its ReadWriteType fits and it is
//   a management event with IncludeManagementEvents (default true) whose
//   eventSource is not excluded, or a data event one of whose resources
//   matches a DataResource (S3 objects by ARN prefix, Lambda functions and
//   DynamoDB tables by exact ARN, "arn:<partition>:<service>" = all of the
//   type). Selectors are OR'd.
// - Advanced selectors: within a field selector the SELECT operators (Equals,
//   StartsWith, EndsWith) are OR'd, the DESELECT operators (NotEquals,
//   NotStartsWith, NotEndsWith) exclude if ANY matches, the two groups are
//   AND'd; field selectors of a selector are AND'd; selectors are OR'd.
//   A field the event does not carry matches no SELECT operator and no
//   DESELECT operator. resources.type / resources.ARN are evaluated per
//   resource: the selector's resource conditions must all hold for one and the
//   same resource of the event. Matching is case-sensitive, without wildcards.
//   An unknown field never matches (validation refuses it up front).
//
// Thread safety: TrailEvaluator is immutable after construction and may be
// shared between threads; the free functions are pure.
#ifndef ORGTRAIL_COMMON_SELECTORS_H_
#define ORGTRAIL_COMMON_SELECTORS_H_

#include <string>
#include <string_view>
#include <vector>

#include "orgtrail/common/classify.h"
#include "orgtrail/common/status.h"
#include "orgtrail/v1/admin.pb.h"
#include "orgtrail/v1/event.pb.h"

namespace orgtrail {

inline constexpr std::string_view kDefaultGlobalHomeRegion = "us-east-1";

// True when the trail's Region scope covers the event (see above).
bool TrailCoversRegion(const v1::Trail& trail, const v1::Event& event, bool is_global_event,
                       std::string_view global_home_region);

// Basic selector semantics (empty list = management events only).
bool BasicSelectorsMatch(const google::protobuf::RepeatedPtrField<v1::EventSelector>& selectors,
                         const v1::Event& event);
bool EventSelectorMatches(const v1::EventSelector& selector, const v1::Event& event);
bool DataResourceMatches(const v1::DataResource& resource, const v1::Event& event);

// Advanced selector semantics.
bool AdvancedSelectorMatches(const v1::AdvancedEventSelector& selector, const v1::Event& event);
bool AdvancedFieldSelectorMatchesValue(const v1::AdvancedFieldSelector& field,
                                       const std::string* value);  // null = absent

// Every rule above for one trail (logging, region scope, selectors).
bool TrailSelectsEvent(const v1::Trail& trail, const v1::Event& event, bool is_global_event,
                       std::string_view global_home_region);

class TrailEvaluator {
 public:
  TrailEvaluator(v1::TrailConfig config, GlobalServiceClassifier classifier = {});

  // True when any trail takes the event; the names of those trails go to
  // *trails (cleared first) when non-null.
  bool Selects(const v1::Event& event, std::vector<std::string>* trails = nullptr) const;

  const v1::TrailConfig& config() const { return config_; }
  const std::string& global_home_region() const { return global_home_region_; }

 private:
  v1::TrailConfig config_;
  GlobalServiceClassifier classifier_;
  std::string global_home_region_;
};

// ---- Validation of trail definitions (CreateTrail / PutEventSelectors). ----
// All return INVALID_ARGUMENT whose message starts with CloudTrail's exception
// name, e.g. "InvalidTrailNameException: ...".

// 3-128 chars of [A-Za-z0-9._-], starts and ends alphanumeric, no adjacent
// '.', '_' or '-', not an IP address.
Status ValidateTrailName(std::string_view name);
// At most 5 selectors, only the three basic data resource types, at most 250
// data resources, exclusions only kms/rdsdata.
Status ValidateEventSelectors(const google::protobuf::RepeatedPtrField<v1::EventSelector>& selectors);
// Field names and operators allowed on trails, 1..2048-char values, at most
// 500 values in total, eventCategory required.
Status ValidateAdvancedEventSelectors(
    const google::protobuf::RepeatedPtrField<v1::AdvancedEventSelector>& selectors);
// Insight selectors: each ApiCallRateInsight or ApiErrorRateInsight, each type at most once
// (InvalidInsightSelectorsException).
Status ValidateInsightSelectors(const google::protobuf::RepeatedPtrField<v1::InsightSelector>& selectors);
// Name, home region, key prefix length, basic XOR advanced selectors, and the
// selectors themselves (event and insight).
Status ValidateTrail(const v1::Trail& trail);
// "arn:aws:cloudtrail:<home_region>:<account>:trail/<name>".
std::string TrailArn(std::string_view home_region, std::string_view account_id,
                     std::string_view name);

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_SELECTORS_H_
