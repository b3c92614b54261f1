// Byte-exact record splitting for CloudTrail files (see record_splitter.h).
#include "orgtrail/agent/record_splitter.h"

#include <zlib.h>

namespace orgtrail::agent {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t SkipSpace(std::string_view text, size_t pos) {
  while (pos < text.size() && IsSpace(text[pos])) ++pos;
  return pos;
}

Status ErrorAt(size_t pos, const std::string& what) {
  return absl::InvalidArgumentError(what + " at byte " + std::to_string(pos));
}

// Skips a string starting at text[pos] == '"'; returns the index after the
// closing quote.
StatusOr<size_t> SkipString(std::string_view text, size_t pos) {
  for (size_t i = pos + 1; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
      continue;
    }
    if (text[i] == '"') return i + 1;
  }
  return ErrorAt(pos, "unterminated string");
}

}  // namespace

StatusOr<size_t> SkipJsonValue(std::string_view text, size_t pos) {
  pos = SkipSpace(text, pos);
  if (pos >= text.size()) return ErrorAt(pos, "expected a JSON value, got end of input");
  const char first = text[pos];
  if (first == '"') return SkipString(text, pos);
  if (first != '{' && first != '[') {
    // Scalar: up to the next structural character or whitespace.
    size_t end = pos;
    while (end < text.size() && !IsSpace(text[end]) && text[end] != ',' && text[end] != ']' &&
           text[end] != '}' && text[end] != ':') {
      ++end;
    }
    if (end == pos) return ErrorAt(pos, std::string("unexpected character '") + first + "'");
    return end;
  }
  // Container: iterate with an explicit stack of expected closers.
  std::string closers;
  for (size_t i = pos; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      auto end = SkipString(text, i);
      if (!end.ok()) return end.status();
      i = *end - 1;
    } else if (c == '{' || c == '[') {
      if (closers.size() >= 4096) return ErrorAt(i, "nesting deeper than 4096");
      closers.push_back(c == '{' ? '}' : ']');
    } else if (c == '}' || c == ']') {
      if (closers.empty() || closers.back() != c) return ErrorAt(i, "unbalanced brackets");
      closers.pop_back();
      if (closers.empty()) return i + 1;
    }
  }
  return ErrorAt(pos, "unterminated JSON container (truncated file?)");
}

namespace {

StatusOr<std::vector<std::string_view>> SplitArray(std::string_view text, size_t open,
                                                   size_t* after) {
  std::vector<std::string_view> out;
  size_t pos = SkipSpace(text, open + 1);
  if (pos < text.size() && text[pos] == ']') {
    *after = pos + 1;
    return out;
  }
  while (true) {
    pos = SkipSpace(text, pos);
    auto end = SkipJsonValue(text, pos);
    if (!end.ok()) return end.status();
    out.push_back(text.substr(pos, *end - pos));
    pos = SkipSpace(text, *end);
    if (pos >= text.size()) return ErrorAt(pos, "unterminated array");
    if (text[pos] == ',') {
      ++pos;
      continue;
    }
    if (text[pos] == ']') {
      *after = pos + 1;
      return out;
    }
    return ErrorAt(pos, "expected ',' or ']' in array");
  }
}

// For {"Records":[...]}: the Records array's records; NOT_FOUND if the object
// has no Records member (then it is a single record: JSON Lines).
StatusOr<std::vector<std::string_view>> SplitRecordsWrapper(std::string_view text, size_t open,
                                                            size_t* after) {
  size_t pos = SkipSpace(text, open + 1);
  std::vector<std::string_view> records;
  bool found = false;
  if (pos < text.size() && text[pos] == '}') {
    *after = pos + 1;
    return absl::NotFoundError("no Records");
  }
  while (true) {
    pos = SkipSpace(text, pos);
    if (pos >= text.size() || text[pos] != '"') return ErrorAt(pos, "expected a member name");
    auto key_end = SkipString(text, pos);
    if (!key_end.ok()) return key_end.status();
    const std::string_view key = text.substr(pos + 1, *key_end - pos - 2);
    pos = SkipSpace(text, *key_end);
    if (pos >= text.size() || text[pos] != ':') return ErrorAt(pos, "expected ':'");
    pos = SkipSpace(text, pos + 1);
    if (key == "Records") {
      if (pos >= text.size() || text[pos] != '[') {
        return ErrorAt(pos, "\"Records\" must be an array");
      }
      size_t array_end = 0;
      auto split = SplitArray(text, pos, &array_end);
      if (!split.ok()) return split.status();
      records = std::move(*split);
      found = true;
      pos = array_end;
    } else {
      auto end = SkipJsonValue(text, pos);
      if (!end.ok()) return end.status();
      pos = *end;
    }
    pos = SkipSpace(text, pos);
    if (pos >= text.size()) return ErrorAt(pos, "unterminated object");
    if (text[pos] == ',') {
      ++pos;
      continue;
    }
    if (text[pos] == '}') {
      *after = pos + 1;
      break;
    }
    return ErrorAt(pos, "expected ',' or '}' in object");
  }
  if (!found) return absl::NotFoundError("no Records");
  return records;
}

}  // namespace

StatusOr<SplitResult> SplitRecords(std::string_view text) {
  SplitResult result;
  size_t pos = SkipSpace(text, 0);
  if (pos >= text.size()) return result;  // empty file: no records
  if (text[pos] == '[') {
    size_t after = 0;
    auto records = SplitArray(text, pos, &after);
    if (!records.ok()) return records.status();
    if (SkipSpace(text, after) != text.size()) return ErrorAt(after, "trailing bytes after the array");
    result.format = FileFormat::kJsonArray;
    result.records = std::move(*records);
    return result;
  }
  if (text[pos] != '{') {
    return ErrorAt(pos, "not a CloudTrail file: expected '{' or '['");
  }
  size_t after = 0;
  auto wrapper = SplitRecordsWrapper(text, pos, &after);
  if (wrapper.ok()) {
    if (SkipSpace(text, after) != text.size()) {
      return ErrorAt(after, "trailing bytes after the Records object");
    }
    result.format = FileFormat::kRecordsWrapper;
    result.records = std::move(*wrapper);
    return result;
  }
  if (!absl::IsNotFound(wrapper.status())) return wrapper.status();
  // JSON Lines (a file of single records). A final line without a newline
  // counts as a record here (the file is complete).
  result.format = FileFormat::kJsonLines;
  size_t consumed = 0;
  result.records = SplitJsonLines(text, &consumed);
  std::string_view rest = text.substr(consumed);
  const size_t rest_start = SkipSpace(rest, 0);
  if (rest_start < rest.size()) result.records.push_back(rest.substr(rest_start));
  return result;
}

std::vector<std::string_view> SplitJsonLines(std::string_view text, size_t* consumed) {
  std::vector<std::string_view> out;
  size_t start = 0;
  *consumed = 0;
  while (start < text.size()) {
    const size_t newline = text.find('\n', start);
    if (newline == std::string_view::npos) break;
    std::string_view line = text.substr(start, newline - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const size_t first = SkipSpace(line, 0);
    if (first < line.size()) out.push_back(line.substr(first));
    start = newline + 1;
    *consumed = start;
  }
  return out;
}

StatusOr<std::string> Gunzip(std::string_view compressed, size_t max_output_bytes) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return absl::InternalError("inflateInit2 failed");
  std::string out;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  zs.avail_in = static_cast<uInt>(compressed.size());
  char buffer[64 * 1024];
  int ret = Z_OK;
  while (true) {
    zs.next_out = reinterpret_cast<Bytef*>(buffer);
    zs.avail_out = sizeof(buffer);
    ret = inflate(&zs, Z_NO_FLUSH);
    if (ret != Z_OK && ret != Z_STREAM_END) break;
    out.append(buffer, sizeof(buffer) - zs.avail_out);
    if (out.size() > max_output_bytes) {
      inflateEnd(&zs);
      return absl::ResourceExhaustedError("gzip content larger than " +
                                          std::to_string(max_output_bytes) + " bytes");
    }
    if (ret == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      // Concatenated gzip members are legal; anything else is trailing garbage.
      if (inflateReset(&zs) != Z_OK) break;
      continue;
    }
    if (zs.avail_in == 0 && zs.avail_out != 0) {
      ret = Z_BUF_ERROR;
      break;
    }
  }
  const std::string zlib_message = zs.msg ? std::string(": ") + zs.msg : std::string();
  inflateEnd(&zs);
  if (ret != Z_STREAM_END) {
    return absl::InvalidArgumentError("corrupt or truncated gzip data" + zlib_message);
  }
  return out;
}

}  // namespace orgtrail::agent
