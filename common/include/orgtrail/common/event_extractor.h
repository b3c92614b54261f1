// Reads a CloudTrail JSON record once (simdjson) and fills the extracted
// fields of an orgtrail.v1.Event. The raw bytes are copied into
// Event.raw_json unchanged.
//
// Contract:
// - An EventExtractor is NOT thread-safe (it reuses a simdjson parser and a
//   padded buffer); use one per thread. Extract() never throws and never
//   crashes on hostile input: it returns INVALID_ARGUMENT with a message that
//   names the problem (e.g. "eventTime: expected string, got number").
// - Required: top-level object, valid UTF-8, eventTime (RFC 3339 string).
//   eventID missing is reported through ExtractReport (the agent assigns one,
//   see AssignEventId); the collector treats it as an error.
// - Field rules: recipientAccountId falls back to userIdentity.accountId
//   (flagged); eventCategory defaults to "Management"; Username follows the
//   CloudTrail Event-history rules (IAMUser: userName; AssumedRole: session
//   name = last ARN path segment; Root: "root"; …).
// - Records larger than ExtractOptions::max_event_bytes are INVALID_ARGUMENT
//   ("event too large").
#ifndef ORGTRAIL_COMMON_EVENT_EXTRACTOR_H_
#define ORGTRAIL_COMMON_EVENT_EXTRACTOR_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "orgtrail/common/status.h"
#include "orgtrail/v1/event.pb.h"

namespace orgtrail {

struct ExtractOptions {
  size_t max_event_bytes = 1 << 20;  // 1 MiB (CloudTrail: 256 KB, Lake: up to 1 MB)
  size_t max_depth = 64;             // deeper nesting is refused
};

struct ExtractReport {
  bool event_id_missing = false;
  bool recipient_account_from_user_identity = false;
};

class EventExtractor {
 public:
  explicit EventExtractor(ExtractOptions options = {});
  ~EventExtractor();
  EventExtractor(const EventExtractor&) = delete;
  EventExtractor& operator=(const EventExtractor&) = delete;

  // Fills *out (cleared first). On error *out is unspecified.
  Status Extract(std::string_view raw_json, v1::Event* out, ExtractReport* report = nullptr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Returns raw_json with "eventID":"<uuid>" inserted as the first member of the
// top-level object (the agent's rule for events captured without an eventID).
// Fails if raw_json does not start (after whitespace) with '{'.
StatusOr<std::string> AssignEventId(std::string_view raw_json, std::string_view event_id);

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_EVENT_EXTRACTOR_H_
