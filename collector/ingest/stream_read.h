// ReadRequest: one Read() on an Ingest stream, with the reason it returned
// false told apart (gRPC 1.51's sync API returns false alike for a client
// half-close, a cancelled call and a frame that does not parse as an
// IngestRequest).
//
// How: before the Read, the message gets a sentinel unknown field. gRPC
// deserializes with MessageLite::ParseFromZeroCopyStream, which clears the
// message before parsing; so after a false Read the sentinel is still there
// when no frame arrived (half-close or cancel) and gone when a frame arrived
// and failed to parse. The sentinel is removed before a parsed message is
// returned (a parsed message never carries it: it is cleared by the parse).
//
// Thread safety: as the stream's Read (one reader at a time).
#ifndef ORGTRAIL_COLLECTOR_INGEST_STREAM_READ_H_
#define ORGTRAIL_COLLECTOR_INGEST_STREAM_READ_H_

#include <grpcpp/grpcpp.h>

#include "orgtrail/v1/ingest.grpc.pb.h"

namespace orgtrail::collector {

enum class ReadOutcome {
  kMessage,     // *request holds the next message
  kHalfClosed,  // the client finished sending (clean end)
  kCancelled,   // the call was cancelled (client gone, deadline, or the collector closed it)
  kMalformed,   // a frame arrived that is not an IngestRequest
};

ReadOutcome ReadRequest(grpc::ServerContext* context,
                        grpc::ServerReaderWriter<v1::IngestResponse, v1::IngestRequest>* stream,
                        v1::IngestRequest* request);

const char* ReadOutcomeName(ReadOutcome outcome);

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_INGEST_STREAM_READ_H_
