#include "collector/query/query_engine.h"

#include "absl/strings/str_join.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "collector/query/query_request.h"
#include "collector/store/store.h"
#include "orgtrail/common/event_extractor.h"
#include "orgtrail/common/merkle.h"

namespace orgtrail::collector {
namespace {

// Which partitions a lookup restricted by account_ids/regions covers.
StatusOr<std::vector<std::pair<std::string, std::string>>> ResolvePartitions(
    const EventStore& store, const NormalizedLookup& lookup, const rocksdb::Snapshot* snapshot,
    CursorStats* stats) {
  std::vector<std::string> accounts = lookup.account_ids;
  if (accounts.empty()) {
    auto listed = ListStoredAccounts(store, snapshot, stats);
    if (!listed.ok()) return listed.status();
    accounts = std::move(*listed);
  }
  std::vector<std::pair<std::string, std::string>> partitions;
  for (const auto& account : accounts) {
    if (!lookup.regions.empty()) {
      for (const auto& region : lookup.regions) partitions.emplace_back(account, region);
      continue;
    }
    auto regions = ListStoredRegions(store, account, snapshot, stats);
    if (!regions.ok()) return regions.status();
    for (auto& region : *regions) partitions.emplace_back(account, std::move(region));
  }
  return partitions;
}

// Beyond this many partitions the account/region filters are applied to the
// keys of the other cursors instead (no cursor per partition).
constexpr size_t kMaxPartitionCursors = 1024;

// The cursor that yields the events matching the lookup's attributes,
// accounts, regions and time range (not yet the category filter). Sets
// *filter_by_key when the account/region filters cover too many partitions
// for one cursor each and are left to the caller (checked on the order key).
StatusOr<std::unique_ptr<LookupCursor>> BuildCursor(const EventStore& store,
                                                    const NormalizedLookup& lookup,
                                                    const CursorRange& range,
                                                    LookupStats* stats, bool* filter_by_key) {
  std::vector<std::unique_ptr<LookupCursor>> inputs;
  // Data events (and other non-management categories) have index entries of their own: a
  // management-only lookup never reads them.
  const IndexCategories categories =
      lookup.include_data_events ? IndexCategories::kAll : IndexCategories::kManagement;
  for (const auto& [kind, value] : lookup.attributes) {
    inputs.push_back(NewIndexCursor(range, kind, value, categories));
  }
  *filter_by_key = false;
  const bool filtered = !lookup.account_ids.empty() || !lookup.regions.empty();
  const size_t declared = lookup.account_ids.size() * std::max<size_t>(lookup.regions.size(), 1);
  if (filtered && declared > kMaxPartitionCursors) {
    *filter_by_key = true;
  } else if (filtered) {
    auto partitions = ResolvePartitions(store, lookup, range.snapshot, &stats->cursor);
    if (!partitions.ok()) return partitions.status();
    if (partitions->size() > kMaxPartitionCursors) {
      *filter_by_key = true;
    } else {
      std::vector<std::unique_ptr<LookupCursor>> children;
      for (const auto& [account, region] : *partitions) {
        children.push_back(NewPartitionCursor(range, account, region));
      }
      stats->partitions += children.size();
      inputs.push_back(NewUnionCursor(std::move(children)));  // empty union = no events
    }
  }
  if (inputs.empty()) inputs.push_back(NewIndexCursor(range, IndexKind::kAll, "", categories));
  if (inputs.size() == 1) return std::move(inputs[0]);
  return NewIntersectionCursor(std::move(inputs));
}

bool InFilters(const NormalizedLookup& lookup, const DecodedOrderKey& key) {
  const auto contains = [](const std::vector<std::string>& sorted, std::string_view value) {
    return sorted.empty() || std::binary_search(sorted.begin(), sorted.end(), value);
  };
  return contains(lookup.account_ids, key.account_id) && contains(lookup.regions, key.region);
}

bool CategoryMatches(const NormalizedLookup& lookup, const v1::Event& event) {
  const std::string& category = event.event_category();
  if (lookup.insight) return category == "Insight";
  if (category.empty() || category == "Management") return true;
  if (category == "Insight") return false;
  return lookup.include_data_events;  // Data, NetworkActivity
}

void FillLookupEvent(const v1::Event& event, const DecodedOrderKey& key, std::string_view raw_json,
                     v1::LookupEvent* out) {
  out->set_event_id(std::string(key.event_id));
  out->set_event_name(event.event_name());
  out->set_read_only(event.has_read_only() && event.read_only() ? "true" : "false");
  out->set_access_key_id(event.access_key_id());
  out->set_event_time_us(key.event_time_us);
  out->set_event_source(event.event_source());
  out->set_username(event.username());
  for (const auto& resource : event.resources()) {
    auto* r = out->add_resources();
    r->set_resource_type(resource.type());
    r->set_resource_name(resource.arn());
  }
  out->set_cloudtrail_event(std::string(raw_json));
  out->set_account_id(std::string(key.account_id));
  out->set_region(std::string(key.region));
}

}  // namespace

StatusOr<std::unique_ptr<QueryEngine>> QueryEngine::Create(EventStore* store) {
  auto codec = NextTokenCodec::FromStore(store);
  if (!codec.ok()) return codec.status();
  return std::make_unique<QueryEngine>(store, std::move(*codec));
}

StatusOr<v1::LookupEventsResponse> QueryEngine::LookupEvents(
    const v1::LookupEventsRequest& request, LookupStats* stats) const {
  LookupStats local_stats;
  if (stats == nullptr) stats = &local_stats;
  auto lookup = NormalizeLookupRequest(request);
  if (!lookup.ok()) return lookup.status();
  const Digest fingerprint = RequestFingerprint(*lookup);
  std::string resume_after;
  if (!lookup->next_token.empty()) {
    auto decoded = codec_->Decode(lookup->next_token, fingerprint);
    if (!decoded.ok()) return decoded.status();
    DecodedOrderKey check;
    if (!DecodeLookupOrderKey(*decoded, &check)) {
      return absl::InvalidArgumentError("InvalidNextTokenException: NextToken is malformed");
    }
    resume_after = std::move(*decoded);
  }

  auto snapshot = store_->NewIndexedSnapshot();
  CursorRange range{store_, snapshot->snapshot(), lookup->start_time_us, lookup->end_time_us,
                    &stats->cursor};
  bool filter_by_key = false;
  auto cursor = BuildCursor(*store_, *lookup, range, stats, &filter_by_key);
  if (!cursor.ok()) return cursor.status();
  LookupCursor& events = **cursor;
  // Strictly after the resume key: its immediate successor in byte order.
  events.SeekAtOrAfter(resume_after.empty() ? std::string() : resume_after + '\0');

  v1::LookupEventsResponse response;
  EventExtractor extractor;
  v1::Event event;
  std::string last_returned;
  uint64_t examined = 0;
  for (; events.Valid(); events.Next()) {
    DecodedOrderKey key;
    if (!DecodeLookupOrderKey(events.order_key(), &key)) {
      return absl::DataLossError("lookup: undecodable index key");
    }
    if (filter_by_key && !InFilters(*lookup, key)) {
      ++stats->records_skipped;
      if (++examined >= kMaxCandidatesPerPage) {
        response.set_next_token(codec_->Encode(fingerprint, events.order_key()));
        break;
      }
      continue;
    }
    auto stored = store_->GetEventByKey(events.event_key(), snapshot->snapshot());
    if (!stored.ok()) return stored.status();
    ++stats->records_fetched;
    ++examined;
    const bool readable = stored->has_value() &&
                          extractor.Extract((*stored)->raw_json, &event).ok();
    const bool matches = readable && CategoryMatches(*lookup, event);
    if (!matches) {
      ++stats->records_skipped;
    } else if (response.events_size() == lookup->max_results) {
      // One more match exists: the next page starts right after the last one returned.
      response.set_next_token(codec_->Encode(fingerprint, last_returned));
      break;
    } else {
      FillLookupEvent(event, key, (*stored)->raw_json, response.add_events());
      last_returned.assign(events.order_key());
    }
    if (examined >= kMaxCandidatesPerPage) {
      // Bound the work of one page; continue after what was examined.
      response.set_next_token(codec_->Encode(fingerprint, events.order_key()));
      break;
    }
  }
  ORGTRAIL_RETURN_IF_ERROR(events.status());
  return response;
}

StatusOr<v1::GetEventResponse> QueryEngine::GetEvent(const v1::GetEventRequest& request) const {
  const std::string& event_id = request.event_id();
  if (event_id.empty()) return absl::InvalidArgumentError("event_id: required");
  if (event_id.size() > kMaxEventIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("event_id: too long (", event_id.size(), " > ", kMaxEventIdBytes, " bytes)"));
  }
  auto snapshot = store_->NewSnapshot();
  std::string account = request.recipient_account_id();
  if (account.empty()) {
    auto accounts = store_->ListAccountsOfEventId(event_id, snapshot->snapshot());
    if (!accounts.ok()) return accounts.status();
    if (accounts->empty()) return absl::NotFoundError(absl::StrCat("event ", event_id, " is not stored"));
    if (accounts->size() > 1) {
      return absl::FailedPreconditionError(absl::StrCat("event ", event_id, " is stored in ", accounts->size(),
                                                        " accounts (", absl::StrJoin(*accounts, ", "),
                                                        "): name one with recipient_account_id (--account)"));
    }
    account = accounts->front();
  }
  auto stored = store_->GetEventByAccountAndId(account, event_id, snapshot->snapshot());
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) {
    return absl::NotFoundError(absl::StrCat("event ", event_id, " is not stored"));
  }
  const StoredEvent& record = **stored;

  v1::GetEventResponse response;
  EventExtractor extractor;
  if (!extractor.Extract(record.raw_json, response.mutable_event()).ok()) {
    // Keep the bytes even if they no longer parse: the verifier will judge them.
    response.mutable_event()->Clear();
    response.mutable_event()->set_event_id(event_id);
  }
  response.mutable_event()->set_raw_json(record.raw_json);
  *response.mutable_meta() = record.meta;

  auto provenance =
      store_->GetProvenance(record.meta.agent_id(), record.meta.batch_sequence(), snapshot->snapshot());
  if (!provenance.ok()) return provenance.status();
  if (!provenance->has_value()) {
    return absl::DataLossError(absl::StrCat("event ", event_id, ": provenance of batch ",
                                            record.meta.batch_sequence(), " of ",
                                            record.meta.agent_id(), " is missing"));
  }
  const ProvenanceRecord& batch = **provenance;
  const uint32_t leaf_index = record.meta.leaf_index();
  if (leaf_index >= batch.leaf_hashes.size()) {
    return absl::DataLossError(absl::StrCat("event ", event_id, ": leaf index ", leaf_index,
                                            " outside its batch of ", batch.leaf_hashes.size()));
  }
  auto proof = MerkleInclusionProof(batch.leaf_hashes, leaf_index);
  if (!proof.ok()) return proof.status();
  auto certificate = store_->GetCertificatePem(batch.certificate_sha256);
  if (!certificate.ok()) return certificate.status();

  v1::Provenance* out = response.mutable_provenance();
  out->set_signed_header(batch.signed_header);
  out->set_signature(batch.signature);
  out->set_signature_algorithm(batch.signature_algorithm);
  if (certificate->has_value()) out->set_agent_certificate_pem(**certificate);
  out->set_agent_certificate_sha256(HexEncode(batch.certificate_sha256));
  out->set_merkle_root(DigestToString(batch.merkle_root));
  out->set_leaf_index(leaf_index);
  out->set_leaf_count(static_cast<uint32_t>(batch.leaf_hashes.size()));
  for (const Digest& node : *proof) out->add_inclusion_proof(DigestToString(node));
  return response;
}

StatusOr<v1::ListConflictsResponse> QueryEngine::ListConflicts(const v1::ListConflictsRequest& request) const {
  constexpr uint32_t kDefaultItems = 100, kMaxItems = 1000;
  if (request.max_items() > kMaxItems) {
    return absl::InvalidArgumentError(absl::StrCat("max_items: at most ", kMaxItems));
  }
  const uint32_t limit = request.max_items() == 0 ? kDefaultItems : request.max_items();
  auto conflicts = store_->ListConflicts(limit);
  if (!conflicts.ok()) return conflicts.status();
  v1::ListConflictsResponse response;
  response.set_conflicts_recorded(store_->conflicts_recorded());
  for (const ConflictRecord& c : *conflicts) {
    v1::EventConflict* out = response.add_conflicts();
    out->set_recipient_account_id(c.account_id);
    out->set_event_id(c.event_id);
    out->set_agent_id(c.agent_id);
    out->set_batch_sequence(c.sequence);
    out->set_leaf_index(static_cast<uint32_t>(c.leaf_index));
    out->set_receipt_time_us(c.receipt_time_us);
    out->set_raw_json(c.raw_json);
    auto original = store_->GetEventByKey(c.existing_event_key);
    if (!original.ok()) return original.status();
    if (original->has_value()) *out->mutable_original() = (*original)->meta;
  }
  return response;
}

StatusOr<v1::ListRefusedResponse> QueryEngine::ListRefused(const v1::ListRefusedRequest& request) const {
  constexpr uint32_t kDefaultItems = 100, kMaxItems = 1000;
  if (request.max_items() > kMaxItems) {
    return absl::InvalidArgumentError(absl::StrCat("max_items: at most ", kMaxItems));
  }
  if (request.agent_id().size() > 1024) return absl::InvalidArgumentError("agent_id: longer than 1024 bytes");
  const uint32_t limit = request.max_items() == 0 ? kDefaultItems : request.max_items();
  auto refused = store_->ListRefused(request.agent_id(), request.identity_violations_only(), limit);
  if (!refused.ok()) return refused.status();
  v1::ListRefusedResponse response;
  response.set_refused_recorded(store_->refused_recorded());
  for (const RefusedRecord& r : *refused) {
    v1::RefusedEvent* out = response.add_refused();
    out->set_agent_id(r.agent_id);
    out->set_batch_sequence(r.sequence);
    out->set_leaf_index(static_cast<uint32_t>(r.leaf_index));
    out->set_agent_account_id(r.account_id);
    out->set_agent_region(r.region);
    out->set_event_id(r.event_id);
    out->set_rule(r.rule);
    out->set_message(r.message);
    out->set_identity_violation(r.identity_violation);
    out->set_receipt_time_us(r.receipt_time_us);
    out->set_leaf_hash(DigestToString(r.leaf_hash));
    out->set_raw_json(r.raw_json);
    out->set_raw_json_dropped(r.raw_json_dropped);
  }
  return response;
}

}  // namespace orgtrail::collector
