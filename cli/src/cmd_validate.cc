// orgtrailctl validate-logs: the `aws cloudtrail validate-logs` algorithm
// (cloudtrail-format.md §3) on an orgtrail export folder, which stands for
// the S3 bucket. Digests are listed in the time range, walked from the
// newest back through previousDigestS3Object, each signature verified with
// the public key named by its fingerprint (AWSLogs/<org>/public-keys.json),
// every listed log file gunzipped and re-hashed. Result words, summary lines
// and the exit status (1 on any invalid or missing file) follow aws-cli.
// The S3 object metadata of a digest is read from its sidecar
// <digest>.metadata.json (collector/EXPORT.md).
//
// orgtrail extension: log files found in the validated partition folder
// whose delivery minute lies strictly inside the validated digest range but
// which no valid digest lists are reported as
// "INVALID: not listed in any digest" (aws-cli cannot see added files).
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <simdjson.h>

#include "orgtrail/common/config.h"
#include "orgtrail/common/hash.h"
#include "orgtrail/common/signer.h"
#include "orgtrail/common/time_util.h"

namespace orgtrail::cli {
namespace {

namespace po = boost::program_options;
constexpr int64_t kMinute = 60ll * 1000000;
constexpr int64_t kHour = 60 * kMinute;
constexpr size_t kMaxDigestBytes = 64u << 20;  // uncompressed digest limit

// ---------- small helpers ----------

std::string DisplayDate(int64_t us) { return FormatRfc3339Seconds(us); }

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

enum class GunzipResult { kOk, kInvalid, kTrailingData, kTooLarge };

// Inflates one gzip member from `in`, feeding the output to `sink`.
template <typename Sink>
GunzipResult GunzipStream(FILE* in, size_t max_output, Sink sink) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  if (inflateInit2(&zs, MAX_WBITS | 16) != Z_OK) return GunzipResult::kInvalid;
  std::vector<unsigned char> inbuf(1 << 16), outbuf(1 << 16);
  size_t produced = 0;
  int rc = Z_OK;
  GunzipResult result = GunzipResult::kInvalid;
  while (true) {
    if (zs.avail_in == 0) {
      size_t n = std::fread(inbuf.data(), 1, inbuf.size(), in);
      if (n == 0) break;  // input ended before the stream did
      zs.next_in = inbuf.data();
      zs.avail_in = static_cast<uInt>(n);
    }
    zs.next_out = outbuf.data();
    zs.avail_out = static_cast<uInt>(outbuf.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    size_t got = outbuf.size() - zs.avail_out;
    produced += got;
    if (produced > max_output) {
      result = GunzipResult::kTooLarge;
      break;
    }
    sink(std::string_view(reinterpret_cast<char*>(outbuf.data()), got));
    if (rc == Z_STREAM_END) {
      // Anything after the member (left in the buffer or in the file)?
      if (zs.avail_in > 0) {
        result = GunzipResult::kTrailingData;
      } else {
        unsigned char extra;
        result = std::fread(&extra, 1, 1, in) == 1 ? GunzipResult::kTrailingData : GunzipResult::kOk;
      }
      break;
    }
  }
  inflateEnd(&zs);
  return result;
}

// ---------- public keys ----------

struct PublicKey {
  std::string der;
  int64_t start_us = 0;
  std::optional<int64_t> end_us;
};

// fingerprint -> key, from AWSLogs/<org>/public-keys.json (ListPublicKeys shape).
bool LoadPublicKeys(const std::string& path, std::map<std::string, PublicKey>* keys, std::string* error) {
  std::string text;
  if (!ReadWholeFile(path, &text, 16u << 20)) {
    *error = "cannot read " + path;
    return false;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(text).get(doc) != simdjson::SUCCESS) {
    *error = "invalid JSON in " + path;
    return false;
  }
  simdjson::dom::array list;
  if (doc["PublicKeyList"].get_array().get(list) != simdjson::SUCCESS) {
    *error = "PublicKeyList missing in " + path;
    return false;
  }
  for (simdjson::dom::element item : list) {
    std::string_view value, fingerprint, start;
    if (item["Value"].get_string().get(value) != simdjson::SUCCESS ||
        item["Fingerprint"].get_string().get(fingerprint) != simdjson::SUCCESS ||
        item["ValidityStartTime"].get_string().get(start) != simdjson::SUCCESS) {
      continue;  // malformed entries are ignored (their digests then fail)
    }
    PublicKey key;
    auto der = Base64Decode(value);
    auto start_us = ParseRfc3339Micros(start);
    if (!der.ok() || !start_us.ok()) continue;
    key.der = *der;
    key.start_us = *start_us;
    std::string_view end;
    if (item["ValidityEndTime"].get_string().get(end) == simdjson::SUCCESS) {
      auto end_us = ParseRfc3339Micros(end);
      if (end_us.ok()) key.end_us = *end_us;
    }
    (*keys)[std::string(fingerprint)] = std::move(key);
  }
  return true;
}

std::map<std::string, PublicKey> KeysOverlapping(const std::map<std::string, PublicKey>& all,
                                                 int64_t start_us, int64_t end_us) {
  std::map<std::string, PublicKey> out;
  for (const auto& [fp, k] : all) {
    bool ends_before = k.end_us && *k.end_us < start_us;
    bool starts_after = k.start_us > end_us;
    if (!ends_before && !starts_after) out[fp] = k;
  }
  return out;
}

// ---------- the validator ----------

struct Options {
  std::string export_root;
  std::string trail_arn;
  std::string bucket;
  std::string prefix;
  std::string account_id;
  std::string org_id;
  std::string source_region;
  std::string home_region;
  std::string trail_name;
  int64_t start_us = 0;
  int64_t end_us = 0;
  bool verbose = false;
  bool check_unlisted = true;
};

struct DigestData {
  std::string key;
  std::string bucket;
  int64_t start_us = 0;
  int64_t end_us = 0;
  std::optional<std::string> previous_bucket;  // nullopt = JSON null / absent
  std::string previous_object;
  struct Log {
    std::string bucket, object, hash;
  };
  std::vector<Log> logs;
};

class Validator {
 public:
  explicit Validator(Options options) : o_(std::move(options)) {}
  int Run();

 private:
  // Digest chains.
  std::vector<std::string> ListDigestKeys(bool backfill) const;
  std::string DigestFolder() const;
  std::string KeyPath(std::string_view key) const { return o_.export_root + "/" + std::string(key); }
  static std::string KeyDate(std::string_view key, bool backfill);
  void Traverse(bool backfill);
  // On failure returns the error line and sets *missing for "not found".
  std::optional<DigestData> LoadAndValidate(const std::string& bucket, const std::string& key,
                                            bool backfill, std::string* error, bool* missing);
  std::pair<std::string, std::string> NextDigest(std::vector<std::string>* keys,
                                                 const std::string& before_key, bool backfill) const;
  // Logs.
  void ValidateLog(const DigestData::Log& log);
  void CheckUnlistedLogs();
  // Output.
  void Report(const std::string& message, bool is_error);
  void Summary();
  void Ratio(int valid, int invalid, const char* name);
  std::string S3(const std::string& bucket, const std::string& key) const {
    return "s3://" + bucket + "/" + key;
  }

  Options o_;
  std::map<std::string, PublicKey> all_keys_;
  std::map<std::string, PublicKey> keys_;
  bool keys_loaded_ = false;
  std::string keys_error_;
  int valid_digests_ = 0, invalid_digests_ = 0;
  int valid_backfill_ = 0, invalid_backfill_ = 0;
  int valid_logs_ = 0, invalid_logs_ = 0;
  bool last_double_space_ = true;
  std::optional<int64_t> found_start_, found_end_;
  std::optional<int64_t> valid_min_start_, valid_max_end_;
  std::set<std::string> listed_logs_;
  uint64_t rehashed_bytes_ = 0;
  double rehash_seconds_ = 0;
};

std::string Validator::DigestFolder() const {
  std::string folder = o_.prefix.empty() ? "" : o_.prefix + "/";
  folder += "AWSLogs/";
  if (!o_.org_id.empty()) folder += o_.org_id + "/";
  folder += o_.account_id + "/CloudTrail-Digest/" + o_.source_region;
  return folder;
}

std::string Validator::KeyDate(std::string_view key, bool backfill) {
  const size_t from_end = backfill ? 33 : 24;
  if (key.size() < from_end) return "";
  return std::string(key.substr(key.size() - from_end, 16));
}

std::vector<std::string> Validator::ListDigestKeys(bool backfill) const {
  const std::string folder = DigestFolder();
  std::vector<std::string> keys;
  std::error_code ec;
  const std::string root = KeyPath(folder);
  if (!std::filesystem::is_directory(root, ec)) return keys;
  const std::string name_prefix = o_.account_id + "_CloudTrail-Digest_" + o_.source_region + "_" +
                                  o_.trail_name + "_" + o_.home_region + "_";
  static const std::regex kDateDirs(R"(\d+/\d+/\d+)");
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string rel = std::filesystem::relative(it->path(), root, ec).generic_string();
    size_t slash = rel.rfind('/');
    if (slash == std::string::npos || !std::regex_match(rel.substr(0, slash), kDateDirs)) continue;
    std::string name = rel.substr(slash + 1);
    if (name.rfind(name_prefix, 0) != 0 || name.size() < name_prefix.size() + 8) continue;
    if (name.size() < 8 || name.compare(name.size() - 8, 8, ".json.gz") != 0) continue;
    const bool is_backfill = name.size() >= 17 && name.compare(name.size() - 17, 17, "_backfill.json.gz") == 0;
    if (is_backfill != backfill) continue;
    keys.push_back(folder + "/" + rel);
  }
  std::sort(keys.begin(), keys.end());
  // aws-cli: Marker = key of a digest ending at start - 1 min; keep keys
  // whose date is >= start; stop after end + 1 h (lexicographic).
  const std::string marker_date = FormatCompactSecond(o_.start_us - kMinute);
  const std::string target_start = FormatCompactSecond(o_.start_us);
  const std::string target_end = FormatCompactSecond(o_.end_us + kHour);
  const std::string ymd = marker_date.substr(0, 4) + "/" + marker_date.substr(4, 2) + "/" + marker_date.substr(6, 2);
  const std::string marker = folder + "/" + ymd + "/" + name_prefix + marker_date + ".json.gz";
  std::vector<std::string> out;
  for (const auto& key : keys) {
    if (key <= marker) continue;
    const std::string date = KeyDate(key, backfill);
    if (date > target_end) break;
    if (date >= target_start) out.push_back(key);
  }
  return out;
}

std::pair<std::string, std::string> Validator::NextDigest(std::vector<std::string>* keys,
                                                          const std::string& before_key,
                                                          bool backfill) const {
  if (keys->empty()) return {"", ""};
  if (before_key.empty()) {
    std::string k = keys->back();
    keys->pop_back();
    return {k, KeyDate(k, backfill)};
  }
  const std::string before_date = KeyDate(before_key, backfill);
  while (!keys->empty()) {
    std::string k = keys->back();
    keys->pop_back();
    std::string d = KeyDate(k, backfill);
    if (d < before_date) return {k, d};
  }
  return {"", ""};
}

std::optional<DigestData> Validator::LoadAndValidate(const std::string& bucket, const std::string& key,
                                                     bool backfill, std::string* error, bool* missing) {
  const std::string where = "Digest file\t" + S3(bucket, key) + "\tINVALID: ";
  *missing = false;
  if (bucket != o_.bucket || !IsSafeKey(key) || !IsRegularFile(KeyPath(key))) {
    *missing = true;
    *error = where + "not found";
    return std::nullopt;
  }
  // GET + gunzip + JSON parse.
  std::string inflated;
  FILE* f = std::fopen(KeyPath(key).c_str(), "rb");
  if (!f) {
    *missing = true;
    *error = where + "not found";
    return std::nullopt;
  }
  GunzipResult gz = GunzipStream(f, kMaxDigestBytes, [&](std::string_view chunk) { inflated.append(chunk); });
  std::fclose(f);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::object obj;
  if (gz != GunzipResult::kOk || parser.parse(inflated).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(obj) != simdjson::SUCCESS) {
    *error = where + "invalid format";
    return std::nullopt;
  }
  // Object metadata (sidecar).
  std::string sidecar_text;
  std::string signature_hex, signature_algorithm, backfill_ts;
  {
    bool have = false;
    if (ReadWholeFile(KeyPath(key + ".metadata.json"), &sidecar_text, 1u << 20)) {
      simdjson::dom::parser mp;
      simdjson::dom::element meta;
      std::string_view sig, alg, ts;
      if (mp.parse(sidecar_text).get(meta) == simdjson::SUCCESS &&
          meta["signature"].get_string().get(sig) == simdjson::SUCCESS &&
          meta["signature-algorithm"].get_string().get(alg) == simdjson::SUCCESS) {
        signature_hex = std::string(sig);
        signature_algorithm = std::string(alg);
        have = true;
      }
      if (have && meta["backfill-generation-timestamp"].get_string().get(ts) == simdjson::SUCCESS) {
        backfill_ts = std::string(ts);
      }
    }
    if (!have) {
      *error = where + "signature verification failed";
      return std::nullopt;
    }
  }
  // Required keys.
  for (const char* required : {"digestPublicKeyFingerprint", "digestS3Bucket", "digestS3Object",
                               "previousDigestSignature", "digestEndTime", "digestStartTime"}) {
    simdjson::dom::element e;
    if (obj[required].get(e) != simdjson::SUCCESS) {
      *error = where + "invalid format";
      return std::nullopt;
    }
  }
  std::string_view d_bucket, d_object, fingerprint, end_time, start_time;
  if (obj["digestS3Bucket"].get_string().get(d_bucket) != simdjson::SUCCESS ||
      obj["digestS3Object"].get_string().get(d_object) != simdjson::SUCCESS ||
      obj["digestPublicKeyFingerprint"].get_string().get(fingerprint) != simdjson::SUCCESS ||
      obj["digestEndTime"].get_string().get(end_time) != simdjson::SUCCESS ||
      obj["digestStartTime"].get_string().get(start_time) != simdjson::SUCCESS) {
    *error = where + "invalid format";
    return std::nullopt;
  }
  if (d_bucket != bucket || d_object != key) {
    *error = where + "has been moved from its original location";
    return std::nullopt;
  }
  // Key by fingerprint.
  std::map<std::string, PublicKey> candidates;
  if (backfill) {
    auto ts = ParseRfc3339Micros(backfill_ts);
    if (!ts.ok()) {
      *error = where + "invalid format";
      return std::nullopt;
    }
    candidates = KeysOverlapping(all_keys_, *ts - kHour, *ts + kHour);
  } else {
    candidates = keys_;
  }
  auto key_it = candidates.find(std::string(fingerprint));
  if (key_it == candidates.end()) {
    *error = where + "public key not found in region " + o_.home_region + " for fingerprint " +
             std::string(fingerprint);
    return std::nullopt;
  }
  auto verifier = Verifier::FromPublicKeyDer(key_it->second.der);
  if (!verifier.ok()) {
    *error = where + "Unable to load PKCS #1 key with fingerprint " + std::string(fingerprint);
    return std::nullopt;
  }
  // String to sign.
  std::string previous_signature = "null";
  simdjson::dom::element prev_sig_el = obj["previousDigestSignature"];
  if (!prev_sig_el.is_null()) {
    std::string_view ps;
    if (prev_sig_el.get_string().get(ps) != simdjson::SUCCESS) {
      *error = where + "invalid format";
      return std::nullopt;
    }
    previous_signature = std::string(ps);
  }
  const std::string to_sign = std::string(end_time) + "\n" + std::string(d_bucket) + "/" +
                              std::string(d_object) + "\n" + HexEncode(Sha256(inflated)) + "\n" +
                              previous_signature;
  auto signature = HexDecode(signature_hex);
  if (!signature.ok() || signature_algorithm != "SHA256withRSA" ||
      !(*verifier)->Verify(to_sign, *signature, "SHA256withRSA").ok()) {
    *error = where + "signature verification failed";
    return std::nullopt;
  }
  // A verified digest: read the rest.
  DigestData d;
  d.key = key;
  d.bucket = bucket;
  auto start_us = ParseRfc3339Micros(start_time);
  auto end_us = ParseRfc3339Micros(end_time);
  if (!start_us.ok() || !end_us.ok()) {
    *error = where + "invalid format";
    return std::nullopt;
  }
  d.start_us = *start_us;
  d.end_us = *end_us;
  std::string_view pb, po;
  if (obj["previousDigestS3Bucket"].get_string().get(pb) == simdjson::SUCCESS) {
    d.previous_bucket = std::string(pb);
    if (obj["previousDigestS3Object"].get_string().get(po) != simdjson::SUCCESS) {
      *error = where + "invalid format";
      return std::nullopt;
    }
    d.previous_object = std::string(po);
  }
  simdjson::dom::array logs;
  if (obj["logFiles"].get_array().get(logs) == simdjson::SUCCESS) {
    for (simdjson::dom::element log : logs) {
      std::string_view lb, lo, lh;
      if (log["s3Bucket"].get_string().get(lb) != simdjson::SUCCESS ||
          log["s3Object"].get_string().get(lo) != simdjson::SUCCESS ||
          log["hashValue"].get_string().get(lh) != simdjson::SUCCESS) {
        *error = where + "invalid format";
        return std::nullopt;
      }
      d.logs.push_back({std::string(lb), std::string(lo), std::string(lh)});
    }
  }
  return d;
}

void Validator::Traverse(bool backfill) {
  const std::string label = backfill ? "(backfill) " : "";
  std::vector<std::string> keys = ListDigestKeys(backfill);
  std::string bucket = o_.bucket;
  auto [key, end_date] = NextDigest(&keys, "", backfill);
  std::string last_start_date = end_date;  // compact form, as the key date
  const std::string start_compact = FormatCompactSecond(o_.start_us);
  std::set<std::string> visited;
  int& valid = backfill ? valid_backfill_ : valid_digests_;
  int& invalid = backfill ? invalid_backfill_ : invalid_digests_;
  while (!key.empty() && start_compact <= last_start_date) {
    if (!visited.insert(bucket + "/" + key).second) {
      invalid++;
      Report(label + "Digest file\t" + S3(bucket, key) + "\tINVALID: digest chain loops", true);
      break;
    }
    std::string error;
    bool missing = false;
    std::optional<DigestData> d = LoadAndValidate(bucket, key, backfill, &error, &missing);
    if (!d) {
      invalid++;
      Report(label + error, true);
      std::tie(key, end_date) = NextDigest(&keys, key, backfill);
      continue;
    }
    last_start_date = FormatCompactSecond(d->start_us);
    // Found times (aws-cli _track_found_times).
    if (d->start_us > o_.start_us) found_start_ = d->start_us;
    if (!found_end_) found_end_ = std::min(d->end_us, o_.end_us);
    valid_min_start_ = valid_min_start_ ? std::min(*valid_min_start_, d->start_us) : d->start_us;
    valid_max_end_ = valid_max_end_ ? std::max(*valid_max_end_, d->end_us) : d->end_us;
    valid++;
    Report(label + "Digest file\t" + S3(d->bucket, d->key) + "\tvalid", false);
    for (const auto& log : d->logs) ValidateLog(log);
    if (!d->previous_bucket) {
      const std::string last_key = key;
      std::tie(key, end_date) = NextDigest(&keys, last_key, backfill);
      if (!key.empty()) {
        auto next_end = ParseRfc3339Micros(end_date.substr(0, 4) + "-" + end_date.substr(4, 2) + "-" +
                                           end_date.substr(6, 2) + "T" + end_date.substr(9, 2) + ":" +
                                           end_date.substr(11, 2) + ":" + end_date.substr(13, 2) + "Z");
        Report("No log files were delivered by CloudTrail between " +
                   (next_end.ok() ? DisplayDate(*next_end) : end_date) + " and " +
                   DisplayDate(d->start_us),
               true);
      }
    } else {
      key = d->previous_object;
      bucket = *d->previous_bucket;
    }
  }
}

void Validator::ValidateLog(const DigestData::Log& log) {
  const std::string where = "Log file\t" + S3(log.bucket, log.object) + "\t";
  listed_logs_.insert(log.object);
  if (log.bucket != o_.bucket || !IsSafeKey(log.object) || !IsRegularFile(KeyPath(log.object))) {
    invalid_logs_++;
    Report(where + "INVALID: not found", true);
    return;
  }
  FILE* f = std::fopen(KeyPath(log.object).c_str(), "rb");
  if (!f) {
    invalid_logs_++;
    Report(where + "INVALID: not found", true);
    return;
  }
  auto t0 = std::chrono::steady_clock::now();
  Sha256Hasher hasher;
  uint64_t bytes = 0;
  GunzipResult gz = GunzipStream(f, SIZE_MAX, [&](std::string_view chunk) {
    hasher.Update(chunk);
    bytes += chunk.size();
  });
  std::fclose(f);
  const std::string computed = HexEncode(hasher.Finish());
  rehash_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rehashed_bytes_ += bytes;
  if (gz == GunzipResult::kTrailingData) {
    invalid_logs_++;
    Report(where + "INVALID: unexpected data after end of compressed stream", true);
  } else if (gz != GunzipResult::kOk) {
    invalid_logs_++;
    Report(where + "INVALID: invalid format", true);
  } else if (computed != log.hash) {
    invalid_logs_++;
    Report(where + "INVALID: hash value doesn't match", true);
  } else {
    valid_logs_++;
    Report(where + "valid", false);
  }
}

// orgtrail extension: files in the partition's log folder, delivered strictly
// inside the validated range, that no valid digest lists.
void Validator::CheckUnlistedLogs() {
  if (!valid_min_start_ || !valid_max_end_) return;
  std::string folder = o_.prefix.empty() ? "" : o_.prefix + "/";
  folder += "AWSLogs/";
  if (!o_.org_id.empty()) folder += o_.org_id + "/";
  folder += o_.account_id + "/CloudTrail/" + o_.source_region;
  const std::string root = KeyPath(folder);
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec)) return;
  const std::string lo = FormatCompactMinute(*valid_min_start_);
  const std::string hi = FormatCompactMinute(*valid_max_end_);
  const std::string name_prefix = o_.account_id + "_CloudTrail_" + o_.source_region + "_";
  std::vector<std::string> unlisted;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string name = it->path().filename().string();
    // <acct>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16>.json.gz
    if (name.rfind(name_prefix, 0) != 0 || name.size() != name_prefix.size() + 14 + 1 + 16 + 8) continue;
    if (name.compare(name.size() - 8, 8, ".json.gz") != 0) continue;
    const std::string minute = name.substr(name_prefix.size(), 14);
    if (minute <= lo || minute >= hi) continue;
    const std::string key = folder + "/" + std::filesystem::relative(it->path(), root, ec).generic_string();
    if (!listed_logs_.count(key)) unlisted.push_back(key);
  }
  std::sort(unlisted.begin(), unlisted.end());
  for (const auto& key : unlisted) {
    invalid_logs_++;
    Report("Log file\t" + S3(o_.bucket, key) + "\tINVALID: not listed in any digest", true);
  }
}

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

int Validator::Run() {
  std::printf("Validating log files for trail %s between %s and %s\n\n", o_.trail_arn.c_str(),
              DisplayDate(o_.start_us).c_str(), DisplayDate(o_.end_us).c_str());
  std::fflush(stdout);
  std::string keys_path = o_.prefix.empty() ? "" : o_.prefix + "/";
  keys_path += "AWSLogs/" + (o_.org_id.empty() ? o_.account_id : o_.org_id) + "/public-keys.json";
  std::string error;
  if (!LoadPublicKeys(KeyPath(keys_path), &all_keys_, &error)) all_keys_.clear();
  keys_ = KeysOverlapping(all_keys_, o_.start_us, o_.end_us + 2 * kHour);
  if (keys_.empty()) {
    std::fprintf(stderr, "No public keys found between %s and %s\n", DisplayDate(o_.start_us).c_str(),
                 DisplayDate(o_.end_us).c_str());
    return 1;
  }
  Traverse(false);
  Traverse(true);
  if (o_.check_unlisted) CheckUnlistedLogs();
  Summary();
  std::fflush(stdout);
  return (invalid_digests_ > 0 || invalid_backfill_ > 0 || invalid_logs_ > 0) ? 1 : 0;
}

// Export manifest written by the collector at <root>/orgtrail-export.json.
void ReadManifest(const std::string& root, std::string* bucket, std::string* org_id) {
  std::string text;
  if (!ReadWholeFile(root + "/orgtrail-export.json", &text, 1u << 20)) return;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(text).get(doc) != simdjson::SUCCESS) return;
  std::string_view v;
  if (bucket->empty() && doc["bucket"].get_string().get(v) == simdjson::SUCCESS) *bucket = std::string(v);
  if (org_id->empty() && doc["orgId"].get_string().get(v) == simdjson::SUCCESS) *org_id = std::string(v);
}

StatusOr<int64_t> ParseTimeOption(const char* option, const std::string& text) {
  auto t = ParseRfc3339Micros(text);
  if (t.ok()) return *t;
  if (text.size() == 10) {  // "2026-11-21"
    t = ParseRfc3339Micros(text + "T00:00:00Z");
    if (t.ok()) return *t;
  }
  return absl::InvalidArgumentError(std::string("--") + option + ": expected an RFC 3339 time such as "
                                    "2026-11-21T20:00:00Z, got '" + text + "'");
}

}  // namespace

int RunValidateLogs(int argc, const char* const* argv) {
  po::options_description options("validate-logs options");
  options.add_options()
      ("export-root", po::value<std::string>(), "export folder (stands for the S3 bucket) [required]")
      ("trail-arn", po::value<std::string>(), "arn:aws:cloudtrail:<home>:<acct>:trail/<name> [required]")
      ("start-time", po::value<std::string>(), "validate logs delivered at or after (RFC 3339) [required]")
      ("end-time", po::value<std::string>(), "... at or before (default now)")
      ("s3-bucket", po::value<std::string>(), "bucket name the export stands for (default: the export's configured name)")
      ("s3-prefix", po::value<std::string>()->default_value(""), "key prefix under the bucket")
      ("account-id", po::value<std::string>(), "member account to validate (default: the ARN's account)")
      ("org-id", po::value<std::string>(), "organization id folder (default: the export's configured id)")
      ("region", po::value<std::string>(), "source region whose digests are validated (default: home region)")
      ("no-unlisted-check", po::bool_switch(), "skip the orgtrail check for log files no digest lists")
      ("verbose", po::bool_switch(), "print every valid file and the re-hash throughput");
  po::variables_map vm;
  BinaryInfo info{"orgtrailctl validate-logs",
                  "validate an export's log files against its signed digests (aws cloudtrail validate-logs)",
                  "orgtrailctl validate-logs --export-root DIR --trail-arn ARN --start-time T [options]"};
  auto outcome = ParseCommandLine(argc, argv, info, options, &vm);
  if (!outcome.ok()) {
    std::fprintf(stderr, "validate-logs: %s\n", std::string(outcome.status().message()).c_str());
    return 2;
  }
  if (*outcome == ParseOutcome::kExitSuccess) return 0;
  for (const char* required : {"export-root", "trail-arn", "start-time"}) {
    if (!vm.count(required)) {
      std::fprintf(stderr, "validate-logs: --%s is required\n", required);
      return 2;
    }
  }
  Options o;
  o.export_root = vm["export-root"].as<std::string>();
  o.trail_arn = vm["trail-arn"].as<std::string>();
  static const std::regex kArn(R"(arn:.+:cloudtrail:.+:\d{12}:trail/.+)");
  if (o.trail_arn.size() > 2048 || !std::regex_match(o.trail_arn, kArn)) {
    std::fprintf(stderr, "validate-logs: --trail-arn: Invalid trail ARN provided: %s\n", o.trail_arn.c_str());
    return 2;
  }
  {
    std::vector<std::string> parts;
    size_t start = 0;
    for (int i = 0; i < 5; ++i) {
      size_t c = o.trail_arn.find(':', start);
      parts.push_back(o.trail_arn.substr(start, c - start));
      start = c + 1;
    }
    o.home_region = parts[3];
    o.trail_name = o.trail_arn.substr(o.trail_arn.rfind('/') + 1);
    o.account_id = vm.count("account-id") ? vm["account-id"].as<std::string>() : parts[4];
  }
  if (Status st = CheckAccountId("--account-id", o.account_id); !st.ok()) {
    std::fprintf(stderr, "validate-logs: %s\n", std::string(st.message()).c_str());
    return 2;
  }
  auto start = ParseTimeOption("start-time", vm["start-time"].as<std::string>());
  if (!start.ok()) {
    std::fprintf(stderr, "validate-logs: %s\n", std::string(start.status().message()).c_str());
    return 2;
  }
  o.start_us = *start;
  if (vm.count("end-time")) {
    auto end = ParseTimeOption("end-time", vm["end-time"].as<std::string>());
    if (!end.ok()) {
      std::fprintf(stderr, "validate-logs: %s\n", std::string(end.status().message()).c_str());
      return 2;
    }
    o.end_us = *end;
  } else {
    o.end_us = NowMicros();
  }
  if (o.start_us > o.end_us) {
    std::fprintf(stderr, "validate-logs: Invalid time range specified: start-time must occur before end-time\n");
    return 2;
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(o.export_root, ec)) {
    std::fprintf(stderr, "validate-logs: --export-root: '%s' is not a directory\n", o.export_root.c_str());
    return 2;
  }
  if (vm.count("s3-bucket")) o.bucket = vm["s3-bucket"].as<std::string>();
  if (vm.count("org-id")) o.org_id = vm["org-id"].as<std::string>();
  ReadManifest(o.export_root, &o.bucket, &o.org_id);
  if (o.bucket.empty()) {
    std::fprintf(stderr, "validate-logs: --s3-bucket is required (the export has no orgtrail-export.json)\n");
    return 2;
  }
  o.prefix = vm["s3-prefix"].as<std::string>();
  while (!o.prefix.empty() && o.prefix.back() == '/') o.prefix.pop_back();
  if (!o.prefix.empty() && !IsSafeKey(o.prefix)) {
    std::fprintf(stderr, "validate-logs: --s3-prefix: invalid prefix '%s'\n", o.prefix.c_str());
    return 2;
  }
  o.source_region = vm.count("region") ? vm["region"].as<std::string>() : o.home_region;
  for (const std::string* token : {&o.source_region, &o.home_region, &o.org_id, &o.trail_name}) {
    if (token->find('/') != std::string::npos || *token == "." || *token == "..") {
      std::fprintf(stderr, "validate-logs: invalid region, organization or trail name '%s'\n", token->c_str());
      return 2;
    }
  }
  o.verbose = vm["verbose"].as<bool>();
  o.check_unlisted = !vm["no-unlisted-check"].as<bool>();
  Validator validator(std::move(o));
  return validator.Run();
}

}  // namespace orgtrail::cli
