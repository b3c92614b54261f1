// Event classification: global-service events, management vs data, read vs
// write. Immutable after construction, so thread-safe.
#ifndef ORGTRAIL_COMMON_CLASSIFY_H_
#define ORGTRAIL_COMMON_CLASSIFY_H_

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "orgtrail/v1/event.pb.h"

namespace orgtrail {

class GlobalServiceClassifier {
 public:
  // Default set: iam, sts (global endpoint only), cloudfront, route53,
  // organizations, signin, health (all "<svc>.amazonaws.com").
  GlobalServiceClassifier();
  // A custom set of event sources. "sts.amazonaws.com" in the set is matched
  // only for calls to the global endpoint (client host header absent or
  // "sts.amazonaws.com"); regional STS calls stay regional.
  explicit GlobalServiceClassifier(std::vector<std::string> event_sources);

  bool IsGlobal(const v1::Event& event) const;
  const std::set<std::string>& sources() const { return sources_; }

 private:
  std::set<std::string> sources_;
};

// The region an event is stored and exported under: home_region for global
// events, the event's awsRegion otherwise.
std::string PartitionRegion(const v1::Event& event, const GlobalServiceClassifier& classifier,
                            std::string_view home_region);

bool IsManagementEvent(const v1::Event& event);  // eventCategory == Management
bool IsDataEvent(const v1::Event& event);        // eventCategory == Data
// readOnly == true. Events without readOnly count as write events (CloudTrail).
bool IsReadOnly(const v1::Event& event);

// Accepts the shape of an AWS region name ("us-east-1", "us-gov-west-1",
// "ap-southeast-4"); fake names such as "sagov-westsouth-1r" are refused.
bool IsValidRegionName(std::string_view region);
bool IsValidAccountId(std::string_view account);  // exactly 12 ASCII digits

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_CLASSIFY_H_
