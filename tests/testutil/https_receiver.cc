#include "testutil/https_receiver.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>

#include <openssl/evp.h>

#include "orgtrail/common/hash.h"
#include "orgtrail/common/pki.h"

namespace orgtrail::testutil {

struct HttpsReceiverCallbacks {
  static MHD_Result OnRequest(void* self, MHD_Connection* connection, const char*, const char*, const char*,
                              const char* upload, size_t* upload_size, void** context) {
    auto* receiver = static_cast<HttpsReceiver*>(self);
    if (*context == nullptr) {
      *context = new std::string();
      return MHD_YES;
    }
    auto* body = static_cast<std::string*>(*context);
    if (*upload_size > 0) {
      body->append(upload, *upload_size);
      *upload_size = 0;
      return MHD_YES;
    }
    auto header = [&](const char* name) {
      const char* v = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name);
      return std::string(v ? v : "");
    };
    unsigned status = 200;
    {
      std::lock_guard<std::mutex> lock(receiver->mu_);
      if (receiver->fail_first_ > 0) {
        --receiver->fail_first_;
        status = 500;
      } else {
        receiver->requests_.push_back({*body, header("Authorization"), header("X-Orgtrail-Signature-256"),
                                       header("X-Orgtrail-Delivery-Id")});
      }
    }
    delete body;
    *context = nullptr;
    MHD_Response* response = MHD_create_response_from_buffer(0, nullptr, MHD_RESPMEM_PERSISTENT);
    const MHD_Result queued = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return queued;
  }
};

HttpsReceiver::HttpsReceiver(const TlsFiles& tls, int fail_first, int port) : fail_first_(fail_first) {
  auto cert = ReadFile(tls.cert_path);
  auto key = ReadFile(tls.key_path);
  if (!cert.ok() || !key.ok()) return;
  cert_ = *cert;
  key_ = *key;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS, 0, nullptr, nullptr,
                             &HttpsReceiverCallbacks::OnRequest, this, MHD_OPTION_HTTPS_MEM_CERT, cert_.c_str(),
                             MHD_OPTION_HTTPS_MEM_KEY, key_.c_str(), MHD_OPTION_SOCK_ADDR,
                             reinterpret_cast<const sockaddr*>(&addr), MHD_OPTION_END);
  if (daemon_ != nullptr) port_ = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT)->port;
}

HttpsReceiver::~HttpsReceiver() {
  if (daemon_ != nullptr) MHD_stop_daemon(daemon_);
}

std::vector<HttpsReceiver::Request> HttpsReceiver::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

std::string HmacSha256Hex(const std::string& key, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t size = 0;
  EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
            reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, sizeof(mac), &size);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(mac), size));
}

}  // namespace orgtrail::testutil
