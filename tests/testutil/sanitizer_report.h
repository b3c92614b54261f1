// Sanitizer reports in the logs of processes a test started.
//
// In the sanitizer builds (ASan+UBSan, TSan) the daemons print their reports
// to stderr and may go on running (TSan, LeakSanitizer at exit): a test that
// only checks exit codes and answers would pass over them. Subprocess scans
// every child's stderr when it reaps the child and fails the current test on
// a report (ADD_FAILURE), so a report anywhere in a run turns it red.
// Thread safety: pure functions.
#ifndef ORGTRAIL_TESTS_TESTUTIL_SANITIZER_REPORT_H_
#define ORGTRAIL_TESTS_TESTUTIL_SANITIZER_REPORT_H_

#include <optional>
#include <string>
#include <string_view>

namespace orgtrail::testutil {

// The first sanitizer report in `log` (from its first line to at most 40 lines
// on), or nullopt. Recognises AddressSanitizer, LeakSanitizer,
// UndefinedBehaviorSanitizer ("runtime error:") and ThreadSanitizer reports
// (races, lock-order inversions, signal-unsafe calls: "WARNING: ThreadSanitizer";
// a runtime that cannot run: "FATAL: ThreadSanitizer", "ThreadSanitizer: CHECK failed").
std::optional<std::string> FindSanitizerReport(std::string_view log);

}  // namespace orgtrail::testutil

#endif  // ORGTRAIL_TESTS_TESTUTIL_SANITIZER_REPORT_H_
