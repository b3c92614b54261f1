// Helpers shared by the libFuzzer targets (tests/fuzz): input as a string,
// splitting an input into parts, a per-process scratch directory, and a
// check that aborts (a finding) when an invariant of the parser is broken.
#ifndef ORGTRAIL_TESTS_FUZZ_FUZZ_UTIL_H_
#define ORGTRAIL_TESTS_FUZZ_FUZZ_UTIL_H_

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>

namespace orgtrail::fuzz {

inline std::string_view AsView(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// Splits at the first occurrence of `sep`: (before, after). No separator: (text, "").
inline std::pair<std::string_view, std::string_view> SplitOnce(std::string_view text, std::string_view sep) {
  const size_t at = text.find(sep);
  if (at == std::string_view::npos) return {text, std::string_view()};
  return {text.substr(0, at), text.substr(at + sep.size())};
}

// A scratch directory for this process, removed at exit.
inline const std::string& ScratchDir() {
  static const std::string dir = [] {
    // $TMPDIR if set, else /dev/shm: targets rewrite a scratch file per input, and on ext4 a
    // rewrite by truncation is flushed to disk at close (auto_da_alloc), which halved the
    // executions per second of the config and validate_digest targets.
    const char* base = std::getenv("TMPDIR");
    std::string dir = base && *base ? base : (::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    std::string tmpl = dir + "/orgtrail-fuzz-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    static std::string cleanup;
    cleanup = tmpl;
    std::atexit([] { std::system(("rm -rf '" + cleanup + "'").c_str()); });
    return tmpl;
  }();
  return dir;
}

inline void WriteFileOrDie(const std::string& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  if (!out) std::abort();
}

// An invariant the parser promises does not hold: report and abort (a crash for libFuzzer).
#define ORGTRAIL_FUZZ_CHECK(cond)                                                        \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)

}  // namespace orgtrail::fuzz

#endif  // ORGTRAIL_TESTS_FUZZ_FUZZ_UTIL_H_
