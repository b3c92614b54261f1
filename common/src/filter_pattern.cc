// CloudWatch Logs JSON filter patterns (see filter_pattern.h for the grammar
// and the matching rules).
#include "orgtrail/common/filter_pattern.h"

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include <simdjson.h>


namespace orgtrail {

// ---------------------------------------------------------------------------
// The parsed expression.

namespace {

// String concatenation over std::string_view, strings and numbers.
void AppendPiece(std::string* out, std::string_view piece) { out->append(piece.data(), piece.size()); }
void AppendPiece(std::string* out, const char* piece) { out->append(piece); }
void AppendPiece(std::string* out, const std::string& piece) { out->append(piece); }
template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T>>>
void AppendPiece(std::string* out, T number) { out->append(std::to_string(number)); }
template <typename... Pieces>
std::string StrCat(const Pieces&... pieces) {
  std::string out;
  (AppendPiece(&out, pieces), ...);
  return out;
}

struct PathStep {
  bool is_index = false;
  std::string name;
  uint32_t index = 0;
};

enum class CompareOp { kEq, kNe, kLt, kGt, kLe, kGe, kIsNull, kIsTrue, kIsFalse, kNotExists };

// A string value with '*' wildcards, split at the unescaped stars.
struct Glob {
  std::vector<std::string> parts;  // literal pieces between stars
  bool has_star = false;
  bool leading_star = false;
  bool trailing_star = false;
  std::string literal;  // the whole value when has_star is false
};

bool GlobMatches(const Glob& glob, std::string_view s) {
  if (!glob.has_star) return s == glob.literal;
  const auto& parts = glob.parts;
  size_t pos = 0;
  size_t first = 0;
  size_t last = parts.size();
  if (!glob.leading_star) {
    if (parts.empty() || s.substr(0, parts[0].size()) != parts[0]) return false;
    pos = parts[0].size();
    first = 1;
  }
  if (!glob.trailing_star) {
    if (last == first) {
      // Everything consumed by the prefix; the suffix is empty.
      return true;
    }
    const std::string& suffix = parts[last - 1];
    if (s.size() < pos + suffix.size() || s.substr(s.size() - suffix.size()) != suffix) return false;
    s = s.substr(0, s.size() - suffix.size());
    --last;
  }
  for (size_t i = first; i < last; ++i) {
    size_t found = s.find(parts[i], pos);
    if (found == std::string_view::npos) return false;
    pos = found + parts[i].size();
  }
  return true;
}

}  // namespace

struct FilterPattern::Node {
  enum class Kind { kOr, kAnd, kCompare };
  Kind kind = Kind::kCompare;
  std::vector<std::unique_ptr<Node>> children;  // kOr / kAnd
  // kCompare:
  std::vector<PathStep> path;
  CompareOp op = CompareOp::kEq;
  bool numeric = false;
  double number = 0;
  Glob glob;
};

// ---------------------------------------------------------------------------
// Parser.

namespace {

using Node = FilterPattern::Node;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool IsNameChar(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '@' || c == ':' || u >= 0x80;
}

// Characters that end an unquoted value.
bool EndsUnquotedValue(char c) {
  return IsSpace(c) || c == '(' || c == ')' || c == '{' || c == '}' || c == '"' || c == '&' ||
         c == '|' || c == '=' || c == '!' || c == '<' || c == '>';
}

// Byte offset of the first invalid UTF-8 sequence, or npos.
size_t FirstInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t min;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, min = 0x10000;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    uint32_t cp = c & (0xFF >> (len + 1));
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

size_t CountCodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

// True when the whole token is a JSON-style number (optional sign, digits,
// optional fraction, optional exponent).
bool IsNumberToken(std::string_view t) {
  size_t i = 0;
  if (i < t.size() && (t[i] == '-' || t[i] == '+')) ++i;
  size_t digits = 0;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i, ++digits;
  if (i < t.size() && t[i] == '.') {
    ++i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '-' || t[i] == '+')) ++i;
    size_t exp_digits = 0;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == t.size();
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

const char* OpText(CompareOp op) {
  switch (op) {
    case CompareOp::kEq: return "=";
    case CompareOp::kNe: return "!=";
    case CompareOp::kLt: return "<";
    case CompareOp::kGt: return ">";
    case CompareOp::kLe: return "<=";
    case CompareOp::kGe: return ">=";
    default: return "?";
  }
}

class PatternParser {
 public:
  explicit PatternParser(std::string_view text) : text_(text) {}

  StatusOr<std::unique_ptr<Node>> ParseAll() {
    SkipSpace();
    if (AtEnd()) return std::unique_ptr<Node>();  // empty pattern
    if (Peek() != '{') {
      return Error(pos_, "expected '{' to open a JSON filter pattern (only JSON patterns \"{ $.field = value }\" are supported)");
    }
    size_t open = pos_;
    ++pos_;
    SkipSpace();
    if (!AtEnd() && Peek() == '}') return Error(pos_, "empty pattern '{}': expected a comparison such as $.eventName = \"X\"");
    auto expr = ParseOr();
    if (!expr.ok()) return expr.status();
    SkipSpace();
    if (AtEnd()) return Error(open, "unbalanced '{': missing '}' at the end of the pattern");
    if (Peek() != '}') return Error(pos_, StrCat("expected '&&', '||' or '}' but found ", Describe(pos_)));
    ++pos_;
    SkipSpace();
    if (!AtEnd()) return Error(pos_, StrCat("unexpected text after the closing '}': ", Describe(pos_)));
    return expr;
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek(size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }
  void SkipSpace() {
    while (!AtEnd() && IsSpace(text_[pos_])) ++pos_;
  }

  size_t Column(size_t byte_offset) const { return 1 + CountCodePoints(text_.substr(0, byte_offset)); }

  Status Error(size_t byte_offset, std::string_view what) const {
    return absl::InvalidArgumentError(StrCat("column ", Column(byte_offset), ": ", what));
  }

  // "'x'" for the character at offset, or "the end of the pattern".
  std::string Describe(size_t offset) const {
    if (offset >= text_.size()) return "the end of the pattern";
    size_t end = offset + 1;
    while (end < text_.size() && (static_cast<unsigned char>(text_[end]) & 0xC0) == 0x80) ++end;
    return StrCat("'", text_.substr(offset, end - offset), "'");
  }

  StatusOr<std::unique_ptr<Node>> ParseOr() {
    auto first = ParseAnd();
    if (!first.ok()) return first.status();
    std::vector<std::unique_ptr<Node>> terms;
    terms.push_back(std::move(*first));
    for (;;) {
      SkipSpace();
      if (Peek() == '|' && Peek(1) == '|') {
        pos_ += 2;
        auto next = ParseAnd();
        if (!next.ok()) return next.status();
        terms.push_back(std::move(*next));
      } else if (Peek() == '|') {
        return Error(pos_, "single '|': use '||' for OR");
      } else {
        break;
      }
    }
    return Combine(Node::Kind::kOr, std::move(terms));
  }

  StatusOr<std::unique_ptr<Node>> ParseAnd() {
    auto first = ParsePrimary();
    if (!first.ok()) return first.status();
    std::vector<std::unique_ptr<Node>> terms;
    terms.push_back(std::move(*first));
    for (;;) {
      SkipSpace();
      if (Peek() == '&' && Peek(1) == '&') {
        pos_ += 2;
        auto next = ParsePrimary();
        if (!next.ok()) return next.status();
        terms.push_back(std::move(*next));
      } else if (Peek() == '&') {
        return Error(pos_, "single '&': use '&&' for AND");
      } else {
        break;
      }
    }
    return Combine(Node::Kind::kAnd, std::move(terms));
  }

  static std::unique_ptr<Node> Combine(Node::Kind kind, std::vector<std::unique_ptr<Node>> terms) {
    if (terms.size() == 1) return std::move(terms[0]);
    auto node = std::make_unique<Node>();
    node->kind = kind;
    node->children = std::move(terms);
    return node;
  }

  StatusOr<std::unique_ptr<Node>> ParsePrimary() {
    SkipSpace();
    if (Peek() == '(') {
      size_t open = pos_;
      if (++depth_ > kMaxFilterPatternDepth) {
        return Error(pos_, StrCat("parentheses nested deeper than ", kMaxFilterPatternDepth, " levels"));
      }
      ++pos_;
      auto inner = ParseOr();
      if (!inner.ok()) return inner.status();
      SkipSpace();
      if (AtEnd()) return Error(open, "unbalanced '(': missing ')'");
      if (Peek() != ')') return Error(pos_, StrCat("expected ')', '&&' or '||' but found ", Describe(pos_)));
      ++pos_;
      --depth_;
      return inner;
    }
    if (Peek() == '$') return ParseComparison();
    if (AtEnd()) return Error(pos_, "unexpected end of the pattern: expected a '$.' selector or '('");
    return Error(pos_, StrCat("expected a '$.' selector or '(' but found ", Describe(pos_)));
  }

  Status ParseSelector(std::vector<PathStep>* path) {
    size_t start = pos_;
    ++pos_;  // '$'
    while (!AtEnd()) {
      if (Peek() == '.') {
        ++pos_;
        size_t name_start = pos_;
        while (!AtEnd() && IsNameChar(Peek())) ++pos_;
        if (pos_ == name_start) return Error(pos_, StrCat("expected a field name after '.' but found ", Describe(pos_)));
        PathStep step;
        step.name = std::string(text_.substr(name_start, pos_ - name_start));
        path->push_back(std::move(step));
      } else if (Peek() == '[') {
        size_t open = pos_;
        ++pos_;
        size_t digits_start = pos_;
        while (!AtEnd() && Peek() >= '0' && Peek() <= '9') ++pos_;
        size_t digits = pos_ - digits_start;
        if (digits == 0) return Error(pos_, StrCat("expected an array index (digits) after '[' but found ", Describe(pos_)));
        if (digits > 9) return Error(digits_start, "array index too large");
        if (Peek() != ']') return Error(pos_, StrCat("expected ']' to close the array index opened at column ", Column(open), " but found ", Describe(pos_)));
        PathStep step;
        step.is_index = true;
        step.index = static_cast<uint32_t>(std::strtoul(std::string(text_.substr(digits_start, digits)).c_str(), nullptr, 10));
        ++pos_;
        path->push_back(std::move(step));
      } else {
        break;
      }
    }
    if (path->empty()) return Error(start, "a selector must start with '$.' or '$[' (e.g. $.eventName)");
    return absl::OkStatus();
  }

  // Reads a run of ASCII letters (a keyword).
  std::string_view ReadWord() {
    size_t start = pos_;
    while (!AtEnd() && ((Peek() >= 'a' && Peek() <= 'z') || (Peek() >= 'A' && Peek() <= 'Z'))) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  StatusOr<std::unique_ptr<Node>> ParseComparison() {
    auto node = std::make_unique<Node>();
    node->kind = Node::Kind::kCompare;
    size_t selector_start = pos_;
    ORGTRAIL_RETURN_IF_ERROR(ParseSelector(&node->path));
    std::string selector(text_.substr(selector_start, pos_ - selector_start));
    SkipSpace();
    size_t op_pos = pos_;
    char c = Peek();
    if (c == '=') {
      node->op = CompareOp::kEq, pos_ += 1;
      if (Peek() == '=') return Error(pos_, "'==' is not an operator: use '='");
    } else if (c == '!' && Peek(1) == '=') {
      node->op = CompareOp::kNe, pos_ += 2;
    } else if (c == '<' && Peek(1) == '=') {
      node->op = CompareOp::kLe, pos_ += 2;
    } else if (c == '>' && Peek(1) == '=') {
      node->op = CompareOp::kGe, pos_ += 2;
    } else if (c == '<') {
      node->op = CompareOp::kLt, pos_ += 1;
    } else if (c == '>') {
      node->op = CompareOp::kGt, pos_ += 1;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      return ParseKeywordTest(std::move(node), selector);
    } else {
      return Error(op_pos, StrCat("expected an operator (=, !=, <, >, <=, >=, IS NULL, IS TRUE, IS FALSE, NOT EXISTS) after ",
                                        selector, " but found ", Describe(op_pos)));
    }
    ORGTRAIL_RETURN_IF_ERROR(ParseValue(node.get(), op_pos));
    return node;
  }

  StatusOr<std::unique_ptr<Node>> ParseKeywordTest(std::unique_ptr<Node> node, const std::string& selector) {
    size_t word_pos = pos_;
    std::string_view word = ReadWord();
    if (EqualsIgnoreCase(word, "IS")) {
      SkipSpace();
      size_t what_pos = pos_;
      std::string_view what = ReadWord();
      if (EqualsIgnoreCase(what, "NULL")) {
        node->op = CompareOp::kIsNull;
      } else if (EqualsIgnoreCase(what, "TRUE")) {
        node->op = CompareOp::kIsTrue;
      } else if (EqualsIgnoreCase(what, "FALSE")) {
        node->op = CompareOp::kIsFalse;
      } else {
        return Error(what_pos, StrCat("expected NULL, TRUE or FALSE after IS but found ", Describe(what_pos)));
      }
    } else if (EqualsIgnoreCase(word, "NOT")) {
      SkipSpace();
      size_t what_pos = pos_;
      std::string_view what = ReadWord();
      if (!EqualsIgnoreCase(what, "EXISTS")) {
        return Error(what_pos, StrCat("expected EXISTS after NOT but found ", Describe(what_pos)));
      }
      node->op = CompareOp::kNotExists;
    } else {
      return Error(word_pos, StrCat("expected an operator (=, !=, <, >, <=, >=, IS NULL, IS TRUE, IS FALSE, NOT EXISTS) after ",
                                          selector, " but found '", word, "'"));
    }
    // The keyword must end here.
    if (!AtEnd() && IsNameChar(Peek())) return Error(pos_, StrCat("unexpected ", Describe(pos_), " after the keyword"));
    return node;
  }

  Status ParseValue(Node* node, size_t op_pos) {
    SkipSpace();
    size_t value_pos = pos_;
    bool relational = node->op != CompareOp::kEq && node->op != CompareOp::kNe;
    if (AtEnd()) return Error(pos_, StrCat("expected a value after '", OpText(node->op), "'"));
    if (Peek() == '"') return ParseQuotedValue(node, op_pos, relational);
    while (!AtEnd() && !EndsUnquotedValue(Peek())) ++pos_;
    std::string_view token = text_.substr(value_pos, pos_ - value_pos);
    if (token.empty()) {
      return Error(value_pos, StrCat("expected a value after '", OpText(node->op), "' but found ", Describe(value_pos)));
    }
    if (IsNumberToken(token)) {
      errno = 0;
      node->numeric = true;
      node->number = std::strtod(std::string(token).c_str(), nullptr);
      if (errno == ERANGE) return Error(value_pos, "number out of range");
      return absl::OkStatus();
    }
    if (relational) {
      return Error(op_pos, StrCat("operator '", OpText(node->op), "' needs a numeric value, got '", token, "'"));
    }
    BuildGlob(token, /*quoted=*/false, &node->glob);
    return absl::OkStatus();
  }

  Status ParseQuotedValue(Node* node, size_t op_pos, bool relational) {
    size_t open = pos_;
    ++pos_;
    std::string raw;  // content with "\*" kept as the two characters, other escapes resolved
    bool closed = false;
    while (!AtEnd()) {
      char c = text_[pos_];
      if (c == '"') {
        closed = true;
        ++pos_;
        break;
      }
      if (c == '\\') {
        if (pos_ + 1 >= text_.size()) break;
        char next = text_[pos_ + 1];
        if (next == '*' || next == '\\') {
          raw.push_back('\\');
        }
        raw.push_back(next);
        pos_ += 2;
        continue;
      }
      raw.push_back(c);
      ++pos_;
    }
    if (!closed) return Error(open, "unterminated string: missing closing '\"'");
    if (relational) {
      return Error(op_pos, StrCat("operator '", OpText(node->op), "' needs a numeric value, got a string"));
    }
    BuildGlob(raw, /*quoted=*/true, &node->glob);
    return absl::OkStatus();
  }

  // Splits at unescaped '*'. In quoted values "\*" and "\\" are escapes.
  static void BuildGlob(std::string_view value, bool quoted, Glob* glob) {
    std::string current;
    bool at_start = true;
    for (size_t i = 0; i < value.size(); ++i) {
      char c = value[i];
      if (quoted && c == '\\' && i + 1 < value.size()) {
        current.push_back(value[++i]);
        at_start = false;
        glob->trailing_star = false;
        continue;
      }
      if (c == '*') {
        if (at_start && current.empty() && !glob->has_star) glob->leading_star = true;
        glob->has_star = true;
        if (!current.empty()) glob->parts.push_back(std::move(current));
        current.clear();
        glob->trailing_star = true;
        at_start = false;
        continue;
      }
      at_start = false;
      glob->trailing_star = false;
      current.push_back(c);
    }
    if (!current.empty()) glob->parts.push_back(current);
    if (!glob->has_star) {
      glob->literal = glob->parts.empty() ? std::string() : glob->parts[0];
      glob->parts.clear();
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

StatusOr<FilterPattern> FilterPattern::Parse(std::string_view text) {
  size_t bad = FirstInvalidUtf8(text);
  if (bad != std::string_view::npos) {
    return absl::InvalidArgumentError(
        StrCat("column ", 1 + CountCodePoints(text.substr(0, bad)), ": invalid UTF-8 in the filter pattern"));
  }
  size_t chars = CountCodePoints(text);
  if (chars > kMaxFilterPatternChars) {
    return absl::InvalidArgumentError(StrCat("column ", kMaxFilterPatternChars + 1,
                                                   ": filter pattern is ", chars, " characters long; the limit is ",
                                                   kMaxFilterPatternChars));
  }
  PatternParser parser(text);
  auto root = parser.ParseAll();
  if (!root.ok()) return root.status();
  FilterPattern pattern;
  pattern.text_ = std::string(text);
  pattern.root_ = std::shared_ptr<const Node>(std::move(*root));
  return pattern;
}

// ---------------------------------------------------------------------------
// Evaluator.

struct FilterEvaluator::Impl {
  simdjson::dom::parser parser{16u << 20};  // refuses documents above 16 MiB
  simdjson::dom::element root;
  bool loaded = false;
};

namespace {

// The element the path selects, or nullopt when it selects nothing.
std::optional<simdjson::dom::element> Resolve(simdjson::dom::element current, const std::vector<PathStep>& path) {
  for (const PathStep& step : path) {
    if (step.is_index) {
      simdjson::dom::array array;
      if (current.get_array().get(array) != simdjson::SUCCESS) return std::nullopt;
      if (array.at(step.index).get(current) != simdjson::SUCCESS) return std::nullopt;
    } else {
      simdjson::dom::object object;
      if (current.get_object().get(object) != simdjson::SUCCESS) return std::nullopt;
      if (object.at_key(step.name).get(current) != simdjson::SUCCESS) return std::nullopt;
    }
  }
  return current;
}

bool CompareNumbers(CompareOp op, double field, double value) {
  switch (op) {
    case CompareOp::kEq: return field == value;
    case CompareOp::kNe: return field != value;
    case CompareOp::kLt: return field < value;
    case CompareOp::kGt: return field > value;
    case CompareOp::kLe: return field <= value;
    case CompareOp::kGe: return field >= value;
    default: return false;
  }
}

bool EvaluateComparison(const Node& node, simdjson::dom::element root) {
  std::optional<simdjson::dom::element> field = Resolve(root, node.path);
  if (node.op == CompareOp::kNotExists) return !field.has_value();
  if (!field) return false;
  switch (node.op) {
    case CompareOp::kIsNull: return field->is_null();
    case CompareOp::kIsTrue: {
      bool b = false;
      return field->get_bool().get(b) == simdjson::SUCCESS && b;
    }
    case CompareOp::kIsFalse: {
      bool b = true;
      return field->get_bool().get(b) == simdjson::SUCCESS && !b;
    }
    default: break;
  }
  if (node.numeric) {
    if (!field->is_number()) return false;
    double d = 0;
    if (field->get_double().get(d) != simdjson::SUCCESS) return false;
    return CompareNumbers(node.op, d, node.number);
  }
  std::string_view s;
  if (field->get_string().get(s) != simdjson::SUCCESS) return false;
  bool equal = GlobMatches(node.glob, s);
  return node.op == CompareOp::kEq ? equal : !equal;
}

bool EvaluateNode(const Node& node, simdjson::dom::element root) {
  switch (node.kind) {
    case Node::Kind::kOr:
      for (const auto& child : node.children) {
        if (EvaluateNode(*child, root)) return true;
      }
      return false;
    case Node::Kind::kAnd:
      for (const auto& child : node.children) {
        if (!EvaluateNode(*child, root)) return false;
      }
      return true;
    case Node::Kind::kCompare:
      return EvaluateComparison(node, root);
  }
  return false;
}

}  // namespace

FilterEvaluator::FilterEvaluator() : impl_(std::make_unique<Impl>()) {}
FilterEvaluator::~FilterEvaluator() = default;

Status FilterEvaluator::Load(std::string_view json) {
  impl_->loaded = false;
  simdjson::error_code error = impl_->parser.parse(json.data(), json.size(), /*realloc_if_needed=*/true).get(impl_->root);
  if (error != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(StrCat("record is not valid JSON: ", simdjson::error_message(error)));
  }
  impl_->loaded = true;
  return absl::OkStatus();
}

bool FilterEvaluator::Matches(const FilterPattern& pattern) const {
  if (pattern.matches_everything()) return true;
  if (!impl_->loaded) return false;
  return EvaluateNode(*pattern.root(), impl_->root);
}

StatusOr<bool> FilterEvaluator::Evaluate(const FilterPattern& pattern, std::string_view json) {
  ORGTRAIL_RETURN_IF_ERROR(Load(json));
  return Matches(pattern);
}

}  // namespace orgtrail
