// The spool's dead letters: batches the collector refused for good (or whose
// stored bytes no longer parse), kept with their reason and bytes, listed and
// replayed by an operator (orgtrail-agent dead-letters; see spool.h).
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "orgtrail/agent/spool.h"
#include "sealed_handoff.h"
#include "spool_internal.h"

namespace orgtrail::agent {

using spool_internal::DecodeU64;
using spool_internal::EncodeU64;
using spool_internal::FromRocks;

Status Spool::DeadLetter(uint64_t sequence, const std::string& reason) {
  std::string value;
  auto st = db_->Get(rocksdb::ReadOptions(), batches_, EncodeU64(sequence), &value);
  if (st.IsNotFound()) return absl::NotFoundError("no spooled batch " + std::to_string(sequence));
  ORGTRAIL_RETURN_IF_ERROR(FromRocks(st, "read batch"));
  handoff_->Drop(sequence);
  rocksdb::WriteBatch wb;
  // Record: reason, NUL, the batch bytes (kept for inspection and replay).
  wb.Put(dead_letters_, EncodeU64(sequence), reason + std::string(1, '\0') + value);
  wb.Delete(batches_, EncodeU64(sequence));
  ORGTRAIL_RETURN_IF_ERROR(Write(&wb));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sealed_sizes_.find(sequence);
  if (it != sealed_sizes_.end()) {
    sealed_bytes_ -= it->second;
    sealed_sizes_.erase(it);
  }
  sealed_times_.erase(sequence);
  ++dead_letters_count_;
  backlog_shrank_.notify_all();
  return absl::OkStatus();
}

std::vector<std::pair<uint64_t, std::string>> Spool::ListDeadLetters() const {
  std::vector<std::pair<uint64_t, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), dead_letters_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string value = it->value().ToString();
    out.emplace_back(DecodeU64(it->key()), value.substr(0, value.find('\0')));
  }
  NoteIteratorStatus(it->status());
  return out;
}

StatusOr<std::vector<Spool::DeadLetterRecord>> Spool::ReadDeadLetters() const {
  std::vector<DeadLetterRecord> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), dead_letters_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view value = it->value().ToStringView();
    const size_t nul = value.find('\0');
    DeadLetterRecord record;
    record.sequence = DecodeU64(it->key());
    record.reason = std::string(value.substr(0, nul));
    v1::Batch batch;
    if (nul != std::string_view::npos) {
      const std::string_view bytes = value.substr(nul + 1);
      record.readable = batch.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
    }
    if (record.readable) record.events.assign(batch.events().begin(), batch.events().end());
    out.push_back(std::move(record));
  }
  NoteIteratorStatus(it->status());
  ORGTRAIL_RETURN_IF_ERROR(FromRocks(it->status(), "read dead letters"));
  return out;
}

StatusOr<Spool::ReplayResult> Spool::ReplayDeadLetters() {
  auto letters = ReadDeadLetters();
  if (!letters.ok()) return letters.status();
  ReplayResult result;
  for (const DeadLetterRecord& letter : *letters) {
    if (!letter.readable) {
      ++result.kept_unreadable;
      continue;
    }
    if (!letter.events.empty()) ORGTRAIL_RETURN_IF_ERROR(AppendEvents(letter.events, {}));
    rocksdb::WriteBatch wb;
    wb.Delete(dead_letters_, EncodeU64(letter.sequence));
    ORGTRAIL_RETURN_IF_ERROR(Write(&wb));
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (dead_letters_count_ > 0) --dead_letters_count_;
    }
    ++result.batches;
    result.events += letter.events.size();
  }
  return result;
}

}  // namespace orgtrail::agent
