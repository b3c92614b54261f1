// Offline verification of one stored event's provenance (verify-event):
// given the record bytes, the provenance the collector returned (GetEvent)
// and the organization CA certificate, checks that
//   1. the signed header is a canonical orgtrail batch header;
//   2. the agent certificate chains to the CA (VerifyCertificateChain) and is
//      within its validity window now or at the batch's creation time (a
//      certificate that expired after signing still vouches for what it
//      signed), and matches its recorded SHA-256 fingerprint;
//   3. the certificate's SPIFFE identity is an agent identity equal to the
//      header's agent, whose account is the record's recipientAccountId and
//      whose region is the record's awsRegion (or the event is a
//      global-service event);
//   4. the signature over the signed header verifies with the certificate's key;
//   5. the record's eventID is the one asked for;
//   6. SHA-256(0x00 || record) with the inclusion proof (leaf index, leaf
//      count) reproduces the Merkle root committed in the signed header.
// Every check is reported (name, ok, detail); verification passes only if all
// pass. Nothing here trusts the collector: a changed record byte, proof node,
// header, signature or certificate fails a check.
// Pure function over its arguments; thread-safe.
#ifndef ORGTRAIL_CLI_EVENTS_VERIFY_H_
#define ORGTRAIL_CLI_EVENTS_VERIFY_H_

#include <string>
#include <string_view>
#include <vector>

#include "orgtrail/v1/query.pb.h"

namespace orgtrail::cli {

struct VerifyCheck {
  std::string name;    // "certificate chain", "identity", "signature", ...
  bool ok = false;
  std::string detail;  // what was checked, or why it failed
};

struct VerifyReport {
  std::vector<VerifyCheck> checks;
  bool ok() const;
};

// expected_event_id empty = take the record's own eventID.
VerifyReport VerifyEventProvenance(const v1::GetEventResponse& event, std::string_view ca_pem,
                                   std::string_view expected_event_id);

}  // namespace orgtrail::cli

#endif  // ORGTRAIL_CLI_EVENTS_VERIFY_H_
