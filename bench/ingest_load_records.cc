// ingest_load_bench: CloudTrail record text (see ingest_load_records.h).
#include "ingest_load_records.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace orgtrail::ingest_load {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Objects at depth 2 of {"Records":[{...},...]}: their exact bytes.
void SplitRecords(const std::string& text, std::vector<std::string>* out) {
  int depth = 0;
  bool in_string = false, escape = false;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (escape) escape = false;
      else if (c == '\\') escape = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') {
      if (c == '{' && depth == 2) start = i;
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
      if (c == '}' && depth == 2) out->push_back(text.substr(start, i - start + 1));
    }
  }
}

// Replaces the value of the first "key":"..." member (same-length or not).
bool ReplaceStringMember(std::string* json, const std::string& key, const std::string& value) {
  const std::string needle = "\"" + key + "\":\"";
  size_t at = json->find(needle);
  if (at == std::string::npos) return false;
  size_t begin = at + needle.size();
  size_t end = json->find('"', begin);
  if (end == std::string::npos) return false;
  json->replace(begin, end - begin, value);
  return true;
}

std::string StringMember(const std::string& json, const std::string& key) {
  const std::string needle = "\"" + key + "\":\"";
  size_t at = json.find(needle);
  if (at == std::string::npos) return "";
  size_t begin = at + needle.size();
  size_t end = json.find('"', begin);
  return end == std::string::npos ? "" : json.substr(begin, end - begin);
}

}  // namespace orgtrail::ingest_load
