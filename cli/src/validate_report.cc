// validate-logs: output in aws-cli's words and layout (see validator.h).
// Valid files are printed on stdout only with --verbose; INVALID lines go to
// stderr between blank lines; the summary gives the requested and found
// ranges and valid/INVALID counts per kind of file.
#include <cstdio>
#include <string>

#include "validator.h"

namespace orgtrail::cli::validate_logs {

void Validator::Report(const std::string& message, bool is_error) {
  if (is_error) {
    std::fflush(stdout);
    std::fprintf(stderr, last_double_space_ ? "%s\n\n" : "\n%s\n\n", message.c_str());
    std::fflush(stderr);
    last_double_space_ = true;
  } else if (o_.verbose) {
    last_double_space_ = false;
    std::fprintf(stdout, "%s\n", message.c_str());
  }
}

void Validator::Ratio(int valid, int invalid, const char* name) {
  int total = valid + invalid;
  if (total > 0) {
    std::printf("\n%d/%d %s files valid", valid, total, name);
    if (invalid > 0) std::printf(", %d/%d %s files INVALID", invalid, total, name);
  }
}

void Validator::Summary() {
  if (!last_double_space_) std::printf("\n");
  std::printf("Results requested for %s to %s\n", DisplayDate(o_.start_us).c_str(),
              DisplayDate(o_.end_us).c_str());
  if (!valid_digests_ && !invalid_digests_ && !valid_backfill_ && !invalid_backfill_) {
    std::printf("No digests found\n");
    return;
  }
  if (!found_end_) {
    std::printf("No valid digests found in range\n");
  } else {
    std::printf("Results found for %s to %s:\n", DisplayDate(found_start_.value_or(o_.start_us)).c_str(),
                DisplayDate(*found_end_).c_str());
  }
  Ratio(valid_digests_, invalid_digests_, "digest");
  Ratio(valid_backfill_, invalid_backfill_, "backfill digest");
  Ratio(valid_logs_, invalid_logs_, "log");
  std::printf("\n");
  if (o_.verbose && rehashed_bytes_ > 0) {
    const double mb = static_cast<double>(rehashed_bytes_) / 1e6;
    std::printf("\nRe-hashed %.3f MB of log data in %.3f s (%.1f MB/s)\n", mb, rehash_seconds_,
                rehash_seconds_ > 0 ? mb / rehash_seconds_ : 0.0);
  }
}

}  // namespace orgtrail::cli::validate_logs
