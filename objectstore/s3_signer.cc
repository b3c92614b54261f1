#include "objectstore/s3_signer.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <ctime>

#include "orgtrail/common/hash.h"
#include "orgtrail/common/str_cat.h"

namespace orgtrail::objectstore {
namespace {

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Trims and collapses runs of spaces, as SigV4's canonical header values require.
std::string CanonicalValue(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

// Sorted by lower-cased name (std::map), never by "name:value" (see the header comment).
std::map<std::string, std::string> CanonicalHeaders(const SigV4Request& request) {
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers) headers[Lower(name)] = CanonicalValue(value);
  return headers;
}

std::string SignedHeaderList(const std::map<std::string, std::string>& headers) {
  std::string out;
  for (const auto& [name, value] : headers) {
    if (!out.empty()) out.push_back(';');
    out += name;
  }
  return out;
}

}  // namespace

std::string AmzDate(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string SigV4CanonicalRequest(const SigV4Request& request) {
  const auto headers = CanonicalHeaders(request);
  std::string out = StrCat(request.method, "\n", request.canonical_uri, "\n",
                           request.canonical_query, "\n");
  for (const auto& [name, value] : headers) out += StrCat(name, ":", value, "\n");
  out += StrCat("\n", SignedHeaderList(headers), "\n", request.payload_sha256_hex);
  return out;
}

std::string SigV4Authorization(const SigV4Request& request, const S3Credentials& credentials,
                               std::string_view region, std::string_view service,
                               std::string_view amz_date) {
  const std::string_view date = amz_date.substr(0, 8);
  const std::string scope = StrCat(date, "/", region, "/", service, "/aws4_request");
  const std::string string_to_sign =
      StrCat("AWS4-HMAC-SHA256\n", amz_date, "\n", scope, "\n",
             HexEncode(Sha256(SigV4CanonicalRequest(request))));
  std::string key = HmacSha256(StrCat("AWS4", credentials.secret_access_key), date);
  key = HmacSha256(key, region);
  key = HmacSha256(key, service);
  key = HmacSha256(key, "aws4_request");
  const std::string signature = HexEncode(HmacSha256(key, string_to_sign));
  return StrCat("AWS4-HMAC-SHA256 Credential=", credentials.access_key_id, "/", scope,
                ",SignedHeaders=", SignedHeaderList(CanonicalHeaders(request)),
                ",Signature=", signature);
}

}  // namespace orgtrail::objectstore
