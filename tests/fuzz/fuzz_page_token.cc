// LookupEvents page tokens (collector/query/query_token.h) and the request
// they belong to (collector/query/query_request.h). Mode by the first byte:
//   0: the rest is a NextToken -> NextTokenCodec::Decode (key fixed at start-up);
//   1: the rest is a resume key -> Encode, then Decode must give it back, and
//      must refuse the token for another request fingerprint;
//   2: the rest is a serialized LookupEventsRequest (the gRPC message) ->
//      NormalizeLookupRequest, RequestFingerprint, Decode of its next_token.
#include <cstdint>
#include <memory>
#include <string>

#include "collector/query/query_request.h"
#include "collector/query/query_token.h"
#include "fuzz_util.h"

using orgtrail::collector::NextTokenCodec;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static NextTokenCodec* codec = [] {
    auto c = NextTokenCodec::FromKey(std::string(32, '\x5a'));
    if (!c.ok()) std::abort();
    return c->release();
  }();
  static const orgtrail::Digest fingerprint = [] {
    auto n = orgtrail::collector::NormalizeLookupRequest(orgtrail::v1::LookupEventsRequest());
    if (!n.ok()) std::abort();
    return orgtrail::collector::RequestFingerprint(*n);
  }();
  if (size == 0 || size > 16 * 1024) return 0;
  const std::string_view rest = orgtrail::fuzz::AsView(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      auto decoded = codec->Decode(rest, fingerprint);
      if (!decoded.ok()) ORGTRAIL_FUZZ_CHECK(decoded.status().code() == absl::StatusCode::kInvalidArgument);
      break;
    }
    case 1: {
      const std::string token = codec->Encode(fingerprint, rest);
      auto decoded = codec->Decode(token, fingerprint);
      ORGTRAIL_FUZZ_CHECK(decoded.ok() && *decoded == rest);
      orgtrail::Digest other = fingerprint;
      other[0] ^= 1;
      ORGTRAIL_FUZZ_CHECK(!codec->Decode(token, other).ok());
      break;
    }
    default: {
      orgtrail::v1::LookupEventsRequest request;
      if (!request.ParseFromArray(rest.data(), static_cast<int>(rest.size()))) return 0;
      auto normalized = orgtrail::collector::NormalizeLookupRequest(request);
      if (!normalized.ok()) return 0;
      const orgtrail::Digest fp = orgtrail::collector::RequestFingerprint(*normalized);
      if (!normalized->next_token.empty()) (void)codec->Decode(normalized->next_token, fp);
      break;
    }
  }
  return 0;
}
