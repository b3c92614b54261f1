// A retro-hunt over exported archive files instead of the collector's store: every
// CloudTrail-layout log file (*.json.gz, digests excluded) under an export root (the folder that
// stands for the trail's S3 bucket), gunzipped and parsed on this machine, each record matched
// against a local RuleSet. Findings are printed as JSON lines like `orgtrailctl findings`
// (commitIndex 0: the archive has no commit order), progress on stderr when it is a terminal.
// Sigma correlations run after the scan over the records the rules matched, in eventTime order
// (then eventID); the collector's hunts use its commit order, so a correlation over events stored
// out of time order can differ between the two.
// Errors: a file that is not one gzip member of {"Records":[...]} is reported and counted, and the
// hunt goes on (exit status 1 at the end). Not thread-safe.
#ifndef ORGTRAIL_CLI_HUNT_ARCHIVE_H_
#define ORGTRAIL_CLI_HUNT_ARCHIVE_H_

#include <cstdint>
#include <set>
#include <string>

#include "orgtrail/detections/rule_set.h"

namespace orgtrail::cli {

struct ArchiveHuntOptions {
  std::string export_root;
  int64_t start_us = 0;  // eventTime range, inclusive; 0 = unbounded
  int64_t end_us = 0;
  std::set<std::string> accounts;  // recipientAccountId filter; empty = all
  bool progress = false;           // \r progress lines on stderr
};

struct ArchiveHuntResult {
  uint64_t files = 0, unreadable_files = 0, events_scanned = 0, findings = 0;
  bool correlations_skipped = false;  // the matches kept for them exceeded 256 MiB
};

// rule_files: rule id -> the file it was loaded from (for ruleFile).
ArchiveHuntResult HuntArchive(const detections::RuleSet& rules, const std::map<std::string, std::string>& rule_files,
                              const ArchiveHuntOptions& options);

}  // namespace orgtrail::cli

#endif  // ORGTRAIL_CLI_HUNT_ARCHIVE_H_
