#include "collector/ingest/ingest_session.h"

#include <chrono>

namespace orgtrail::collector {

IngestSession::IngestSession(grpc::ServerContext* context, Stream* stream, std::string agent_id)
    : context_(context), stream_(stream), agent_id_(std::move(agent_id)) {}

IngestSession::~IngestSession() { FinishWriter(); }

void IngestSession::StartWriter() { writer_ = std::thread([this] { WriterLoop(); }); }

void IngestSession::Enqueue(v1::IngestResponse response) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    EnqueueLocked({std::move(response), false});
  }
  cv_.notify_all();
}

void IngestSession::EnqueueLocked(Outgoing item) {
  if (writer_done_) return;
  outbox_.push_back(std::move(item));
}

void IngestSession::FinishWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

bool IngestSession::BatchSubmitted() {
  std::lock_guard<std::mutex> lock(mu_);
  if (fenced_ || !fatal_.ok()) return false;
  ++in_flight_;
  return true;
}

void IngestSession::SetFatalLocked(const Status& status, uint64_t sequence, const std::string& rule) {
  if (!fatal_.ok()) return;
  fatal_ = status;
  v1::IngestResponse response;
  v1::IngestError* error = response.mutable_error();
  error->set_sequence(sequence);
  error->set_code(static_cast<int32_t>(status.code()));
  error->set_rule(rule);
  error->set_message(std::string(status.message()));
  error->set_event_index(-1);
  EnqueueLocked({std::move(response), false});
}

void IngestSession::BatchDone(const Status& status, uint64_t sequence, const v1::Ack* ack) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    --in_flight_;
    // On a commit failure (fail-stop) the agent gets an IngestError and no ack;
    // the stream ends with that status once the agent half-closes or sends again.
    if (!status.ok()) SetFatalLocked(status, sequence, "fail_stop");
    if (fatal_.ok() && ack != nullptr) {
      v1::IngestResponse response;
      *response.mutable_ack() = *ack;
      EnqueueLocked({std::move(response), false});
    }
  }
  cv_.notify_all();
}

void IngestSession::BatchFailed(const Status& status, uint64_t sequence, const std::string& rule) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    --in_flight_;
    SetFatalLocked(status, sequence, rule);
  }
  cv_.notify_all();
}

bool IngestSession::WaitForWindow(uint32_t window) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return in_flight_ < window || !fatal_.ok() || fenced_; });
  return fatal_.ok() && !fenced_;
}

bool IngestSession::WaitDrained(int64_t timeout_us) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::microseconds(timeout_us), [&] { return in_flight_ == 0; });
}

Status IngestSession::fatal() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fatal_;
}

bool IngestSession::fenced() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fenced_;
}

void IngestSession::DetachContext() {
  std::lock_guard<std::mutex> lock(mu_);
  context_ = nullptr;
}

void IngestSession::Cancel() {
  std::lock_guard<std::mutex> lock(mu_);
  if (context_ != nullptr) context_->TryCancel();
}

bool IngestSession::FenceAndDrain(int64_t timeout_us) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    fenced_ = true;
  }
  cv_.notify_all();
  return WaitDrained(timeout_us);
}

void IngestSession::Close(const StreamClose& why) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    fenced_ = true;  // a closed stream submits nothing more
    v1::IngestResponse response;
    v1::IngestError* error = response.mutable_error();
    error->set_sequence(0);
    error->set_code(static_cast<int32_t>(why.code));
    error->set_rule(why.rule);
    error->set_message(why.message);
    error->set_event_index(-1);
    if (writer_done_) {
      if (context_ != nullptr) context_->TryCancel();
    } else {
      EnqueueLocked({std::move(response), true});
    }
  }
  cv_.notify_all();
}

void IngestSession::WriterLoop() {
  for (;;) {
    Outgoing next;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return closing_ || !outbox_.empty(); });
      if (outbox_.empty()) {
        writer_done_ = true;
        return;
      }
      next = std::move(outbox_.front());
      outbox_.pop_front();
    }
    if (!broken_ && !stream_->Write(next.response)) broken_ = true;  // client gone: drop the rest
    if (next.cancel_after) {
      std::lock_guard<std::mutex> lock(mu_);
      if (context_ != nullptr) context_->TryCancel();
    }
  }
}

}  // namespace orgtrail::collector
