// Alarm configuration files (collector/alarms/alarm_config.h), e.g.
// deploy/alarms/cis.json, read by the collector at start-up: ParseAlarmsConfig
// on the whole input, plus CheckWebhookUrl (libcurl's URL parser with the
// collector's rules) on each webhook url and an OverrideWebhookUrls
// (--alarm-webhook) on what parsed. Secret and CA file names in the input are
// read as the collector reads them (regular files of at most 64 KiB only).
#include <cstdint>
#include <string>

#include "collector/alarms/alarm_config.h"
#include "collector/alarms/webhook_client.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 256 * 1024) return 0;
  const std::string_view text = orgtrail::fuzz::AsView(data, size);
  auto config = orgtrail::collector::ParseAlarmsConfig(text);
  if (!config.ok()) {
    ORGTRAIL_FUZZ_CHECK(config.status().code() == absl::StatusCode::kInvalidArgument);
    // A short input is also tried as a webhook url.
    if (size < 512) (void)orgtrail::collector::CheckWebhookUrl(text);
    return 0;
  }
  for (const auto& target : config->notifications) {
    if (target.type == orgtrail::collector::NotificationTarget::Type::kWebhook) {
      ORGTRAIL_FUZZ_CHECK(orgtrail::collector::CheckWebhookUrl(target.url).ok());
    }
  }
  for (const auto& alarm : config->alarms) {
    ORGTRAIL_FUZZ_CHECK(alarm.datapoints_to_alarm >= 1 && alarm.datapoints_to_alarm <= alarm.evaluation_periods);
    (void)orgtrail::collector::ComparisonOperatorName(alarm.comparison);
    (void)orgtrail::collector::TreatMissingDataName(alarm.treat_missing_data);
    (void)orgtrail::collector::AlarmStatisticName(alarm.statistic);
    (void)orgtrail::collector::Breaches(alarm.comparison, alarm.threshold, alarm.threshold);
  }
  (void)orgtrail::collector::OverrideWebhookUrls(&*config, "http://127.0.0.1:8088/alarms");
  return 0;
}
