// Structured logging: one JSON object per line, e.g.
//   {"ts":"2026-11-21T20:00:00.123456Z","level":"warn","component":"collector",
//    "msg":"batch refused","agent":"spiffe://…","rule":"region_mismatch"}
// A Logger is created by main() and passed to the objects that log (no global
// logger). Thread-safe: each line is written with a single write(2).
// Under systemd (the fd is the journal stream named by $JOURNAL_STREAM) each
// line starts with its syslog priority, "<3>" for errors, "<4>" warnings,
// "<6>" info, "<7>" debug: journald strips it and files the line at that
// priority, so `journalctl -p err` finds the errors.
#ifndef ORGTRAIL_COMMON_LOGGER_H_
#define ORGTRAIL_COMMON_LOGGER_H_

#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>

namespace orgtrail {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
// "debug" | "info" | "warn" | "error"; false on anything else.
bool ParseLogLevel(std::string_view text, LogLevel* level);

struct LogField {
  using Value = std::variant<std::string_view, int64_t, uint64_t, double, bool>;
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, int v) : key(k), value(int64_t{v}) {}
  LogField(std::string_view k, long v) : key(k), value(int64_t{v}) {}
  LogField(std::string_view k, long long v) : key(k), value(int64_t{v}) {}
  LogField(std::string_view k, unsigned v) : key(k), value(uint64_t{v}) {}
  LogField(std::string_view k, unsigned long v) : key(k), value(uint64_t{v}) {}
  LogField(std::string_view k, unsigned long long v) : key(k), value(uint64_t{v}) {}
  LogField(std::string_view k, double v) : key(k), value(v) {}
  LogField(std::string_view k, bool v) : key(k), value(v) {}
  std::string_view key;
  Value value;
};

class Logger {
 public:
  // Writes to fd (default stderr). component is added to every line.
  explicit Logger(std::string component, int fd = 2, LogLevel min_level = LogLevel::kInfo);

  void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});
  void Debug(std::string_view msg, std::initializer_list<LogField> fields = {}) { Log(LogLevel::kDebug, msg, fields); }
  void Info(std::string_view msg, std::initializer_list<LogField> fields = {}) { Log(LogLevel::kInfo, msg, fields); }
  void Warn(std::string_view msg, std::initializer_list<LogField> fields = {}) { Log(LogLevel::kWarn, msg, fields); }
  void Error(std::string_view msg, std::initializer_list<LogField> fields = {}) { Log(LogLevel::kError, msg, fields); }

  void set_min_level(LogLevel level) { min_level_ = level; }

 private:
  std::string component_;
  int fd_;
  LogLevel min_level_;
  bool priority_prefix_;  // the fd is systemd's journal stream
};

// True when fd is the stream journald gave this process: journal_stream is the value of
// $JOURNAL_STREAM ("<device>:<inode>", null when unset) and fd's device and inode match it.
bool IsJournalStream(int fd, const char* journal_stream);

// JSON string escaping (quotes not included); invalid UTF-8 becomes \ufffd.
void AppendJsonEscaped(std::string* out, std::string_view text);

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_LOGGER_H_
