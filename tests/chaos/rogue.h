// Rogue clients: hostile or misbehaving ingest clients the chaos harness runs
// against the collector (directly, not through a proxy) with real
// certificates of the cluster's CA, using testutil::IngestClient. Every
// event a rogue attempt sends that the collector must refuse is put in the
// ledger's rogue set (never to be stored); events a valid client legitimately
// got acknowledged go to the ledger as accepted ("ingest_client").
//
// Kinds:
//   wrong_account      a valid agent certificate sending events of another account
//   impersonate        a valid agent certificate whose Hello claims another agent's ID
//   replay_foreign     a batch captured from (signed by) a real agent replayed on
//                      another agent's connection
//   forged_signature   a valid batch whose event bytes were changed after signing,
//                      and one signed with another agent's key
//   replay_own         a valid batch acknowledged, then sent again (same sequence)
//                      and its events re-sent in a new batch: stored once
//   flood_tiny         a flood of tiny valid batches and empty batches
//   flood_oversized    a flood of batches with events over --max-event-bytes
//   poison             valid events with poison neighbours (bogus region, another
//                      account, overlong eventID) in one batch: neighbours stored,
//                      each poison event refused alone
//   shared_identity    two live streams of one identity: the newer fences the older;
//                      everything acknowledged on either is stored
// Not thread-safe; one call at a time from the harness's thread.
#ifndef ORGTRAIL_TESTS_CHAOS_ROGUE_H_
#define ORGTRAIL_TESTS_CHAOS_ROGUE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ledger.h"
#include "orgtrail/common/tls.h"

namespace orgtrail::chaos {

struct RogueContext {
  std::string target;          // collector gRPC host:port
  TlsFiles rogue_tls;          // a valid agent certificate of the organization
  std::string rogue_agent_id;  // its SPIFFE ID
  std::string rogue_account;
  std::string rogue_region;
  TlsFiles victim_tls;         // a real agent's certificate (key signs captured batches)
  std::string victim_agent_id;
  std::string victim_account;
  std::string victim_region;
  uint64_t seed = 1;
};

struct RogueOutcome {
  std::string kind;
  bool inconclusive = false;   // the collector was unreachable: nothing proven
  bool all_refused = true;     // every hostile message was refused
  uint64_t sent = 0;           // hostile events sent
  uint64_t refused = 0;        // hostile events refused
  uint64_t legit_acked = 0;    // valid events acknowledged (ledger)
  std::string detail;
};

const std::vector<std::string>& RogueKinds();
RogueOutcome RunRogue(const std::string& kind, const RogueContext& context, Ledger* ledger, uint64_t* counter);

}  // namespace orgtrail::chaos

#endif  // ORGTRAIL_TESTS_CHAOS_ROGUE_H_
