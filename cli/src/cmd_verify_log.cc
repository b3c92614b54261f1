// orgtrailctl verify-log: checks that the collector's Merkle log only grew
// between two signed checkpoints (RFC 6962 consistency), so a rolled-back or
// rewritten store is detected. Offline with two saved checkpoints and a saved
// proof; or online, fetching the newest checkpoint and/or the proof from the
// collector's MerkleLog service (auditor certificate). --save-checkpoint
// stores the newest verified checkpoint for the next run.
//
// --event-id X [--checkpoint F]: inclusion mode (online): fetches the stored
// record (Query.GetEvent) and its audit path (MerkleLog.GetInclusionProof)
// and checks that SHA-256(0x00 || record) is a leaf of the signed checkpoint
// F (default: the newest one, verified) — a rewritten stored event fails.
//
// Exit status: 0 consistent / included, 1 verification failed (INVALID: ...
// on stderr), 2 usage error.
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "connection.h"
#include "orgtrail/common/checkpoint.h"
#include "orgtrail/common/config.h"
#include "orgtrail/common/hash.h"
#include "orgtrail/common/merkle.h"
#include "orgtrail/common/pki.h"
#include "orgtrail/v1/query.grpc.pb.h"

namespace orgtrail::cli {
namespace {

namespace po = boost::program_options;
constexpr size_t kMaxProofHashes = 128;

int Usage(const std::string& message) {
  std::fprintf(stderr, "verify-log: %s\n", message.c_str());
  return 2;
}

int Invalid(const std::string& message) {
  std::fprintf(stderr, "INVALID: %s\n", message.c_str());
  return 1;
}

StatusOr<std::string> ReadSmallFile(const std::string& flag, const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return absl::InvalidArgumentError(flag + ": cannot read '" + path + "'");
  if (text->size() > kMaxCheckpointNoteBytes) return absl::InvalidArgumentError(flag + ": file too large");
  return *text;
}

// One base64 hash per line.
StatusOr<std::vector<Digest>> ParseProof(const std::string& text) {
  std::vector<Digest> proof;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (proof.size() >= kMaxProofHashes) return absl::InvalidArgumentError("proof: too many hashes");
    auto raw = Base64Decode(line);
    if (!raw.ok() || raw->size() != 32) return absl::InvalidArgumentError("proof: line is not base64 of 32 bytes");
    proof.push_back(*DigestFromString(*raw));
  }
  return proof;
}

std::string FormatProof(const std::vector<Digest>& proof) {
  std::string out;
  for (const auto& d : proof) out += Base64Encode(DigestToString(d)) + "\n";
  return out;
}

int RunInclusion(const po::variables_map& vm, const CheckpointVerifier& verifier) {
  const std::string event_id = vm["event-id"].as<std::string>();
  if (event_id.empty() || event_id.size() > 256) return Usage("--event-id: expected 1-256 bytes");
  auto conn = ConnectionOptionsFromValues(vm);
  if (!conn.ok()) return Usage(std::string(conn.status().message()));
  auto channel = MakeCollectorChannel(*conn);
  if (!channel.ok()) return Usage(std::string(channel.status().message()));
  auto merkle = v1::MerkleLog::NewStub(*channel);
  auto query = v1::Query::NewStub(*channel);
  std::string note;
  if (vm.count("checkpoint")) {
    auto text = ReadSmallFile("--checkpoint", vm["checkpoint"].as<std::string>());
    if (!text.ok()) return Usage(std::string(text.status().message()));
    note = *text;
  } else {
    grpc::ClientContext ctx;
    SetDeadline(*conn, &ctx);
    v1::GetCheckpointResponse resp;
    grpc::Status st = merkle->GetCheckpoint(&ctx, v1::GetCheckpointRequest(), &resp);
    if (!st.ok()) {
      std::fprintf(stderr, "verify-log: %s\n", DescribeRpcError(*conn, st).c_str());
      return 1;
    }
    note = resp.checkpoint();
  }
  auto cp = verifier.Open(note);
  if (!cp.ok()) return Invalid("checkpoint: " + std::string(cp.status().message()));
  v1::GetEventResponse event;
  {
    grpc::ClientContext ctx;
    SetDeadline(*conn, &ctx);
    v1::GetEventRequest req;
    req.set_event_id(event_id);
    grpc::Status st = query->GetEvent(&ctx, req, &event);
    if (!st.ok()) {
      std::fprintf(stderr, "verify-log: %s\n", DescribeRpcError(*conn, st).c_str());
      return 1;
    }
  }
  v1::GetInclusionProofResponse proof;
  {
    grpc::ClientContext ctx;
    SetDeadline(*conn, &ctx);
    v1::GetInclusionProofRequest req;
    req.set_event_id(event_id);
    req.set_tree_size(cp->size);
    grpc::Status st = merkle->GetInclusionProof(&ctx, req, &proof);
    if (!st.ok()) {
      std::fprintf(stderr, "verify-log: %s\n", DescribeRpcError(*conn, st).c_str());
      return 1;
    }
  }
  std::vector<Digest> path;
  for (const auto& h : proof.proof()) {
    auto d = DigestFromString(h);
    if (!d.ok() || path.size() >= kMaxProofHashes) return Invalid("collector sent a malformed proof");
    path.push_back(*d);
  }
  Status included = VerifyCheckpointInclusion(*cp, proof.leaf_index(), MerkleLeafHash(event.event().raw_json()), path);
  if (!included.ok()) {
    return Invalid("event " + event_id + " (leaf " + std::to_string(proof.leaf_index()) + ") is not in checkpoint " +
                   std::to_string(cp->size) + " as stored now: " + std::string(included.message()));
  }
  std::printf("event %s: included at leaf %llu of checkpoint %llu (origin %s)\n", event_id.c_str(),
              static_cast<unsigned long long>(proof.leaf_index()), static_cast<unsigned long long>(cp->size),
              cp->origin.c_str());
  return 0;
}

}  // namespace

int RunVerifyLog(int argc, const char* const* argv) {
  po::options_description options("verify-log options");
  options.add_options()
      ("verifier-key", po::value<std::string>(), "checkpoint verifier key <name>+<hex id>+<base64 key>")
      ("verifier-key-file", po::value<std::string>(), "file holding the verifier key")
      ("old-checkpoint", po::value<std::string>(), "earlier saved checkpoint (signed note file)")
      ("new-checkpoint", po::value<std::string>(), "later saved checkpoint; default: fetch the newest from --collector")
      ("proof", po::value<std::string>(), "saved consistency proof (base64 hash per line); default: fetch from --collector")
      ("write-proof", po::value<std::string>(), "save the proof that was used to this file")
      ("save-checkpoint", po::value<std::string>(), "save the newer (verified) checkpoint to this file")
      ("event-id", po::value<std::string>(), "inclusion mode: prove this stored event is in the log")
      ("checkpoint", po::value<std::string>(), "inclusion mode: saved checkpoint to prove against (default: newest)");
  AddConnectionOptions(&options);
  po::variables_map vm;
  BinaryInfo info{"orgtrailctl verify-log",
                  "check that the collector's Merkle log only grew between two signed checkpoints",
                  "orgtrailctl verify-log --verifier-key KEY [--old-checkpoint F] [--new-checkpoint F] [--proof F] [connection options]"};
  auto outcome = ParseCommandLine(argc, argv, info, options, &vm, ConnectionEnvOptions());
  if (!outcome.ok()) return Usage(std::string(outcome.status().message()));
  if (*outcome == ParseOutcome::kExitSuccess) return 0;

  std::string vkey;
  if (vm.count("verifier-key")) {
    vkey = vm["verifier-key"].as<std::string>();
  } else if (vm.count("verifier-key-file")) {
    auto text = ReadSmallFile("--verifier-key-file", vm["verifier-key-file"].as<std::string>());
    if (!text.ok()) return Usage(std::string(text.status().message()));
    vkey = *text;
    while (!vkey.empty() && (vkey.back() == '\n' || vkey.back() == '\r' || vkey.back() == ' ')) vkey.pop_back();
  } else {
    return Usage("--verifier-key or --verifier-key-file is required");
  }
  auto verifier = CheckpointVerifier::FromVerifierKey(vkey);
  if (!verifier.ok()) return Usage("--verifier-key: " + std::string(verifier.status().message()));
  if (vm.count("event-id")) return RunInclusion(vm, **verifier);
  const bool have_old = vm.count("old-checkpoint") > 0;
  const bool online = !vm.count("new-checkpoint") || (have_old && !vm.count("proof"));
  if (!have_old && !vm.count("save-checkpoint")) return Usage("--old-checkpoint (or --save-checkpoint) is required");

  std::unique_ptr<v1::MerkleLog::Stub> stub;
  ConnectionOptions connection;
  if (online) {
    auto conn = ConnectionOptionsFromValues(vm);
    if (!conn.ok()) return Usage(std::string(conn.status().message()));
    connection = *conn;
    auto channel = MakeCollectorChannel(connection);
    if (!channel.ok()) return Usage(std::string(channel.status().message()));
    stub = v1::MerkleLog::NewStub(*channel);
  }

  // Older checkpoint.
  std::optional<Checkpoint> old_cp;
  if (have_old) {
    auto note = ReadSmallFile("--old-checkpoint", vm["old-checkpoint"].as<std::string>());
    if (!note.ok()) return Usage(std::string(note.status().message()));
    auto cp = (*verifier)->Open(*note);
    if (!cp.ok()) return Invalid("old checkpoint: " + std::string(cp.status().message()));
    old_cp = *cp;
  }
  // Newer checkpoint.
  std::string new_note;
  if (vm.count("new-checkpoint")) {
    auto note = ReadSmallFile("--new-checkpoint", vm["new-checkpoint"].as<std::string>());
    if (!note.ok()) return Usage(std::string(note.status().message()));
    new_note = *note;
  } else {
    grpc::ClientContext ctx;
    SetDeadline(connection, &ctx);
    v1::GetCheckpointRequest req;
    v1::GetCheckpointResponse resp;
    grpc::Status st = stub->GetCheckpoint(&ctx, req, &resp);
    if (!st.ok()) {
      std::fprintf(stderr, "verify-log: %s\n", DescribeRpcError(connection, st).c_str());
      return 1;
    }
    new_note = resp.checkpoint();
  }
  auto new_cp = (*verifier)->Open(new_note, old_cp ? old_cp->origin : "");
  if (!new_cp.ok()) return Invalid("new checkpoint: " + std::string(new_cp.status().message()));

  if (old_cp) {
    std::vector<Digest> proof;
    if (vm.count("proof")) {
      auto text = ReadSmallFile("--proof", vm["proof"].as<std::string>());
      if (!text.ok()) return Usage(std::string(text.status().message()));
      auto parsed = ParseProof(*text);
      if (!parsed.ok()) return Invalid(std::string(parsed.status().message()));
      proof = *parsed;
    } else if (new_cp->size > old_cp->size && old_cp->size > 0) {
      grpc::ClientContext ctx;
      SetDeadline(connection, &ctx);
      v1::GetConsistencyProofRequest req;
      req.set_first_tree_size(old_cp->size);
      req.set_second_tree_size(new_cp->size);
      v1::GetConsistencyProofResponse resp;
      grpc::Status st = stub->GetConsistencyProof(&ctx, req, &resp);
      if (!st.ok()) {
        std::fprintf(stderr, "verify-log: %s\n", DescribeRpcError(connection, st).c_str());
        return 1;
      }
      for (const auto& h : resp.proof()) {
        auto d = DigestFromString(h);
        if (!d.ok()) return Invalid("collector sent a malformed proof hash");
        proof.push_back(*d);
      }
    }
    if (vm.count("write-proof")) {
      if (auto s = WriteFileAtomically(vm["write-proof"].as<std::string>(), FormatProof(proof), 0644); !s.ok()) {
        return Usage("--write-proof: " + std::string(s.message()));
      }
    }
    Status consistent = VerifyCheckpointConsistency(*old_cp, *new_cp, proof);
    if (!consistent.ok()) {
      return Invalid("checkpoint " + std::to_string(old_cp->size) + " -> " + std::to_string(new_cp->size) + ": " +
                     std::string(consistent.message()));
    }
    std::printf("checkpoint %llu -> %llu: consistent (origin %s)\n",
                static_cast<unsigned long long>(old_cp->size), static_cast<unsigned long long>(new_cp->size),
                new_cp->origin.c_str());
  } else {
    std::printf("checkpoint %llu: signature valid (origin %s)\n", static_cast<unsigned long long>(new_cp->size),
                new_cp->origin.c_str());
  }
  if (vm.count("save-checkpoint")) {
    if (auto s = WriteFileAtomically(vm["save-checkpoint"].as<std::string>(), new_note, 0644); !s.ok()) {
      return Usage("--save-checkpoint: " + std::string(s.message()));
    }
  }
  return 0;
}

}  // namespace orgtrail::cli
