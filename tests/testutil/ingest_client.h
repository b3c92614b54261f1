// IngestClient: a minimal agent-side client of orgtrail.v1.Ingest/Stream for
// tests, chaos runs and benchmarks: mTLS channel from TlsFiles, Hello, sealed
// batches (common/batch.h SealBatch with the certificate's key), reading acks,
// trail configs and errors. It does no spooling or retrying of its own, so a
// test controls exactly what goes over the wire (including tampered batches:
// build with MakeBatch, modify, then Send).
//
// Not thread-safe: one IngestClient is one stream driven by one thread.
// Errors are Status values, never exceptions; a stream closed by the
// collector reports its grpc status through Finish().
#ifndef ORGTRAIL_TESTS_TESTUTIL_INGEST_CLIENT_H_
#define ORGTRAIL_TESTS_TESTUTIL_INGEST_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "orgtrail/common/hash.h"
#include "orgtrail/common/signer.h"
#include "orgtrail/common/status.h"
#include "orgtrail/common/tls.h"
#include "orgtrail/v1/admin.grpc.pb.h"
#include "orgtrail/v1/ingest.grpc.pb.h"
#include "testutil/subprocess.h"

namespace orgtrail::testutil {

// The records of a CloudTrail delivery file ({"Records":[{...},...]}) as their
// exact bytes, in file order. INVALID_ARGUMENT if the text is not shaped so.
StatusOr<std::vector<std::string>> SplitCloudTrailRecords(std::string_view file_text);

// The real orgtrail-collector binary on 127.0.0.1 with ports chosen by the
// kernel (--listen/--http-listen 127.0.0.1:0), read back from its
// "collector listening" log line. The destructor kills it (SIGKILL).
struct CollectorProcessOptions {
  std::string binary;        // default: $ORGTRAIL_COLLECTOR_BINARY, else ORGTRAIL_BINARY_DIR "/collector/orgtrail-collector"
  std::string data_dir;      // required
  std::string log_dir;       // required
  TlsFiles tls;              // the collector's certificate (TestPki::Collector())
  std::string trust_domain = "example.org";
  std::string name = "collector";
  std::vector<std::string> extra_args;
  std::chrono::seconds start_timeout = std::chrono::seconds(60);
};

class CollectorProcess {
 public:
  static StatusOr<std::unique_ptr<CollectorProcess>> Start(const CollectorProcessOptions& options);
  int grpc_port() const { return grpc_port_; }
  int http_port() const { return http_port_; }
  std::string target() const { return "127.0.0.1:" + std::to_string(grpc_port_); }
  Subprocess* process() { return process_.get(); }
  // Admin stub over mTLS with the given (admin) identity.
  StatusOr<std::unique_ptr<v1::Admin::Stub>> AdminStub(const TlsFiles& tls) const;
  // GET /metrics and return the value of one sample line ("name{labels}"), -1 if absent.
  double MetricValue(const std::string& sample) const;

 private:
  std::unique_ptr<Subprocess> process_;
  int grpc_port_ = 0;
  int http_port_ = 0;
};

// A CloudTrail-shaped record (about `size_bytes` long, padded in
// requestParameters) for synthetic load. event_source "iam.amazonaws.com"
// makes it a global-service event.
struct SyntheticEvent {
  std::string event_id;
  std::string account_id = "111111111111";
  std::string region = "us-east-1";
  std::string event_source = "ec2.amazonaws.com";
  std::string event_name = "DescribeInstances";
  int64_t event_time_us = 1700000000000000;
  std::string username = "alice";
  bool read_only = true;
  size_t size_bytes = 0;  // 0 = natural size (~600 bytes)
};
std::string SyntheticEventJson(const SyntheticEvent& event);

class IngestClient {
 public:
  // agent_id: the SPIFFE ID to claim (normally the certificate's).
  static StatusOr<std::unique_ptr<IngestClient>> Connect(const std::string& target, const TlsFiles& tls,
                                                         std::string agent_id, uint64_t epoch = 1,
                                                         std::chrono::seconds deadline = std::chrono::seconds(120));
  ~IngestClient();

  // Sends the Hello and reads the HelloAck (and a TrailConfig if one follows
  // immediately it is kept for trail_configs()). Sets next_sequence() to
  // high-water + 1 and the chain hash to the collector's last batch hash.
  StatusOr<v1::HelloAck> Hello(uint64_t trail_config_version = 0);

  // A sealed batch with the given raw JSON events, sequence and prev hash
  // (defaults: next_sequence(), hash of the previous batch made).
  StatusOr<v1::Batch> MakeBatch(const std::vector<std::string>& raw_events, std::optional<uint64_t> sequence = {});
  // Re-seals a batch after a test modified it (with this client's key or another signer).
  Status Reseal(v1::Batch* batch, const Signer* signer = nullptr);

  Status Send(const v1::Batch& batch);
  // Reads responses until an Ack with sequence >= seq. An IngestError or a
  // closed stream is returned as an error status (the error is kept in last_error()).
  StatusOr<v1::Ack> WaitAck(uint64_t sequence);
  // MakeBatch + Send + WaitAck.
  StatusOr<v1::Ack> SendEvents(const std::vector<std::string>& raw_events);
  // Reads one response (false when the stream ended).
  bool Read(v1::IngestResponse* response);

  // Half-closes and returns the stream's final status.
  grpc::Status Finish();

  uint64_t next_sequence() const { return next_sequence_; }
  const Digest& last_batch_hash() const { return last_hash_; }
  const std::optional<v1::IngestError>& last_error() const { return last_error_; }
  const std::vector<v1::TrailConfig>& trail_configs() const { return trail_configs_; }
  const Signer& signer() const { return *signer_; }
  const std::string& agent_id() const { return agent_id_; }

 private:
  IngestClient() = default;
  void Note(const v1::IngestResponse& response);

  std::string agent_id_;
  uint64_t epoch_ = 1;
  std::unique_ptr<Signer> signer_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Ingest::Stub> stub_;
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::IngestRequest, v1::IngestResponse>> stream_;
  uint64_t next_sequence_ = 1;
  Digest last_hash_{};
  std::optional<v1::IngestError> last_error_;
  std::vector<v1::TrailConfig> trail_configs_;
  bool finished_ = false;
  grpc::Status final_status_;
};

}  // namespace orgtrail::testutil

#endif  // ORGTRAIL_TESTS_TESTUTIL_INGEST_CLIENT_H_
