// Alarm webhooks over HTTP(S) through libcurl: one POST of a JSON notification
// to a NotificationTarget's url, with
//   - TLS verified against the system trust store, or only the CA of the
//     target's ca_file when it names one (no redirects followed);
//   - an Authorization header when the target has one (bearer token or basic
//     credentials read from files at load, never from the command line);
//   - X-Orgtrail-Signature-256: sha256=<hex HMAC-SHA256 of the body> when the
//     target has an HMAC secret (receivers recompute it to authenticate us).
// Errors: DEADLINE_EXCEEDED when no answer came within the target's timeout,
// UNAVAILABLE for connection, TLS and non-2xx answers (the text says which).
// Thread-safe (one curl handle per call).
#ifndef ORGTRAIL_COLLECTOR_ALARMS_WEBHOOK_CLIENT_H_
#define ORGTRAIL_COLLECTOR_ALARMS_WEBHOOK_CLIENT_H_

#include <string>
#include <string_view>

#include "collector/alarms/alarm_config.h"
#include "orgtrail/common/status.h"

namespace orgtrail::collector {

// "http(s)://host[:port][/path][?query]", at most 2048 printable ASCII characters, no credentials
// in the url (they go in files). INVALID_ARGUMENT naming what is wrong.
Status CheckWebhookUrl(std::string_view url);

// "sha256=" + lowercase hex HMAC-SHA256(secret, body).
std::string WebhookSignature(std::string_view secret, std::string_view body);

// delivery_id (if not empty) goes in X-Orgtrail-Delivery-Id (the same for a resend).
Status PostWebhook(const NotificationTarget& target, std::string_view body, std::string_view delivery_id = {});

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_ALARMS_WEBHOOK_CLIENT_H_
