// Record: dotted-path selection over a simdjson DOM, with implicit array expansion.
#include "orgtrail/detections/record.h"

#include <cstdio>

#include "orgtrail/common/str_cat.h"

namespace orgtrail::detections {

namespace dom = simdjson::dom;

namespace {
constexpr size_t kMaxRecordBytes = 16u << 20;
constexpr size_t kMaxDepth = 256;

void SelectFrom(dom::element current, const std::vector<std::string>& steps, size_t step,
                Values* out) {
  if (current.is_array()) {
    for (dom::element item : dom::array(current)) SelectFrom(item, steps, step, out);
    return;
  }
  if (step == steps.size()) {
    out->push_back(current);
    return;
  }
  dom::object object;
  if (current.get_object().get(object) != simdjson::SUCCESS) return;
  dom::element child;
  if (object.at_key(steps[step]).get(child) != simdjson::SUCCESS) return;
  SelectFrom(child, steps, step + 1, out);
}
// JSON text of an object or array with the string contents left unescaped, so that a JSON document
// embedded in a string (CloudTrail's policyDocument) reads as written: `"Action":"s3:GetObject"`
// rather than `\"Action\":\"s3:GetObject\"`.
void AppendText(dom::element value, std::string* out) {
  switch (value.type()) {
    case dom::element_type::STRING: {
      std::string_view text;
      if (value.get_string().get(text) != simdjson::SUCCESS) return;
      out->push_back('"');
      out->append(text.data(), text.size());
      out->push_back('"');
      return;
    }
    case dom::element_type::ARRAY: {
      out->push_back('[');
      bool first = true;
      for (dom::element item : dom::array(value)) {
        if (!first) out->push_back(',');
        first = false;
        AppendText(item, out);
      }
      out->push_back(']');
      return;
    }
    case dom::element_type::OBJECT: {
      out->push_back('{');
      bool first = true;
      for (auto field : dom::object(value)) {
        if (!first) out->push_back(',');
        first = false;
        out->push_back('"');
        out->append(field.key.data(), field.key.size());
        out->append("\":");
        AppendText(field.value, out);
      }
      out->push_back('}');
      return;
    }
    case dom::element_type::NULL_VALUE: out->append("null"); return;
    default: {
      std::string scalar;
      if (ValueText(value, &scalar)) out->append(scalar);
    }
  }
}
}  // namespace

FieldPath FieldPath::Parse(std::string_view dotted) {
  FieldPath path;
  path.text = std::string(dotted);
  size_t start = 0;
  while (true) {
    size_t dot = dotted.find('.', start);
    path.steps.emplace_back(dotted.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return path;
}

void Record::Select(const FieldPath& path, Values* out) const {
  // The root itself is an object; arrays are expanded at every step after it.
  dom::object object;
  if (root_.get_object().get(object) != simdjson::SUCCESS || path.steps.empty()) return;
  dom::element child;
  if (object.at_key(path.steps[0]).get(child) != simdjson::SUCCESS) return;
  SelectFrom(child, path.steps, 1, out);
}

bool Record::Exists(const FieldPath& path) const {
  Values values;
  Select(path, &values);
  return !values.empty();
}

RecordParser::RecordParser() : parser_(kMaxRecordBytes) {
  // Once: parse() grows the capacity when a record needs it (keeping the depth limit); calling
  // allocate() per record reallocated the parser's buffers every time.
  allocation_ = parser_.allocate(64 * 1024, kMaxDepth) == simdjson::SUCCESS;
}

StatusOr<Record> RecordParser::Parse(std::string_view json) {
  if (json.size() > kMaxRecordBytes) {
    return absl::InvalidArgumentError(StrCat("record of ", json.size(), " bytes exceeds the ",
                                             kMaxRecordBytes, "-byte limit"));
  }
  buffer_.assign(json.data(), json.size());
  buffer_.append(simdjson::SIMDJSON_PADDING, '\0');
  if (!allocation_) return absl::ResourceExhaustedError("cannot allocate the JSON parser");
  dom::element root;
  auto error = parser_.parse(buffer_.data(), json.size(), false).get(root);
  if (error != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(StrCat("record is not valid JSON: ", simdjson::error_message(error)));
  }
  if (!root.is_object()) return absl::InvalidArgumentError("record is not a JSON object");
  return Record(root);
}

bool ValueView(dom::element value, std::string* storage, std::string_view* out) {
  if (value.type() == dom::element_type::STRING) return value.get_string().get(*out) == simdjson::SUCCESS;
  if (!ValueText(value, storage)) return false;
  *out = *storage;
  return true;
}

bool ValueText(dom::element value, std::string* out) {
  switch (value.type()) {
    case dom::element_type::STRING: {
      std::string_view text;
      if (value.get_string().get(text) != simdjson::SUCCESS) return false;
      out->assign(text.data(), text.size());
      return true;
    }
    case dom::element_type::INT64: out->assign(std::to_string(int64_t(value))); return true;
    case dom::element_type::UINT64: out->assign(std::to_string(uint64_t(value))); return true;
    case dom::element_type::DOUBLE: {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%.17g", double(value));
      // Shortest form that round-trips.
      for (int precision = 1; precision <= 17; ++precision) {
        char shorter[64];
        std::snprintf(shorter, sizeof(shorter), "%.*g", precision, double(value));
        if (std::strtod(shorter, nullptr) == double(value)) {
          out->assign(shorter);
          return true;
        }
      }
      out->assign(buf);
      return true;
    }
    case dom::element_type::BOOL: out->assign(bool(value) ? "true" : "false"); return true;
    case dom::element_type::NULL_VALUE: return false;
    case dom::element_type::ARRAY:
    case dom::element_type::OBJECT:
      out->clear();
      AppendText(value, out);
      return true;
  }
  return false;
}

}  // namespace orgtrail::detections
