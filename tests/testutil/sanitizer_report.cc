#include "testutil/sanitizer_report.h"

#include <algorithm>

namespace orgtrail::testutil {

std::optional<std::string> FindSanitizerReport(std::string_view log) {
  static constexpr std::string_view kMarkers[] = {
      "ERROR: AddressSanitizer",           "ERROR: LeakSanitizer",
      "WARNING: ThreadSanitizer",          "ERROR: ThreadSanitizer",
      "FATAL: ThreadSanitizer",            "ThreadSanitizer: CHECK failed",
      "ERROR: UndefinedBehaviorSanitizer", "SUMMARY: UndefinedBehaviorSanitizer",
      ": runtime error: "};
  size_t first = std::string_view::npos;
  for (std::string_view marker : kMarkers) first = std::min(first, log.find(marker));
  if (first == std::string_view::npos) return std::nullopt;
  size_t start = log.rfind('\n', first);
  start = start == std::string_view::npos ? 0 : start + 1;
  size_t end = start;
  for (int lines = 0; lines < 40 && end != std::string_view::npos && end < log.size(); ++lines) {
    end = log.find('\n', end + 1);
  }
  if (end == std::string_view::npos) end = log.size();
  return std::string(log.substr(start, end - start));
}

}  // namespace orgtrail::testutil
