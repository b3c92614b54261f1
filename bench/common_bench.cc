// Benchmarks for the common core:
//   BM_ExtractInvictus      - EventExtractor over every record of the invictus
//                             set (2,900 real records); items/s = records/s.
//   BM_ExtractOneKbRecord   - one ~1 KB real record, repeatedly.
//   BM_LeafHash1KB          - SHA-256(0x00 || 1 KB).
//   BM_SealBatch256         - Merkle root over 256 leaf hashes of ~1 KB events
//                             + ECDSA P-256 signature (SealBatch).
//   BM_VerifyBatch256       - the collector side: leaf hashes, root, verify.
//   BM_SignHeaderP256 / BM_VerifyHeaderP256 - the ECDSA P-256 part alone.
//   BM_MerkleRoot256        - root over 256 precomputed leaf hashes.
// Run: build/bench/common_bench --benchmark_min_time=0.5
#include <benchmark/benchmark.h>
#include <dirent.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "orgtrail/common/batch.h"
#include "orgtrail/common/event_extractor.h"
#include "orgtrail/common/merkle.h"
#include "orgtrail/common/signer.h"

namespace orgtrail {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Spans of the objects inside {"Records":[...]} (depth-3 objects).
void SplitRecords(const std::string& text, std::vector<std::string>* out) {
  int level = 0;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\') ++i;
      }
    } else if (c == '{' || c == '[') {
      if (++level == 3 && c == '{') start = i;
    } else if (c == '}' || c == ']') {
      if (level == 3 && c == '}') out->push_back(text.substr(start, i - start + 1));
      --level;
    }
  }
}

const std::vector<std::string>& InvictusRecords() {
  static const std::vector<std::string> records = [] {
    std::vector<std::string> out;
    const std::string dir = std::string(ORGTRAIL_SHARED_DATA_DIR) + "/invictus-aws-dataset/CloudTrail";
    std::vector<std::string> names;
    if (DIR* d = opendir(dir.c_str())) {
      while (dirent* e = readdir(d)) {
        const std::string n = e->d_name;
        if (n.size() > 5 && n.substr(n.size() - 5) == ".json") names.push_back(n);
      }
      closedir(d);
    }
    std::sort(names.begin(), names.end());
    for (const auto& n : names) SplitRecords(ReadFile(dir + "/" + n), &out);
    return out;
  }();
  return records;
}

void BM_ExtractInvictus(benchmark::State& state) {
  const auto& records = InvictusRecords();
  if (records.empty()) {
    state.SkipWithError("invictus data not found");
    return;
  }
  size_t bytes = 0;
  for (const auto& r : records) bytes += r.size();
  EventExtractor extractor;
  v1::Event event;
  for (auto _ : state) {
    for (const auto& r : records) {
      if (!extractor.Extract(r, &event).ok()) state.SkipWithError("extraction failed");
      benchmark::DoNotOptimize(event.event_time_us());
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * records.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["avg_record_bytes"] = static_cast<double>(bytes) / records.size();
  state.counters["us_per_event"] = benchmark::Counter(
      static_cast<double>(state.iterations() * records.size()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_ExtractInvictus)->Unit(benchmark::kMillisecond);

// The invictus record whose size is closest to 1 KB.
const std::string& OneKbRecord() {
  static const std::string record = [] {
    const auto& records = InvictusRecords();
    std::string best;
    for (const auto& r : records) {
      if (best.empty() || std::labs(static_cast<long>(r.size()) - 1024) <
                              std::labs(static_cast<long>(best.size()) - 1024)) {
        best = r;
      }
    }
    return best;
  }();
  return record;
}

void BM_ExtractOneKbRecord(benchmark::State& state) {
  const std::string& record = OneKbRecord();
  EventExtractor extractor;
  v1::Event event;
  for (auto _ : state) {
    if (!extractor.Extract(record, &event).ok()) state.SkipWithError("extraction failed");
    benchmark::DoNotOptimize(event.event_time_us());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["record_bytes"] = static_cast<double>(record.size());
}
BENCHMARK(BM_ExtractOneKbRecord);

void BM_LeafHash1KB(benchmark::State& state) {
  const std::string data(1024, 'x');
  for (auto _ : state) benchmark::DoNotOptimize(MerkleLeafHash(data));
  state.SetBytesProcessed(state.iterations() * 1024);
}
BENCHMARK(BM_LeafHash1KB);

std::unique_ptr<Signer> MakeP256Signer() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  auto signer = Signer::FromPrivateKeyPem(std::string(data, static_cast<size_t>(len)));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return signer.ok() ? *std::move(signer) : nullptr;
}

// 256 events of ~1 KB each (real invictus records near 1 KB, cycled).
v1::Batch Make256EventBatch() {
  const auto& records = InvictusRecords();
  std::vector<const std::string*> near_1kb;
  for (const auto& r : records) {
    if (r.size() >= 800 && r.size() <= 1300) near_1kb.push_back(&r);
  }
  v1::Batch batch;
  batch.set_agent_id("spiffe://example.org/account/123837392027/region/us-east-1/agent/bench");
  batch.set_epoch(1);
  batch.set_sequence(1);
  batch.set_prev_batch_hash(std::string(32, '\0'));
  batch.set_created_time_us(1688989356000000);
  for (int i = 0; i < 256; ++i) {
    const std::string raw = near_1kb.empty() ? std::string(1024, 'x') : *near_1kb[i % near_1kb.size()];
    batch.add_events()->set_raw_json(raw);
  }
  return batch;
}

void BM_SealBatch256(benchmark::State& state) {
  auto signer = MakeP256Signer();
  v1::Batch batch = Make256EventBatch();
  size_t bytes = 0;
  for (const auto& e : batch.events()) bytes += e.raw_json().size();
  for (auto _ : state) {
    if (!SealBatch(*signer, &batch).ok()) state.SkipWithError("seal failed");
  }
  state.SetItemsProcessed(state.iterations() * 256);
  state.counters["avg_event_bytes"] = static_cast<double>(bytes) / 256;
}
BENCHMARK(BM_SealBatch256)->Unit(benchmark::kMicrosecond);

void BM_VerifyBatch256(benchmark::State& state) {
  auto signer = MakeP256Signer();
  auto verifier = Verifier::FromPublicKeyDer(signer->PublicKeyDer());
  v1::Batch batch = Make256EventBatch();
  if (!SealBatch(*signer, &batch).ok() || !verifier.ok()) {
    state.SkipWithError("setup failed");
    return;
  }
  std::vector<Digest> leaves;
  for (auto _ : state) {
    if (!VerifyBatch(batch, **verifier, &leaves).ok()) state.SkipWithError("verify failed");
  }
  state.SetItemsProcessed(state.iterations() * 256);
}
BENCHMARK(BM_VerifyBatch256)->Unit(benchmark::kMicrosecond);

// The signature alone over a canonical header (~250 bytes).
void BM_SignHeaderP256(benchmark::State& state) {
  auto signer = MakeP256Signer();
  v1::Batch batch = Make256EventBatch();
  if (!SealBatch(*signer, &batch).ok()) return state.SkipWithError("setup failed");
  auto header = HeaderOfBatch(batch);
  const std::string bytes = CanonicalBatchHeader(*header);
  for (auto _ : state) benchmark::DoNotOptimize(signer->Sign(bytes));
}
BENCHMARK(BM_SignHeaderP256)->Unit(benchmark::kMicrosecond);

void BM_VerifyHeaderP256(benchmark::State& state) {
  auto signer = MakeP256Signer();
  auto verifier = Verifier::FromPublicKeyDer(signer->PublicKeyDer());
  v1::Batch batch = Make256EventBatch();
  if (!verifier.ok() || !SealBatch(*signer, &batch).ok()) return state.SkipWithError("setup failed");
  const std::string bytes = CanonicalBatchHeader(*HeaderOfBatch(batch));
  for (auto _ : state) {
    benchmark::DoNotOptimize((*verifier)->Verify(bytes, batch.signature(), "ECDSA_P256_SHA256"));
  }
}
BENCHMARK(BM_VerifyHeaderP256)->Unit(benchmark::kMicrosecond);

void BM_MerkleRoot256(benchmark::State& state) {
  std::vector<Digest> leaves;
  for (int i = 0; i < 256; ++i) leaves.push_back(MerkleLeafHash(std::to_string(i)));
  for (auto _ : state) benchmark::DoNotOptimize(MerkleRoot(leaves));
}
BENCHMARK(BM_MerkleRoot256)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace orgtrail

BENCHMARK_MAIN();
