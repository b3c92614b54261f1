#include "testutil/temp_dir.h"

#include <stdlib.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace orgtrail::testutil {

TempDir::TempDir(std::string_view prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string root = (base != nullptr && *base != '\0') ? base : "/tmp";
  std::string pattern = root + "/" + std::string(prefix) + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    std::fprintf(stderr, "TempDir: mkdtemp(%s) failed: %s\n", pattern.c_str(), std::strerror(errno));
    std::abort();
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  if (std::getenv("ORGTRAIL_KEEP_TEST_DIRS") != nullptr) {
    std::fprintf(stderr, "TempDir: keeping %s\n", path_.c_str());
    return;
  }
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::Join(std::string_view name) const {
  return path_ + "/" + std::string(name);
}

std::string TempDir::MakeSubdir(std::string_view name) const {
  std::string dir = Join(name);
  std::error_code ignored;
  std::filesystem::create_directories(dir, ignored);
  return dir;
}

}  // namespace orgtrail::testutil
