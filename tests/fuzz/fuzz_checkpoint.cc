// Checkpoint notes (common/checkpoint.h, C2SP signed notes): read by
// `orgtrailctl verify-log` and `verify-event --checkpoint` from files and
// from the collector. Fuzzes ParseCheckpointBody, verifier keys
// (CheckpointVerifier::FromVerifierKey on the first line) and
// CheckpointVerifier::Open of the whole input as a note, with a key made at
// start-up. A body that parses is signed and must open to the same
// checkpoint (parse/format/sign/open agree).
#include <cstdint>
#include <memory>
#include <string>

#include "fuzz_util.h"
#include "orgtrail/common/checkpoint.h"

namespace {

struct Keys {
  std::unique_ptr<orgtrail::CheckpointSigner> signer;
  std::unique_ptr<orgtrail::CheckpointVerifier> verifier;
};

Keys* MakeKeys() {
  auto* keys = new Keys();
  auto pem = orgtrail::GenerateEd25519PrivateKeyPem();
  if (!pem.ok()) std::abort();
  auto signer = orgtrail::CheckpointSigner::Create("orgtrail.example/log", *pem);
  if (!signer.ok()) std::abort();
  keys->signer = std::move(*signer);
  auto verifier = orgtrail::CheckpointVerifier::FromVerifierKey(keys->signer->verifier_key());
  if (!verifier.ok()) std::abort();
  keys->verifier = std::move(*verifier);
  return keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Keys* keys = MakeKeys();
  const std::string_view text = orgtrail::fuzz::AsView(data, size);
  (void)orgtrail::CheckpointVerifier::FromVerifierKey(orgtrail::fuzz::SplitOnce(text, "\n").first);
  auto opened = keys->verifier->Open(text);
  if (opened.ok()) (void)orgtrail::FormatCheckpointBody(*opened);
  (void)keys->verifier->Open(text, "orgtrail.example/log");
  auto body = orgtrail::ParseCheckpointBody(text);
  if (body.ok()) {
    auto again = orgtrail::ParseCheckpointBody(orgtrail::FormatCheckpointBody(*body));
    ORGTRAIL_FUZZ_CHECK(again.ok());
    ORGTRAIL_FUZZ_CHECK(again->origin == body->origin && again->size == body->size && again->root == body->root);
    auto note = keys->signer->Sign(*body);
    if (note.ok()) {
      auto reopened = keys->verifier->Open(*note);
      ORGTRAIL_FUZZ_CHECK(reopened.ok());
      ORGTRAIL_FUZZ_CHECK(reopened->size == body->size && reopened->root == body->root);
    }
  }
  return 0;
}
