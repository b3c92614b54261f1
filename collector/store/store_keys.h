// Key and value encodings of the collector's RocksDB store (collector/STORAGE.md
// documents them byte by byte). Readers outside the store (query, export,
// subscriptions) use these functions instead of parsing bytes themselves.
//
// Building blocks (all integers big-endian so that byte order == numeric order):
//   P(s)  = varint32(len(s)) || s        length-prefixed string
//   T(t)  = fixed64_be(~(uint64(t) ^ 2^63))  time, DESCENDING: newer sorts first
//   U(n)  = fixed64_be(n)                 unsigned, ascending
// Pure functions, thread-safe. Decoders return false (never crash) on malformed input.
#ifndef ORGTRAIL_COLLECTOR_STORE_STORE_KEYS_H_
#define ORGTRAIL_COLLECTOR_STORE_STORE_KEYS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "orgtrail/v1/query.pb.h"

namespace orgtrail::collector {

// The attribute indexes (column family "idx"). kAll is the organization-wide
// time index (every event, empty value); the others are CloudTrail's eight
// LookupEvents attributes.
enum class IndexKind : uint8_t {
  kAll = 0x00,
  kEventId = 0x01,
  kEventName = 0x02,
  kReadOnly = 0x03,      // values "true" / "false"
  kUsername = 0x04,
  kResourceType = 0x05,  // one entry per distinct resources[].type
  kResourceName = 0x06,  // one entry per distinct resources[].ARN
  kEventSource = 0x07,
  kAccessKeyId = 0x08,
};
inline constexpr int kIndexKindCount = 9;

// "EventId", "EventName", ... (CloudTrail's AttributeKey names); false otherwise.
bool IndexKindFromAttributeKey(std::string_view attribute_key, IndexKind* kind);
std::string_view AttributeKeyOfIndexKind(IndexKind kind);

// ---- primitives ----
void PutLengthPrefixed(std::string* out, std::string_view s);
bool GetLengthPrefixed(std::string_view* in, std::string_view* s);
void PutFixed64BE(std::string* out, uint64_t v);
bool GetFixed64BE(std::string_view* in, uint64_t* v);
uint64_t Fixed64BEAt(const char* p);
void PutVarint32(std::string* out, uint32_t v);
bool GetVarint32(std::string_view* in, uint32_t* v);
uint64_t EncodeTimeDescending(int64_t time_us);
int64_t DecodeTimeDescending(uint64_t encoded);

// ---- column family "events": the records ----
// key = P(org) || P(account) || P(region) || T(event_time_us) || event_id
struct EventKey {
  std::string org;
  std::string account_id;
  std::string region;  // partition region (home region for global-service events)
  int64_t event_time_us = 0;
  std::string event_id;
};
std::string EncodeEventKey(const EventKey& key);
bool DecodeEventKey(std::string_view bytes, EventKey* key);
// Prefix shared by every key of one partition (org/account/region).
std::string EncodePartitionPrefix(std::string_view org, std::string_view account_id,
                                  std::string_view region);
// The partition prefix followed by T(time_us): seek target for "newest at or before time_us".
std::string EncodePartitionSeekKey(std::string_view org, std::string_view account_id,
                                   std::string_view region, int64_t time_us);

// value = varint32(len(meta)) || meta (orgtrail.v1.StoredEventMeta, serialized) || raw_json
std::string EncodeEventValue(const v1::StoredEventMeta& meta, std::string_view raw_json);
bool DecodeEventValue(std::string_view bytes, v1::StoredEventMeta* meta, std::string_view* raw_json);

// ---- column family "idx": attribute indexes ----
// key = kind(1 byte) || P(value) || T(event_time_us) || P(account) || P(region) || event_id
// value = empty (older stores: the event's key in "events")
// The kind byte of an event outside LookupEvents' default answer (eventCategory Data,
// NetworkActivity or another non-management category) has kIndexOtherCategoriesBit set: a
// management-only lookup reads only the entries without it, and every other reader reads both.
// Stores written before this split hold all events under the plain kind byte; readers of the
// management entries therefore still check each record's category.
inline constexpr uint8_t kIndexOtherCategoriesBit = 0x80;
// True for an eventCategory whose events are indexed under kIndexOtherCategoriesBit: anything
// but "" (older records), "Management" and "Insight".
bool IsOtherIndexCategory(std::string_view event_category);
// The indexer's cursor (event_indexer.h): the last commit index whose entries are written,
// U(index). It lives in "idx" itself, under a key no index kind uses (0xFF), so that it is
// flushed together with the entries it covers.
inline constexpr std::string_view kIndexCursorKey = "\xff" "cursor";
struct IndexKey {
  IndexKind kind = IndexKind::kAll;
  bool other_category = false;  // kIndexOtherCategoriesBit
  std::string value;
  int64_t event_time_us = 0;
  std::string account_id;
  std::string region;
  std::string event_id;
};
std::string EncodeIndexKey(const IndexKey& key);
bool DecodeIndexKey(std::string_view bytes, IndexKey* key);
// kind || P(value): prefix of the entries of one attribute value, of one category class.
std::string EncodeIndexPrefix(IndexKind kind, std::string_view value, bool other_category = false);
// kind || P(value) || T(time_us): seek target for "newest at or before time_us".
std::string EncodeIndexSeekKey(IndexKind kind, std::string_view value, int64_t time_us,
                               bool other_category = false);

// ---- column family "event_ids": dedup and GetEvent ----
// key = P(event_id) || account_id, value = the event's key in "events".
// Deduplication is per (recipient account, eventID): another account's event
// with the same eventID is a different event (format version 2; version 1 keyed
// by the bare eventID and is migrated at open).
std::string EncodeEventIdKey(std::string_view event_id, std::string_view account_id);
// P(event_id): prefix of the entries of one eventID in every account.
std::string EncodeEventIdPrefix(std::string_view event_id);
bool DecodeEventIdKey(std::string_view bytes, std::string* event_id, std::string* account_id);

// ---- column family "conflicts": same (account, eventID), different bytes ----
// key = P(account_id) || P(event_id) || P(agent_id) || U(sequence) || U(leaf_index)
// (the conflicting copy's batch and position; a replay rewrites the same key)
std::string EncodeConflictKey(std::string_view account_id, std::string_view event_id, std::string_view agent_id,
                              uint64_t sequence, uint64_t leaf_index);
bool DecodeConflictKey(std::string_view bytes, std::string* account_id, std::string* event_id, std::string* agent_id,
                       uint64_t* sequence, uint64_t* leaf_index);

// ---- column family "refused": events refused one by one (their batch stored) ----
// key = P(agent_id) || U(sequence) || U(leaf_index); a replay rewrites the same key
std::string EncodeRefusedKey(std::string_view agent_id, uint64_t sequence, uint64_t leaf_index);
bool DecodeRefusedKey(std::string_view bytes, std::string* agent_id, uint64_t* sequence, uint64_t* leaf_index);

// ---- column family "commits": the commit order ----
// key = U(commit_index) (1, 2, 3, ... one per stored event, never reused)
// value = the event's key in "events"
std::string EncodeCommitKey(uint64_t commit_index);
bool DecodeCommitKey(std::string_view bytes, uint64_t* commit_index);

// ---- column family "provenance": one entry per stored batch ----
// key = P(agent_id) || U(sequence)
std::string EncodeProvenanceKey(std::string_view agent_id, uint64_t sequence);
bool DecodeProvenanceKey(std::string_view bytes, std::string* agent_id, uint64_t* sequence);

// ---- column family "certs": agent certificates ----
// key = the 32 raw bytes of SHA-256(certificate DER), value = the certificate PEM

// ---- column family "metadata" (STORAGE.md lists every key) ----
std::string AgentStateKey(std::string_view agent_id);  // "agent/" || agent_id
inline constexpr std::string_view kAgentStatePrefix = "agent/";
inline constexpr std::string_view kLastCommitIndexKey = "commit/last";       // U(index)
inline constexpr std::string_view kEventsStoredKey = "stats/events_stored";  // U(count)
inline constexpr std::string_view kTrailPrefix = "trail/";          // "trail/" || name -> v1::Trail
inline constexpr std::string_view kTrailStatusPrefix = "trailstatus/";  // -> v1::TrailStatus
inline constexpr std::string_view kTrailConfigVersionKey = "trailconfig/version";  // U(version)
inline constexpr std::string_view kFormatVersionKey = "format/version";  // U(2)
inline constexpr uint64_t kStoreFormatVersion = 2;
inline constexpr std::string_view kConflictsRecordedKey = "stats/conflicts";  // U(count)
inline constexpr std::string_view kRefusedRecordedKey = "stats/refused";  // U(count)
inline constexpr std::string_view kIdentityViolationsKey = "stats/identity_violations";  // U(count)

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_STORE_STORE_KEYS_H_
