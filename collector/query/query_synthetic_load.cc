#include "collector/query/query_synthetic_load.h"

#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

#include "collector/store/store.h"
#include "orgtrail/common/batch.h"
#include "orgtrail/common/merkle.h"
#include "orgtrail/common/time_util.h"

namespace orgtrail::collector {
namespace {

// "2026-01-01T00:00:00.123456Z"
std::string FormatMicrosTime(int64_t micros) {
  std::string seconds = FormatRfc3339Seconds(micros);
  if (!seconds.empty() && seconds.back() == 'Z') seconds.pop_back();
  char fraction[16];
  std::snprintf(fraction, sizeof(fraction), ".%06lldZ",
                static_cast<long long>(((micros % 1000000) + 1000000) % 1000000));
  return seconds + fraction;
}

struct SyntheticEvent {
  v1::Event event;
  std::string partition_region;
};

SyntheticEvent MakeEvent(uint64_t i, const SyntheticLoadOptions& options) {
  SyntheticEvent out;
  v1::Event& e = out.event;
  const std::string account = kSyntheticAccounts[i % options.accounts];
  const std::string region = kSyntheticRegions[(i / options.accounts) % options.regions];
  const int64_t time_us = options.start_time_us + static_cast<int64_t>(i) * options.interval_us;
  const std::string name =
      i % options.rare_every == options.rare_offset ? "Rare" : "Name" + std::to_string(i % 50);
  const std::string user = "user-" + std::to_string(i % 1000);
  const std::string source = "svc" + std::to_string(i % 20) + ".amazonaws.com";
  const bool read_only = i % 3 != 0;
  const std::string key_id = SyntheticAccessKeyId(i);
  const bool has_resource = i % 10 == 0;
  const std::string resource_arn = "arn:aws:s3:::bucket-" + std::to_string(i % 10000);
  const std::string category = i % 10 == 5 ? "Data" : "Management";

  std::string json = "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\",";
  json += "\"principalId\":\"AIDA" + std::to_string(i % 1000) + "\",\"arn\":\"arn:aws:iam::" + account +
          ":user/" + user + "\",\"accountId\":\"" + account + "\",\"accessKeyId\":\"" + key_id +
          "\",\"userName\":\"" + user + "\"},";
  json += "\"eventTime\":\"" + FormatMicrosTime(time_us) + "\",\"eventSource\":\"" + source +
          "\",\"eventName\":\"" + name + "\",\"awsRegion\":\"" + region +
          "\",\"sourceIPAddress\":\"192.0.2.1\",\"userAgent\":\"synthetic\",";
  json += "\"requestParameters\":null,\"responseElements\":null,\"eventID\":\"" +
          SyntheticEventId(i) + "\",\"readOnly\":" + (read_only ? "true" : "false") + ",";
  if (has_resource) {
    json += "\"resources\":[{\"accountId\":\"" + account + "\",\"type\":\"AWS::S3::Bucket\",\"ARN\":\"" +
            resource_arn + "\"}],";
  }
  json += "\"eventType\":\"AwsApiCall\",\"managementEvent\":" +
          std::string(category == "Management" ? "true" : "false") + ",\"recipientAccountId\":\"" +
          account + "\",\"eventCategory\":\"" + category + "\"}";

  e.set_raw_json(json);
  e.set_event_id(SyntheticEventId(i));
  e.set_event_time_us(time_us);
  e.set_event_source(source);
  e.set_event_name(name);
  e.set_aws_region(region);
  e.set_recipient_account_id(account);
  e.set_event_type("AwsApiCall");
  e.set_event_category(category);
  e.set_read_only(read_only);
  e.set_management_event(category == "Management");
  e.set_username(user);
  e.set_principal_arn("arn:aws:iam::" + account + ":user/" + user);
  e.set_access_key_id(key_id);
  if (has_resource) {
    auto* r = e.add_resources();
    r->set_type("AWS::S3::Bucket");
    r->set_arn(resource_arn);
    r->set_account_id(account);
  }
  e.set_source_ip_address("192.0.2.1");
  e.set_user_identity_type("IAMUser");
  e.set_user_identity_account_id(account);
  out.partition_region = region;
  return out;
}

struct AgentCursor {
  uint64_t sequence = 0;
  Digest prev_hash{};
};

std::unique_ptr<IngestBatch> MakeBatch(int partition, uint64_t first_k, uint64_t last_k,
                                       const SyntheticLoadOptions& options, EventStore* store,
                                       AgentCursor* agent) {
  const int partitions = options.accounts * options.regions;
  auto batch = std::make_unique<IngestBatch>();
  const uint64_t first_i = static_cast<uint64_t>(partition);
  const std::string account = kSyntheticAccounts[first_i % options.accounts];
  const std::string region = kSyntheticRegions[(first_i / options.accounts) % options.regions];
  batch->agent_id = "spiffe://" + store->org() + "/account/" + account + "/region/" + region +
                    "/agent/synthetic";
  batch->account_id = account;
  batch->region = region;
  batch->epoch = 1;
  batch->sequence = ++agent->sequence;
  for (uint64_t k = first_k; k < last_k; ++k) {
    const uint64_t i = static_cast<uint64_t>(partition) + static_cast<uint64_t>(partitions) * k;
    SyntheticEvent made = MakeEvent(i, options);
    batch->leaf_hashes.push_back(MerkleLeafHash(made.event.raw_json()));
    IngestEvent ingest;
    ingest.event = std::move(made.event);
    ingest.partition_region = std::move(made.partition_region);
    ingest.leaf_index = static_cast<uint32_t>(k - first_k);
    batch->events.push_back(std::move(ingest));
  }
  BatchHeader header;
  header.agent_id = batch->agent_id;
  header.epoch = 1;
  header.sequence = batch->sequence;
  header.event_count = batch->events.size();
  header.prev_batch_hash = agent->prev_hash;
  header.merkle_root = MerkleRoot(batch->leaf_hashes);
  header.created_time_us = options.start_time_us;
  batch->signed_header = CanonicalBatchHeader(header);
  batch->signature = "synthetic-unsigned";
  batch->signature_algorithm = "NONE";
  batch->merkle_root = header.merkle_root;
  batch->prev_batch_hash = agent->prev_hash;
  batch->batch_hash = BatchHash(header);
  batch->receipt_time_us = options.start_time_us;
  agent->prev_hash = batch->batch_hash;
  return batch;
}

}  // namespace

std::string SyntheticEventId(uint64_t i) {
  char id[40];
  std::snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012llx", static_cast<unsigned long long>(i));
  return id;
}

std::string SyntheticAccessKeyId(uint64_t i) {
  char id[24];
  std::snprintf(id, sizeof(id), "AKIA%016llu", static_cast<unsigned long long>(i % 5000));
  return id;
}

Status WriteSyntheticEvents(EventStore* store, const SyntheticLoadOptions& options) {
  if (options.accounts < 1 || options.accounts > 10 || options.regions < 1 || options.regions > 4 ||
      options.events_per_batch == 0 || options.events_per_group == 0 || options.rare_every == 0) {
    return absl::InvalidArgumentError("synthetic load: invalid options");
  }
  const int partitions = options.accounts * options.regions;
  std::vector<AgentCursor> agents(partitions);
  std::vector<std::unique_ptr<IngestBatch>> group;
  uint64_t group_events = 0;
  auto flush = [&]() -> Status {
    if (group.empty()) return absl::OkStatus();
    std::vector<const IngestBatch*> pointers;
    for (const auto& b : group) pointers.push_back(b.get());
    auto result = store->CommitGroup(pointers);
    if (!result.ok()) return result.status();
    group.clear();
    group_events = 0;
    return absl::OkStatus();
  };
  // Events of partition p are i = p + partitions * k, k = 0, 1, ...
  const uint64_t per_partition_max = (options.events + partitions - 1) / partitions;
  for (uint64_t first_k = 0; first_k < per_partition_max; first_k += options.events_per_batch) {
    for (int p = 0; p < partitions; ++p) {
      const uint64_t count = options.events > static_cast<uint64_t>(p)
                                 ? (options.events - p + partitions - 1) / partitions
                                 : 0;
      const uint64_t last_k = std::min(count, first_k + options.events_per_batch);
      if (first_k >= last_k) continue;
      group.push_back(MakeBatch(p, first_k, last_k, options, store, &agents[p]));
      group_events += last_k - first_k;
      if (group_events >= options.events_per_group) ORGTRAIL_RETURN_IF_ERROR(flush());
    }
  }
  ORGTRAIL_RETURN_IF_ERROR(flush());
  // The index entries are written behind the commits: the load is done when they are.
  if (!store->WaitForIndex(std::chrono::hours(1))) {
    return absl::DeadlineExceededError("synthetic load: the indexer did not catch up within an hour");
  }
  return absl::OkStatus();
}

}  // namespace orgtrail::collector
