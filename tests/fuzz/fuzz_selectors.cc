// Trail and event selectors (common/selectors.h): the rules the collector's
// admin service applies to CreateTrail / PutEventSelectors requests
// (ValidateTrail and friends) and the evaluator that decides which trails log
// an event (TrailEvaluator).
// Input: "<TrailConfig as protobuf JSON>\n<CloudTrail JSON record>"; the
// record goes through EventExtractor as in the collector.
#include <cstdint>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>

#include "fuzz_util.h"
#include "orgtrail/common/event_extractor.h"
#include "orgtrail/common/selectors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static orgtrail::EventExtractor* extractor = new orgtrail::EventExtractor();
  if (size > 64 * 1024) return 0;
  const auto [config_json, record] = orgtrail::fuzz::SplitOnce(orgtrail::fuzz::AsView(data, size), "\n");
  orgtrail::v1::TrailConfig config;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(
           google::protobuf::StringPiece(config_json.data(), config_json.size()), &config, options)
           .ok()) {
    return 0;
  }
  for (const auto& trail : config.trails()) {
    (void)orgtrail::ValidateTrail(trail);
    (void)orgtrail::ValidateTrailName(trail.name());
    (void)orgtrail::ValidateEventSelectors(trail.event_selectors());
    (void)orgtrail::ValidateAdvancedEventSelectors(trail.advanced_event_selectors());
    (void)orgtrail::TrailArn(trail.home_region(), trail.owner_account_id(), trail.name());
  }
  orgtrail::v1::Event event;
  if (!extractor->Extract(record, &event).ok()) {
    event.Clear();
    event.set_raw_json(std::string(record));
  }
  orgtrail::TrailEvaluator evaluator(config);
  std::vector<std::string> trails;
  const bool selected = evaluator.Selects(event, &trails);
  ORGTRAIL_FUZZ_CHECK(selected == !trails.empty());
  for (const auto& trail : config.trails()) {
    for (const auto& selector : trail.advanced_event_selectors()) {
      (void)orgtrail::AdvancedSelectorMatches(selector, event);
      for (const auto& field : selector.field_selectors()) {
        (void)orgtrail::AdvancedFieldSelectorMatchesValue(field, nullptr);
        (void)orgtrail::AdvancedFieldSelectorMatchesValue(field, &event.event_name());
      }
    }
  }
  return 0;
}
