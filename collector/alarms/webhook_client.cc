#include "collector/alarms/webhook_client.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <memory>

#include "orgtrail/common/hash.h"

namespace orgtrail::collector {
namespace {

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

size_t DiscardBody(char*, size_t size, size_t count, void*) { return size * count; }

}  // namespace

Status CheckWebhookUrl(std::string_view url) {
  if (url.size() > 2048) return absl::InvalidArgumentError("webhook url longer than 2048 characters");
  for (unsigned char c : url) {
    if (c <= 0x20 || c >= 0x7f) return absl::InvalidArgumentError("webhook url contains a space, control or non-ASCII byte");
  }
  std::unique_ptr<CURLU, CurlDeleter> parsed(curl_url());
  if (parsed == nullptr) return absl::ResourceExhaustedError("webhook url: out of memory");
  const std::string text(url);
  if (const CURLUcode rc = curl_url_set(parsed.get(), CURLUPART_URL, text.c_str(), 0); rc != CURLUE_OK) {
    return absl::InvalidArgumentError("webhook url is not a valid URL (" + std::string(curl_url_strerror(rc)) + "): '" +
                                      text.substr(0, 64) + "'");
  }
  char* part = nullptr;
  std::string scheme;
  if (curl_url_get(parsed.get(), CURLUPART_SCHEME, &part, 0) == CURLUE_OK) {
    scheme = part;
    curl_free(part);
  }
  if (scheme != "http" && scheme != "https") {
    return absl::InvalidArgumentError("webhook url must start with https:// or http:// (got '" + text.substr(0, 64) + "')");
  }
  for (CURLUPart credentials : {CURLUPART_USER, CURLUPART_PASSWORD}) {
    if (curl_url_get(parsed.get(), credentials, &part, 0) == CURLUE_OK) {
      curl_free(part);
      return absl::InvalidArgumentError(
          "webhook url must not contain credentials (use bearer_token_file or basic_auth_file)");
    }
  }
  if (curl_url_get(parsed.get(), CURLUPART_HOST, &part, 0) != CURLUE_OK) {
    return absl::InvalidArgumentError("webhook url has no host");
  }
  const bool empty_host = part[0] == '\0';
  curl_free(part);
  if (empty_host) return absl::InvalidArgumentError("webhook url has no host");
  return absl::OkStatus();
}

std::string WebhookSignature(std::string_view secret, std::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t mac_size = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
                reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, sizeof(mac),
                &mac_size) == nullptr) {
    return "";
  }
  return "sha256=" + HexEncode(std::string_view(reinterpret_cast<const char*>(mac), mac_size));
}

Status PostWebhook(const NotificationTarget& target, std::string_view body, std::string_view delivery_id) {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (curl == nullptr) return absl::ResourceExhaustedError("webhook: curl_easy_init failed");
  curl_slist* raw_headers = nullptr;
  raw_headers = curl_slist_append(raw_headers, "Content-Type: application/json");
  raw_headers = curl_slist_append(raw_headers, "Expect:");  // no 100-continue round trip
  if (!target.authorization.empty()) {
    raw_headers = curl_slist_append(raw_headers, ("Authorization: " + target.authorization).c_str());
  }
  if (!delivery_id.empty()) {
    raw_headers = curl_slist_append(raw_headers, ("X-Orgtrail-Delivery-Id: " + std::string(delivery_id)).c_str());
  }
  if (!target.hmac_secret.empty()) {
    raw_headers = curl_slist_append(
        raw_headers, ("X-Orgtrail-Signature-256: " + WebhookSignature(target.hmac_secret, body)).c_str());
  }
  std::unique_ptr<curl_slist, CurlDeleter> headers(raw_headers);
  CURL* c = curl.get();
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_URL, target.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(target.timeout_ms));
  curl_easy_setopt(c, CURLOPT_USERAGENT, "orgtrail-collector");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &DiscardBody);
  if (!target.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, target.ca_file.c_str());
  const CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    return absl::DeadlineExceededError("webhook: no answer within " + std::to_string(target.timeout_ms) + " ms");
  }
  if (rc != CURLE_OK) {
    return absl::UnavailableError(std::string("webhook: ") + (error[0] ? error : curl_easy_strerror(rc)));
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status > 299) return absl::UnavailableError("webhook: HTTP status " + std::to_string(status));
  return absl::OkStatus();
}

}  // namespace orgtrail::collector
