// Signed, chained CloudTrail digests per partition (see digest_publisher.h).
#include "collector/integrity/digest_publisher.h"
#include "collector/export/export_strings.h"

#include <algorithm>
#include <ctime>

#include "collector/integrity/digest_format.h"
#include "collector/export/export_file.h"
#include "collector/export/export_log_exporter.h"
#include "collector/store/store_keys.h"
#include "orgtrail/common/hash.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/time_util.h"

namespace orgtrail::collector {
namespace {

using internal::Cat;
using internal::Split;

constexpr int64_t kSecond = 1000000;
constexpr std::string_view kChainRoot = "digest/chain/";
constexpr std::string_view kBackfillChainRoot = "digest/bchain/";
constexpr std::string_view kIntentRoot = "digest/intent/";

std::string PartitionSuffix(std::string_view account, std::string_view region) {
  std::string k;
  PutLengthPrefixed(&k, account);
  PutLengthPrefixed(&k, region);
  return k;
}

int64_t FloorSecond(int64_t us) { return us - ((us % kSecond) + kSecond) % kSecond; }

// "2025-05-20T00:00:00.000Z" (the backfill-generation-timestamp shape).
std::string MillisTimestamp(int64_t us) {
  std::string s = FormatRfc3339Seconds(us);  // ...SSZ
  return Cat(s.substr(0, s.size() - 1), ".000Z");
}

}  // namespace

DigestPublisher::DigestPublisher(EventStore* store, const DigestKeyRing* keys,
                                 DigestPublisherOptions options)
    : store_(store), keys_(keys), options_(std::move(options)) {}

Status DigestPublisher::WritePublicKeysFile() const {
  return WriteExportFileDurably(options_.export_root,
                                Cat("AWSLogs/", options_.org_id, "/public-keys.json"),
                                keys_->PublicKeysJson());
}

Status DigestPublisher::WriteExportManifest() const {
  std::string json = "{";
  const std::pair<const char*, const std::string*> fields[] = {
      {"bucket", &options_.bucket}, {"orgId", &options_.org_id},
      {"trailName", &options_.trail_name}, {"homeRegion", &options_.home_region},
      {"keyPrefix", &options_.key_prefix}};
  bool first = true;
  for (const auto& [name, value] : fields) {
    if (!first) json += ",";
    first = false;
    json += Cat("\"", name, "\":\"");
    AppendJsonEscaped(&json, *value);
    json += "\"";
  }
  json += "}\n";
  return WriteExportFileDurably(options_.export_root, "orgtrail-export.json", json);
}

StatusOr<std::optional<DigestPublisher::Chain>> DigestPublisher::LoadChain(const std::string& key) const {
  auto v = store_->GetMetadata(key);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return std::optional<Chain>();
  std::string_view s = **v;
  std::string_view k, h, sig;
  uint64_t end = 0;
  if (!GetLengthPrefixed(&s, &k) || !GetLengthPrefixed(&s, &h) || !GetLengthPrefixed(&s, &sig) ||
      !GetFixed64BE(&s, &end) || !s.empty()) {
    return absl::DataLossError(Cat("digest chain state undecodable: ", key));
  }
  return std::optional<Chain>(Chain{std::string(k), std::string(h), std::string(sig), static_cast<int64_t>(end)});
}

namespace {
std::string EncodeChain(const std::string& key, const std::string& hash, const std::string& sig, int64_t end) {
  std::string v;
  PutLengthPrefixed(&v, key);
  PutLengthPrefixed(&v, hash);
  PutLengthPrefixed(&v, sig);
  PutFixed64BE(&v, static_cast<uint64_t>(end));
  return v;
}
}  // namespace

std::string DigestPublisher::BucketKey(const std::string& export_key) const {
  return options_.key_prefix.empty() ? export_key : Cat(options_.key_prefix, "/", export_key);
}

StatusOr<std::vector<PublishedDigest>> DigestPublisher::PublishDue(int64_t now_us, bool force) {
  auto partitions = store_->ScanMetadata(Cat(options_.metadata_namespace, kExportPartitionRoot));
  if (!partitions.ok()) return partitions.status();
  std::vector<PublishedDigest> out;
  for (const auto& [key, value] : *partitions) {
    std::string account, region;
    if (!DecodeExportPartitionKey(key, &account, &region, options_.metadata_namespace)) {
      return absl::DataLossError("digest: undecodable partition entry");
    }
    auto published = PublishPartition(account, region, now_us, force);
    if (!published.ok()) return published.status();
    out.insert(out.end(), published->begin(), published->end());
  }
  return out;
}

StatusOr<PublishedDigest> DigestPublisher::WriteDigest(
    const std::string& account, const std::string& region, int64_t start_us, int64_t end_us,
    const Chain* previous, const std::vector<PendingLogFile>& files, bool backfill, int64_t now_us,
    Chain* written, std::vector<EventStore::MetadataEntry>* commit) {
  DigestContent d;
  d.account_id = account;
  d.start_time_us = start_us;
  d.end_time_us = end_us;
  d.s3_bucket = options_.bucket;
  const std::string local_key = DigestKey(options_.org_id, account, region, options_.trail_name,
                                          options_.home_region, end_us, backfill);
  d.s3_object = BucketKey(local_key);
  d.public_key_fingerprint = keys_->CurrentFingerprint();
  if (previous) {
    d.previous = DigestLink{options_.bucket, previous->last_key, previous->last_hash_hex,
                            previous->last_signature_hex};
  }
  for (const auto& f : files) {
    d.log_files.push_back(DigestLogFile{options_.bucket, BucketKey(f.key), HexEncode(f.sha256),
                                        f.newest_event_time_us, f.oldest_event_time_us});
    commit->emplace_back(f.metadata_key, std::nullopt);  // consumed
  }
  if (options_.checkpoint_provider) d.checkpoint_text = options_.checkpoint_provider();
  const std::string json = SerializeDigest(d);
  const std::string hash_hex = HexEncode(Sha256(json));
  const std::string to_sign =
      DigestStringToSign(FormatRfc3339Seconds(end_us), d.s3_bucket, d.s3_object, hash_hex,
                         previous ? std::string_view(previous->last_signature_hex) : "null");
  std::string fingerprint;
  StatusOr<std::string> sig = keys_->SignHex(to_sign, &fingerprint);
  if (!sig.ok()) return sig.status();
  if (fingerprint != d.public_key_fingerprint) {
    return absl::AbortedError("digest key rotated while signing; retry");
  }
  StatusOr<std::string> gz = GzipCompress(json);
  if (!gz.ok()) return gz.status();
  // Sidecar first: a digest is never visible without its signature.
  ORGTRAIL_RETURN_IF_ERROR(WriteExportFileDurably(
      options_.export_root, DigestMetadataKey(local_key),
      DigestMetadataJson(*sig, backfill ? MillisTimestamp(now_us) : "")));
  Step("sidecar");
  ORGTRAIL_RETURN_IF_ERROR(WriteExportFileDurably(options_.export_root, local_key, *gz));
  Step("digest");
  *written = Chain{d.s3_object, hash_hex, *sig, end_us};  // the next digest names it as in the bucket
  PublishedDigest p;
  p.key = local_key;
  p.account_id = account;
  p.region = region;
  p.start_time_us = start_us;
  p.end_time_us = end_us;
  p.log_file_count = files.size();
  p.backfill = backfill;
  return p;
}

StatusOr<std::vector<PublishedDigest>> DigestPublisher::PublishPartition(const std::string& account,
                                                                         const std::string& region,
                                                                         int64_t now_us, bool force) {
  const std::string suffix = PartitionSuffix(account, region);
  const std::string& ns = options_.metadata_namespace;
  const std::string chain_key = Cat(ns, kChainRoot, suffix);
  const std::string bchain_key = Cat(ns, kBackfillChainRoot, suffix);
  const std::string intent_key = Cat(ns, kIntentRoot, suffix);
  auto chain = LoadChain(chain_key);
  if (!chain.ok()) return chain.status();
  auto pending_entries = store_->ScanMetadata(PendingLogFilePrefix(account, region, ns));
  if (!pending_entries.ok()) return pending_entries.status();
  std::vector<PendingLogFile> pending;
  for (const auto& [k, v] : *pending_entries) {
    PendingLogFile f;
    if (!DecodePendingLogFile(k, v, &f, ns)) return absl::DataLossError("digest: undecodable pending entry");
    pending.push_back(std::move(f));
  }

  // The window: from an interrupted attempt, or computed now.
  int64_t start_us = 0, end_us = 0;
  auto intent = store_->GetMetadata(intent_key);
  if (!intent.ok()) return intent.status();
  if (intent->has_value()) {
    std::string_view s = **intent;
    uint64_t a = 0, b = 0;
    if (!GetFixed64BE(&s, &a) || !GetFixed64BE(&s, &b)) return absl::DataLossError("digest intent undecodable");
    start_us = static_cast<int64_t>(a);
    end_us = static_cast<int64_t>(b);
  } else {
    if (*chain) {
      start_us = (*chain)->last_end_us;
    } else if (!pending.empty()) {
      start_us = FloorSecond(pending.front().delivery_time_us);
      for (const auto& f : pending) start_us = std::min(start_us, FloorSecond(f.delivery_time_us));
    } else {
      return std::vector<PublishedDigest>{};
    }
    end_us = FloorSecond(now_us);
    const bool due = force ? end_us >= start_us + kSecond : end_us >= start_us + options_.interval_us;
    if (!due) return std::vector<PublishedDigest>{};
    std::string v;
    PutFixed64BE(&v, static_cast<uint64_t>(start_us));
    PutFixed64BE(&v, static_cast<uint64_t>(end_us));
    ORGTRAIL_RETURN_IF_ERROR(store_->WriteMetadata({{intent_key, v}}));
    Step("digest-intent");
  }

  std::vector<PendingLogFile> in_window, late;
  for (auto& f : pending) {
    if (*chain && f.delivery_time_us < (*chain)->last_end_us) {
      late.push_back(f);
    } else if (f.delivery_time_us <= end_us + kSecond - 1) {
      in_window.push_back(f);
    }
  }

  std::vector<PublishedDigest> out;
  std::vector<EventStore::MetadataEntry> commit;
  if (!late.empty()) {
    auto bchain = LoadChain(bchain_key);
    if (!bchain.ok()) return bchain.status();
    int64_t bstart = FloorSecond(late.front().delivery_time_us);
    int64_t bend = bstart;
    for (const auto& f : late) {
      bstart = std::min(bstart, FloorSecond(f.delivery_time_us));
      bend = std::max(bend, FloorSecond(f.delivery_time_us));
    }
    if (*bchain) bend = std::max(bend, (*bchain)->last_end_us + kSecond);
    Chain written;
    auto p = WriteDigest(account, region, bstart, bend, *bchain ? &**bchain : nullptr, late, true,
                         now_us, &written, &commit);
    if (!p.ok()) return p.status();
    commit.emplace_back(bchain_key, EncodeChain(written.last_key, written.last_hash_hex,
                                                written.last_signature_hex, written.last_end_us));
    out.push_back(*p);
  }
  Chain written;
  auto p = WriteDigest(account, region, start_us, end_us, *chain ? &**chain : nullptr, in_window,
                       false, now_us, &written, &commit);
  if (!p.ok()) return p.status();
  commit.emplace_back(chain_key, EncodeChain(written.last_key, written.last_hash_hex,
                                             written.last_signature_hex, written.last_end_us));
  commit.emplace_back(intent_key, std::nullopt);
  Step("digest-before-commit");
  ORGTRAIL_RETURN_IF_ERROR(store_->WriteMetadata(commit));
  Step("digest-committed");
  out.push_back(*p);
  return out;
}

}  // namespace orgtrail::collector
