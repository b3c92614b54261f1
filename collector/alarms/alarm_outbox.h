// AlarmOutbox: the alarm notifications not delivered yet, durable in a
// directory (the collector's <data-dir>/alarm-outbox), so an alert survives a
// restart or a receiver that is down for hours. One file per notification
// and target, "<seq>.json": line 1 the target's name, line 2 the delivery id
// (32 hex characters, sent as X-Orgtrail-Delivery-Id so a receiver can drop
// a repeat: delivery is at least once, a crash between the receiver's answer
// and Remove() sends it again with the same id), then the body.
// Add() makes the file durable (temporary file, fsync, rename, directory
// fsync) before the caller queues the delivery; Remove() deletes it once
// delivered; Load() returns what an earlier run left, oldest first (files
// that cannot be read are renamed *.corrupt and reported, never delivered
// half). Not thread-safe: the notifier calls it from under its own lock.
#ifndef ORGTRAIL_COLLECTOR_ALARMS_ALARM_OUTBOX_H_
#define ORGTRAIL_COLLECTOR_ALARMS_ALARM_OUTBOX_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "orgtrail/common/status.h"

namespace orgtrail::collector {

struct OutboxEntry {
  uint64_t seq = 0;
  std::string target;
  std::string delivery_id;
  std::string body;
};

class AlarmOutbox {
 public:
  // Creates the directory if needed. UNAVAILABLE if it cannot.
  static StatusOr<std::unique_ptr<AlarmOutbox>> Open(const std::string& dir);

  StatusOr<OutboxEntry> Add(const std::string& target, const std::string& body);
  Status Remove(uint64_t seq);
  // The entries on disk, by sequence; *corrupt gets the names of files set aside.
  std::vector<OutboxEntry> Load(std::vector<std::string>* corrupt);
  size_t size() const;

 private:
  explicit AlarmOutbox(std::string dir) : dir_(std::move(dir)) {}
  std::string PathOf(uint64_t seq) const;

  std::string dir_;
  uint64_t next_seq_ = 1;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_ALARMS_ALARM_OUTBOX_H_
