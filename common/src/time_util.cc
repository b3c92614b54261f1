#include "orgtrail/common/time_util.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace orgtrail {
namespace {

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return (m == 2 && IsLeap(y)) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil { int64_t year; unsigned month, day, hour, minute, second; };

Civil CivilFromMicros(int64_t micros) {
  int64_t secs = micros / 1000000;
  if (micros % 1000000 < 0) --secs;
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) { rem += 86400; --days; }
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  Civil c;
  c.day = doy - (153 * mp + 2) / 5 + 1;
  c.month = mp < 10 ? mp + 3 : mp - 9;
  c.year = static_cast<int64_t>(yoe) + era * 400 + (c.month <= 2);
  c.hour = static_cast<unsigned>(rem / 3600);
  c.minute = static_cast<unsigned>((rem % 3600) / 60);
  c.second = static_cast<unsigned>(rem % 60);
  return c;
}

bool ReadDigits(std::string_view s, size_t pos, size_t n, int64_t* out) {
  if (pos + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char ch = s[pos + i];
    if (ch < '0' || ch > '9') return false;
    v = v * 10 + (ch - '0');
  }
  *out = v;
  return true;
}

Status Invalid(std::string_view text, const char* why) {
  std::string shown(text.substr(0, 64));
  return absl::InvalidArgumentError(std::string("invalid RFC 3339 time '") + shown + "': " + why);
}

}  // namespace

StatusOr<int64_t> ParseRfc3339Micros(std::string_view s) {
  int64_t year, month, day, hour, minute, second;
  if (!ReadDigits(s, 0, 4, &year) || s.size() < 20 || s[4] != '-' || !ReadDigits(s, 5, 2, &month) ||
      s[7] != '-' || !ReadDigits(s, 8, 2, &day) || (s[10] != 'T' && s[10] != 't') ||
      !ReadDigits(s, 11, 2, &hour) || s[13] != ':' || !ReadDigits(s, 14, 2, &minute) ||
      s[16] != ':' || !ReadDigits(s, 17, 2, &second)) {
    return Invalid(s, "expected YYYY-MM-DDTHH:MM:SS");
  }
  if (month < 1 || month > 12) return Invalid(s, "month out of range");
  if (day < 1 || day > DaysInMonth(year, static_cast<int>(month))) return Invalid(s, "day out of range");
  if (hour > 23 || minute > 59 || second > 60) return Invalid(s, "time of day out of range");
  if (second == 60) second = 59;  // leap second: clamp
  size_t pos = 19;
  int64_t frac_us = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 6) frac_us = frac_us * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return Invalid(s, "empty fraction");
    if (digits > 18) return Invalid(s, "fraction too long");
    for (size_t i = digits; i < 6; ++i) frac_us *= 10;
  }
  if (pos >= s.size()) return Invalid(s, "missing time zone");
  int64_t offset_seconds = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int64_t oh, om;
    if (!ReadDigits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !ReadDigits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return Invalid(s, "bad zone offset");
    }
    offset_seconds = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return Invalid(s, "bad time zone");
  }
  if (pos != s.size()) return Invalid(s, "trailing characters");
  const int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  return secs * 1000000 + frac_us;
}

std::string FormatRfc3339Seconds(int64_t micros) {
  const Civil c = CivilFromMicros(micros);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02u:%02u:%02uZ", static_cast<long long>(c.year),
                c.month, c.day, c.hour, c.minute, c.second);
  return buf;
}

std::string FormatCompactMinute(int64_t micros) {
  const Civil c = CivilFromMicros(micros);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04lld%02u%02uT%02u%02uZ", static_cast<long long>(c.year), c.month,
                c.day, c.hour, c.minute);
  return buf;
}

std::string FormatCompactSecond(int64_t micros) {
  const Civil c = CivilFromMicros(micros);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04lld%02u%02uT%02u%02u%02uZ", static_cast<long long>(c.year),
                c.month, c.day, c.hour, c.minute, c.second);
  return buf;
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace orgtrail
