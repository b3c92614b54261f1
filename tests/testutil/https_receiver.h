// HttpsReceiver: an HTTPS server in the test process (libmicrohttpd with TLS, a certificate of
// the test PKI) that records every POST's body and the Authorization, X-Orgtrail-Signature-256
// and X-Orgtrail-Delivery-Id headers, answering 200 (500 to the first `fail_first` requests).
// Listens on 127.0.0.1, on `port` or (0) a port the kernel picks. Thread-safe.
#ifndef ORGTRAIL_TESTS_TESTUTIL_HTTPS_RECEIVER_H_
#define ORGTRAIL_TESTS_TESTUTIL_HTTPS_RECEIVER_H_

#include <mutex>
#include <string>
#include <vector>

#include "orgtrail/common/tls.h"

struct MHD_Daemon;

namespace orgtrail::testutil {

class HttpsReceiver {
 public:
  struct Request {
    std::string body, authorization, signature, delivery_id;
  };
  explicit HttpsReceiver(const TlsFiles& tls, int fail_first = 0, int port = 0);
  ~HttpsReceiver();
  HttpsReceiver(const HttpsReceiver&) = delete;
  HttpsReceiver& operator=(const HttpsReceiver&) = delete;

  bool ok() const { return daemon_ != nullptr && port_ != 0; }
  int port() const { return port_; }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_) + "/alarms"; }
  std::vector<Request> requests() const;

 private:
  friend struct HttpsReceiverCallbacks;
  std::string cert_, key_;
  MHD_Daemon* daemon_ = nullptr;
  int port_ = 0;
  mutable std::mutex mu_;
  int fail_first_;  // guarded by mu_
  std::vector<Request> requests_;
};

// The signature a receiver recomputes: lowercase hex HMAC-SHA256(key, body), computed here with
// OpenSSL directly (independently of the collector's webhook client).
std::string HmacSha256Hex(const std::string& key, const std::string& body);

}  // namespace orgtrail::testutil

#endif  // ORGTRAIL_TESTS_TESTUTIL_HTTPS_RECEIVER_H_
