#include "objectstore/s3_error.h"

#include <curl/curl.h>

#include "orgtrail/common/str_cat.h"
#include "objectstore/s3_xml.h"

namespace orgtrail::objectstore {
namespace {

std::string_view ReasonFor(long status) {
  switch (status) {
    case 400: return "BadRequest";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 409: return "Conflict";
    case 412: return "PreconditionFailed";
    case 416: return "InvalidRange";
    case 429: return "TooManyRequests";
    case 500: return "InternalError";
    case 503: return "ServiceUnavailable";
    default: return "";
  }
}

absl::StatusCode CodeFor(long status, std::string_view s3_code) {
  if (status == 403) return absl::StatusCode::kPermissionDenied;
  if (status == 404) return absl::StatusCode::kNotFound;
  if (status == 409) {
    if (s3_code == "BucketAlreadyOwnedByYou" || s3_code == "BucketAlreadyExists") {
      return absl::StatusCode::kAlreadyExists;
    }
    return absl::StatusCode::kFailedPrecondition;
  }
  if (status == 412) return absl::StatusCode::kFailedPrecondition;
  if (status == 416) return absl::StatusCode::kOutOfRange;
  if (status == 429 || status >= 500 || s3_code == "RequestTimeout" || s3_code == "SlowDown") {
    return absl::StatusCode::kUnavailable;
  }
  if (status >= 400) return absl::StatusCode::kInvalidArgument;
  return absl::StatusCode::kUnknown;
}

}  // namespace

Status StatusFromS3Response(std::string_view context, long http_status, std::string_view body) {
  S3ErrorDocument doc;
  if (!body.empty()) {
    auto parsed = ParseErrorDocument(body);
    if (parsed.ok()) doc = *std::move(parsed);
  }
  std::string code = doc.code.empty() ? std::string(ReasonFor(http_status)) : doc.code;
  std::string text = StrCat(context, ": HTTP ", http_status);
  if (!code.empty()) text += StrCat(" ", code);
  if (!doc.message.empty()) text += StrCat(": ", doc.message);
  if (!doc.request_id.empty()) text += StrCat(" (request id ", doc.request_id, ")");
  if (doc.code.empty() && !body.empty()) {
    text += StrCat(" (answer: ", body.substr(0, 200), ")");
  }
  return Status(CodeFor(http_status, doc.code), text);
}

Status StatusFromTransportError(std::string_view context, int curl_code, std::string_view detail) {
  const auto code = static_cast<CURLcode>(curl_code);
  std::string text = StrCat(context, ": ", curl_easy_strerror(code));
  if (!detail.empty()) text += StrCat(" (", detail, ")");
  switch (code) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return absl::InvalidArgumentError(text);
    case CURLE_OUT_OF_MEMORY:
      return absl::ResourceExhaustedError(text);
    case CURLE_WRITE_ERROR:
      return absl::ResourceExhaustedError(text);
    default:
      return absl::UnavailableError(text);
  }
}

bool IsRetryableS3Error(const Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kDeadlineExceeded;
}

}  // namespace orgtrail::objectstore
