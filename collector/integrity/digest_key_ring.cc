// RSA digest keys on disk and their public view (see digest_key_ring.h).
#include "collector/integrity/digest_key_ring.h"
#include "collector/export/export_strings.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "collector/export/export_file.h"
#include "orgtrail/common/hash.h"
#include "orgtrail/common/time_util.h"

namespace orgtrail::collector {
namespace {

using internal::Cat;
using internal::Split;

struct PkeyDeleter { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct BioDeleter { void operator()(BIO* b) const { BIO_free(b); } };
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

StatusOr<std::string> Pkcs1PublicDer(EVP_PKEY* pkey) {
  unsigned char* buf = nullptr;
  int len = i2d_PublicKey(pkey, &buf);
  if (len <= 0) return absl::InternalError("i2d_PublicKey failed");
  std::string der(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
  OPENSSL_free(buf);
  return der;
}

StatusOr<std::string> PrivatePem(EVP_PKEY* pkey) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), pkey, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return absl::InternalError("PEM_write_bio_PrivateKey failed");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string KeyFileName(int64_t start_us) { return Cat("key-", start_us, ".pem"); }

std::string Timestamp(int64_t us) { return FormatRfc3339Seconds(us); }

}  // namespace

std::string DigestKeyFingerprint(std::string_view der) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(der.data(), der.size(), md, &len, EVP_md5(), nullptr);
  return HexEncode(std::string_view(reinterpret_cast<char*>(md), len));
}

StatusOr<std::unique_ptr<DigestKeyRing>> DigestKeyRing::Open(const std::string& dir, int64_t now_us) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::UnavailableError(Cat("mkdir ", dir, ": ", ec.message()));
  ::chmod(dir.c_str(), 0700);
  std::unique_ptr<DigestKeyRing> ring(new DigestKeyRing(dir));
  std::lock_guard<std::mutex> lock(ring->mu_);
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("key-", 0) != 0 || name.size() < 9 || name.substr(name.size() - 4) != ".pem") continue;
    int64_t start = 0;
    const std::string digits = name.substr(4, name.size() - 8);
    auto [ptr, err] = std::from_chars(digits.data(), digits.data() + digits.size(), start);
    if (err != std::errc() || ptr != digits.data() + digits.size()) continue;
    ORGTRAIL_RETURN_IF_ERROR(ring->LoadKeyFile(entry.path().string(), start));
  }
  if (ec) return absl::UnavailableError(Cat("list ", dir, ": ", ec.message()));
  if (ring->keys_.empty()) ORGTRAIL_RETURN_IF_ERROR(ring->CreateKeyLocked(now_us));
  ring->FixValidityLocked();
  return ring;
}

Status DigestKeyRing::LoadKeyFile(const std::string& path, int64_t start_us) {
  StatusOr<std::string> pem_or = [&]() -> StatusOr<std::string> {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return absl::UnavailableError(Cat("open ", path, ": ", std::strerror(errno)));
    std::string s;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) s.append(buf, n);
    std::fclose(f);
    return s;
  }();
  if (!pem_or.ok()) return pem_or.status();
  BioPtr bio(BIO_new_mem_buf(pem_or->data(), static_cast<int>(pem_or->size())));
  PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!pkey || EVP_PKEY_get_base_id(pkey.get()) != EVP_PKEY_RSA) {
    return absl::DataLossError(Cat("digest key ", path, ": not an RSA private key"));
  }
  StatusOr<std::string> der = Pkcs1PublicDer(pkey.get());
  if (!der.ok()) return der.status();
  auto signer = Signer::FromPrivateKeyPem(*pem_or);
  if (!signer.ok()) return signer.status();
  Key key;
  key.pub.der_pkcs1 = *der;
  key.pub.fingerprint = DigestKeyFingerprint(*der);
  key.pub.validity_start_us = start_us;
  key.signer = std::move(*signer);
  keys_.push_back(std::move(key));
  return absl::OkStatus();
}

Status DigestKeyRing::CreateKeyLocked(int64_t start_us) {
  PkeyPtr pkey(EVP_RSA_gen(2048));
  if (!pkey) return absl::InternalError("RSA-2048 key generation failed");
  StatusOr<std::string> pem = PrivatePem(pkey.get());
  if (!pem.ok()) return pem.status();
  const std::string name = KeyFileName(start_us);
  ORGTRAIL_RETURN_IF_ERROR(WriteExportFileDurably(dir_, name, *pem, 0600));
  return LoadKeyFile(Cat(dir_, "/", name), start_us);
}

void DigestKeyRing::FixValidityLocked() {
  std::sort(keys_.begin(), keys_.end(), [](const Key& a, const Key& b) {
    return a.pub.validity_start_us < b.pub.validity_start_us;
  });
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (i + 1 < keys_.size()) {
      keys_[i].pub.validity_end_us = keys_[i + 1].pub.validity_start_us;
    } else {
      keys_[i].pub.validity_end_us.reset();
    }
  }
}

StatusOr<std::string> DigestKeyRing::SignHex(std::string_view message, std::string* fingerprint) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Key& key = keys_.back();
  StatusOr<std::string> sig = key.signer->Sign(message);
  if (!sig.ok()) return sig.status();
  if (fingerprint) *fingerprint = key.pub.fingerprint;
  return HexEncode(*sig);
}

std::string DigestKeyRing::CurrentFingerprint() const {
  std::lock_guard<std::mutex> lock(mu_);
  return keys_.back().pub.fingerprint;
}

Status DigestKeyRing::Rotate(int64_t now_us) {
  std::lock_guard<std::mutex> lock(mu_);
  if (now_us <= keys_.back().pub.validity_start_us) {
    return absl::FailedPreconditionError("rotation time must be after the current key's start");
  }
  ORGTRAIL_RETURN_IF_ERROR(CreateKeyLocked(now_us));
  FixValidityLocked();
  return absl::OkStatus();
}

std::vector<DigestPublicKey> DigestKeyRing::ListPublicKeys(int64_t start_us, int64_t end_us) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<DigestPublicKey> out;
  for (const auto& k : keys_) {
    bool ends_before = start_us != 0 && k.pub.validity_end_us && *k.pub.validity_end_us < start_us;
    bool starts_after = end_us != 0 && k.pub.validity_start_us > end_us;
    if (!ends_before && !starts_after) out.push_back(k.pub);
  }
  return out;
}

std::string DigestKeyRing::PublicKeysJson() const {
  std::string out = "{\"PublicKeyList\":[";
  bool first = true;
  for (const auto& k : ListPublicKeys()) {
    if (!first) out.push_back(',');
    first = false;
    out += Cat("{\"Value\":\"", Base64Encode(k.der_pkcs1), "\",\"ValidityStartTime\":\"",
                    Timestamp(k.validity_start_us), "\",\"ValidityEndTime\":",
                    k.validity_end_us ? Cat("\"", Timestamp(*k.validity_end_us), "\"") : "null",
                    ",\"Fingerprint\":\"", k.fingerprint, "\"}");
  }
  out.append("]}\n");
  return out;
}

}  // namespace orgtrail::collector
