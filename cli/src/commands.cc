#include "commands.h"

namespace orgtrail::cli {

// Declarations of the subcommand entry points (defined in cmd_*.cc).
// Add one line here and one row below when adding a subcommand.
int RunLookupEvents(int argc, const char* const* argv);
int RunGetEvent(int argc, const char* const* argv);
int RunVerifyEvent(int argc, const char* const* argv);
int RunListConflicts(int argc, const char* const* argv);
int RunListRefused(int argc, const char* const* argv);
int RunFindings(int argc, const char* const* argv);
int RunHunt(int argc, const char* const* argv);
int RunPki(int argc, const char* const* argv);
int RunBackup(int argc, const char* const* argv);
int RunValidateLogs(int argc, const char* const* argv);
int RunVerifyLog(int argc, const char* const* argv);

int RunTail(int argc, const char* const* argv);
int RunQuery(int argc, const char* const* argv);
int RunCreateTrail(int argc, const char* const* argv);
int RunUpdateTrail(int argc, const char* const* argv);
int RunDeleteTrail(int argc, const char* const* argv);
int RunDescribeTrails(int argc, const char* const* argv);
int RunGetTrail(int argc, const char* const* argv);
int RunPutEventSelectors(int argc, const char* const* argv);
int RunGetEventSelectors(int argc, const char* const* argv);
int RunPutInsightSelectors(int argc, const char* const* argv);
int RunGetInsightSelectors(int argc, const char* const* argv);
int RunStartLogging(int argc, const char* const* argv);
int RunStopLogging(int argc, const char* const* argv);
int RunGetTrailStatus(int argc, const char* const* argv);
int RunStatus(int argc, const char* const* argv);
int RunFetchArchive(int argc, const char* const* argv);

const std::vector<CliCommand>& Commands() {
  static const std::vector<CliCommand> kCommands = {
      {"lookup-events", "look up events across the organization (aws cloudtrail lookup-events)", RunLookupEvents},
      {"get-event", "print one stored event with its provenance as JSON", RunGetEvent},
      {"verify-event", "verify an event's provenance offline against the CA", RunVerifyEvent},
      {"list-conflicts", "list events stored twice under one (account, eventID) with other bytes", RunListConflicts},
      {"findings", "list the findings of the collector's Sigma rules (--sigma-rules), or --follow them", RunFindings},
      {"hunt", "run Sigma rules over the stored history (a retro-hunt)", RunHunt},
      {"list-refused", "list events the collector refused one by one, with their reason and bytes", RunListRefused},
      {"validate-logs", "validate exported log files against their signed digests", RunValidateLogs},
      {"fetch-archive", "mirror a trail's S3 delivery into a local folder (for DuckDB, hunt --archive)", RunFetchArchive},
      {"verify-log", "check that the Merkle log only grew between two signed checkpoints", RunVerifyLog},
      {"pki", "organization CA: init-ca, issue-collector/agent/auditor/admin, renew, show", RunPki},
      {"backup", "back up (RocksDB checkpoint), verify and restore the collector's store", RunBackup},
      {"query", "run a read-only SQL SELECT over the organization's events at the collector", RunQuery},
      {"tail", "stream stored events matching a CloudWatch Logs filter pattern (resumable cursor)", RunTail},
      {"create-trail", "create an organization trail (admin)", RunCreateTrail},
      {"update-trail", "change a trail's settings (admin)", RunUpdateTrail},
      {"delete-trail", "delete a trail (admin)", RunDeleteTrail},
      {"describe-trails", "list trails and their settings", RunDescribeTrails},
      {"get-trail", "show one trail", RunGetTrail},
      {"put-event-selectors", "set a trail's basic or advanced event selectors (aws-cli JSON)", RunPutEventSelectors},
      {"get-event-selectors", "show a trail's event selectors", RunGetEventSelectors},
      {"put-insight-selectors", "turn CloudTrail Insights on a trail on or off (ApiCallRateInsight, ApiErrorRateInsight)", RunPutInsightSelectors},
      {"get-insight-selectors", "show a trail's Insights types", RunGetInsightSelectors},
      {"start-logging", "start logging for a trail", RunStartLogging},
      {"stop-logging", "stop logging for a trail", RunStopLogging},
      {"get-trail-status", "show a trail's logging status", RunGetTrailStatus},
      {"status", "show the collector's health and per-agent ingest state (admin)", RunStatus},
  };
  return kCommands;
}

}  // namespace orgtrail::cli
