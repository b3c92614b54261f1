#include "orgtrail/common/hash.h"

#include <gtest/gtest.h>

#include <string>

namespace orgtrail {
namespace {

// FIPS 180-2 / NIST test vectors.
TEST(HashTest, Sha256KnownVectors) {
  EXPECT_EQ(HexEncode(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(HashTest, IncrementalEqualsOneShot) {
  std::string data;
  for (int i = 0; i < 100000; ++i) data.push_back(static_cast<char>(i * 31 + 7));
  Sha256Hasher hasher;
  for (size_t pos = 0; pos < data.size(); pos += 977) {
    hasher.Update(std::string_view(data).substr(pos, 977));
  }
  EXPECT_EQ(hasher.Finish(), Sha256(data));
}

TEST(HashTest, MillionA) {
  Sha256Hasher hasher;
  const std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i) hasher.Update(chunk);
  EXPECT_EQ(HexEncode(hasher.Finish()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(HashTest, DigestStringRoundTrip) {
  const Digest d = Sha256("x");
  const std::string raw = DigestToString(d);
  ASSERT_EQ(raw.size(), 32u);
  auto back = DigestFromString(raw);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, d);
  EXPECT_FALSE(DigestFromString("").ok());
  EXPECT_FALSE(DigestFromString(std::string(31, 'a')).ok());
  EXPECT_FALSE(DigestFromString(std::string(33, 'a')).ok());
}

TEST(HashTest, HexRoundTripAllBytes) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  const std::string hex = HexEncode(all);
  EXPECT_EQ(hex.substr(0, 8), "00010203");
  EXPECT_EQ(hex.substr(hex.size() - 4), "feff");
  auto back = HexDecode(hex);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, all);
  auto upper = HexDecode("DEADbeef");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(*upper, std::string("\xde\xad\xbe\xef"));
}

TEST(HashTest, HexDecodeRejectsMalformed) {
  EXPECT_FALSE(HexDecode("abc").ok());
  EXPECT_FALSE(HexDecode("zz").ok());
  EXPECT_FALSE(HexDecode("0g").ok());
  EXPECT_FALSE(HexDecode(" 00").ok());
  EXPECT_FALSE(HexDecode(std::string("0\0", 2)).ok());
  EXPECT_EQ(HexDecode("abc").status().code(), absl::StatusCode::kInvalidArgument);
  auto empty = HexDecode("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

// RFC 4648 section 10 vectors.
TEST(HashTest, Base64Rfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    auto back = Base64Decode(encoded);
    ASSERT_TRUE(back.ok()) << encoded;
    EXPECT_EQ(*back, plain);
  }
}

TEST(HashTest, Base64RoundTripAllLengths) {
  std::string data;
  for (int len = 0; len < 300; ++len) {
    auto back = Base64Decode(Base64Encode(data));
    ASSERT_TRUE(back.ok()) << len;
    EXPECT_EQ(*back, data);
    data.push_back(static_cast<char>(len * 97));
  }
}

TEST(HashTest, Base64DecodeRejectsMalformed) {
  for (const char* bad : {"Zg=", "Zg", "Z===", "====", "Zm9v!A==", "Zm 9v", "Zh==", "Zm9=",
                          "Zg==Zg==", "=Zg=", "Zm9vYmFy\n"}) {
    auto r = Base64Decode(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
}

}  // namespace
}  // namespace orgtrail
