// Sigma condition parser: recursive descent over a token list (see detection.h for the grammar).
#include <cctype>

#include "detection.h"
#include "orgtrail/common/str_cat.h"
#include "pattern.h"

namespace orgtrail::detections::internal {

namespace {

constexpr size_t kMaxConditionBytes = 16 * 1024;
constexpr int kMaxNesting = 64;

bool NameMatches(std::string_view pattern, std::string_view name) {
  Glob glob(ParsePattern(pattern), /*cased=*/true);
  return glob.Matches(name);
}

class Parser {
 public:
  Parser(const std::string& text, const std::vector<std::string>& names) : names_(names) { Tokenize(text); }

  StatusOr<std::unique_ptr<CondNode>> Parse() {
    if (!error_.empty()) return absl::InvalidArgumentError(error_);
    if (tokens_.empty()) return absl::InvalidArgumentError("empty condition");
    auto node = ParseOr(0);
    if (!node.ok()) return node;
    if (pos_ != tokens_.size()) return Error(StrCat("unexpected '", tokens_[pos_], "'"));
    return node;
  }

 private:
  void Tokenize(const std::string& text) {
    size_t i = 0;
    while (i < text.size()) {
      char c = text[i];
      if (std::isspace(static_cast<unsigned char>(c))) { ++i; continue; }
      if (c == '(' || c == ')') { tokens_.emplace_back(1, c); ++i; continue; }
      if (c == '|') {
        error_ = "aggregation expressions ('| count() ...') are not supported: write a correlation rule";
        return;
      }
      size_t start = i;
      while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i])) && text[i] != '(' &&
             text[i] != ')' && text[i] != '|') {
        ++i;
      }
      tokens_.push_back(text.substr(start, i - start));
    }
  }

  Status Error(const std::string& what) { return absl::InvalidArgumentError(StrCat("condition: ", what)); }
  bool Peek(const char* word) const {
    return pos_ < tokens_.size() && AsciiLower(tokens_[pos_]) == word;
  }

  StatusOr<std::unique_ptr<CondNode>> Binary(CondNode::Op op, int depth) {
    auto left = op == CondNode::Op::kOr ? ParseAnd(depth) : ParseNot(depth);
    if (!left.ok()) return left;
    const char* word = op == CondNode::Op::kOr ? "or" : "and";
    if (!Peek(word)) return left;
    auto node = std::make_unique<CondNode>();
    node->op = op;
    node->children.push_back(std::move(*left));
    while (Peek(word)) {
      ++pos_;
      auto right = op == CondNode::Op::kOr ? ParseAnd(depth) : ParseNot(depth);
      if (!right.ok()) return right;
      node->children.push_back(std::move(*right));
    }
    return node;
  }
  StatusOr<std::unique_ptr<CondNode>> ParseOr(int depth) { return Binary(CondNode::Op::kOr, depth); }
  StatusOr<std::unique_ptr<CondNode>> ParseAnd(int depth) { return Binary(CondNode::Op::kAnd, depth); }

  StatusOr<std::unique_ptr<CondNode>> ParseNot(int depth) {
    if (Peek("not")) {
      ++pos_;
      if (depth > kMaxNesting) return Error("nested too deeply");
      auto inner = ParseNot(depth + 1);
      if (!inner.ok()) return inner;
      auto node = std::make_unique<CondNode>();
      node->op = CondNode::Op::kNot;
      node->children.push_back(std::move(*inner));
      return node;
    }
    return ParsePrimary(depth);
  }

  StatusOr<std::unique_ptr<CondNode>> ParsePrimary(int depth) {
    if (pos_ >= tokens_.size()) return Error("unexpected end");
    const std::string token = tokens_[pos_];
    const std::string lower = AsciiLower(token);
    if (token == "(") {
      if (depth > kMaxNesting) return Error("nested too deeply");
      ++pos_;
      auto inner = ParseOr(depth + 1);
      if (!inner.ok()) return inner;
      if (pos_ >= tokens_.size() || tokens_[pos_] != ")") return Error("missing ')'");
      ++pos_;
      return inner;
    }
    if (token == ")" || lower == "and" || lower == "or" || lower == "of") {
      return Error(StrCat("unexpected '", token, "'"));
    }
    if (pos_ + 1 < tokens_.size() && AsciiLower(tokens_[pos_ + 1]) == "of") {
      if (lower != "1" && lower != "all" && lower != "any") {
        return absl::UnimplementedError(StrCat("condition: '", token, " of' (only '1 of' and 'all of' are Sigma)"));
      }
      if (pos_ + 2 >= tokens_.size()) return Error("'of' needs a pattern or 'them'");
      const std::string target = tokens_[pos_ + 2];
      pos_ += 3;
      auto node = std::make_unique<CondNode>();
      node->op = lower == "all" ? CondNode::Op::kAllOf : CondNode::Op::kOneOf;
      for (size_t i = 0; i < names_.size(); ++i) {
        bool hit = AsciiLower(target) == "them" ? names_[i].rfind('_', 0) != 0 : NameMatches(target, names_[i]);
        if (hit) node->refs.push_back(i);
      }
      if (node->refs.empty()) return Error(StrCat("'", target, "' names no search identifier"));
      return node;
    }
    for (size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == token) {
        ++pos_;
        auto node = std::make_unique<CondNode>();
        node->op = CondNode::Op::kRef;
        node->refs.push_back(i);
        return node;
      }
    }
    return Error(StrCat("unknown search identifier '", token, "'"));
  }

  const std::vector<std::string>& names_;
  std::vector<std::string> tokens_;
  std::string error_;
  size_t pos_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<CondNode>> ParseCondition(const std::string& text, const std::vector<std::string>& names) {
  if (text.size() > kMaxConditionBytes) return absl::InvalidArgumentError("condition too long");
  Parser parser(text, names);
  return parser.Parse();
}

}  // namespace orgtrail::detections::internal
