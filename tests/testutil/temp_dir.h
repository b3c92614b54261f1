// TempDir: a fresh, uniquely named directory under $TMPDIR (or /tmp) for one
// test, removed with everything in it when the object is destroyed, unless
// the environment variable ORGTRAIL_KEEP_TEST_DIRS is set (then its path is
// printed to stderr so a failed run can be inspected). Not thread-safe;
// owned by one test.
#ifndef ORGTRAIL_TESTS_TESTUTIL_TEMP_DIR_H_
#define ORGTRAIL_TESTS_TESTUTIL_TEMP_DIR_H_

#include <string>
#include <string_view>

namespace orgtrail::testutil {

class TempDir {
 public:
  // Creates the directory; aborts the test binary if it cannot (nothing
  // sensible can run without it).
  explicit TempDir(std::string_view prefix = "orgtrail-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name (no checks; name may contain subdirectories).
  std::string Join(std::string_view name) const;
  // Creates (with parents) the subdirectory and returns its path.
  std::string MakeSubdir(std::string_view name) const;

 private:
  std::string path_;
};

}  // namespace orgtrail::testutil

#endif  // ORGTRAIL_TESTS_TESTUTIL_TEMP_DIR_H_
