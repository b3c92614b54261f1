// validate-logs: export folder file access (see validate_files.h).
#include "validate_files.h"

#include <sys/stat.h>

#include <cstdio>
#include <string>
#include <string_view>

namespace orgtrail::cli::validate_logs {

// Relative, no "." / ".." segments, no NUL, not absolute.
bool IsSafeKey(std::string_view key) {
  if (key.empty() || key.size() > 1024 || key.front() == '/') return false;
  if (key.find('\0') != std::string_view::npos) return false;
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view part = key.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

bool ReadWholeFile(const std::string& path, std::string* out, size_t limit) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  out->clear();
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) {
    out->append(buf, n);
    if (out->size() > limit) break;
  }
  std::fclose(f);
  return true;
}

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace orgtrail::cli::validate_logs
