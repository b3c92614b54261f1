// Sigma string values: parsing (wildcards `*` `?` and backslash escapes, `%placeholder%` under
// `|expand`), the transformations of the modifier appendix (base64, base64offset, utf16*, windash,
// expand) and the compiled glob matcher.
//
// Case-insensitive matching folds ASCII letters only; other bytes compare exactly. `?` matches one
// UTF-8 code point. Pure functions and immutable objects: thread-safe.
#ifndef ORGTRAIL_DETECTIONS_SRC_PATTERN_H_
#define ORGTRAIL_DETECTIONS_SRC_PATTERN_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "orgtrail/common/status.h"

namespace orgtrail::detections::internal {

struct Unit {
  enum Kind : char { kLiteral, kAnyOne, kAnyMany } kind;
  char c;  // the literal byte for kLiteral
  bool operator==(const Unit& other) const { return kind == other.kind && c == other.c; }
};
using Pattern = std::vector<Unit>;

// Parses a Sigma string value per the specification's escape rules.
Pattern ParsePattern(std::string_view value);
Pattern LiteralPattern(std::string_view bytes);
bool HasWildcards(const Pattern& pattern);
std::string LiteralBytes(const Pattern& pattern);  // wildcards dropped

// Transformations. Each may expand one pattern into several (OR-linked alternatives).
StatusOr<std::vector<Pattern>> Base64(const Pattern& pattern);
StatusOr<std::vector<Pattern>> Base64Offset(const Pattern& pattern);
enum class Utf16Form { kLittleEndian, kBigEndian, kWithBom };
StatusOr<std::vector<Pattern>> Utf16(const Pattern& pattern, Utf16Form form);
StatusOr<std::vector<Pattern>> Windash(const Pattern& pattern);
// `raw` is the unparsed value: `%name%` are placeholders, `\%` a plain percent sign.
StatusOr<std::vector<Pattern>> Expand(std::string_view raw,
                                      const std::map<std::string, std::vector<std::string>>& placeholders);

// A compiled glob. Exact, prefix, suffix and substring shapes take fast paths.
class Glob {
 public:
  Glob(const Pattern& pattern, bool cased);
  bool Matches(std::string_view text) const;
  // The literal value when the pattern has no wildcards (for the index), lower-cased.
  bool IsExact() const { return shape_ == Shape::kExact; }
  const std::string& exact_lower() const { return exact_lower_; }

 private:
  enum class Shape { kExact, kPrefix, kSuffix, kContains, kGeneral };
  bool GeneralMatch(std::string_view text) const;
  Shape shape_;
  bool cased_;
  std::string literal_;  // for the fast shapes (lower-cased unless cased_)
  std::string exact_lower_;
  Pattern units_;        // lower-cased literals unless cased_
};

std::string AsciiLower(std::string_view text);

}  // namespace orgtrail::detections::internal

#endif  // ORGTRAIL_DETECTIONS_SRC_PATTERN_H_
