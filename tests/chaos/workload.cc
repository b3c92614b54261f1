// Workload (see workload.h).
#include "workload.h"

#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <random>

#include <grpcpp/grpcpp.h>

#include "orgtrail/v1/agent_api.grpc.pb.h"
#include "testutil/ingest_client.h"

namespace orgtrail::chaos {
namespace {

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool AppendAll(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  ssize_t n = ::write(fd, text.data(), text.size());  // one write: whole lines only
  ::close(fd);
  return n == static_cast<ssize_t>(text.size());
}

}  // namespace

Workload::Workload(ChaosCluster* cluster, Ledger* ledger, WorkloadOptions options)
    : cluster_(cluster), ledger_(ledger), options_(options) {}

Workload::~Workload() { Stop(std::chrono::seconds(0)); }

void Workload::Start() {
  producing_ = true;
  flush_deadline_ = std::chrono::steady_clock::time_point::max();
  threads_.emplace_back([this] { FileLoop(); });
  for (size_t i = 0; i < cluster_->agents().size(); ++i) {
    if (cluster_->agents()[i].put_events) threads_.emplace_back([this, i] { PutLoop(i); });
  }
}

void Workload::Stop(std::chrono::seconds flush_timeout) {
  if (threads_.empty()) return;
  flush_deadline_ = std::chrono::steady_clock::now() + flush_timeout;
  producing_ = false;
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void Workload::FileLoop() {
  std::mt19937_64 rng(options_.seed * 7919 + 1);
  const auto& specs = cluster_->agents();
  std::vector<uint64_t> counters(specs.size(), 0);
  std::vector<int> file_no(specs.size(), 0);
  std::vector<int> lines_in_file(specs.size(), 0);
  uint64_t global_counter = 0;
  uint64_t tick = 0;
  auto path_of = [&](size_t i) {
    return cluster_->inbox(i) + "/events-" + std::to_string(file_no[i]) + ".jsonl";
  };
  while (producing_) {
    ++tick;
    for (size_t i = 0; i < specs.size(); ++i) {
      if (!specs[i].file_source) continue;
      const int n = 1 + static_cast<int>(rng() % options_.max_file_events_per_tick);
      std::string text;
      std::vector<std::string> ids;
      for (int k = 0; k < n; ++k) {
        testutil::SyntheticEvent e;
        e.event_id = ChaosEventId(options_.seed, static_cast<uint32_t>(i + 1), ++counters[i]);
        e.account_id = specs[i].account;
        e.region = specs[i].region;
        e.event_name = (rng() % 2) ? "DescribeInstances" : "RunInstances";
        e.read_only = e.event_name == "DescribeInstances";
        e.event_time_us = NowUs();
        text += testutil::SyntheticEventJson(e) + "\n";
        ids.push_back(e.event_id);
      }
      if (AppendAll(path_of(i), text)) {
        for (const auto& id : ids) ledger_->Accept(id, "file");
        file_events_ += ids.size();
      }
      lines_in_file[i] += n;
      if (lines_in_file[i] >= options_.file_rotate_lines) {
        ++file_no[i];
        lines_in_file[i] = 0;
      }
    }
    if (tick % static_cast<uint64_t>(options_.global_every_ticks) == 0) {
      // One IAM event, the same bytes, into every file agent of one account.
      std::map<std::string, std::vector<size_t>> by_account;
      for (size_t i = 0; i < specs.size(); ++i) {
        if (specs[i].file_source) by_account[specs[i].account].push_back(i);
      }
      for (const auto& [account, agents] : by_account) {
        if (agents.size() < 2) continue;
        testutil::SyntheticEvent e;
        e.event_id = ChaosEventId(options_.seed, 0xff00, ++global_counter);
        e.account_id = account;
        e.region = "us-east-1";
        e.event_source = "iam.amazonaws.com";
        e.event_name = "CreateUser";
        e.read_only = false;
        e.event_time_us = NowUs();
        const std::string line = testutil::SyntheticEventJson(e) + "\n";
        bool any = false;
        for (size_t i : agents) any = AppendAll(path_of(i), line) || any;
        if (any) {
          ledger_->Accept(e.event_id, "file_global");
          ++file_events_;
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(options_.tick_ms));
  }
}

void Workload::PutLoop(size_t agent) {
  std::mt19937_64 rng(options_.seed * 104729 + agent);
  const AgentSpec& spec = cluster_->agents()[agent];
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(cluster_->api_port(agent)),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::AgentApi::NewStub(channel);
  uint64_t counter = 0;
  v1::PutEventsRequest pending;  // unanswered call, retried with the same bytes
  while (true) {
    const bool producing = producing_.load();
    if (!producing && (pending.audit_events_size() == 0 || std::chrono::steady_clock::now() >= flush_deadline_)) break;
    if (pending.audit_events_size() == 0) {
      const int n = 1 + static_cast<int>(rng() % options_.max_put_events_per_call);
      for (int k = 0; k < n; ++k) {
        testutil::SyntheticEvent e;
        e.event_id = ChaosEventId(options_.seed, static_cast<uint32_t>(0x100 + agent), ++counter);
        e.account_id = spec.account;
        e.region = spec.region;
        e.event_source = "s3.amazonaws.com";
        e.event_name = "PutObject";
        e.read_only = false;
        e.event_time_us = NowUs();
        auto* a = pending.add_audit_events();
        a->set_id("c" + std::to_string(k));
        a->set_event_data(testutil::SyntheticEventJson(e));
        ledger_->MaybeAccept(e.event_id);
      }
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::PutEventsResponse response;
    grpc::Status status = stub->PutEvents(&context, pending, &response);
    if (status.ok()) {
      for (const auto& ok : response.successful()) {
        ledger_->Accept(ok.event_id(), "put_events");
        ++put_ok_;
      }
      put_refused_ += static_cast<uint64_t>(response.failed_size());
      // An event answered as failed is retried like an unanswered one (every
      // workload event is valid): it stays "maybe" until it is accepted.
      v1::PutEventsRequest retry;
      for (const auto& failed : response.failed()) {
        for (const auto& event : pending.audit_events()) {
          if (event.id() == failed.id()) *retry.add_audit_events() = event;
        }
      }
      pending = std::move(retry);
    } else {
      ++put_failed_calls_;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    if (producing) std::this_thread::sleep_for(std::chrono::milliseconds(options_.tick_ms));
  }
  unanswered_ += static_cast<uint64_t>(pending.audit_events_size());
}

}  // namespace orgtrail::chaos
