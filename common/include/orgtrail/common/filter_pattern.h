// CloudWatch Logs JSON filter patterns: parser and evaluator over a raw
// CloudTrail JSON record.
//
// Grammar (CloudWatch Logs "Filter pattern syntax", JSON log events):
//   pattern     := ""                       (empty: matches every event)
//                | "{" or_expr "}"
//   or_expr     := and_expr ( "||" and_expr )*
//   and_expr    := primary ( "&&" primary )*      ("&&" binds tighter than "||")
//   primary     := "(" or_expr ")" | comparison
//   comparison  := selector op value
//                | selector "IS" ("NULL" | "TRUE" | "FALSE")
//                | selector "NOT" "EXISTS"
//   selector    := "$" ( "." name | "[" digits "]" )+      e.g. $.a.b[0][1].c
//   op          := "=" | "!=" | "<" | ">" | "<=" | ">="
//   value       := "quoted string" | unquoted-token | number
// Semantics (the rules CloudWatch documents, see ../shared/data/cis-metric-filters):
// - A comparison on a selector that resolves to nothing (missing member, index
//   out of range) is false, for "!=" too; only NOT EXISTS is true then.
// - String values ("x", x) compare with "=" / "!=" against JSON strings only;
//   "*" in a string value matches any run of characters ("\*" is a literal star
//   in a quoted value). A value that is entirely a number (1, -2.5, 1e3) is
//   numeric and compares against JSON numbers only, with all six operators.
//   Types never convert: a number field does not equal "1", a string "1" does
//   not equal 1, and "<"/">" on a string value is a parse error.
// - IS NULL: the member is JSON null. IS TRUE / IS FALSE: JSON booleans.
// - Keywords (IS, NULL, TRUE, FALSE, NOT, EXISTS) are case-insensitive.
// - A pattern longer than 1,024 characters (Unicode code points) is refused.
// Errors: Parse() returns INVALID_ARGUMENT whose message starts with
// "column <n>: " (1-based, in code points) naming what is wrong there.
// Thread safety: a parsed FilterPattern is immutable and may be shared and
// evaluated from any number of threads. A FilterEvaluator holds a JSON parser
// and is NOT thread-safe: use one per thread.
#ifndef ORGTRAIL_COMMON_FILTER_PATTERN_H_
#define ORGTRAIL_COMMON_FILTER_PATTERN_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "orgtrail/common/status.h"

namespace orgtrail {

inline constexpr size_t kMaxFilterPatternChars = 1024;
inline constexpr int kMaxFilterPatternDepth = 64;  // nested parentheses

class FilterPattern {
 public:
  struct Node;  // the parsed expression (opaque)

  // Parses `text`. INVALID_ARGUMENT "column <n>: <what>" on any error.
  static StatusOr<FilterPattern> Parse(std::string_view text);

  // The empty pattern: matches every event.
  FilterPattern() = default;

  const std::string& text() const { return text_; }
  bool matches_everything() const { return root_ == nullptr; }
  const Node* root() const { return root_.get(); }

 private:
  std::string text_;
  std::shared_ptr<const Node> root_;
};

// Evaluates patterns against one JSON record at a time.
class FilterEvaluator {
 public:
  FilterEvaluator();
  ~FilterEvaluator();
  FilterEvaluator(const FilterEvaluator&) = delete;
  FilterEvaluator& operator=(const FilterEvaluator&) = delete;

  // Parses `json` and keeps it as the current record (copied). INVALID_ARGUMENT
  // when it is not valid JSON (then Matches() is false for every non-empty pattern).
  Status Load(std::string_view json);
  // Evaluates against the record last loaded. Never fails.
  bool Matches(const FilterPattern& pattern) const;
  // Load(json) then Matches(pattern).
  StatusOr<bool> Evaluate(const FilterPattern& pattern, std::string_view json);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_FILTER_PATTERN_H_
