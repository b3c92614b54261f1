// SHA-256 through OpenSSL EVP, lowercase hex, standard padded base64.
#include "orgtrail/common/hash.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "evp_sha256.h"

namespace orgtrail {
namespace {

EVP_MD_CTX* AsCtx(void* ctx) { return static_cast<EVP_MD_CTX*>(ctx); }

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// SHA-256 of bytes in memory fails only when OpenSSL cannot allocate or its
// provider is broken. A wrong digest would be stored, signed and chained, so the
// process stops instead (fail-stop: nothing unacknowledged is lost).
void CheckEvp(int rc, const char* what) {
  if (rc == 1) return;
  std::fprintf(stderr, "{\"level\":\"fatal\",\"msg\":\"SHA-256 failed\",\"call\":\"%s\"}\n", what);
  std::abort();
}

}  // namespace

Digest Sha256(std::string_view data) {
  Digest out{};
  unsigned int len = 0;
  // EVP_Digest is a one-shot wrapper around EVP_DigestInit/Update/Final.
  CheckEvp(EVP_Digest(data.data(), data.size(), out.data(), &len, FetchedSha256(), nullptr), "EVP_Digest");
  return out;
}

Sha256Hasher::Sha256Hasher() : ctx_(EVP_MD_CTX_new()) {
  CheckEvp(ctx_ != nullptr ? 1 : 0, "EVP_MD_CTX_new");
  CheckEvp(EVP_DigestInit_ex(AsCtx(ctx_), FetchedSha256(), nullptr), "EVP_DigestInit_ex");
}

Sha256Hasher::~Sha256Hasher() { EVP_MD_CTX_free(AsCtx(ctx_)); }

void Sha256Hasher::Update(std::string_view data) {
  CheckEvp(EVP_DigestUpdate(AsCtx(ctx_), data.data(), data.size()), "EVP_DigestUpdate");
}

Digest Sha256Hasher::Finish() {
  Digest out{};
  unsigned int len = 0;
  CheckEvp(EVP_DigestFinal_ex(AsCtx(ctx_), out.data(), &len), "EVP_DigestFinal_ex");
  return out;
}

std::string DigestToString(const Digest& d) {
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

StatusOr<Digest> DigestFromString(std::string_view raw) {
  Digest d{};
  if (raw.size() != d.size()) {
    return absl::InvalidArgumentError("digest: expected 32 bytes, got " +
                                      std::to_string(raw.size()));
  }
  std::memcpy(d.data(), raw.data(), d.size());
  return d;
}

std::string HexEncode(std::string_view bytes) {
  std::string out;
  out.resize(bytes.size() * 2);
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kHexDigits[b >> 4];
    out[2 * i + 1] = kHexDigits[b & 0x0f];
  }
  return out;
}

std::string HexEncode(const Digest& d) {
  return HexEncode(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

StatusOr<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return absl::InvalidArgumentError("hex: odd length " + std::to_string(hex.size()));
  }
  std::string out;
  out.resize(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = HexValue(hex[2 * i]);
    const int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError("hex: non-hex character at offset " +
                                        std::to_string(hi < 0 ? 2 * i : 2 * i + 1));
    }
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) |
                       (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.push_back(kBase64Alphabet[(v >> 6) & 63]);
    out.push_back(kBase64Alphabet[v & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.append("==");
  } else if (rest == 2) {
    const uint32_t v =
        (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8);
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.push_back(kBase64Alphabet[(v >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

// Strict decoding: length a multiple of 4, padding only at the end, no
// whitespace, and unused trailing bits must be zero (one encoding per value).
StatusOr<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return absl::InvalidArgumentError("base64: length " + std::to_string(text.size()) +
                                      " is not a multiple of 4");
  }
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++padding;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last_quad = (i + 4 == text.size());
    int v[4];
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + k];
      const bool is_padding_slot = last_quad && k >= 4 - static_cast<int>(padding);
      if (is_padding_slot) {
        v[k] = 0;
        continue;
      }
      v[k] = Base64Value(c);
      if (v[k] < 0) {
        return absl::InvalidArgumentError("base64: invalid character at offset " +
                                          std::to_string(i + k));
      }
    }
    const uint32_t n = (static_cast<uint32_t>(v[0]) << 18) | (static_cast<uint32_t>(v[1]) << 12) |
                       (static_cast<uint32_t>(v[2]) << 6) | static_cast<uint32_t>(v[3]);
    out.push_back(static_cast<char>((n >> 16) & 0xff));
    if (!(last_quad && padding == 2)) out.push_back(static_cast<char>((n >> 8) & 0xff));
    if (!(last_quad && padding >= 1)) out.push_back(static_cast<char>(n & 0xff));
    if (last_quad && padding == 2 && (v[1] & 0x0f) != 0) {
      return absl::InvalidArgumentError("base64: non-zero trailing bits");
    }
    if (last_quad && padding == 1 && (v[2] & 0x03) != 0) {
      return absl::InvalidArgumentError("base64: non-zero trailing bits");
    }
  }
  return out;
}

}  // namespace orgtrail
