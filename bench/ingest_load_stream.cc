// ingest_load_bench: an agent's Ingest stream (see ingest_load_stream.h).
#include "ingest_load_stream.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "ingest_load_common.h"
#include "orgtrail/common/batch.h"
#include "orgtrail/common/signer.h"
#include "orgtrail/common/time_util.h"
#include "orgtrail/common/tls.h"

namespace orgtrail::ingest_load {

int Open(const std::string& target, const TlsFiles& tls, const std::string& agent_id, Stream* s) {
  auto creds = MakeChannelCredentials(tls);
  if (!creds.ok()) return Fail("credentials: " + creds.status().ToString());
  auto signer = Signer::FromPrivateKeyFile(tls.key_path);
  if (!signer.ok()) return Fail("signer: " + signer.status().ToString());
  s->signer = std::move(*signer);
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(64 << 20);
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetInt("bench.unique", static_cast<int>(reinterpret_cast<uintptr_t>(s) & 0x7fffffff));  // own connection
  s->stub = v1::Ingest::NewStub(grpc::CreateCustomChannel(target, *creds, args));
  s->context = std::make_unique<grpc::ClientContext>();
  s->rw = s->stub->Stream(s->context.get());
  s->agent_id = agent_id;
  v1::IngestRequest hello;
  hello.mutable_hello()->set_agent_id(agent_id);
  hello.mutable_hello()->set_epoch(1);
  v1::IngestResponse response;
  if (!s->rw->Write(hello) || !s->rw->Read(&response) || !response.has_hello_ack()) {
    return Fail("hello refused for " + agent_id + ": " + s->rw->Finish().error_message());
  }
  s->next_seq = response.hello_ack().high_water_sequence() + 1;
  const std::string& last = response.hello_ack().last_batch_hash();
  if (last.size() == s->prev.size()) std::memcpy(s->prev.data(), last.data(), last.size());
  return 0;
}

int Seal(Stream* s, const std::vector<std::string>& events, v1::IngestRequest* request) {
  v1::Batch* batch = request->mutable_batch();
  batch->set_agent_id(s->agent_id);
  batch->set_epoch(1);
  batch->set_sequence(s->next_seq++);
  batch->set_prev_batch_hash(DigestToString(s->prev));
  batch->set_created_time_us(NowMicros());
  for (const auto& e : events) batch->add_events()->set_raw_json(e);
  if (Status st = SealBatch(*s->signer, batch); !st.ok()) return Fail("seal: " + st.ToString());
  auto header = HeaderOfBatch(*batch);
  if (!header.ok()) return Fail("header: " + header.status().ToString());
  s->prev = BatchHash(*header);
  return 0;
}

void Close(Stream* s) {
  s->rw->WritesDone();
  s->context->TryCancel();
  s->rw->Finish();
}

TlsFiles PkiFiles(const std::string& pki, const std::string& stem) {
  return TlsFiles{pki + "/ca.crt", pki + "/" + stem + ".crt", pki + "/" + stem + ".key"};
}

std::string AgentId(const std::string& org, const std::string& account, const std::string& name) {
  return "spiffe://" + org + "/account/" + account + "/region/us-east-1/agent/" + name;
}

}  // namespace orgtrail::ingest_load
