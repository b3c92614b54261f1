// Result types used across every orgtrail module boundary.
//
// orgtrail uses absl::Status / absl::StatusOr<T> (no exceptions cross a module
// boundary). Codes follow gRPC's: INVALID_ARGUMENT for bad input,
// PERMISSION_DENIED for authorization, FAILED_PRECONDITION for state errors,
// DATA_LOSS for corruption, UNAVAILABLE for transient I/O, INTERNAL for bugs.
// ToGrpcStatus/FromGrpcStatus convert at RPC boundaries.
#ifndef ORGTRAIL_COMMON_STATUS_H_
#define ORGTRAIL_COMMON_STATUS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace grpc { class Status; }

namespace orgtrail {

using Status = absl::Status;
template <typename T>
using StatusOr = absl::StatusOr<T>;

// Lossless mapping of the code and message.
grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace orgtrail

// Evaluates expr (an absl::Status); returns it from the enclosing function if not OK.
#define ORGTRAIL_RETURN_IF_ERROR(expr)            \
  do {                                            \
    ::absl::Status _orgtrail_status = (expr);     \
    if (!_orgtrail_status.ok()) return _orgtrail_status; \
  } while (0)

#endif  // ORGTRAIL_COMMON_STATUS_H_
