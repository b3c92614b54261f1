// ingest_load_bench: CloudTrail record text, handled as bytes (no JSON
// parser, so a record is sent exactly as read): splitting a delivery file
// {"Records":[...]} into its records, and reading or replacing the value of a
// string member such as "eventID" or "eventName".
// Contract: SplitRecords appends the exact bytes of every object at depth 2.
// ReplaceStringMember / StringMember act on the first "key":"..." in the text
// (no whitespace around the colon, as CloudTrail and the generator write
// records) and take the value up to the next '"' (values without escaped
// quotes); ReplaceStringMember returns false and StringMember "" when there
// is no such member. ReadAll returns "" for a file it cannot read.
// Pure functions; thread-safe.
#ifndef ORGTRAIL_BENCH_INGEST_LOAD_RECORDS_H_
#define ORGTRAIL_BENCH_INGEST_LOAD_RECORDS_H_

#include <string>
#include <vector>

namespace orgtrail::ingest_load {

std::string ReadAll(const std::string& path);

// Objects at depth 2 of {"Records":[{...},...]}: their exact bytes.
void SplitRecords(const std::string& text, std::vector<std::string>* out);

// Replaces the value of the first "key":"..." member (same-length or not).
bool ReplaceStringMember(std::string* json, const std::string& key, const std::string& value);

std::string StringMember(const std::string& json, const std::string& key);

}  // namespace orgtrail::ingest_load

#endif  // ORGTRAIL_BENCH_INGEST_LOAD_RECORDS_H_
