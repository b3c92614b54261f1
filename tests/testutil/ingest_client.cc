#include "ingest_client.h"

#include <cstdlib>

#include "orgtrail/common/batch.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/time_util.h"
#include "testutil/net.h"
#include "testutil/wait_for.h"

namespace orgtrail::testutil {

StatusOr<std::vector<std::string>> SplitCloudTrailRecords(std::string_view text) {
  size_t open = text.find('[');
  if (text.find("\"Records\"") == std::string_view::npos || open == std::string_view::npos) {
    return absl::InvalidArgumentError("not a CloudTrail delivery file ({\"Records\":[...]})");
  }
  std::vector<std::string> records;
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  size_t start = 0;
  for (size_t i = open + 1; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') {
      if (depth == 0) start = i;
      ++depth;
    } else if (c == '}' || c == ']') {
      if (depth == 0) return records;  // end of the Records array
      if (--depth == 0) records.emplace_back(text.substr(start, i - start + 1));
    }
  }
  return absl::InvalidArgumentError("unterminated Records array");
}

StatusOr<std::unique_ptr<CollectorProcess>> CollectorProcess::Start(const CollectorProcessOptions& options) {
  SubprocessOptions sub;
  // ORGTRAIL_COLLECTOR_BINARY lets a run use another build (e.g. ASan+UBSan).
  const char* override_binary = std::getenv("ORGTRAIL_COLLECTOR_BINARY");
  sub.binary = !options.binary.empty() ? options.binary
               : override_binary != nullptr ? std::string(override_binary)
                                            : std::string(ORGTRAIL_BINARY_DIR "/collector/orgtrail-collector");
  sub.log_dir = options.log_dir;
  sub.name = options.name;
  sub.args = {"--listen=127.0.0.1:0", "--http-listen=127.0.0.1:0", "--data-dir=" + options.data_dir,
              "--ca=" + options.tls.ca_cert_path, "--cert=" + options.tls.cert_path, "--key=" + options.tls.key_path,
              "--trust-domain=" + options.trust_domain};
  sub.args.insert(sub.args.end(), options.extra_args.begin(), options.extra_args.end());
  auto process = Subprocess::Start(sub);
  if (!process.ok()) return process.status();
  std::unique_ptr<CollectorProcess> collector(new CollectorProcess());
  collector->process_ = std::move(*process);
  auto port_after = [](const std::string& line, const std::string& key) {
    size_t at = line.find("\"" + key + "\":");
    return at == std::string::npos ? 0 : std::atoi(line.c_str() + at + key.size() + 3);
  };
  bool up = WaitFor([&] {
    if (!collector->process_->Running()) return true;
    std::string log = collector->process_->ReadStderr();
    size_t at = log.find("\"collector listening\"");
    if (at == std::string::npos) return false;
    std::string line = log.substr(at, log.find('\n', at) - at);
    collector->grpc_port_ = port_after(line, "grpc_port");
    collector->http_port_ = port_after(line, "http_port");
    return true;
  }, options.start_timeout);
  if (!up || !collector->process_->Running() || collector->grpc_port_ == 0) {
    return absl::UnavailableError("collector did not start (" + collector->process_->DescribeExit() +
                                  "): " + collector->process_->ReadLog().substr(0, 4000));
  }
  return collector;
}

StatusOr<std::unique_ptr<v1::Admin::Stub>> CollectorProcess::AdminStub(const TlsFiles& tls) const {
  auto creds = MakeChannelCredentials(tls);
  if (!creds.ok()) return creds.status();
  return v1::Admin::NewStub(grpc::CreateChannel(target(), *creds));
}

double CollectorProcess::MetricValue(const std::string& sample) const {
  auto response = HttpGet("127.0.0.1", http_port_, "/metrics");
  if (!response.ok()) return -1;
  const std::string& body = response->body;
  size_t at = 0;
  while ((at = body.find(sample + " ", at)) != std::string::npos) {
    if (at == 0 || body[at - 1] == '\n') return std::atof(body.c_str() + at + sample.size() + 1);
    at += sample.size();
  }
  return -1;
}

std::string SyntheticEventJson(const SyntheticEvent& e) {
  std::string out = "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\",\"principalId\":\"AIDAEXAMPLE\","
                    "\"arn\":\"arn:aws:iam::";
  out += e.account_id + ":user/" + e.username + "\",\"accountId\":\"" + e.account_id +
         "\",\"accessKeyId\":\"AKIAEXAMPLE\",\"userName\":\"" + e.username + "\"},\"eventTime\":\"" +
         FormatRfc3339Seconds(e.event_time_us) + "\",\"eventSource\":\"" + e.event_source + "\",\"eventName\":\"" +
         e.event_name + "\",\"awsRegion\":\"" + e.region +
         "\",\"sourceIPAddress\":\"192.0.2.10\",\"userAgent\":\"aws-cli/2.13.0\",\"requestParameters\":{\"pad\":\"";
  std::string tail = "\"},\"responseElements\":null,\"requestID\":\"" + e.event_id +
                     "-req\",\"eventID\":\"" + e.event_id + "\",\"readOnly\":" + (e.read_only ? "true" : "false") +
                     ",\"resources\":[{\"ARN\":\"arn:aws:ec2:" + e.region + ":" + e.account_id +
                     ":instance/i-0123456789\",\"accountId\":\"" + e.account_id +
                     "\",\"type\":\"AWS::EC2::Instance\"}],\"eventType\":\"AwsApiCall\",\"managementEvent\":true,"
                     "\"recipientAccountId\":\"" + e.account_id + "\",\"eventCategory\":\"Management\"}";
  size_t natural = out.size() + tail.size();
  if (e.size_bytes > natural) out.append(e.size_bytes - natural, 'x');
  out += tail;
  return out;
}

StatusOr<std::unique_ptr<IngestClient>> IngestClient::Connect(const std::string& target, const TlsFiles& tls,
                                                              std::string agent_id, uint64_t epoch,
                                                              std::chrono::seconds deadline) {
  std::unique_ptr<IngestClient> client(new IngestClient());
  auto signer = Signer::FromPrivateKeyFile(tls.key_path);
  if (!signer.ok()) return signer.status();
  client->signer_ = std::move(*signer);
  auto creds = MakeChannelCredentials(tls);
  if (!creds.ok()) return creds.status();
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(256 << 20);
  args.SetMaxReceiveMessageSize(64 << 20);
  client->channel_ = grpc::CreateCustomChannel(target, *creds, args);
  client->stub_ = v1::Ingest::NewStub(client->channel_);
  client->context_ = std::make_unique<grpc::ClientContext>();
  client->context_->set_deadline(std::chrono::system_clock::now() + deadline);
  client->stream_ = client->stub_->Stream(client->context_.get());
  client->agent_id_ = std::move(agent_id);
  client->epoch_ = epoch;
  return client;
}

IngestClient::~IngestClient() {
  if (stream_ && !finished_) {
    context_->TryCancel();
    stream_->Finish();
  }
}

void IngestClient::Note(const v1::IngestResponse& response) {
  if (response.has_trail_config()) trail_configs_.push_back(response.trail_config());
  if (response.has_error()) last_error_ = response.error();
}

bool IngestClient::Read(v1::IngestResponse* response) {
  if (finished_ || !stream_->Read(response)) return false;
  Note(*response);
  return true;
}

StatusOr<v1::HelloAck> IngestClient::Hello(uint64_t trail_config_version) {
  v1::IngestRequest request;
  request.mutable_hello()->set_agent_id(agent_id_);
  request.mutable_hello()->set_epoch(epoch_);
  request.mutable_hello()->set_agent_version("test");
  request.mutable_hello()->set_trail_config_version(trail_config_version);
  if (!stream_->Write(request)) {
    grpc::Status s = Finish();
    return FromGrpcStatus(s.ok() ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed") : s);
  }
  v1::IngestResponse response;
  while (Read(&response)) {
    if (response.has_hello_ack()) {
      next_sequence_ = response.hello_ack().high_water_sequence() + 1;
      last_hash_ = Digest{};
      if (response.hello_ack().last_batch_hash().size() == 32) {
        auto d = DigestFromString(response.hello_ack().last_batch_hash());
        if (d.ok()) last_hash_ = *d;
      }
      return response.hello_ack();
    }
    if (response.has_error()) break;
  }
  grpc::Status s = Finish();
  return FromGrpcStatus(s.ok() ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream ended before HelloAck") : s);
}

StatusOr<v1::Batch> IngestClient::MakeBatch(const std::vector<std::string>& raw_events,
                                            std::optional<uint64_t> sequence) {
  v1::Batch batch;
  batch.set_agent_id(agent_id_);
  batch.set_epoch(epoch_);
  batch.set_sequence(sequence.value_or(next_sequence_));
  batch.set_prev_batch_hash(DigestToString(last_hash_));
  batch.set_created_time_us(NowMicros());
  for (const std::string& raw : raw_events) batch.add_events()->set_raw_json(raw);
  ORGTRAIL_RETURN_IF_ERROR(SealBatch(*signer_, &batch));
  auto header = HeaderOfBatch(batch);
  if (!header.ok()) return header.status();
  last_hash_ = BatchHash(*header);
  next_sequence_ = batch.sequence() + 1;
  return batch;
}

Status IngestClient::Reseal(v1::Batch* batch, const Signer* signer) {
  return SealBatch(signer ? *signer : *signer_, batch);
}

Status IngestClient::Send(const v1::Batch& batch) {
  v1::IngestRequest request;
  *request.mutable_batch() = batch;
  if (!stream_->Write(request)) return absl::UnavailableError("stream closed while sending a batch");
  return Status();
}

StatusOr<v1::Ack> IngestClient::WaitAck(uint64_t sequence) {
  v1::IngestResponse response;
  while (Read(&response)) {
    if (response.has_ack() && response.ack().sequence() >= sequence) return response.ack();
    if (response.has_error()) {
      return Status(static_cast<absl::StatusCode>(response.error().code()),
                    response.error().rule() + ": " + response.error().message());
    }
  }
  grpc::Status s = Finish();
  return FromGrpcStatus(s.ok() ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream ended before the ack") : s);
}

StatusOr<v1::Ack> IngestClient::SendEvents(const std::vector<std::string>& raw_events) {
  auto batch = MakeBatch(raw_events);
  if (!batch.ok()) return batch.status();
  Status sent = Send(*batch);
  if (!sent.ok()) {
    grpc::Status s = Finish();
    return s.ok() ? sent : FromGrpcStatus(s);
  }
  return WaitAck(batch->sequence());
}

grpc::Status IngestClient::Finish() {
  if (finished_) return final_status_;
  stream_->WritesDone();
  v1::IngestResponse response;
  while (stream_->Read(&response)) Note(response);
  final_status_ = stream_->Finish();
  finished_ = true;
  return final_status_;
}

}  // namespace orgtrail::testutil
