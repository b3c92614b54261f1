// Output formats of `orgtrailctl lookup-events` and `orgtrailctl get-event`,
// and the parser that reads a saved get-event document back (verify-event
// --from-file).
//
// lookup-events --output json is shaped exactly like `aws cloudtrail
// lookup-events`:
//   {"Events": [{"EventId", "EventName", "ReadOnly", "AccessKeyId", "EventTime",
//     "EventSource", "Username", "Resources": [{"ResourceType", "ResourceName"}],
//     "CloudTrailEvent"}], "NextToken"}
// with 4-space indentation like aws-cli, EventTime as "YYYY-MM-DDTHH:MM:SS+00:00",
// absent optional members (AccessKeyId, Username, ResourceType, NextToken)
// omitted as CloudTrail omits them. The writer streams: Begin, one Add per
// event, End(next_token).
//
// get-event JSON:
//   {"EventId", "CloudTrailEvent" (the record, as a JSON string),
//    "Meta": {"ReceiptTime", "ReceiptTimeUs", "AgentId", "BatchSequence", "BatchEpoch",
//             "LeafIndex", "AccountId", "Region", "CommitIndex"},
//    "Provenance": {"SignedHeader" (text), "Signature" (base64), "SignatureAlgorithm",
//                   "AgentCertificatePem", "AgentCertificateSha256" (hex),
//                   "MerkleRoot" (hex), "LeafIndex", "LeafCount",
//                   "InclusionProof": [hex, ...]}}
// ParseGetEventDocument is its inverse for the fields verification needs; it
// never crashes on hostile input (size cap, protobuf's JSON parser with its
// nesting limit, type checks) and names the member at fault.
// Pure functions; the writer is not thread-safe (one per output stream).
#ifndef ORGTRAIL_CLI_EVENTS_FORMAT_H_
#define ORGTRAIL_CLI_EVENTS_FORMAT_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "orgtrail/common/status.h"
#include "orgtrail/v1/query.pb.h"

namespace orgtrail::cli {

enum class OutputFormat { kJson, kTable, kText };
// "json" | "table" | "text"; INVALID_ARGUMENT naming --output otherwise.
StatusOr<OutputFormat> ParseOutputFormat(std::string_view text);

// aws-cli's timestamp rendering: "2021-06-01T12:00:00+00:00".
std::string FormatAwsTimestamp(int64_t micros);
// A time as aws-cli accepts it: ISO 8601 / RFC 3339 (2021-06-01T12:00:00Z), a date (2021-06-01)
// or epoch seconds; INVALID_ARGUMENT naming `option` otherwise.
StatusOr<int64_t> ParseCliTime(const std::string& option, const std::string& text);
// A JSON string literal (with quotes); invalid UTF-8 becomes \ufffd.
std::string JsonQuote(std::string_view text);

// Streams lookup-events output to `out` in one of the three formats.
class LookupEventsWriter {
 public:
  LookupEventsWriter(OutputFormat format, FILE* out) : format_(format), out_(out) {}
  void Begin();
  void Add(const v1::LookupEvent& event);
  void End(std::string_view next_token);  // empty = no more

 private:
  OutputFormat format_;
  FILE* out_;
  int count_ = 0;
};

// The get-event document (format above), pretty-printed.
std::string FormatGetEventDocument(const v1::GetEventResponse& response);

inline constexpr size_t kMaxGetEventDocumentBytes = 64u << 20;
// Parses a get-event document: event.raw_json/event_id, meta and provenance
// are filled. INVALID_ARGUMENT naming the member on any deviation.
StatusOr<v1::GetEventResponse> ParseGetEventDocument(std::string_view json);

}  // namespace orgtrail::cli

#endif  // ORGTRAIL_CLI_EVENTS_FORMAT_H_
