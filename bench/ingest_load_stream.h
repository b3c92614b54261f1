// ingest_load_bench: one agent's Ingest stream to a running collector, as
// the load modes drive it: opened over mTLS with the agent's certificate
// (Hello, then resuming after the collector's high-water sequence and last
// batch hash), batches sealed (signed, hash-chained) by the caller, closed.
// Contract: Open and Seal return 0, or print the failure on stderr and return
// exit status 1 (see Fail). Each Stream has its own channel and connection.
// A Stream is used by one writer thread and at most one reader thread (gRPC's
// rule for a bidirectional stream). Agent identities are
// spiffe://<org>/account/<account>/region/us-east-1/agent/<name>; the files of
// identity <stem> are <pki>/<stem>.crt and .key, with <pki>/ca.crt.
#ifndef ORGTRAIL_BENCH_INGEST_LOAD_STREAM_H_
#define ORGTRAIL_BENCH_INGEST_LOAD_STREAM_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "orgtrail/common/batch.h"
#include "orgtrail/common/signer.h"
#include "orgtrail/common/tls.h"
#include "orgtrail/v1/ingest.grpc.pb.h"

namespace orgtrail::ingest_load {

struct Stream {
  std::unique_ptr<v1::Ingest::Stub> stub;
  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<grpc::ClientReaderWriter<v1::IngestRequest, v1::IngestResponse>> rw;
  std::unique_ptr<Signer> signer;
  std::string agent_id;
  uint64_t next_seq = 1;
  Digest prev{};
};

int Open(const std::string& target, const TlsFiles& tls, const std::string& agent_id, Stream* s);

// Fills request->batch with the next sequence of `s` carrying `events`,
// sealed with the stream's key, and advances the stream's hash chain.
int Seal(Stream* s, const std::vector<std::string>& events, v1::IngestRequest* request);

void Close(Stream* s);

TlsFiles PkiFiles(const std::string& pki, const std::string& stem);

std::string AgentId(const std::string& org, const std::string& account, const std::string& name);

}  // namespace orgtrail::ingest_load

#endif  // ORGTRAIL_BENCH_INGEST_LOAD_STREAM_H_
