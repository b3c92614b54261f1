// Value codecs of the provenance and agent-state entries (store.h, STORAGE.md),
// and the mapping of RocksDB statuses (store_internal.h).
#include "collector/store/store.h"
#include "collector/store/store_internal.h"

#include <algorithm>

namespace orgtrail::collector {
namespace store_internal {

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status();
  std::string message = std::string(what) + ": " + s.ToString();
  if (s.IsCorruption()) return absl::DataLossError(message);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(message);
  return absl::UnavailableError(message);
}

}  // namespace store_internal

namespace {

void PutDigest(std::string* out, const Digest& d) { out->append(reinterpret_cast<const char*>(d.data()), d.size()); }

bool GetDigest(std::string_view* in, Digest* d) {
  if (in->size() < d->size()) return false;
  std::copy(in->begin(), in->begin() + d->size(), d->begin());
  in->remove_prefix(d->size());
  return true;
}

bool GetStr(std::string_view* in, std::string* out) {
  std::string_view s;
  if (!GetLengthPrefixed(in, &s)) return false;
  out->assign(s.data(), s.size());
  return true;
}

}  // namespace

std::string EncodeProvenanceValue(const ProvenanceRecord& r) {
  std::string out;
  out.reserve(r.signed_header.size() + r.signature.size() + 80 + 32 * r.leaf_hashes.size());
  PutLengthPrefixed(&out, r.signed_header);
  PutLengthPrefixed(&out, r.signature);
  PutLengthPrefixed(&out, r.signature_algorithm);
  PutDigest(&out, r.certificate_sha256);
  PutDigest(&out, r.merkle_root);
  PutVarint32(&out, static_cast<uint32_t>(r.leaf_hashes.size()));
  for (const Digest& d : r.leaf_hashes) PutDigest(&out, d);
  PutFixed64BE(&out, static_cast<uint64_t>(r.receipt_time_us));
  return out;
}

bool DecodeProvenanceValue(std::string_view in, ProvenanceRecord* r) {
  uint32_t n;
  if (!GetStr(&in, &r->signed_header) || !GetStr(&in, &r->signature) ||
      !GetStr(&in, &r->signature_algorithm) || !GetDigest(&in, &r->certificate_sha256) ||
      !GetDigest(&in, &r->merkle_root) || !GetVarint32(&in, &n) || in.size() != 32ull * n + 8) {
    return false;
  }
  r->leaf_hashes.resize(n);
  for (uint32_t i = 0; i < n; ++i) GetDigest(&in, &r->leaf_hashes[i]);
  uint64_t t = 0;  // the size check above leaves 8 bytes
  GetFixed64BE(&in, &t);
  r->receipt_time_us = static_cast<int64_t>(t);
  return true;
}

std::string EncodeAgentState(const AgentState& s) {
  std::string out;
  PutLengthPrefixed(&out, s.account_id);
  PutLengthPrefixed(&out, s.region);
  PutFixed64BE(&out, s.high_water_sequence);
  PutDigest(&out, s.last_batch_hash);
  PutFixed64BE(&out, s.epoch);
  PutFixed64BE(&out, static_cast<uint64_t>(s.last_seen_us));
  PutFixed64BE(&out, s.events_stored);
  PutFixed64BE(&out, s.events_duplicate);
  PutFixed64BE(&out, s.batches_stored);
  PutFixed64BE(&out, s.events_refused);
  return out;
}

bool DecodeAgentState(std::string_view in, AgentState* s) {
  uint64_t last_seen = 0;
  bool ok = GetStr(&in, &s->account_id) && GetStr(&in, &s->region) &&
            GetFixed64BE(&in, &s->high_water_sequence) && GetDigest(&in, &s->last_batch_hash) &&
            GetFixed64BE(&in, &s->epoch) && GetFixed64BE(&in, &last_seen) &&
            GetFixed64BE(&in, &s->events_stored) && GetFixed64BE(&in, &s->events_duplicate) &&
            GetFixed64BE(&in, &s->batches_stored);
  // events_refused was added later: a state written before it has none.
  s->events_refused = 0;
  if (ok && !in.empty()) ok = GetFixed64BE(&in, &s->events_refused);
  ok = ok && in.empty();
  s->last_seen_us = static_cast<int64_t>(last_seen);
  return ok;
}

std::string EncodeConflictValue(const ConflictRecord& r) {
  std::string out;
  out.reserve(r.existing_event_key.size() + r.raw_json.size() + 16);
  PutLengthPrefixed(&out, r.existing_event_key);
  PutFixed64BE(&out, static_cast<uint64_t>(r.receipt_time_us));
  out.append(r.raw_json);
  return out;
}

bool DecodeConflictValue(std::string_view in, ConflictRecord* r) {
  uint64_t t;
  if (!GetStr(&in, &r->existing_event_key) || !GetFixed64BE(&in, &t)) return false;
  r->receipt_time_us = static_cast<int64_t>(t);
  r->raw_json.assign(in.data(), in.size());
  return true;
}

std::string EncodeRefusedValue(const RefusedRecord& r) {
  std::string out;
  out.reserve(r.event_id.size() + r.rule.size() + r.message.size() + r.raw_json.size() + 64);
  PutLengthPrefixed(&out, r.event_id);
  PutLengthPrefixed(&out, r.rule);
  PutLengthPrefixed(&out, r.message);
  PutFixed64BE(&out, static_cast<uint64_t>(r.receipt_time_us));
  PutDigest(&out, r.leaf_hash);
  out.push_back(static_cast<char>((r.identity_violation ? 1 : 0) | (r.raw_json_dropped ? 2 : 0)));
  out.append(r.raw_json);
  return out;
}

bool DecodeRefusedValue(std::string_view in, RefusedRecord* r) {
  uint64_t t;
  if (!GetStr(&in, &r->event_id) || !GetStr(&in, &r->rule) || !GetStr(&in, &r->message) ||
      !GetFixed64BE(&in, &t) || !GetDigest(&in, &r->leaf_hash) || in.empty()) {
    return false;
  }
  const auto flags = static_cast<unsigned char>(in.front());
  in.remove_prefix(1);
  if (flags > 3) return false;
  r->receipt_time_us = static_cast<int64_t>(t);
  r->identity_violation = (flags & 1) != 0;
  r->raw_json_dropped = (flags & 2) != 0;
  r->raw_json.assign(in.data(), in.size());
  return true;
}

}  // namespace orgtrail::collector
