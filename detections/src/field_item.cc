// FieldItem: modifier chains compiled into matchers (see field_item.h).
#include "field_item.h"

#include <arpa/inet.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "orgtrail/common/str_cat.h"

namespace orgtrail::detections::internal {

namespace dom = simdjson::dom;

namespace {

constexpr size_t kMaxValues = 4096;

struct Modifiers {
  bool all = false, contains = false, startswith = false, endswith = false, exists = false;
  bool cased = false, neq = false, re = false, re_i = false, re_m = false, re_s = false;
  bool cidr = false, fieldref = false, expand = false;
  std::optional<CompareOp> compare;
  TimePart time_part = TimePart::kNone;
  std::vector<std::string> transforms;  // base64, base64offset, utf16le, utf16be, utf16, wide, windash (in order)
};

StatusOr<Modifiers> ParseModifiers(const std::vector<std::string>& names) {
  Modifiers m;
  for (const std::string& raw : names) {
    std::string n = AsciiLower(raw);
    if (n == "all") m.all = true;
    else if (n == "contains") m.contains = true;
    else if (n == "startswith") m.startswith = true;
    else if (n == "endswith") m.endswith = true;
    else if (n == "exists") m.exists = true;
    else if (n == "cased") m.cased = true;
    else if (n == "neq") m.neq = true;
    else if (n == "re") m.re = true;
    else if (n == "i" || n == "ignorecase") m.re_i = true;
    else if (n == "m" || n == "multiline") m.re_m = true;
    else if (n == "s" || n == "dotall") m.re_s = true;
    else if (n == "cidr") m.cidr = true;
    else if (n == "fieldref") m.fieldref = true;
    else if (n == "expand") m.expand = true;
    else if (n == "lt") m.compare = CompareOp::kLt;
    else if (n == "lte") m.compare = CompareOp::kLte;
    else if (n == "gt") m.compare = CompareOp::kGt;
    else if (n == "gte") m.compare = CompareOp::kGte;
    else if (n == "minute") m.time_part = TimePart::kMinute;
    else if (n == "hour") m.time_part = TimePart::kHour;
    else if (n == "day") m.time_part = TimePart::kDay;
    else if (n == "week") m.time_part = TimePart::kWeek;
    else if (n == "month") m.time_part = TimePart::kMonth;
    else if (n == "year") m.time_part = TimePart::kYear;
    else if (n == "base64" || n == "base64offset" || n == "utf16le" || n == "utf16be" || n == "utf16" ||
             n == "wide" || n == "windash")
      m.transforms.push_back(n);
    else return absl::UnimplementedError(StrCat("unknown modifier '", raw, "'"));
  }
  if ((m.re_i || m.re_m || m.re_s) && !m.re) {
    return absl::InvalidArgumentError("the i, m and s modifiers apply to |re only");
  }
  bool shape = m.contains || m.startswith || m.endswith;
  if (m.re && (shape || !m.transforms.empty() || m.cidr || m.fieldref || m.compare || m.expand)) {
    return absl::InvalidArgumentError("|re cannot be combined with other value modifiers");
  }
  if ((m.cidr || m.compare || m.time_part != TimePart::kNone) && (shape || !m.transforms.empty() || m.expand)) {
    return absl::InvalidArgumentError("cidr, numeric and time modifiers cannot be combined with string modifiers");
  }
  if (m.exists && names.size() != 1) return absl::InvalidArgumentError("|exists takes no other modifier");
  if (int(m.contains) + int(m.startswith) + int(m.endswith) > 1) {
    return absl::InvalidArgumentError("contains, startswith and endswith are exclusive");
  }
  return m;
}

bool ParseNumber(std::string_view text, double* out) {
  if (text.empty() || text.size() > 64) return false;
  std::string s(text);
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(*out);
}

StatusOr<Cidr> ParseCidr(const std::string& text) {
  Cidr cidr{};
  size_t slash = text.find('/');
  std::string address = text.substr(0, slash);
  cidr.family = address.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  int bits = cidr.family == AF_INET ? 32 : 128;
  cidr.prefix = bits;
  if (slash != std::string::npos) {
    double p;
    if (!ParseNumber(std::string_view(text).substr(slash + 1), &p) || p < 0 || p > bits || p != std::floor(p)) {
      return absl::InvalidArgumentError(StrCat("bad CIDR prefix in '", text, "'"));
    }
    cidr.prefix = int(p);
  }
  if (inet_pton(cidr.family, address.c_str(), cidr.bytes) != 1) {
    return absl::InvalidArgumentError(StrCat("bad CIDR address in '", text, "'"));
  }
  return cidr;
}

bool InCidr(const Cidr& cidr, std::string_view text) {
  unsigned char bytes[16];
  std::string s(text);
  if (inet_pton(cidr.family, s.c_str(), bytes) != 1) return false;
  int full = cidr.prefix / 8, rest = cidr.prefix % 8;
  if (std::memcmp(bytes, cidr.bytes, full) != 0) return false;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xFF << (8 - rest));
  return (bytes[full] & mask) == (cidr.bytes[full] & mask);
}

// "2024-01-02T03:04:05Z" (CloudTrail's eventTime) -> the requested part.
bool TimePartOf(std::string_view text, TimePart part, double* out) {
  std::tm tm{};
  std::string s(text);
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) {
    end = strptime(s.c_str(), "%Y-%m-%d", &tm);
    if (end == nullptr) return false;
  }
  switch (part) {
    case TimePart::kMinute: *out = tm.tm_min; return true;
    case TimePart::kHour: *out = tm.tm_hour; return true;
    case TimePart::kDay: *out = tm.tm_mday; return true;
    case TimePart::kMonth: *out = tm.tm_mon + 1; return true;
    case TimePart::kYear: *out = tm.tm_year + 1900; return true;
    case TimePart::kWeek: {
      time_t t = timegm(&tm);
      std::tm norm{};
      gmtime_r(&t, &norm);
      char buf[8];
      std::strftime(buf, sizeof(buf), "%V", &norm);
      *out = std::atoi(buf);
      return true;
    }
    case TimePart::kNone: return false;
  }
  return false;
}

bool Compare(CompareOp op, double field, double value) {
  switch (op) {
    case CompareOp::kLt: return field < value;
    case CompareOp::kLte: return field <= value;
    case CompareOp::kGt: return field > value;
    case CompareOp::kGte: return field >= value;
    case CompareOp::kEq: return field == value;
  }
  return false;
}

void CollectScalars(dom::element element, std::vector<std::string>* out) {
  switch (element.type()) {
    case dom::element_type::ARRAY:
      for (dom::element item : dom::array(element)) CollectScalars(item, out);
      return;
    case dom::element_type::OBJECT:
      for (auto field : dom::object(element)) CollectScalars(field.value, out);
      return;
    default: {
      std::string text;
      if (ValueText(element, &text)) out->push_back(std::move(text));
    }
  }
}

StatusOr<std::vector<std::string>> ScalarValues(const YAML::Node& value) {
  std::vector<std::string> out;
  if (value.IsScalar()) {
    out.push_back(value.Scalar());
  } else if (value.IsSequence()) {
    if (value.size() > kMaxValues) return absl::InvalidArgumentError(StrCat("more than ", kMaxValues, " values"));
    for (const YAML::Node& item : value) {
      if (item.IsNull()) return absl::InvalidArgumentError("null cannot be part of a list of values");
      if (!item.IsScalar()) return absl::InvalidArgumentError("a value list may only hold scalars");
      out.push_back(item.Scalar());
    }
    if (out.empty()) return absl::InvalidArgumentError("empty value list");
  } else {
    return absl::InvalidArgumentError("a field's value must be a scalar, a list of scalars or null");
  }
  return out;
}

}  // namespace

StatusOr<std::unique_ptr<FieldItem>> FieldItem::Compile(const std::string& key, const YAML::Node& value,
                                                        const CompileOptions& options) {
  auto item = std::unique_ptr<FieldItem>(new FieldItem());
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t bar = key.find('|', start);
    parts.push_back(key.substr(start, bar == std::string::npos ? bar : bar - start));
    if (bar == std::string::npos) break;
    start = bar + 1;
  }
  std::string field = parts[0];
  parts.erase(parts.begin());
  item->keyword_ = field.empty();
  if (!item->keyword_) item->path_ = FieldPath::Parse(field);
  auto mods_or = ParseModifiers(parts);
  if (!mods_or.ok()) return mods_or.status();
  const Modifiers& m = *mods_or;
  item->all_ = m.all;
  item->neq_ = m.neq;
  item->cased_ = m.cased;

  if (m.exists) {
    std::string text = value.IsScalar() ? AsciiLower(value.Scalar()) : "";
    if (text != "true" && text != "false") return absl::InvalidArgumentError("|exists takes true or false");
    item->kind_ = Kind::kExists;
    item->exists_expected_ = text == "true";
    return item;
  }
  if (value.IsNull()) {
    if (!parts.empty()) return absl::InvalidArgumentError("null takes no modifier");
    if (item->keyword_) return absl::InvalidArgumentError("a keyword cannot be null");
    item->kind_ = Kind::kNull;
    return item;
  }
  auto values_or = ScalarValues(value);
  if (!values_or.ok()) return values_or.status();
  const std::vector<std::string>& values = *values_or;

  if (m.re) {
    item->kind_ = Kind::kRegex;
    std::string flags = std::string(m.re_i ? "i" : "") + (m.re_m ? "m" : "") + (m.re_s ? "s" : "");
    for (const std::string& v : values) {
      RE2::Options opts;
      opts.set_log_errors(false);
      opts.set_max_mem(8 << 20);
      std::string pattern = flags.empty() ? v : StrCat("(?", flags, ")", v);
      auto re = std::make_unique<RE2>(pattern, opts);
      if (!re->ok()) {
        return absl::UnimplementedError(StrCat("regular expression '", v, "' cannot run on RE2 (", re->error(),
                                               "); RE2 has no backreferences, lookaround, atomic groups, "
                                               "possessive quantifiers or recursion"));
      }
      item->regexes_.push_back(std::move(re));
    }
    return item;
  }
  if (m.cidr) {
    item->kind_ = Kind::kCidr;
    for (const std::string& v : values) {
      auto cidr = ParseCidr(v);
      if (!cidr.ok()) return cidr.status();
      item->cidrs_.push_back(*cidr);
    }
    return item;
  }
  if (m.compare || m.time_part != TimePart::kNone) {
    item->kind_ = Kind::kCompare;
    item->op_ = m.compare.value_or(CompareOp::kEq);
    item->time_part_ = m.time_part;
    for (const std::string& v : values) {
      double d;
      if (!ParseNumber(v, &d)) return absl::InvalidArgumentError(StrCat("'", v, "' is not a number"));
      item->numbers_.push_back(d);
    }
    return item;
  }
  if (m.fieldref) {
    if (!m.transforms.empty() || m.expand) return absl::InvalidArgumentError("|fieldref takes no encoding modifier");
    item->kind_ = Kind::kFieldRef;
    item->ref_shape_ = m.contains ? RefShape::kContains : m.startswith ? RefShape::kStartsWith
                       : m.endswith ? RefShape::kEndsWith : RefShape::kEquals;
    for (const std::string& v : values) item->refs_.push_back(FieldPath::Parse(v));
    return item;
  }

  item->kind_ = Kind::kString;
  bool encoded = false;
  for (const std::string& v : values) {
    std::vector<Pattern> patterns;
    if (m.expand) {
      auto expanded = Expand(v, options.placeholders);
      if (!expanded.ok()) return expanded.status();
      patterns = std::move(*expanded);
    } else {
      patterns.push_back(ParsePattern(v));
    }
    for (const std::string& t : m.transforms) {
      std::vector<Pattern> next;
      for (const Pattern& p : patterns) {
        StatusOr<std::vector<Pattern>> r = absl::InternalError("unreachable");
        if (t == "base64") r = Base64(p), encoded = true;
        else if (t == "base64offset") r = Base64Offset(p), encoded = true;
        else if (t == "utf16le" || t == "wide") r = Utf16(p, Utf16Form::kLittleEndian), encoded = true;
        else if (t == "utf16be") r = Utf16(p, Utf16Form::kBigEndian), encoded = true;
        else if (t == "utf16") r = Utf16(p, Utf16Form::kWithBom), encoded = true;
        else r = Windash(p);
        if (!r.ok()) return r.status();
        for (Pattern& q : *r) next.push_back(std::move(q));
      }
      if (next.size() > kMaxValues) return absl::InvalidArgumentError("modifiers expand to too many values");
      patterns = std::move(next);
    }
    std::vector<Glob> group;
    for (Pattern& p : patterns) {
      if ((m.contains || m.endswith || item->keyword_) && (p.empty() || p.front().kind != Unit::kAnyMany)) {
        p.insert(p.begin(), Unit{Unit::kAnyMany, 0});
      }
      if ((m.contains || m.startswith || item->keyword_) && (p.empty() || p.back().kind != Unit::kAnyMany)) {
        p.push_back(Unit{Unit::kAnyMany, 0});
      }
      group.emplace_back(p, m.cased || encoded);
    }
    item->globs_.push_back(std::move(group));
  }
  return item;
}

size_t FieldItem::value_count() const {
  switch (kind_) {
    case Kind::kString: return globs_.size();
    case Kind::kRegex: return regexes_.size();
    case Kind::kCidr: return cidrs_.size();
    case Kind::kCompare: return numbers_.size();
    case Kind::kFieldRef: return refs_.size();
    default: return 0;
  }
}

bool FieldItem::MatchesText(size_t i, std::string_view text, const Record& record) const {
  switch (kind_) {
    case Kind::kString:
      for (const Glob& glob : globs_[i]) {
        if (glob.Matches(text)) return true;
      }
      return false;
    case Kind::kRegex: return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *regexes_[i]);
    case Kind::kCidr: return InCidr(cidrs_[i], text);
    case Kind::kCompare: {
      double d;
      bool ok = time_part_ == TimePart::kNone ? ParseNumber(text, &d) : TimePartOf(text, time_part_, &d);
      return ok && Compare(op_, d, numbers_[i]);
    }
    case Kind::kFieldRef: {
      Values refs;
      record.Select(refs_[i], &refs);
      std::string storage;
      std::string_view ref_view;
      for (dom::element ref : refs) {
        if (!ValueView(ref, &storage, &ref_view)) continue;
        std::string r = cased_ ? std::string(ref_view) : AsciiLower(ref_view);
        std::string t = cased_ ? std::string(text) : AsciiLower(text);
        bool hit = false;
        switch (ref_shape_) {
          case RefShape::kEquals: hit = t == r; break;
          case RefShape::kContains: hit = t.find(r) != std::string::npos; break;
          case RefShape::kStartsWith: hit = t.size() >= r.size() && t.compare(0, r.size(), r) == 0; break;
          case RefShape::kEndsWith: hit = t.size() >= r.size() && t.compare(t.size() - r.size(), r.size(), r) == 0; break;
        }
        if (hit) return true;
      }
      return false;
    }
    default: return false;
  }
}

// OR over the rule's values (AND under |all): a rule value holds when any field value matches it.
template <typename Texts>
bool FieldItem::Combine(const Texts& texts, const Record& record) const {
  const size_t n = value_count();
  bool result;
  if (!all_) {
    result = false;
    for (std::string_view text : texts) {
      for (size_t i = 0; i < n && !result; ++i) result = MatchesText(i, text, record);
      if (result) break;
    }
  } else {
    absl::InlinedVector<bool, 8> seen(n, false);
    size_t count = 0;
    for (std::string_view text : texts) {
      for (size_t i = 0; i < n; ++i) {
        if (!seen[i] && MatchesText(i, text, record)) {
          seen[i] = true;
          ++count;
        }
      }
    }
    result = count == n;
  }
  return neq_ ? !result : result;
}

bool FieldItem::Matches(const Record& record) const {
  if (keyword_) {
    std::vector<std::string> scalars;
    CollectScalars(record.root(), &scalars);
    std::vector<std::string_view> texts(scalars.begin(), scalars.end());
    return Combine(texts, record);
  }
  Values values;
  record.Select(path_, &values);
  if (kind_ == Kind::kExists) return values.empty() != exists_expected_;
  if (kind_ == Kind::kNull) {
    if (values.empty()) return true;
    for (dom::element v : values) {
      if (v.is_null()) return true;
    }
    return false;
  }
  if (values.empty()) return false;
  // Views into the document, or into `storage` for numbers, booleans and objects (reserved up
  // front so that no view is invalidated).
  absl::InlinedVector<std::string, 2> storage;
  storage.reserve(values.size());
  absl::InlinedVector<std::string_view, 4> texts;
  for (dom::element v : values) {
    if (v.type() == dom::element_type::STRING) {
      std::string_view text;
      if (v.get_string().get(text) == simdjson::SUCCESS) texts.push_back(text);
    } else {
      storage.emplace_back();
      if (ValueText(v, &storage.back())) texts.push_back(storage.back());
    }
  }
  if (texts.empty()) return neq_;  // only nulls: equal to nothing
  return Combine(texts, record);
}

std::optional<Requirement> FieldItem::Require() const {
  if (kind_ != Kind::kString || keyword_ || neq_ || globs_.empty()) return std::nullopt;
  Requirement req;
  req.field = path_.text;
  for (const auto& group : globs_) {
    for (const Glob& glob : group) {
      if (!glob.IsExact()) return std::nullopt;
      req.values.insert(glob.exact_lower());
    }
  }
  return req;
}

}  // namespace orgtrail::detections::internal
