// Columns of the `events` virtual table (sql_events_columns.h).
#include "collector/sql/sql_events_columns.h"

#include <cstdio>
#include <cstring>
#include <ctime>

namespace orgtrail::collector::sql_events {

const std::vector<ColumnSpec>& Columns() {
  static const std::vector<ColumnSpec> kColumns = {
      {"eventid", "TEXT", {}},
      {"eventtime", "TEXT", {}},
      {"eventsource", "TEXT", {"eventSource"}},
      {"eventname", "TEXT", {"eventName"}},
      {"awsregion", "TEXT", {"awsRegion"}},
      {"recipientaccountid", "TEXT", {}},
      {"partitionregion", "TEXT", {}},
      {"useridentity_type", "TEXT", {"userIdentity", "type"}},
      {"useridentity_arn", "TEXT", {"userIdentity", "arn"}},
      {"useridentity_principalid", "TEXT", {"userIdentity", "principalId"}},
      {"useridentity_accountid", "TEXT", {"userIdentity", "accountId"}},
      {"useridentity_accesskeyid", "TEXT", {"userIdentity", "accessKeyId"}},
      {"useridentity_username", "TEXT", {"userIdentity", "userName"}},
      {"useridentity_invokedby", "TEXT", {"userIdentity", "invokedBy"}},
      {"useridentity_sessionissuer_arn", "TEXT", {"userIdentity", "sessionContext", "sessionIssuer", "arn"}},
      {"useridentity_mfaauthenticated", "TEXT", {"userIdentity", "sessionContext", "attributes", "mfaAuthenticated"}},
      {"username", "TEXT", {}},
      {"errorcode", "TEXT", {"errorCode"}},
      {"errormessage", "TEXT", {"errorMessage"}},
      {"sourceipaddress", "TEXT", {"sourceIPAddress"}},
      {"useragent", "TEXT", {"userAgent"}},
      {"readonly", "INTEGER", {"readOnly"}},
      {"eventcategory", "TEXT", {"eventCategory"}},
      {"eventtype", "TEXT", {"eventType"}},
      {"managementevent", "INTEGER", {"managementEvent"}},
      {"eventversion", "TEXT", {"eventVersion"}},
      {"requestid", "TEXT", {"requestID"}},
      {"sharedeventid", "TEXT", {"sharedEventID"}},
      {"vpcendpointid", "TEXT", {"vpcEndpointId"}},
      {"requestparameters", "TEXT", {"requestParameters"}},
      {"responseelements", "TEXT", {"responseElements"}},
      {"additionaleventdata", "TEXT", {"additionalEventData"}},
      {"resources", "TEXT", {"resources"}},
      {"eventjson", "TEXT", {}},
      {"commitindex", "INTEGER", {}},
      {"receipttime", "TEXT", {}},
      {"agentid", "TEXT", {}},
  };
  return kColumns;
}

std::string Schema() {
  std::string schema = "CREATE TABLE x(";
  const auto& columns = Columns();
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i) schema += ", ";
    schema += std::string(columns[i].name) + " " + columns[i].type;
  }
  return schema + ")";
}

std::string FormatSqlTime(int64_t time_us) {
  int64_t seconds = time_us / 1000000;
  int64_t micros = time_us % 1000000;
  if (micros < 0) {
    micros += 1000000;
    --seconds;
  }
  time_t t = static_cast<time_t>(seconds);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[48];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  std::string out = buf;
  if (micros != 0) {
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>(micros));
    out += frac;
  }
  return out;
}

std::optional<int64_t> ParseSqlTime(std::string_view text) {
  auto digits = [&](size_t pos, size_t n, int* out) {
    if (pos + n > text.size()) return false;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      v = v * 10 + (text[i] - '0');
    }
    *out = v;
    return true;
  };
  int year, month, day, hour = 0, minute = 0, second = 0;
  if (!digits(0, 4, &year) || text.size() < 10 || text[4] != '-' || !digits(5, 2, &month) || text[7] != '-' ||
      !digits(8, 2, &day)) {
    return std::nullopt;
  }
  if (text.size() > 10) {
    if (text.size() < 19 || text[10] != ' ' || !digits(11, 2, &hour) || text[13] != ':' || !digits(14, 2, &minute) ||
        text[16] != ':' || !digits(17, 2, &second)) {
      return std::nullopt;
    }
    if (text.size() > 19) {
      if (text[19] != '.') return std::nullopt;
      for (size_t i = 20; i < text.size(); ++i) {
        if (text[i] < '0' || text[i] > '9') return std::nullopt;
      }
    }
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  struct tm tm;
  std::memset(&tm, 0, sizeof tm);
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(timegm(&tm)) * 1000000;
}

}  // namespace orgtrail::collector::sql_events
