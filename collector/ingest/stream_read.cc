#include "collector/ingest/stream_read.h"

#include <google/protobuf/unknown_field_set.h>

namespace orgtrail::collector {
namespace {

// A field number no IngestRequest version uses (the largest allowed).
constexpr int kSentinelField = 536870911;

}  // namespace

ReadOutcome ReadRequest(grpc::ServerContext* context,
                        grpc::ServerReaderWriter<v1::IngestResponse, v1::IngestRequest>* stream,
                        v1::IngestRequest* request) {
  request->Clear();
  request->GetReflection()->MutableUnknownFields(request)->AddVarint(kSentinelField, 1);
  if (stream->Read(request)) return ReadOutcome::kMessage;
  if (context->IsCancelled()) return ReadOutcome::kCancelled;
  const google::protobuf::UnknownFieldSet& unknown = request->GetReflection()->GetUnknownFields(*request);
  const bool sentinel_kept = unknown.field_count() == 1 && unknown.field(0).number() == kSentinelField &&
                             !request->has_hello() && !request->has_batch();
  request->Clear();
  return sentinel_kept ? ReadOutcome::kHalfClosed : ReadOutcome::kMalformed;
}

const char* ReadOutcomeName(ReadOutcome outcome) {
  switch (outcome) {
    case ReadOutcome::kMessage: return "message";
    case ReadOutcome::kHalfClosed: return "half_close";
    case ReadOutcome::kCancelled: return "cancelled";
    case ReadOutcome::kMalformed: return "malformed";
  }
  return "unknown";
}

}  // namespace orgtrail::collector
