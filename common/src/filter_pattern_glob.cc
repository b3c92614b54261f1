// Wildcard string values of filter patterns (see filter_pattern_glob.h).
#include "filter_pattern_glob.h"

#include <string>
#include <string_view>
#include <utility>

namespace orgtrail::filter_pattern_internal {

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

// Splits at unescaped '*'. In quoted values "\*" and "\\" are escapes.
void BuildGlob(std::string_view value, bool quoted, Glob* glob) {
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

}  // namespace orgtrail::filter_pattern_internal
