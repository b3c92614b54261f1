// Rogue clients (see rogue.h).
#include "rogue.h"

#include <chrono>

#include "orgtrail/common/signer.h"
#include "testutil/ingest_client.h"

namespace orgtrail::chaos {
namespace {

using testutil::IngestClient;
using testutil::SyntheticEvent;

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool Unreachable(const Status& s) {
  return s.code() == absl::StatusCode::kUnavailable || s.code() == absl::StatusCode::kDeadlineExceeded;
}

struct Maker {
  const RogueContext& c;
  uint64_t* counter;
  std::string NextId(uint32_t stream) { return ChaosEventId(c.seed, stream, ++*counter); }
  std::string Event(const std::string& id, const std::string& account, const std::string& region,
                    size_t size = 0) {
    SyntheticEvent e;
    e.event_id = id;
    e.account_id = account;
    e.region = region;
    e.event_time_us = NowUs();
    e.size_bytes = size;
    return testutil::SyntheticEventJson(e);
  }
};

constexpr uint32_t kRogueStream = 0xbad0;
constexpr uint32_t kLegitStream = 0x600d;

StatusOr<std::unique_ptr<IngestClient>> Open(const RogueContext& c, const std::string& claimed_id) {
  auto client = IngestClient::Connect(c.target, c.rogue_tls, claimed_id,
                                      static_cast<uint64_t>(NowUs()), std::chrono::seconds(30));
  if (!client.ok()) return client.status();
  return std::move(*client);
}


// Valid events of the rogue's own account and region with poison neighbours (a
// global-service event whose awsRegion is "bogus", an event of the victim's
// account, a 300-character eventID) in one signed batch: the batch is acked,
// the valid events stored, each poison event refused alone. Anything else is a
// violation (a poison event took its neighbours with it, or got stored).
void RunPoison(const RogueContext& c, Maker& m, Ledger* ledger, RogueOutcome* out) {
  auto client = Open(c, c.rogue_agent_id);
  auto hello = client.ok() ? (*client)->Hello() : StatusOr<v1::HelloAck>(client.status());
  if (!hello.ok()) {
    out->inconclusive = true;
    out->detail = "hello: " + hello.status().ToString();
    return;
  }
  std::vector<std::string> good_ids, events;
  auto good = [&] {
    const std::string id = m.NextId(kLegitStream);
    ledger->MaybeAccept(id);
    good_ids.push_back(id);
    events.push_back(m.Event(id, c.rogue_account, c.rogue_region));
  };
  auto poison = [&](std::string id, const std::string& account, const std::string& region,
                    const std::string& source) {
    ledger->Rogue(id);
    SyntheticEvent e;
    e.event_id = std::move(id);
    e.account_id = account;
    e.region = region;
    e.event_source = source;
    e.event_time_us = NowUs();
    events.push_back(testutil::SyntheticEventJson(e));
  };
  good();
  poison(m.NextId(kRogueStream), c.rogue_account, "bogus", "iam.amazonaws.com");
  good();
  poison(m.NextId(kRogueStream), c.victim_account, c.victim_region, "ec2.amazonaws.com");
  poison(m.NextId(kRogueStream) + std::string(300, 'p'), c.rogue_account, c.rogue_region, "ec2.amazonaws.com");
  good();
  const uint64_t poisons = events.size() - good_ids.size();
  out->sent += poisons;
  auto ack = (*client)->SendEvents(events);
  if (!ack.ok()) {
    if (Unreachable(ack.status()) && !(*client)->last_error().has_value()) {
      out->inconclusive = true;  // nothing known about what was stored: the good ones stay "maybe"
    } else {
      out->all_refused = false;  // the poison took its neighbours with it
    }
    out->detail += "batch not acked: " + ack.status().ToString() + "; ";
    return;
  }
  for (const auto& id : good_ids) ledger->Accept(id, "ingest_client");
  out->legit_acked += good_ids.size();
  out->refused += ack->events_refused();
  if (ack->events_refused() != poisons || ack->events_stored() + ack->events_duplicate() != good_ids.size()) {
    out->all_refused = false;
  }
  out->detail += "acked: stored " + std::to_string(ack->events_stored()) + ", refused alone " +
                 std::to_string(ack->events_refused()) + "; ";
}

// Two live streams of one identity (a cloned VM): the second Hello fences the
// first, which may acknowledge nothing more; everything either acknowledged is
// stored (the ledger checks it). It took effect when the first stream was fenced.
void RunSharedIdentity(const RogueContext& c, Maker& m, Ledger* ledger, RogueOutcome* out) {
  auto first = Open(c, c.rogue_agent_id);
  auto hello = first.ok() ? (*first)->Hello() : StatusOr<v1::HelloAck>(first.status());
  if (!hello.ok()) {
    out->inconclusive = true;
    out->detail = "hello: " + hello.status().ToString();
    return;
  }
  auto send = [&](IngestClient* client, const std::string& label) {
    const std::string id = m.NextId(kLegitStream);
    ledger->MaybeAccept(id);
    auto ack = client->SendEvents({m.Event(id, c.rogue_account, c.rogue_region)});
    if (ack.ok()) {
      ledger->Accept(id, "ingest_client");
      ++out->legit_acked;
    }
    out->detail += label + (ack.ok() ? " acked; " : ": " + ack.status().ToString() + "; ");
    return ack.ok();
  };
  send(first->get(), "first");
  auto second = Open(c, c.rogue_agent_id);
  auto hello2 = second.ok() ? (*second)->Hello() : StatusOr<v1::HelloAck>(second.status());
  if (!hello2.ok()) {
    out->inconclusive = true;
    out->detail += "second hello: " + hello2.status().ToString();
    return;
  }
  const bool fenced_sent = send(first->get(), "first after fencing");
  send(second->get(), "second");
  const bool fenced = !fenced_sent && (*first)->last_error().has_value() && (*first)->last_error()->rule() == "fenced";
  if (!fenced) {
    out->inconclusive = true;  // the fence was not observed
    out->detail += "first stream not fenced; ";
  } else {
    out->refused += 1;
  }
  out->sent += 1;
}

// Sends one hostile batch on a fresh stream; true if it was refused.
// Unreachable collector -> outcome->inconclusive.
void SendHostile(const RogueContext& c, const std::vector<std::string>& events,
                 const std::function<Status(IngestClient*, v1::Batch*)>& tamper, RogueOutcome* out) {
  out->sent += events.size();
  auto client = Open(c, c.rogue_agent_id);
  if (!client.ok()) {
    out->inconclusive = true;
    out->detail += "connect: " + client.status().ToString() + "; ";
    return;
  }
  auto hello = (*client)->Hello();
  if (!hello.ok()) {
    out->inconclusive = true;
    out->detail += "hello: " + hello.status().ToString() + "; ";
    return;
  }
  auto batch = (*client)->MakeBatch(events);
  if (!batch.ok()) {
    out->detail += "make: " + batch.status().ToString() + "; ";
    out->refused += events.size();  // never left the client
    return;
  }
  if (tamper) {
    if (Status s = tamper(client->get(), &*batch); !s.ok()) {
      out->detail += "tamper: " + s.ToString() + "; ";
    }
  }
  if (Status s = (*client)->Send(*batch); !s.ok()) {
    grpc::Status fin = (*client)->Finish();
    if (fin.ok() || fin.error_code() == grpc::StatusCode::UNAVAILABLE) {
      out->inconclusive = true;
    } else {
      out->refused += events.size();
    }
    out->detail += "send: " + std::string(fin.error_message()) + "; ";
    return;
  }
  auto ack = (*client)->WaitAck(batch->sequence());
  if (ack.ok() && ack->events_refused() == events.size() && ack->events_stored() == 0 &&
      ack->events_duplicate() == 0 && ack->events_conflict() == 0) {
    // Event rules (another account, region): the batch is acked, every event refused alone.
    out->refused += events.size();
    out->detail += "refused one by one in acked seq " + std::to_string(batch->sequence()) + "; ";
  } else if (ack.ok()) {
    out->all_refused = false;
    out->detail += "ACCEPTED seq " + std::to_string(batch->sequence()) + "; ";
  } else if (Unreachable(ack.status()) && !(*client)->last_error().has_value()) {
    out->inconclusive = true;
    out->detail += "ack: " + ack.status().ToString() + "; ";
  } else {
    out->refused += events.size();
    out->detail += std::string(absl::StatusCodeToString(ack.status().code())) + "; ";
  }
}

}  // namespace

const std::vector<std::string>& RogueKinds() {
  static const std::vector<std::string> kinds = {"wrong_account", "impersonate", "replay_foreign",
                                                 "forged_signature", "replay_own", "flood_tiny",
                                                 "flood_oversized", "poison", "shared_identity"};
  return kinds;
}

RogueOutcome RunRogue(const std::string& kind, const RogueContext& c, Ledger* ledger, uint64_t* counter) {
  RogueOutcome out;
  out.kind = kind;
  Maker m{c, counter};
  auto hostile = [&](size_t n, const std::string& account, const std::string& region, size_t size = 0) {
    std::vector<std::string> events;
    for (size_t i = 0; i < n; ++i) {
      const std::string id = m.NextId(kRogueStream);
      ledger->Rogue(id);
      events.push_back(m.Event(id, account, region, size));
    }
    return events;
  };
  if (kind == "wrong_account") {
    SendHostile(c, hostile(3, c.victim_account, c.victim_region), nullptr, &out);
  } else if (kind == "impersonate") {
    auto events = hostile(2, c.victim_account, c.victim_region);
    out.sent += events.size();
    auto client = Open(c, c.victim_agent_id);  // rogue certificate, victim's ID in Hello
    if (!client.ok()) {
      out.inconclusive = true;
    } else {
      auto hello = (*client)->Hello();
      if (hello.ok()) {
        // Hello accepted?! Try to get events in under the victim's name.
        auto ack = (*client)->SendEvents(events);
        out.all_refused = !ack.ok();
        out.detail = hello.ok() ? "HELLO ACCEPTED; " : "";
        if (!ack.ok()) out.refused += events.size();
      } else if (Unreachable(hello.status())) {
        out.inconclusive = true;
        out.detail = hello.status().ToString();
      } else {
        out.refused += events.size();
        out.detail = std::string(absl::StatusCodeToString(hello.status().code()));
      }
    }
  } else if (kind == "replay_foreign") {
    auto victim_signer = Signer::FromPrivateKeyFile(c.victim_tls.key_path);
    if (!victim_signer.ok()) {
      out.inconclusive = true;
      out.detail = victim_signer.status().ToString();
      return out;
    }
    std::shared_ptr<Signer> signer = std::move(*victim_signer);
    SendHostile(c, hostile(2, c.victim_account, c.victim_region),
                [&](IngestClient* client, v1::Batch* batch) {
                  batch->set_agent_id(c.victim_agent_id);  // as captured from the victim's stream
                  return client->Reseal(batch, signer.get());
                },
                &out);
  } else if (kind == "forged_signature") {
    SendHostile(c, hostile(2, c.rogue_account, c.rogue_region),
                [&](IngestClient*, v1::Batch* batch) {
                  std::string* raw = batch->mutable_events(0)->mutable_raw_json();
                  size_t at = raw->find("DescribeInstances");
                  if (at != std::string::npos) raw->replace(at, 8, "Terminat");  // same length, new meaning
                  return Status();
                },
                &out);
    auto victim_signer = Signer::FromPrivateKeyFile(c.victim_tls.key_path);
    if (victim_signer.ok()) {
      std::shared_ptr<Signer> signer = std::move(*victim_signer);
      SendHostile(c, hostile(2, c.rogue_account, c.rogue_region),
                  [&](IngestClient* client, v1::Batch* batch) { return client->Reseal(batch, signer.get()); },
                  &out);
    }
  } else if (kind == "replay_own" || kind == "flood_tiny") {
    auto client = Open(c, c.rogue_agent_id);
    if (!client.ok()) {
      out.inconclusive = true;
      return out;
    }
    auto hello = (*client)->Hello();
    if (!hello.ok()) {
      out.inconclusive = true;
      out.detail = hello.status().ToString();
      return out;
    }
    const int batches = kind == "flood_tiny" ? 60 : 1;
    std::vector<std::string> ids;
    std::vector<std::string> events;
    std::optional<v1::Batch> first;
    for (int b = 0; b < batches; ++b) {
      std::vector<std::string> batch_events;
      if (kind == "replay_own" || b % 3 != 2) {  // every third flood batch is empty
        const std::string id = m.NextId(kLegitStream);
        ledger->MaybeAccept(id);
        ids.push_back(id);
        batch_events.push_back(m.Event(id, c.rogue_account, c.rogue_region));
        events.push_back(batch_events.back());
      }
      auto batch = (*client)->MakeBatch(batch_events);
      if (!batch.ok()) {
        out.detail += "make: " + batch.status().ToString() + "; ";
        continue;
      }
      if (!first) first = *batch;
      if (!(*client)->Send(*batch).ok()) break;
    }
    auto ack = (*client)->WaitAck((*client)->next_sequence() - 1);
    if (!ack.ok()) {
      // Empty batches may be refused; the stream then closed: what got acked is unknown (maybe).
      out.detail += "ack: " + ack.status().ToString() + "; ";
      if (kind == "replay_own") out.inconclusive = true;
      return out;
    }
    for (const auto& id : ids) ledger->Accept(id, "ingest_client");
    out.legit_acked += ids.size();
    if (kind == "replay_own" && first) {
      // Same batch again (lost-ack replay): acknowledged, not stored again.
      out.sent += 1;
      if ((*client)->Send(*first).ok()) {
        auto again = (*client)->WaitAck(first->sequence());
        out.detail += again.ok() ? "replay acked; " : "replay: " + again.status().ToString() + "; ";
      }
      // Same events in a new batch on a new stream: deduplicated by eventID.
      auto second = Open(c, c.rogue_agent_id);
      if (second.ok() && (*second)->Hello().ok()) {
        auto resent = (*second)->SendEvents(events);
        out.detail += resent.ok() ? "resent acked; " : "resent: " + resent.status().ToString() + "; ";
      }
    }
  } else if (kind == "poison") {
    RunPoison(c, m, ledger, &out);
  } else if (kind == "shared_identity") {
    RunSharedIdentity(c, m, ledger, &out);
  } else if (kind == "flood_oversized") {
    for (int i = 0; i < 5; ++i) {
      SendHostile(c, hostile(1, c.rogue_account, c.rogue_region, 100 * 1024), nullptr, &out);
    }
  } else {
    out.inconclusive = true;
    out.detail = "unknown rogue kind";
  }
  return out;
}

}  // namespace orgtrail::chaos
