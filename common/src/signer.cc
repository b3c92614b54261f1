// Signer / Verifier over OpenSSL EVP (EVP_DigestSign / EVP_DigestVerify).
#include "orgtrail/common/signer.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace orgtrail {
namespace {

constexpr char kEcdsaP256[] = "ECDSA_P256_SHA256";
constexpr char kEd25519[] = "ED25519";
constexpr char kRsaSha256[] = "SHA256withRSA";
constexpr size_t kMaxKeyInputBytes = 1 << 20;
constexpr int kMinRsaBits = 2048;

EVP_PKEY* AsKey(void* p) { return static_cast<EVP_PKEY*>(p); }

// Drains OpenSSL's thread-local error queue into a short message, so a
// failure here never leaks stale errors into unrelated OpenSSL callers.
std::string DrainOpensslErrors() {
  std::string out;
  unsigned long err = 0;
  while ((err = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof(buf));
    if (out.empty()) out = buf;  // keep the first (root-cause) error only
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

Status OpensslError(const std::string& what) {
  return absl::InvalidArgumentError(what + ": " + DrainOpensslErrors());
}

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using KeyBioPtr = std::unique_ptr<BIO, BioDeleter>;
struct KeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyDeleter>;
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

StatusOr<KeyBioPtr> MemoryBio(std::string_view data) {
  if (data.size() > kMaxKeyInputBytes) {
    return absl::InvalidArgumentError("key input too large: " + std::to_string(data.size()) +
                                      " bytes");
  }
  KeyBioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!bio) return OpensslError("BIO_new_mem_buf");
  return bio;
}

// Never prompt on a terminal for a passphrase: encrypted keys are refused.
int NoPassphrase(char*, int, int, void*) { return -1; }

// Maps a key to its algorithm name; INVALID_ARGUMENT for unsupported types.
StatusOr<std::string> AlgorithmForKey(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC: {
      char group[64] = {0};
      size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                         &len) != 1) {
        return OpensslError("EC key without a named curve");
      }
      if (std::string(group) != "prime256v1") {
        return absl::InvalidArgumentError("unsupported EC curve " + std::string(group) +
                                          " (only P-256)");
      }
      return std::string(kEcdsaP256);
    }
    case EVP_PKEY_ED25519:
      return std::string(kEd25519);
    case EVP_PKEY_RSA: {
      const int bits = EVP_PKEY_get_bits(key);
      if (bits < kMinRsaBits) {
        return absl::InvalidArgumentError("RSA key of " + std::to_string(bits) +
                                          " bits is too small (minimum 2048)");
      }
      return std::string(kRsaSha256);
    }
    default:
      return absl::InvalidArgumentError("unsupported key type " +
                                        std::to_string(EVP_PKEY_get_base_id(key)) +
                                        " (EC P-256, Ed25519 or RSA expected)");
  }
}

// SHA-256 for ECDSA and RSA; Ed25519 signs the message itself (no digest).
const EVP_MD* DigestForAlgorithm(const std::string& algorithm) {
  return algorithm == kEd25519 ? nullptr : EVP_sha256();
}

StatusOr<KeyPtr> ReadPublicKeyDer(std::string_view der) {
  if (der.empty()) return absl::InvalidArgumentError("public key DER is empty");
  if (der.size() > kMaxKeyInputBytes) return absl::InvalidArgumentError("public key DER too large");
  const auto* begin = reinterpret_cast<const unsigned char*>(der.data());
  const long len = static_cast<long>(der.size());
  // SubjectPublicKeyInfo first, then a bare PKCS#1 RSAPublicKey.
  const unsigned char* p = begin;
  KeyPtr key(d2i_PUBKEY(nullptr, &p, len));
  const bool spki = key != nullptr;
  if (!key) {
    ERR_clear_error();
    p = begin;
    key.reset(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, len));
  }
  if (!key) return OpensslError("not a DER SubjectPublicKeyInfo or PKCS#1 RSAPublicKey");
  if (p != begin + der.size()) {
    return absl::InvalidArgumentError("public key DER has " +
                                      std::to_string(begin + der.size() - p) +
                                      " trailing bytes");
  }
  // Only the canonical encoding is accepted (OpenSSL tolerates some
  // non-DER variants, e.g. a non-zero BIT STRING unused-bits octet), so one
  // key has exactly one accepted byte form.
  unsigned char* reencoded = nullptr;
  const int reencoded_len = spki ? i2d_PUBKEY(key.get(), &reencoded)
                                 : i2d_PublicKey(key.get(), &reencoded);
  const bool canonical = reencoded_len > 0 && static_cast<size_t>(reencoded_len) == der.size() &&
                         std::memcmp(reencoded, der.data(), der.size()) == 0;
  OPENSSL_free(reencoded);
  if (!canonical) {
    ERR_clear_error();
    return absl::InvalidArgumentError("public key DER is not in canonical DER form");
  }
  return key;
}

StatusOr<std::string> ReadKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError("cannot open key file " + path);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return absl::InvalidArgumentError("cannot read key file " + path);
  return buf.str();
}

}  // namespace

// ---------------------------------------------------------------- Signer

Signer::Signer(void* pkey, std::string algorithm) : pkey_(pkey), algorithm_(std::move(algorithm)) {}

Signer::~Signer() { EVP_PKEY_free(AsKey(pkey_)); }

StatusOr<std::unique_ptr<Signer>> Signer::FromPrivateKeyPem(std::string_view pem) {
  auto bio = MemoryBio(pem);
  if (!bio.ok()) return bio.status();
  KeyPtr key(PEM_read_bio_PrivateKey(bio->get(), nullptr, &NoPassphrase, nullptr));
  if (!key) return OpensslError("cannot read PEM private key");
  auto algorithm = AlgorithmForKey(key.get());
  if (!algorithm.ok()) return algorithm.status();
  return std::unique_ptr<Signer>(new Signer(key.release(), *std::move(algorithm)));
}

StatusOr<std::unique_ptr<Signer>> Signer::FromPrivateKeyFile(const std::string& path) {
  auto pem = ReadKeyFile(path);
  if (!pem.ok()) return pem.status();
  auto signer = FromPrivateKeyPem(*pem);
  if (!signer.ok()) {
    return absl::InvalidArgumentError(path + ": " + std::string(signer.status().message()));
  }
  return signer;
}

StatusOr<std::string> Signer::Sign(std::string_view message) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return absl::InternalError("EVP_MD_CTX_new failed");
  if (EVP_DigestSignInit(ctx.get(), nullptr, DigestForAlgorithm(algorithm_), nullptr,
                         AsKey(pkey_)) != 1) {
    return absl::InternalError("EVP_DigestSignInit: " + DrainOpensslErrors());
  }
  const auto* msg = reinterpret_cast<const unsigned char*>(message.data());
  size_t sig_len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &sig_len, msg, message.size()) != 1) {
    return absl::InternalError("EVP_DigestSign (size): " + DrainOpensslErrors());
  }
  std::string signature(sig_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &sig_len, msg,
                     message.size()) != 1) {
    return absl::InternalError("EVP_DigestSign: " + DrainOpensslErrors());
  }
  signature.resize(sig_len);  // ECDSA DER signatures vary in length
  return signature;
}

std::string Signer::PublicKeyDer() const {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(AsKey(pkey_), &der);
  if (len <= 0) {
    ERR_clear_error();
    return std::string();
  }
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

// -------------------------------------------------------------- Verifier

Verifier::Verifier(void* pkey, std::string algorithm)
    : pkey_(pkey), algorithm_(std::move(algorithm)) {}

Verifier::~Verifier() { EVP_PKEY_free(AsKey(pkey_)); }

namespace {
StatusOr<std::unique_ptr<Verifier>> MakeVerifier(
    KeyPtr key, std::unique_ptr<Verifier> (*make)(EVP_PKEY*, std::string)) {
  auto algorithm = AlgorithmForKey(key.get());
  if (!algorithm.ok()) return algorithm.status();
  return make(key.release(), *std::move(algorithm));
}
}  // namespace

StatusOr<std::unique_ptr<Verifier>> Verifier::FromCertificatePem(std::string_view pem) {
  auto bio = MemoryBio(pem);
  if (!bio.ok()) return bio.status();
  X509* cert = PEM_read_bio_X509(bio->get(), nullptr, &NoPassphrase, nullptr);
  if (cert == nullptr) return OpensslError("cannot read PEM certificate");
  KeyPtr key(X509_get_pubkey(cert));
  X509_free(cert);
  if (!key) return OpensslError("certificate has no usable public key");
  return MakeVerifier(std::move(key), [](EVP_PKEY* k, std::string alg) {
    return std::unique_ptr<Verifier>(new Verifier(k, std::move(alg)));
  });
}

StatusOr<std::unique_ptr<Verifier>> Verifier::FromPublicKeyPem(std::string_view pem) {
  auto bio = MemoryBio(pem);
  if (!bio.ok()) return bio.status();
  // Generic PEM read so both "PUBLIC KEY" (SPKI) and "RSA PUBLIC KEY"
  // (PKCS#1) blocks are accepted; the DER body goes through the DER path.
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  if (PEM_read_bio(bio->get(), &name, &header, &data, &len) != 1) {
    return OpensslError("cannot read PEM public key");
  }
  const std::string block_name = name;
  const std::string der(reinterpret_cast<char*>(data), static_cast<size_t>(len));
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  if (block_name != "PUBLIC KEY" && block_name != "RSA PUBLIC KEY") {
    return absl::InvalidArgumentError("PEM block \"" + block_name +
                                      "\" is not a public key (PUBLIC KEY or RSA PUBLIC KEY)");
  }
  return FromPublicKeyDer(der);
}

StatusOr<std::unique_ptr<Verifier>> Verifier::FromPublicKeyDer(std::string_view der) {
  auto key = ReadPublicKeyDer(der);
  if (!key.ok()) return key.status();
  return MakeVerifier(*std::move(key), [](EVP_PKEY* k, std::string alg) {
    return std::unique_ptr<Verifier>(new Verifier(k, std::move(alg)));
  });
}

Status Verifier::Verify(std::string_view message, std::string_view signature,
                        std::string_view algorithm) const {
  if (algorithm != algorithm_) {
    return absl::UnauthenticatedError("signature verification failed: algorithm \"" +
                                      std::string(algorithm) + "\" does not match the key (" +
                                      algorithm_ + ")");
  }
  if (signature.empty()) {
    return absl::UnauthenticatedError("signature verification failed: empty signature");
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return absl::InternalError("EVP_MD_CTX_new failed");
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, DigestForAlgorithm(algorithm_), nullptr,
                           AsKey(pkey_)) != 1) {
    return absl::InternalError("EVP_DigestVerifyInit: " + DrainOpensslErrors());
  }
  const int rc = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
      reinterpret_cast<const unsigned char*>(message.data()), message.size());
  if (rc != 1) {
    // 0 is a signature that does not verify; a negative value is an error, which
    // is the verifier's own fault only when OpenSSL ran out of memory (a malformed
    // signature is also reported as an error, and is the sender's).
    const bool out_of_memory = rc < 0 && ERR_GET_REASON(ERR_peek_last_error()) == ERR_R_MALLOC_FAILURE;
    ERR_clear_error();
    if (out_of_memory) return absl::InternalError("EVP_DigestVerify: out of memory");
    return absl::UnauthenticatedError("signature verification failed");
  }
  return absl::OkStatus();
}

}  // namespace orgtrail
