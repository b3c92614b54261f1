// The agent's record splitter (agent/record_splitter.h): whole CloudTrail
// files ({"Records":[...]}, JSON arrays, JSON Lines), the streaming JSON
// Lines split, and the size-limited gunzip of .json.gz files.
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "orgtrail/agent/record_splitter.h"

using orgtrail::fuzz::AsView;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = AsView(data, size);
  auto split = orgtrail::agent::SplitRecords(text);
  if (split.ok()) {
    for (std::string_view r : split->records) {
      // Every record is a view into the input.
      ORGTRAIL_FUZZ_CHECK(r.data() >= text.data() && r.data() + r.size() <= text.data() + text.size());
    }
  }
  size_t consumed = 0;
  auto lines = orgtrail::agent::SplitJsonLines(text, &consumed);
  ORGTRAIL_FUZZ_CHECK(consumed <= text.size());
  for (std::string_view line : lines) {
    ORGTRAIL_FUZZ_CHECK(line.data() >= text.data() && line.data() + line.size() <= text.data() + consumed);
  }
  if (!text.empty()) {
    auto end = orgtrail::agent::SkipJsonValue(text, 0);
    if (end.ok()) ORGTRAIL_FUZZ_CHECK(*end <= text.size());
  }
  auto inflated = orgtrail::agent::Gunzip(text, 1 << 20);
  if (inflated.ok()) {
    ORGTRAIL_FUZZ_CHECK(inflated->size() <= (1u << 20));
    (void)orgtrail::agent::SplitRecords(*inflated);
  }
  return 0;
}
