// Splits CloudTrail files into the exact bytes of each record, without
// re-serializing anything (records are kept byte for byte):
//   {"Records":[{...},{...}]}   CloudTrail delivery files (.json, .json.gz)
//   [{...},{...}]               JSON arrays (e.g. detonation logs)
//   {...}\n{...}\n              JSON Lines (also a single record object)
// Only the structure is checked here (balanced brackets, terminated strings,
// the wrapper shape); each record is validated later by EventExtractor.
// Hostile input (unbalanced, truncated, absurd nesting) gives INVALID_ARGUMENT
// naming the byte offset; never recursion, never a crash. Pure functions.
#ifndef ORGTRAIL_AGENT_RECORD_SPLITTER_H_
#define ORGTRAIL_AGENT_RECORD_SPLITTER_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "orgtrail/common/status.h"

namespace orgtrail::agent {

enum class FileFormat { kRecordsWrapper, kJsonArray, kJsonLines };

struct SplitResult {
  FileFormat format = FileFormat::kJsonLines;
  std::vector<std::string_view> records;  // views into the input
};

// Whole-document split; detects the format.
StatusOr<SplitResult> SplitRecords(std::string_view text);

// JSON Lines: every complete line ('\n'-terminated) from the start; blank
// lines are skipped. *consumed = bytes up to and including the last newline.
// A line that is not a single JSON object is returned as is (EventExtractor
// refuses it with a clear error).
std::vector<std::string_view> SplitJsonLines(std::string_view text, size_t* consumed);

// Skips one JSON value starting at text[pos] (after whitespace). Returns the
// position just after it, or an error.
StatusOr<size_t> SkipJsonValue(std::string_view text, size_t pos);

// gunzip with an output limit (RESOURCE_EXHAUSTED beyond it, INVALID_ARGUMENT
// for corrupt data, including trailing garbage).
StatusOr<std::string> Gunzip(std::string_view compressed, size_t max_output_bytes);

}  // namespace orgtrail::agent

#endif  // ORGTRAIL_AGENT_RECORD_SPLITTER_H_
