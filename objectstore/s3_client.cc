#include "objectstore/s3_client.h"

#include <curl/curl.h>

#include <ctime>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "orgtrail/common/str_cat.h"
#include "objectstore/s3_error.h"
#include "objectstore/s3_request_path.h"
#include "objectstore/s3_signer.h"
#include "objectstore/s3_text.h"
#include "orgtrail/common/hash.h"

namespace orgtrail::objectstore {
namespace {

constexpr std::string_view kMetaPrefix = "x-amz-meta-";

// (Debian's Abseil string helpers take absl::string_view, which is not std::string_view.)
bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

struct HttpRequest {
  std::string method;  // GET, HEAD, PUT, DELETE
  std::string path;    // from RequestPath
  std::string_view body;
  std::map<std::string, std::string> headers;  // lower-case names; all are signed
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
};

struct Sink {
  std::string* body;
  uint64_t limit;
  bool overflow = false;
};

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t bytes = size * n;
  if (sink->body->size() + bytes > sink->limit) {
    sink->overflow = true;
    return 0;  // makes curl fail with CURLE_WRITE_ERROR
  }
  sink->body->append(data, bytes);
  return bytes;
}

size_t WriteHeader(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string_view line(data, size * n);
  if (StartsWith(line, "HTTP/")) {
    headers->clear();  // a new response (after 100 Continue)
    return size * n;
  }
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name = AsciiLowercase(TrimAsciiWhitespace(line.substr(0, colon)));
    std::string value(TrimAsciiWhitespace(line.substr(colon + 1)));
    (*headers)[name] = value;
  }
  return size * n;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    InitXmlParser();
  });
}

std::string Describe(std::string_view op, std::string_view bucket, std::string_view key) {
  return key.empty() ? StrCat("S3 ", op, " s3://", bucket)
                     : StrCat("S3 ", op, " s3://", bucket, "/", key);
}

Status CheckMetadata(const ObjectMetadata& metadata) {
  for (const auto& [name, value] : metadata) {
    if (name.empty()) return absl::InvalidArgumentError("S3 metadata name is empty");
    for (char c : name) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
        return absl::InvalidArgumentError(StrCat(
            "S3 metadata name '", name, "' may hold only lower-case letters, digits, '-' and '_'"));
      }
    }
    for (char c : value) {
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) {
        return absl::InvalidArgumentError(StrCat(
            "S3 metadata '", name, "' has a value with a control or non-ASCII byte"));
      }
    }
  }
  return absl::OkStatus();
}

ObjectInfo InfoFromHeaders(const std::map<std::string, std::string>& headers) {
  ObjectInfo info;
  for (const auto& [name, value] : headers) {
    if (name == "content-length") {
      (void)absl::SimpleAtoi(value, &info.size);
    } else if (name == "etag") {
      info.etag = value;
    } else if (name == "content-type") {
      info.content_type = value;
    } else if (name == "last-modified") {
      info.last_modified = value;
    } else if (StartsWith(name, kMetaPrefix)) {
      info.metadata[name.substr(kMetaPrefix.size())] = value;
    }
  }
  return info;
}

}  // namespace

StatusOr<std::unique_ptr<S3Client>> S3Client::Create(S3ClientOptions options) {
  GlobalInit();
  if (!options.path_style) {
    return absl::InvalidArgumentError(
        "S3 virtual-hosted-style addressing is not supported; use path-style");
  }
  if (!StartsWith(options.endpoint, "http://") &&
      !StartsWith(options.endpoint, "https://")) {
    return absl::InvalidArgumentError(StrCat(
        "S3 endpoint '", options.endpoint, "' must start with http:// or https://"));
  }
  while (!options.endpoint.empty() && options.endpoint.back() == '/') options.endpoint.pop_back();
  const std::string_view rest = std::string_view(options.endpoint).substr(
      options.endpoint.find("://") + 3);
  if (rest.empty() || rest.find_first_of("/?#@ ") != std::string_view::npos) {
    return absl::InvalidArgumentError(StrCat(
        "S3 endpoint '", options.endpoint, "' must be scheme://host[:port] with no path"));
  }
  if (options.region.empty() ||
      options.region.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
    return absl::InvalidArgumentError(StrCat("S3 region '", options.region, "' is not valid"));
  }
  if (options.credentials.access_key_id.empty() || options.credentials.secret_access_key.empty()) {
    return absl::InvalidArgumentError("S3 credentials are empty");
  }
  if (options.connect_timeout.count() <= 0 || options.request_timeout.count() <= 0) {
    return absl::InvalidArgumentError("S3 timeouts must be positive");
  }
  return std::unique_ptr<S3Client>(new S3Client(std::move(options)));
}

namespace {

StatusOr<HttpResponse> Perform(const S3ClientOptions& options, const HttpRequest& request,
                               std::string_view context, uint64_t max_body) {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (curl == nullptr) return absl::ResourceExhaustedError(StrCat(context, ": curl_easy_init failed"));
  CURL* h = curl.get();

  // Signed headers: host, date, payload hash, token, and the request's own (content type, metadata).
  std::map<std::string, std::string> signed_headers = request.headers;
  const std::string payload_hash = HexEncode(Sha256(request.body));
  const std::string amz_date = AmzDate(static_cast<int64_t>(std::time(nullptr)));
  signed_headers["host"] = options.endpoint.substr(options.endpoint.find("://") + 3);
  signed_headers["x-amz-date"] = amz_date;
  signed_headers["x-amz-content-sha256"] = payload_hash;
  if (!options.credentials.session_token.empty()) {
    signed_headers["x-amz-security-token"] = options.credentials.session_token;
  }
  SigV4Request to_sign;
  to_sign.method = request.method;
  const size_t question = request.path.find('?');
  to_sign.canonical_uri = request.path.substr(0, question);
  if (question != std::string::npos) to_sign.canonical_query = request.path.substr(question + 1);
  to_sign.headers = signed_headers;
  to_sign.payload_sha256_hex = payload_hash;

  std::vector<std::string> header_lines;
  for (const auto& [name, value] : signed_headers) header_lines.push_back(StrCat(name, ": ", value));
  header_lines.push_back(StrCat("Authorization: ", SigV4Authorization(to_sign, options.credentials,
                                                                       options.region, "s3", amz_date)));
  curl_slist* raw_list = nullptr;
  for (const std::string& line : header_lines) {
    curl_slist* next = curl_slist_append(raw_list, line.c_str());
    if (next == nullptr) {
      curl_slist_free_all(raw_list);
      return absl::ResourceExhaustedError(StrCat(context, ": curl_slist_append failed"));
    }
    raw_list = next;
  }
  std::unique_ptr<curl_slist, SlistDeleter> list(raw_list);

  const std::string url = options.endpoint + request.path;
  HttpResponse response;
  Sink sink{&response.body, max_body};
  char error_buffer[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);  // keys may hold "./" and "../" segments
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options.request_timeout.count()));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &WriteHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &response.headers);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  if (!options.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options.ca_file.c_str());
  if (request.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (request.method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "PUT") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
    // Never NULL: a NULL CURLOPT_POSTFIELDS makes curl read the body from its read callback.
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.empty() ? "" : request.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  const CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    if (sink.overflow) {
      return absl::ResourceExhaustedError(StrCat(
          context, ": the answer is larger than the limit of ", max_body, " bytes"));
    }
    return StatusFromTransportError(context, rc, error_buffer);
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace

Status S3Client::CreateBucket(std::string_view bucket) const {
  ORGTRAIL_RETURN_IF_ERROR(CheckBucketName(bucket));
  const std::string context = Describe("CreateBucket", bucket, "");
  HttpRequest request{"PUT", RequestPath(bucket, ""), {}, {}};
  std::string body;
  if (options_.region != "us-east-1") {
    body = StrCat(
        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<LocationConstraint>", options_.region, "</LocationConstraint></CreateBucketConfiguration>");
    request.body = body;
    request.headers["content-type"] = "application/xml";
  }
  auto response = Perform(options_, request, context, 1 << 20);
  if (!response.ok()) return response.status();
  if (response->status != 200) return StatusFromS3Response(context, response->status, response->body);
  return absl::OkStatus();
}

StatusOr<std::string> S3Client::PutObject(std::string_view bucket, std::string_view key,
                                          std::string_view body,
                                          const PutObjectOptions& put) const {
  ORGTRAIL_RETURN_IF_ERROR(CheckBucketName(bucket));
  ORGTRAIL_RETURN_IF_ERROR(CheckObjectKey(key));
  ORGTRAIL_RETURN_IF_ERROR(CheckMetadata(put.metadata));
  const std::string context = Describe("PutObject", bucket, key);
  HttpRequest request{"PUT", RequestPath(bucket, key), body, {}};
  const std::string content_type =
      put.content_type.empty() ? std::string("application/octet-stream") : put.content_type;
  if (content_type.find_first_of("\r\n") != std::string::npos) {
    return absl::InvalidArgumentError("S3 content type holds a line break");
  }
  request.headers["content-type"] = content_type;
  for (const auto& [name, value] : put.metadata) {
    request.headers[StrCat(kMetaPrefix, name)] = value;
  }
  auto response = Perform(options_, request, context, 1 << 20);
  if (!response.ok()) return response.status();
  if (response->status != 200) return StatusFromS3Response(context, response->status, response->body);
  auto etag = response->headers.find("etag");
  return etag == response->headers.end() ? std::string() : etag->second;
}

StatusOr<S3Object> S3Client::GetObject(std::string_view bucket, std::string_view key) const {
  ORGTRAIL_RETURN_IF_ERROR(CheckBucketName(bucket));
  ORGTRAIL_RETURN_IF_ERROR(CheckObjectKey(key));
  const std::string context = Describe("GetObject", bucket, key);
  auto response = Perform(options_, {"GET", RequestPath(bucket, key), {}, {}}, context,
                          options_.max_object_bytes);
  if (!response.ok()) return response.status();
  if (response->status != 200) return StatusFromS3Response(context, response->status, response->body);
  S3Object object;
  object.info = InfoFromHeaders(response->headers);
  object.body = std::move(response->body);
  object.info.size = object.body.size();
  return object;
}

StatusOr<ObjectInfo> S3Client::HeadObject(std::string_view bucket, std::string_view key) const {
  ORGTRAIL_RETURN_IF_ERROR(CheckBucketName(bucket));
  ORGTRAIL_RETURN_IF_ERROR(CheckObjectKey(key));
  const std::string context = Describe("HeadObject", bucket, key);
  auto response = Perform(options_, {"HEAD", RequestPath(bucket, key), {}, {}}, context, 1 << 20);
  if (!response.ok()) return response.status();
  if (response->status != 200) return StatusFromS3Response(context, response->status, "");
  return InfoFromHeaders(response->headers);
}

StatusOr<ListObjectsPage> S3Client::ListObjectsV2(std::string_view bucket,
                                                  const ListObjectsRequest& list) const {
  ORGTRAIL_RETURN_IF_ERROR(CheckBucketName(bucket));
  if (list.max_keys < 0 || list.max_keys > 1000) {
    return absl::InvalidArgumentError(
        StrCat("S3 ListObjectsV2 max-keys ", list.max_keys, " is not in 0..1000"));
  }
  std::map<std::string, std::string> query{{"list-type", "2"}};
  if (!list.prefix.empty()) query["prefix"] = list.prefix;
  if (!list.continuation_token.empty()) query["continuation-token"] = list.continuation_token;
  if (!list.start_after.empty()) query["start-after"] = list.start_after;
  if (list.max_keys > 0) query["max-keys"] = StrCat(list.max_keys);
  const std::string context =
      StrCat(Describe("ListObjectsV2", bucket, ""), " prefix '", list.prefix, "'");
  auto response = Perform(options_, {"GET", RequestPath(bucket, "", query), {}, {}}, context,
                          64u << 20);
  if (!response.ok()) return response.status();
  if (response->status != 200) return StatusFromS3Response(context, response->status, response->body);
  auto page = ParseListObjectsV2(response->body);
  if (!page.ok()) return Status(page.status().code(), StrCat(context, ": ", std::string(page.status().message())));
  return page;
}

StatusOr<std::vector<ObjectSummary>> S3Client::ListAllObjects(std::string_view bucket,
                                                              std::string_view prefix) const {
  std::vector<ObjectSummary> all;
  ListObjectsRequest request;
  request.prefix = std::string(prefix);
  while (true) {
    auto page = ListObjectsV2(bucket, request);
    if (!page.ok()) return page.status();
    for (ObjectSummary& o : page->objects) all.push_back(std::move(o));
    if (!page->is_truncated) return all;
    if (page->next_continuation_token == request.continuation_token) {
      return absl::DataLossError(StrCat(Describe("ListObjectsV2", bucket, ""),
                                              ": the continuation token did not advance"));
    }
    request.continuation_token = page->next_continuation_token;
  }
}

Status S3Client::DeleteObject(std::string_view bucket, std::string_view key) const {
  ORGTRAIL_RETURN_IF_ERROR(CheckBucketName(bucket));
  ORGTRAIL_RETURN_IF_ERROR(CheckObjectKey(key));
  const std::string context = Describe("DeleteObject", bucket, key);
  auto response = Perform(options_, {"DELETE", RequestPath(bucket, key), {}, {}}, context, 1 << 20);
  if (!response.ok()) return response.status();
  if (response->status != 204 && response->status != 200) {
    return StatusFromS3Response(context, response->status, response->body);
  }
  return absl::OkStatus();
}

}  // namespace orgtrail::objectstore
