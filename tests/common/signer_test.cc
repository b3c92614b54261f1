// Signer / Verifier: round trips for ECDSA P-256, Ed25519 and RSA with keys
// generated at test time, and rejection of every tampered input.
#include "orgtrail/common/signer.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <unistd.h>

namespace orgtrail {
namespace {

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

Key GenerateKey(const std::string& kind) {
  if (kind == "P-256" || kind == "P-384") return Key(EVP_EC_gen(kind.c_str()));
  if (kind == "ED25519") return Key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (kind == "RSA2048") return Key(EVP_RSA_gen(2048));
  if (kind == "RSA1024") return Key(EVP_RSA_gen(1024));
  if (kind == "X25519") return Key(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  return nullptr;
}

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

std::string PrivatePem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  return BioToString(bio);
}

std::string EncryptedPrivatePem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  static char pass[] = "secret";
  PEM_write_bio_PKCS8PrivateKey(bio, key, EVP_aes_256_cbc(), pass, 6, nullptr, nullptr);
  return BioToString(bio);
}

std::string PublicPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  return BioToString(bio);
}

std::string Pkcs1RsaPublicDer(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int len = i2d_PublicKey(key, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

std::string PemBlock(const char* name, const std::string& der) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio(bio, name, "", reinterpret_cast<const unsigned char*>(der.data()),
                static_cast<long>(der.size()));
  return BioToString(bio);
}

std::string SelfSignedCertPem(EVP_PKEY* key) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("signer-test"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  const bool eddsa = EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519;
  X509_sign(cert, key, eddsa ? nullptr : EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  X509_free(cert);
  return BioToString(bio);
}

struct Case {
  std::string kind;
  std::string algorithm;
};

class SignerRoundTripTest : public ::testing::TestWithParam<Case> {};

TEST_P(SignerRoundTripTest, SignVerifyAndRejectTampering) {
  const Case& c = GetParam();
  Key key = GenerateKey(c.kind);
  ASSERT_TRUE(key);
  auto signer = Signer::FromPrivateKeyPem(PrivatePem(key.get()));
  ASSERT_TRUE(signer.ok()) << signer.status();
  EXPECT_EQ((*signer)->algorithm(), c.algorithm);

  const std::string message =
      "orgtrail-batch-v1\nagent=spiffe://org/account/123456789012/region/us-east-1/agent/a\n"
      "epoch=1\nseq=42\n";
  auto signature = (*signer)->Sign(message);
  ASSERT_TRUE(signature.ok()) << signature.status();
  ASSERT_FALSE(signature->empty());

  // Every way of obtaining the verifier.
  std::vector<std::unique_ptr<Verifier>> verifiers;
  auto from_pem = Verifier::FromPublicKeyPem(PublicPem(key.get()));
  ASSERT_TRUE(from_pem.ok()) << from_pem.status();
  verifiers.push_back(*std::move(from_pem));
  auto from_der = Verifier::FromPublicKeyDer((*signer)->PublicKeyDer());
  ASSERT_TRUE(from_der.ok()) << from_der.status();
  verifiers.push_back(*std::move(from_der));
  auto from_cert = Verifier::FromCertificatePem(SelfSignedCertPem(key.get()));
  ASSERT_TRUE(from_cert.ok()) << from_cert.status();
  verifiers.push_back(*std::move(from_cert));

  for (const auto& verifier : verifiers) {
    EXPECT_EQ(verifier->algorithm(), c.algorithm);
    EXPECT_TRUE(verifier->Verify(message, *signature, c.algorithm).ok());
  }
  const Verifier& verifier = *verifiers[0];

  // A flipped bit in any signed byte fails.
  for (size_t i = 0; i < message.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string tampered = message;
      tampered[i] = static_cast<char>(tampered[i] ^ (1 << bit));
      const Status s = verifier.Verify(tampered, *signature, c.algorithm);
      ASSERT_FALSE(s.ok()) << "byte " << i << " bit " << bit;
      ASSERT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
    }
  }
  // A flipped bit in the signature fails.
  for (size_t i = 0; i < signature->size(); ++i) {
    std::string tampered = *signature;
    tampered[i] = static_cast<char>(tampered[i] ^ (1 << (i % 8)));
    ASSERT_FALSE(verifier.Verify(message, tampered, c.algorithm).ok()) << "signature byte " << i;
  }
  // Truncated, extended, empty signatures; appended / truncated message.
  EXPECT_FALSE(verifier.Verify(message, signature->substr(0, signature->size() - 1), c.algorithm).ok());
  EXPECT_FALSE(verifier.Verify(message, *signature + std::string(1, '\0'), c.algorithm).ok());
  EXPECT_FALSE(verifier.Verify(message, "", c.algorithm).ok());
  EXPECT_FALSE(verifier.Verify(message + "x", *signature, c.algorithm).ok());
  EXPECT_FALSE(verifier.Verify(message.substr(1), *signature, c.algorithm).ok());
  // Wrong algorithm names fail.
  for (const char* wrong : {"ECDSA_P256_SHA256", "ED25519", "SHA256withRSA", "", "ecdsa_p256_sha256",
                            "ECDSA_P256_SHA256 "}) {
    if (c.algorithm == wrong) continue;
    EXPECT_EQ(verifier.Verify(message, *signature, wrong).code(),
              absl::StatusCode::kUnauthenticated)
        << wrong;
  }
  // A signature from another key of the same type fails.
  Key other = GenerateKey(c.kind);
  auto other_signer = Signer::FromPrivateKeyPem(PrivatePem(other.get()));
  ASSERT_TRUE(other_signer.ok());
  auto other_signature = (*other_signer)->Sign(message);
  ASSERT_TRUE(other_signature.ok());
  EXPECT_FALSE(verifier.Verify(message, *other_signature, c.algorithm).ok());
}

INSTANTIATE_TEST_SUITE_P(AllKeyTypes, SignerRoundTripTest,
                         ::testing::Values(Case{"P-256", "ECDSA_P256_SHA256"},
                                           Case{"ED25519", "ED25519"},
                                           Case{"RSA2048", "SHA256withRSA"}),
                         [](const auto& info) {
                           std::string n = info.param.kind;
                           n.erase(std::remove(n.begin(), n.end(), '-'), n.end());
                           return n;
                         });

TEST(SignerTest, EcdsaSignaturesAreRandomizedButBothVerify) {
  Key key = GenerateKey("P-256");
  auto signer = Signer::FromPrivateKeyPem(PrivatePem(key.get()));
  ASSERT_TRUE(signer.ok());
  auto a = (*signer)->Sign("m");
  auto b = (*signer)->Sign("m");
  ASSERT_TRUE(a.ok() && b.ok());
  auto verifier = Verifier::FromPublicKeyDer((*signer)->PublicKeyDer());
  ASSERT_TRUE(verifier.ok());
  EXPECT_TRUE((*verifier)->Verify("m", *a, "ECDSA_P256_SHA256").ok());
  EXPECT_TRUE((*verifier)->Verify("m", *b, "ECDSA_P256_SHA256").ok());
  // Cross-type: an Ed25519 signature is not accepted by an ECDSA key.
  Key ed = GenerateKey("ED25519");
  auto ed_signer = Signer::FromPrivateKeyPem(PrivatePem(ed.get()));
  ASSERT_TRUE(ed_signer.ok());
  auto ed_sig = (*ed_signer)->Sign("m");
  ASSERT_TRUE(ed_sig.ok());
  EXPECT_FALSE((*verifier)->Verify("m", *ed_sig, "ECDSA_P256_SHA256").ok());
  EXPECT_FALSE((*verifier)->Verify("m", *ed_sig, "ED25519").ok());
}

TEST(SignerTest, RsaPkcs1PublicKeyFormsAccepted) {
  Key key = GenerateKey("RSA2048");
  auto signer = Signer::FromPrivateKeyPem(PrivatePem(key.get()));
  ASSERT_TRUE(signer.ok());
  auto sig = (*signer)->Sign("digest file bytes");
  ASSERT_TRUE(sig.ok());
  const std::string pkcs1 = Pkcs1RsaPublicDer(key.get());
  auto from_der = Verifier::FromPublicKeyDer(pkcs1);
  ASSERT_TRUE(from_der.ok()) << from_der.status();
  EXPECT_TRUE((*from_der)->Verify("digest file bytes", *sig, "SHA256withRSA").ok());
  auto from_pem = Verifier::FromPublicKeyPem(PemBlock("RSA PUBLIC KEY", pkcs1));
  ASSERT_TRUE(from_pem.ok()) << from_pem.status();
  EXPECT_TRUE((*from_pem)->Verify("digest file bytes", *sig, "SHA256withRSA").ok());
  // Trailing bytes after the DER structure are refused.
  EXPECT_FALSE(Verifier::FromPublicKeyDer(pkcs1 + "x").ok());
  EXPECT_FALSE(Verifier::FromPublicKeyDer((*signer)->PublicKeyDer() + std::string(1, '\0')).ok());
}

TEST(SignerTest, UnsupportedKeysRefused) {
  for (const char* kind : {"P-384", "RSA1024", "X25519"}) {
    Key key = GenerateKey(kind);
    ASSERT_TRUE(key) << kind;
    auto signer = Signer::FromPrivateKeyPem(PrivatePem(key.get()));
    EXPECT_FALSE(signer.ok()) << kind;
    EXPECT_EQ(signer.status().code(), absl::StatusCode::kInvalidArgument) << kind;
    auto verifier = Verifier::FromPublicKeyPem(PublicPem(key.get()));
    EXPECT_FALSE(verifier.ok()) << kind;
  }
}

TEST(SignerTest, MalformedKeyInputRefusedWithClearError) {
  Key key = GenerateKey("P-256");
  const std::string pem = PrivatePem(key.get());
  const std::string pub = PublicPem(key.get());
  const std::vector<std::string> bad_private = {
      "",
      "not a key",
      pem.substr(0, pem.size() / 2),
      pub,  // a public key is not a private key
      EncryptedPrivatePem(key.get()),  // never prompts; refused
      std::string(2 << 20, 'A'),
      "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n",
  };
  for (const auto& input : bad_private) {
    auto s = Signer::FromPrivateKeyPem(input);
    EXPECT_FALSE(s.ok()) << input.substr(0, 40);
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_FALSE(s.status().message().empty());
  }
  const std::vector<std::string> bad_public = {"", "garbage", pub.substr(0, pub.size() - 40), pem,
                                               PemBlock("CERTIFICATE", "xyz")};
  for (const auto& input : bad_public) {
    EXPECT_FALSE(Verifier::FromPublicKeyPem(input).ok()) << input.substr(0, 40);
    EXPECT_FALSE(Verifier::FromCertificatePem(input).ok()) << input.substr(0, 40);
  }
  for (const std::string& der : {std::string(), std::string("\x30\x03\x02\x01", 4),
                                 std::string(100, '\xff')}) {
    EXPECT_FALSE(Verifier::FromPublicKeyDer(der).ok());
  }
}

// Every single-byte corruption and truncation of a DER public key either
// fails cleanly (non-canonical encodings included) or yields a verifier that
// rejects the original signature; never a crash.
TEST(SignerTest, CorruptedPublicKeyDerNeverCrashes) {
  Key key = GenerateKey("P-256");
  auto signer = Signer::FromPrivateKeyPem(PrivatePem(key.get()));
  ASSERT_TRUE(signer.ok());
  auto sig = (*signer)->Sign("message");
  ASSERT_TRUE(sig.ok());
  const std::string der = (*signer)->PublicKeyDer();
  int refused = 0;
  for (size_t i = 0; i < der.size(); ++i) {
    for (unsigned char x : {0x01, 0x80, 0xff}) {
      std::string bad = der;
      bad[i] = static_cast<char>(bad[i] ^ x);
      auto verifier = Verifier::FromPublicKeyDer(bad);
      if (!verifier.ok()) {
        EXPECT_EQ(verifier.status().code(), absl::StatusCode::kInvalidArgument);
        ++refused;
        continue;
      }
      EXPECT_FALSE((*verifier)->Verify("message", *sig, (*verifier)->algorithm()).ok())
          << "byte " << i << " ^ " << static_cast<int>(x);
    }
    EXPECT_FALSE(Verifier::FromPublicKeyDer(der.substr(0, i)).ok()) << "truncated at " << i;
  }
  EXPECT_GT(refused, 0);
}

TEST(SignerTest, FromPrivateKeyFile) {
  Key key = GenerateKey("ED25519");
  char path[] = "/tmp/orgtrail-signer-test-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream out(path);
    out << PrivatePem(key.get());
  }
  auto signer = Signer::FromPrivateKeyFile(path);
  ASSERT_TRUE(signer.ok()) << signer.status();
  EXPECT_EQ((*signer)->algorithm(), "ED25519");
  std::remove(path);
  auto missing = Signer::FromPrivateKeyFile(path);
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(path), std::string::npos);
}

}  // namespace
}  // namespace orgtrail
