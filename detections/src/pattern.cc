// Sigma string values: escapes, wildcards, transformations, glob matching (see pattern.h).
#include "pattern.h"

#include <algorithm>

#include "orgtrail/common/str_cat.h"

namespace orgtrail::detections::internal {

namespace {
constexpr size_t kMaxAlternatives = 4096;

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

std::string Base64Encode(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

Status NoWildcards(const Pattern& pattern, std::string_view modifier) {
  if (HasWildcards(pattern)) {
    return absl::InvalidArgumentError(
        StrCat("the ", modifier, " modifier cannot encode a value with wildcards (escape * and ? with \\)"));
  }
  return absl::OkStatus();
}

// Decodes one UTF-8 code point at text[*i]; advances *i. Invalid bytes decode as themselves.
uint32_t NextCodePoint(std::string_view text, size_t* i) {
  uint8_t b = uint8_t(text[*i]);
  int extra = b < 0x80 ? 0 : (b >> 5) == 6 ? 1 : (b >> 4) == 14 ? 2 : (b >> 3) == 30 ? 3 : -1;
  if (extra <= 0 || *i + extra >= text.size()) {
    ++*i;
    return b;
  }
  uint32_t cp = b & (0x3F >> extra);
  for (int k = 1; k <= extra; ++k) {
    uint8_t cont = uint8_t(text[*i + k]);
    if ((cont >> 6) != 2) {
      ++*i;
      return b;
    }
    cp = (cp << 6) | (cont & 0x3F);
  }
  *i += extra + 1;
  return cp;
}

size_t Utf8Length(uint8_t lead) {
  return lead < 0x80 ? 1 : (lead >> 5) == 6 ? 2 : (lead >> 4) == 14 ? 3 : (lead >> 3) == 30 ? 4 : 1;
}
}  // namespace

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = Lower(c);
  return out;
}

Pattern ParsePattern(std::string_view value) {
  Pattern out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '\\' && i + 1 < value.size() &&
        (value[i + 1] == '*' || value[i + 1] == '?' || value[i + 1] == '\\')) {
      out.push_back({Unit::kLiteral, value[++i]});
    } else if (c == '*') {
      out.push_back({Unit::kAnyMany, 0});
    } else if (c == '?') {
      out.push_back({Unit::kAnyOne, 0});
    } else {
      out.push_back({Unit::kLiteral, c});
    }
  }
  return out;
}

Pattern LiteralPattern(std::string_view bytes) {
  Pattern out;
  out.reserve(bytes.size());
  for (char c : bytes) out.push_back({Unit::kLiteral, c});
  return out;
}

bool HasWildcards(const Pattern& pattern) {
  return std::any_of(pattern.begin(), pattern.end(), [](const Unit& u) { return u.kind != Unit::kLiteral; });
}

std::string LiteralBytes(const Pattern& pattern) {
  std::string out;
  for (const Unit& u : pattern) {
    if (u.kind == Unit::kLiteral) out += u.c;
  }
  return out;
}

StatusOr<std::vector<Pattern>> Base64(const Pattern& pattern) {
  ORGTRAIL_RETURN_IF_ERROR(NoWildcards(pattern, "base64"));
  return std::vector<Pattern>{LiteralPattern(Base64Encode(LiteralBytes(pattern)))};
}

// pySigma's three shifted encodings: the value at byte offsets 0, 1 and 2 of the encoded stream,
// trimmed of the characters that depend on the unknown neighbouring bytes.
StatusOr<std::vector<Pattern>> Base64Offset(const Pattern& pattern) {
  ORGTRAIL_RETURN_IF_ERROR(NoWildcards(pattern, "base64offset"));
  const std::string value = LiteralBytes(pattern);
  static constexpr size_t kStart[3] = {0, 2, 3};
  static constexpr int kEndTrim[3] = {0, 3, 2};
  std::vector<Pattern> out;
  for (size_t i = 0; i < 3; ++i) {
    std::string encoded = Base64Encode(std::string(i, ' ') + value);
    size_t end = encoded.size() - size_t(kEndTrim[(value.size() + i) % 3]);
    if (end <= kStart[i]) continue;
    out.push_back(LiteralPattern(encoded.substr(kStart[i], end - kStart[i])));
  }
  if (out.empty()) return absl::InvalidArgumentError("base64offset value too short to encode");
  return out;
}

StatusOr<std::vector<Pattern>> Utf16(const Pattern& pattern, Utf16Form form) {
  ORGTRAIL_RETURN_IF_ERROR(NoWildcards(pattern, "utf16"));
  const std::string value = LiteralBytes(pattern);
  std::string out;
  auto put = [&](uint16_t unit) {
    if (form == Utf16Form::kBigEndian) {
      out += char(unit >> 8);
      out += char(unit & 0xFF);
    } else {
      out += char(unit & 0xFF);
      out += char(unit >> 8);
    }
  };
  if (form == Utf16Form::kWithBom) put(0xFEFF);
  for (size_t i = 0; i < value.size();) {
    uint32_t cp = NextCodePoint(value, &i);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      put(uint16_t(0xD800 + (cp >> 10)));
      put(uint16_t(0xDC00 + (cp & 0x3FF)));
    } else {
      put(uint16_t(cp));
    }
  }
  return std::vector<Pattern>{LiteralPattern(out)};
}

// pySigma: every `-` or `/` not preceded by a word character and followed by one (regex
// \B[-/]\b) is replaced by each of - / – — ―.
StatusOr<std::vector<Pattern>> Windash(const Pattern& pattern) {
  static const std::vector<std::string> kDashes = {"-", "/", "\xE2\x80\x93", "\xE2\x80\x94", "\xE2\x80\x95"};
  auto is_word = [&](size_t i) {
    if (i >= pattern.size() || pattern[i].kind != Unit::kLiteral) return false;
    char c = pattern[i].c;
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || (static_cast<unsigned char>(c) & 0x80);
  };
  std::vector<Pattern> out{Pattern{}};
  for (size_t i = 0; i < pattern.size(); ++i) {
    const Unit& u = pattern[i];
    bool dash = u.kind == Unit::kLiteral && (u.c == '-' || u.c == '/') && !(i > 0 && is_word(i - 1)) && is_word(i + 1);
    if (!dash) {
      for (Pattern& p : out) p.push_back(u);
      continue;
    }
    if (out.size() * kDashes.size() > kMaxAlternatives) {
      return absl::InvalidArgumentError(StrCat("windash expands to more than ", kMaxAlternatives, " values"));
    }
    std::vector<Pattern> next;
    for (const Pattern& p : out) {
      for (const std::string& d : kDashes) {
        Pattern q = p;
        for (char c : d) q.push_back({Unit::kLiteral, c});
        next.push_back(std::move(q));
      }
    }
    out = std::move(next);
  }
  return out;
}

StatusOr<std::vector<Pattern>> Expand(std::string_view raw,
                                      const std::map<std::string, std::vector<std::string>>& placeholders) {
  std::vector<Pattern> out{Pattern{}};
  std::string plain;
  auto flush = [&]() {
    Pattern piece = ParsePattern(plain);
    for (Pattern& p : out) p.insert(p.end(), piece.begin(), piece.end());
    plain.clear();
  };
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size() && raw[i + 1] == '%') {
      // A plain percent sign: keep it literal (escaped so ParsePattern leaves it alone).
      plain += '%';
      ++i;
      continue;
    }
    if (raw[i] != '%') {
      plain += raw[i];
      continue;
    }
    size_t close = raw.find('%', i + 1);
    if (close == std::string_view::npos) {
      plain += raw[i];
      continue;
    }
    std::string name(raw.substr(i, close - i + 1));
    auto it = placeholders.find(name);
    if (it == placeholders.end()) {
      return absl::UnimplementedError(StrCat("placeholder ", name, " has no values (supply it to the loader)"));
    }
    if (it->second.empty()) return absl::InvalidArgumentError(StrCat("placeholder ", name, " has an empty value list"));
    flush();
    if (out.size() * it->second.size() > kMaxAlternatives) {
      return absl::InvalidArgumentError(StrCat("expand yields more than ", kMaxAlternatives, " values"));
    }
    std::vector<Pattern> next;
    for (const Pattern& p : out) {
      for (const std::string& v : it->second) {
        Pattern q = p;
        Pattern piece = ParsePattern(v);
        q.insert(q.end(), piece.begin(), piece.end());
        next.push_back(std::move(q));
      }
    }
    out = std::move(next);
    i = close;
  }
  flush();
  return out;
}

Glob::Glob(const Pattern& pattern, bool cased) : cased_(cased) {
  units_ = pattern;
  if (!cased_) {
    for (Unit& u : units_) u.c = Lower(u.c);
  }
  size_t n = units_.size();
  bool lead = n > 0 && units_[0].kind == Unit::kAnyMany;
  bool trail = n > (lead ? 1u : 0u) && units_[n - 1].kind == Unit::kAnyMany;
  size_t begin = lead ? 1 : 0, end = trail ? n - 1 : n;
  bool inner_literal = true;
  for (size_t i = begin; i < end; ++i) {
    if (units_[i].kind != Unit::kLiteral) inner_literal = false;
  }
  if (!inner_literal) {
    shape_ = Shape::kGeneral;
    return;
  }
  for (size_t i = begin; i < end; ++i) literal_ += units_[i].c;
  shape_ = lead && trail ? Shape::kContains : lead ? Shape::kSuffix : trail ? Shape::kPrefix : Shape::kExact;
  if (shape_ == Shape::kExact) exact_lower_ = AsciiLower(literal_);
}

namespace {
inline bool Same(char pattern, char text, bool cased) { return pattern == (cased ? text : Lower(text)); }

bool EqualAt(std::string_view text, size_t at, const std::string& literal, bool cased) {
  if (at + literal.size() > text.size()) return false;
  for (size_t i = 0; i < literal.size(); ++i) {
    if (!Same(literal[i], text[at + i], cased)) return false;
  }
  return true;
}
}  // namespace

bool Glob::Matches(std::string_view text) const {
  switch (shape_) {
    case Shape::kExact: return text.size() == literal_.size() && EqualAt(text, 0, literal_, cased_);
    case Shape::kPrefix: return EqualAt(text, 0, literal_, cased_);
    case Shape::kSuffix: return text.size() >= literal_.size() && EqualAt(text, text.size() - literal_.size(), literal_, cased_);
    case Shape::kContains: {
      if (literal_.empty()) return true;
      if (cased_) return text.find(literal_) != std::string_view::npos;
      for (size_t at = 0; at + literal_.size() <= text.size(); ++at) {
        if (Same(literal_[0], text[at], false) && EqualAt(text, at, literal_, false)) return true;
      }
      return false;
    }
    case Shape::kGeneral: return GeneralMatch(text);
  }
  return false;
}

// Iterative wildcard matching with backtracking to the last `*` (no recursion, no allocation).
bool Glob::GeneralMatch(std::string_view text) const {
  size_t t = 0, p = 0;
  size_t star_p = std::string::npos, star_t = 0;
  while (t < text.size()) {
    if (p < units_.size() && units_[p].kind == Unit::kAnyMany) {
      star_p = p++;
      star_t = t;
    } else if (p < units_.size() && units_[p].kind == Unit::kAnyOne) {
      t += std::min(Utf8Length(uint8_t(text[t])), text.size() - t);
      ++p;
    } else if (p < units_.size() && Same(units_[p].c, text[t], cased_)) {
      ++t;
      ++p;
    } else if (star_p != std::string::npos) {
      p = star_p + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < units_.size() && units_[p].kind == Unit::kAnyMany) ++p;
  return p == units_.size();
}

}  // namespace orgtrail::detections::internal
