// CloudWatch Logs JSON filter patterns: the parser (see filter_pattern.h for
// the grammar and the matching rules). The evaluator is in
// filter_pattern_evaluator.cc, the parsed expression in filter_pattern_node.h.
#include "orgtrail/common/filter_pattern.h"

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "filter_pattern_glob.h"
#include "orgtrail/common/str_cat.h"
#include "filter_pattern_node.h"

namespace orgtrail {
namespace {

using filter_pattern_internal::BuildGlob;
using filter_pattern_internal::CompareOp;
using filter_pattern_internal::PathStep;
using Node = FilterPattern::Node;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool IsFieldNameChar(char c) {
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
        while (!AtEnd() && IsFieldNameChar(Peek())) ++pos_;
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
    if (!AtEnd() && IsFieldNameChar(Peek())) return Error(pos_, StrCat("unexpected ", Describe(pos_), " after the keyword"));
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

}  // namespace orgtrail
