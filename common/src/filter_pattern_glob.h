// Private to the filter pattern code (filter_pattern.cc parses,
// filter_pattern_evaluator.cc matches): string values with '*' wildcards.
// Contract: BuildGlob splits a value at its unescaped stars into a Glob
// (`glob` must be default-constructed); in quoted values "\*" is a literal
// star and "\\" a backslash, unquoted values have no escapes. GlobMatches is
// true when the whole of `s` matches: literally when the value has no star,
// else with each star standing for any run of characters (possibly empty).
// Pure functions; thread-safe.
#ifndef ORGTRAIL_COMMON_SRC_FILTER_PATTERN_GLOB_H_
#define ORGTRAIL_COMMON_SRC_FILTER_PATTERN_GLOB_H_

#include <string>
#include <string_view>
#include <vector>

namespace orgtrail::filter_pattern_internal {

// A string value with '*' wildcards, split at the unescaped stars.
struct Glob {
  std::vector<std::string> parts;  // literal pieces between stars
  bool has_star = false;
  bool leading_star = false;
  bool trailing_star = false;
  std::string literal;  // the whole value when has_star is false
};

bool GlobMatches(const Glob& glob, std::string_view s);

// Splits at unescaped '*'. In quoted values "\*" and "\\" are escapes.
void BuildGlob(std::string_view value, bool quoted, Glob* glob);

}  // namespace orgtrail::filter_pattern_internal

#endif  // ORGTRAIL_COMMON_SRC_FILTER_PATTERN_GLOB_H_
