#include "collector/store/store_keys.h"

#include <array>

namespace orgtrail::collector {
namespace {

constexpr std::array<std::string_view, kIndexKindCount> kAttributeKeys = {
    "", "EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName",
    "EventSource", "AccessKeyId"};

bool GetTime(std::string_view* in, int64_t* time_us) {
  uint64_t encoded;
  if (!GetFixed64BE(in, &encoded)) return false;
  *time_us = DecodeTimeDescending(encoded);
  return true;
}

bool GetString(std::string_view* in, std::string* out) {
  std::string_view s;
  if (!GetLengthPrefixed(in, &s)) return false;
  out->assign(s.data(), s.size());
  return true;
}

}  // namespace

bool IndexKindFromAttributeKey(std::string_view attribute_key, IndexKind* kind) {
  for (int i = 1; i < kIndexKindCount; ++i) {
    if (kAttributeKeys[i] == attribute_key) {
      *kind = static_cast<IndexKind>(i);
      return true;
    }
  }
  return false;
}

std::string_view AttributeKeyOfIndexKind(IndexKind kind) {
  int i = static_cast<int>(kind);
  return i < kIndexKindCount ? kAttributeKeys[i] : std::string_view();
}

void PutVarint32(std::string* out, uint32_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint32(std::string_view* in, uint32_t* v) {
  uint32_t result = 0;
  for (int shift = 0; shift <= 28 && !in->empty(); shift += 7) {
    uint8_t byte = static_cast<uint8_t>((*in)[0]);
    in->remove_prefix(1);
    if (shift == 28 && (byte & 0xf0) != 0) return false;  // more than 32 bits
    result |= static_cast<uint32_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

void PutLengthPrefixed(std::string* out, std::string_view s) {
  PutVarint32(out, static_cast<uint32_t>(s.size()));
  out->append(s.data(), s.size());
}

bool GetLengthPrefixed(std::string_view* in, std::string_view* s) {
  uint32_t len;
  if (!GetVarint32(in, &len) || in->size() < len) return false;
  *s = in->substr(0, len);
  in->remove_prefix(len);
  return true;
}

void PutFixed64BE(std::string* out, uint64_t v) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out->append(buf, 8);
}

uint64_t Fixed64BEAt(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

bool GetFixed64BE(std::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  *v = Fixed64BEAt(in->data());
  in->remove_prefix(8);
  return true;
}

uint64_t EncodeTimeDescending(int64_t time_us) {
  return ~(static_cast<uint64_t>(time_us) ^ 0x8000000000000000ull);
}

int64_t DecodeTimeDescending(uint64_t encoded) {
  return static_cast<int64_t>(~encoded ^ 0x8000000000000000ull);
}

std::string EncodePartitionPrefix(std::string_view org, std::string_view account_id,
                                  std::string_view region) {
  std::string out;
  PutLengthPrefixed(&out, org);
  PutLengthPrefixed(&out, account_id);
  PutLengthPrefixed(&out, region);
  return out;
}

std::string EncodePartitionSeekKey(std::string_view org, std::string_view account_id,
                                   std::string_view region, int64_t time_us) {
  std::string out = EncodePartitionPrefix(org, account_id, region);
  PutFixed64BE(&out, EncodeTimeDescending(time_us));
  return out;
}

std::string EncodeEventKey(const EventKey& key) {
  std::string out = EncodePartitionSeekKey(key.org, key.account_id, key.region, key.event_time_us);
  out.append(key.event_id);
  return out;
}

bool DecodeEventKey(std::string_view bytes, EventKey* key) {
  if (!GetString(&bytes, &key->org) || !GetString(&bytes, &key->account_id) ||
      !GetString(&bytes, &key->region) || !GetTime(&bytes, &key->event_time_us)) {
    return false;
  }
  key->event_id.assign(bytes.data(), bytes.size());
  return true;
}

std::string EncodeEventValue(const v1::StoredEventMeta& meta, std::string_view raw_json) {
  std::string meta_bytes = meta.SerializeAsString();
  std::string out;
  out.reserve(meta_bytes.size() + raw_json.size() + 5);
  PutLengthPrefixed(&out, meta_bytes);
  out.append(raw_json.data(), raw_json.size());
  return out;
}

bool DecodeEventValue(std::string_view bytes, v1::StoredEventMeta* meta, std::string_view* raw_json) {
  std::string_view meta_bytes;
  if (!GetLengthPrefixed(&bytes, &meta_bytes)) return false;
  if (!meta->ParseFromArray(meta_bytes.data(), static_cast<int>(meta_bytes.size()))) return false;
  *raw_json = bytes;
  return true;
}

bool IsOtherIndexCategory(std::string_view event_category) {
  return !event_category.empty() && event_category != "Management" && event_category != "Insight";
}

std::string EncodeIndexPrefix(IndexKind kind, std::string_view value, bool other_category) {
  const uint8_t kind_byte = static_cast<uint8_t>(kind) | (other_category ? kIndexOtherCategoriesBit : 0);
  std::string out(1, static_cast<char>(kind_byte));
  PutLengthPrefixed(&out, value);
  return out;
}

std::string EncodeIndexSeekKey(IndexKind kind, std::string_view value, int64_t time_us, bool other_category) {
  std::string out = EncodeIndexPrefix(kind, value, other_category);
  PutFixed64BE(&out, EncodeTimeDescending(time_us));
  return out;
}

std::string EncodeIndexKey(const IndexKey& key) {
  std::string out = EncodeIndexSeekKey(key.kind, key.value, key.event_time_us, key.other_category);
  PutLengthPrefixed(&out, key.account_id);
  PutLengthPrefixed(&out, key.region);
  out.append(key.event_id);
  return out;
}

bool DecodeIndexKey(std::string_view bytes, IndexKey* key) {
  if (bytes.empty()) return false;
  const uint8_t kind_byte = static_cast<uint8_t>(bytes[0]);
  const uint8_t kind = kind_byte & static_cast<uint8_t>(~kIndexOtherCategoriesBit);
  if (kind >= kIndexKindCount) return false;
  key->kind = static_cast<IndexKind>(kind);
  key->other_category = (kind_byte & kIndexOtherCategoriesBit) != 0;
  bytes.remove_prefix(1);
  if (!GetString(&bytes, &key->value) || !GetTime(&bytes, &key->event_time_us) ||
      !GetString(&bytes, &key->account_id) || !GetString(&bytes, &key->region)) {
    return false;
  }
  key->event_id.assign(bytes.data(), bytes.size());
  return true;
}

std::string EncodeCommitKey(uint64_t commit_index) {
  std::string out;
  PutFixed64BE(&out, commit_index);
  return out;
}

bool DecodeCommitKey(std::string_view bytes, uint64_t* commit_index) {
  return bytes.size() == 8 && GetFixed64BE(&bytes, commit_index);
}

std::string EncodeProvenanceKey(std::string_view agent_id, uint64_t sequence) {
  std::string out;
  PutLengthPrefixed(&out, agent_id);
  PutFixed64BE(&out, sequence);
  return out;
}

bool DecodeProvenanceKey(std::string_view bytes, std::string* agent_id, uint64_t* sequence) {
  return GetString(&bytes, agent_id) && GetFixed64BE(&bytes, sequence) && bytes.empty();
}

std::string EncodeEventIdKey(std::string_view event_id, std::string_view account_id) {
  std::string out;
  PutLengthPrefixed(&out, event_id);
  out.append(account_id.data(), account_id.size());
  return out;
}

std::string EncodeEventIdPrefix(std::string_view event_id) {
  std::string out;
  PutLengthPrefixed(&out, event_id);
  return out;
}

bool DecodeEventIdKey(std::string_view bytes, std::string* event_id, std::string* account_id) {
  if (!GetString(&bytes, event_id)) return false;
  account_id->assign(bytes.data(), bytes.size());
  return true;
}

std::string EncodeConflictKey(std::string_view account_id, std::string_view event_id, std::string_view agent_id,
                              uint64_t sequence, uint64_t leaf_index) {
  std::string out;
  PutLengthPrefixed(&out, account_id);
  PutLengthPrefixed(&out, event_id);
  PutLengthPrefixed(&out, agent_id);
  PutFixed64BE(&out, sequence);
  PutFixed64BE(&out, leaf_index);
  return out;
}

bool DecodeConflictKey(std::string_view bytes, std::string* account_id, std::string* event_id, std::string* agent_id,
                       uint64_t* sequence, uint64_t* leaf_index) {
  return GetString(&bytes, account_id) && GetString(&bytes, event_id) && GetString(&bytes, agent_id) &&
         GetFixed64BE(&bytes, sequence) && GetFixed64BE(&bytes, leaf_index) && bytes.empty();
}

std::string EncodeRefusedKey(std::string_view agent_id, uint64_t sequence, uint64_t leaf_index) {
  std::string out;
  PutLengthPrefixed(&out, agent_id);
  PutFixed64BE(&out, sequence);
  PutFixed64BE(&out, leaf_index);
  return out;
}

bool DecodeRefusedKey(std::string_view bytes, std::string* agent_id, uint64_t* sequence, uint64_t* leaf_index) {
  return GetString(&bytes, agent_id) && GetFixed64BE(&bytes, sequence) && GetFixed64BE(&bytes, leaf_index) &&
         bytes.empty();
}

std::string AgentStateKey(std::string_view agent_id) {
  std::string out(kAgentStatePrefix);
  out.append(agent_id.data(), agent_id.size());
  return out;
}

}  // namespace orgtrail::collector
