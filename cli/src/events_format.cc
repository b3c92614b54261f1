#include "events_format.h"

#include <cmath>
#include <string>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "orgtrail/common/hash.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/time_util.h"

namespace orgtrail::cli {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

std::string Indent(int level) { return std::string(static_cast<size_t>(level) * 4, ' '); }

// Appends `"name": value` lines with aws-cli's indentation; the caller adds commas.
class ObjectLines {
 public:
  ObjectLines(std::string* out, int level) : out_(out), level_(level) {}
  void String(std::string_view name, std::string_view value) {
    Member(name);
    out_->append(JsonQuote(value));
  }
  void Raw(std::string_view name, std::string_view json) {
    Member(name);
    out_->append(json.data(), json.size());
  }
  // Starts a member whose value the caller appends.
  void Member(std::string_view name) {
    out_->append(first_ ? "\n" : ",\n");
    first_ = false;
    out_->append(Indent(level_));
    out_->append(JsonQuote(name));
    out_->append(": ");
  }
  void Close() {
    out_->append("\n");
    out_->append(Indent(level_ - 1));
    out_->append("}");
  }

 private:
  std::string* out_;
  int level_;
  bool first_ = true;
};

std::string RenderLookupEvent(const v1::LookupEvent& event, int level) {
  std::string out = "{";
  ObjectLines lines(&out, level + 1);
  lines.String("EventId", event.event_id());
  lines.String("EventName", event.event_name());
  lines.String("ReadOnly", event.read_only());
  if (!event.access_key_id().empty()) lines.String("AccessKeyId", event.access_key_id());
  lines.String("EventTime", FormatAwsTimestamp(event.event_time_us()));
  lines.String("EventSource", event.event_source());
  if (!event.username().empty()) lines.String("Username", event.username());
  lines.Member("Resources");
  if (event.resources().empty()) {
    out += "[]";
  } else {
    out += "[";
    bool first = true;
    for (const auto& resource : event.resources()) {
      out += first ? "\n" : ",\n";
      first = false;
      out += Indent(level + 2) + "{";
      ObjectLines r(&out, level + 3);
      if (!resource.resource_type().empty()) r.String("ResourceType", resource.resource_type());
      r.String("ResourceName", resource.resource_name());
      r.Close();
    }
    out += "\n" + Indent(level + 1) + "]";
  }
  lines.String("CloudTrailEvent", event.cloudtrail_event());
  lines.Close();
  return out;
}

// Replaces tabs and newlines so one text/table cell stays on one line.
std::string Cell(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

Status MemberError(std::string_view member, std::string_view problem) {
  return absl::InvalidArgumentError(std::string(member) + ": " + std::string(problem));
}

const Value* Find(const Struct& object, const std::string& name) {
  auto it = object.fields().find(name);
  return it == object.fields().end() ? nullptr : &it->second;
}

StatusOr<std::string> RequiredString(const Struct& object, const std::string& path,
                                     const std::string& name) {
  const Value* value = Find(object, name);
  if (value == nullptr) return MemberError(path + name, "missing");
  if (value->kind_case() != Value::kStringValue) return MemberError(path + name, "expected a string");
  return value->string_value();
}

StatusOr<uint64_t> RequiredCount(const Struct& object, const std::string& path,
                                 const std::string& name, uint64_t max) {
  const Value* value = Find(object, name);
  if (value == nullptr) return MemberError(path + name, "missing");
  if (value->kind_case() != Value::kNumberValue) return MemberError(path + name, "expected a number");
  const double number = value->number_value();
  if (!(number >= 0) || number > static_cast<double>(max) || std::floor(number) != number) {
    return MemberError(path + name, "expected a whole number between 0 and " + std::to_string(max));
  }
  return static_cast<uint64_t>(number);
}

StatusOr<const Struct*> RequiredObject(const Struct& object, const std::string& name) {
  const Value* value = Find(object, name);
  if (value == nullptr) return MemberError(name, "missing");
  if (value->kind_case() != Value::kStructValue) return MemberError(name, "expected an object");
  return &value->struct_value();
}

StatusOr<std::string> RequiredHexDigest(const Struct& object, const std::string& path,
                                        const std::string& name) {
  auto text = RequiredString(object, path, name);
  if (!text.ok()) return text.status();
  auto bytes = HexDecode(*text);
  if (!bytes.ok() || bytes->size() != 32) {
    return MemberError(path + name, "expected 64 hex digits (a SHA-256 digest)");
  }
  return *bytes;
}

Status ParseProvenance(const Struct& object, v1::Provenance* out) {
  const std::string path = "Provenance.";
  auto header = RequiredString(object, path, "SignedHeader");
  if (!header.ok()) return header.status();
  out->set_signed_header(*header);
  auto signature = RequiredString(object, path, "Signature");
  if (!signature.ok()) return signature.status();
  auto signature_bytes = Base64Decode(*signature);
  if (!signature_bytes.ok()) return MemberError(path + "Signature", "expected base64");
  out->set_signature(*signature_bytes);
  auto algorithm = RequiredString(object, path, "SignatureAlgorithm");
  if (!algorithm.ok()) return algorithm.status();
  out->set_signature_algorithm(*algorithm);
  auto pem = RequiredString(object, path, "AgentCertificatePem");
  if (!pem.ok()) return pem.status();
  out->set_agent_certificate_pem(*pem);
  if (Find(object, "AgentCertificateSha256") != nullptr) {
    auto fingerprint = RequiredString(object, path, "AgentCertificateSha256");
    if (!fingerprint.ok()) return fingerprint.status();
    out->set_agent_certificate_sha256(*fingerprint);
  }
  auto root = RequiredHexDigest(object, path, "MerkleRoot");
  if (!root.ok()) return root.status();
  out->set_merkle_root(*root);
  auto leaf_index = RequiredCount(object, path, "LeafIndex", UINT32_MAX);
  if (!leaf_index.ok()) return leaf_index.status();
  out->set_leaf_index(static_cast<uint32_t>(*leaf_index));
  auto leaf_count = RequiredCount(object, path, "LeafCount", UINT32_MAX);
  if (!leaf_count.ok()) return leaf_count.status();
  out->set_leaf_count(static_cast<uint32_t>(*leaf_count));

  const Value* proof = Find(object, "InclusionProof");
  if (proof == nullptr) return MemberError(path + "InclusionProof", "missing");
  if (proof->kind_case() != Value::kListValue) {
    return MemberError(path + "InclusionProof", "expected an array of hex digests");
  }
  if (proof->list_value().values_size() > 64) {
    return MemberError(path + "InclusionProof", "longer than any proof in a batch can be");
  }
  for (int i = 0; i < proof->list_value().values_size(); ++i) {
    const Value& node = proof->list_value().values(i);
    const std::string name = path + "InclusionProof[" + std::to_string(i) + "]";
    if (node.kind_case() != Value::kStringValue) return MemberError(name, "expected a string");
    auto bytes = HexDecode(node.string_value());
    if (!bytes.ok() || bytes->size() != 32) return MemberError(name, "expected 64 hex digits");
    out->add_inclusion_proof(*bytes);
  }
  return absl::OkStatus();
}

void ParseMeta(const Struct& object, v1::StoredEventMeta* out) {
  auto text = [&](const char* name) -> std::string {
    const Value* v = Find(object, name);
    return v != nullptr && v->kind_case() == Value::kStringValue ? v->string_value() : "";
  };
  auto number = [&](const char* name) -> uint64_t {
    const Value* v = Find(object, name);
    if (v == nullptr || v->kind_case() != Value::kNumberValue) return 0;
    const double d = v->number_value();
    return d >= 0 && d < 1.8e19 ? static_cast<uint64_t>(d) : 0;
  };
  out->set_agent_id(text("AgentId"));
  out->set_partition_account_id(text("AccountId"));
  out->set_partition_region(text("Region"));
  out->set_receipt_time_us(static_cast<int64_t>(number("ReceiptTimeUs")));
  out->set_batch_sequence(number("BatchSequence"));
  out->set_batch_epoch(number("BatchEpoch"));
  out->set_leaf_index(static_cast<uint32_t>(std::min<uint64_t>(number("LeafIndex"), UINT32_MAX)));
  out->set_commit_index(number("CommitIndex"));
}

}  // namespace

StatusOr<OutputFormat> ParseOutputFormat(std::string_view text) {
  if (text == "json") return OutputFormat::kJson;
  if (text == "table") return OutputFormat::kTable;
  if (text == "text") return OutputFormat::kText;
  return absl::InvalidArgumentError("--output: expected json, table or text, got '" +
                                    std::string(text.substr(0, 64)) + "'");
}

std::string FormatAwsTimestamp(int64_t micros) {
  std::string text = FormatRfc3339Seconds(micros);
  if (!text.empty() && text.back() == 'Z') {
    text.pop_back();
    text += "+00:00";
  }
  return text;
}

std::string JsonQuote(std::string_view text) {
  std::string out = "\"";
  AppendJsonEscaped(&out, text);
  out += "\"";
  return out;
}

void LookupEventsWriter::Begin() {
  switch (format_) {
    case OutputFormat::kJson:
      std::fputs("{\n    \"Events\": [", out_);
      break;
    case OutputFormat::kTable:
      std::fprintf(out_, "%-25s | %-36s | %-30s | %-28s | %-12s | %-14s | %s\n", "EventTime",
                   "EventId", "EventName", "EventSource", "Account", "Region", "Username");
      std::fprintf(out_, "%s\n", std::string(170, '-').c_str());
      break;
    case OutputFormat::kText:
      break;
  }
}

void LookupEventsWriter::Add(const v1::LookupEvent& event) {
  switch (format_) {
    case OutputFormat::kJson: {
      const std::string rendered = RenderLookupEvent(event, 2);
      std::fprintf(out_, "%s\n%s%s", count_ == 0 ? "" : ",", Indent(2).c_str(), rendered.c_str());
      break;
    }
    case OutputFormat::kTable:
      std::fprintf(out_, "%-25s | %-36s | %-30s | %-28s | %-12s | %-14s | %s\n",
                   FormatAwsTimestamp(event.event_time_us()).c_str(), Cell(event.event_id()).c_str(),
                   Cell(event.event_name()).c_str(), Cell(event.event_source()).c_str(),
                   Cell(event.account_id()).c_str(), Cell(event.region()).c_str(),
                   Cell(event.username()).c_str());
      break;
    case OutputFormat::kText:
      // aws-cli text: one line per object, scalar members in alphabetical order.
      std::fprintf(out_, "EVENTS\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
                   Cell(event.access_key_id()).c_str(), Cell(event.cloudtrail_event()).c_str(),
                   Cell(event.event_id()).c_str(), Cell(event.event_name()).c_str(),
                   Cell(event.event_source()).c_str(),
                   FormatAwsTimestamp(event.event_time_us()).c_str(), event.read_only().c_str(),
                   Cell(event.username()).c_str());
      for (const auto& resource : event.resources()) {
        std::fprintf(out_, "RESOURCES\t%s\t%s\n", Cell(resource.resource_name()).c_str(),
                     Cell(resource.resource_type()).c_str());
      }
      break;
  }
  ++count_;
}

void LookupEventsWriter::End(std::string_view next_token) {
  switch (format_) {
    case OutputFormat::kJson:
      std::fputs(count_ == 0 ? "]" : "\n    ]", out_);
      if (!next_token.empty()) {
        std::fprintf(out_, ",\n    \"NextToken\": %s", JsonQuote(next_token).c_str());
      }
      std::fputs("\n}\n", out_);
      break;
    case OutputFormat::kTable:
      std::fprintf(out_, "(%d events)\n", count_);
      if (!next_token.empty()) std::fprintf(out_, "NextToken: %s\n", Cell(next_token).c_str());
      break;
    case OutputFormat::kText:
      if (!next_token.empty()) std::fprintf(out_, "NEXTTOKEN\t%s\n", Cell(next_token).c_str());
      break;
  }
  std::fflush(out_);
}

std::string FormatGetEventDocument(const v1::GetEventResponse& response) {
  const v1::StoredEventMeta& meta = response.meta();
  const v1::Provenance& provenance = response.provenance();
  std::string out = "{";
  ObjectLines top(&out, 1);
  top.String("EventId", response.event().event_id());
  top.String("CloudTrailEvent", response.event().raw_json());

  top.Member("Meta");
  out += "{";
  ObjectLines m(&out, 2);
  m.String("ReceiptTime", FormatAwsTimestamp(meta.receipt_time_us()));
  m.Raw("ReceiptTimeUs", std::to_string(meta.receipt_time_us()));
  m.String("AgentId", meta.agent_id());
  m.Raw("BatchSequence", std::to_string(meta.batch_sequence()));
  m.Raw("BatchEpoch", std::to_string(meta.batch_epoch()));
  m.Raw("LeafIndex", std::to_string(meta.leaf_index()));
  m.String("AccountId", meta.partition_account_id());
  m.String("Region", meta.partition_region());
  m.Raw("CommitIndex", std::to_string(meta.commit_index()));
  m.Close();

  top.Member("Provenance");
  out += "{";
  ObjectLines p(&out, 2);
  p.String("SignedHeader", provenance.signed_header());
  p.String("Signature", Base64Encode(provenance.signature()));
  p.String("SignatureAlgorithm", provenance.signature_algorithm());
  p.String("AgentCertificatePem", provenance.agent_certificate_pem());
  p.String("AgentCertificateSha256", provenance.agent_certificate_sha256());
  p.String("MerkleRoot", HexEncode(provenance.merkle_root()));
  p.Raw("LeafIndex", std::to_string(provenance.leaf_index()));
  p.Raw("LeafCount", std::to_string(provenance.leaf_count()));
  p.Member("InclusionProof");
  if (provenance.inclusion_proof().empty()) {
    out += "[]";
  } else {
    out += "[";
    bool first = true;
    for (const auto& node : provenance.inclusion_proof()) {
      out += first ? "\n" : ",\n";
      first = false;
      out += Indent(3) + JsonQuote(HexEncode(node));
    }
    out += "\n" + Indent(2) + "]";
  }
  p.Close();
  top.Close();
  out += "\n";
  return out;
}

StatusOr<v1::GetEventResponse> ParseGetEventDocument(std::string_view json) {
  if (json.size() > kMaxGetEventDocumentBytes) {
    return absl::InvalidArgumentError("document is larger than " +
                                      std::to_string(kMaxGetEventDocumentBytes) + " bytes");
  }
  Struct document;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  const auto parsed = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &document, options);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError("not a get-event JSON document: " +
                                      std::string(parsed.message().data(), parsed.message().size()));
  }
  v1::GetEventResponse response;
  auto event_id = RequiredString(document, "", "EventId");
  if (!event_id.ok()) return event_id.status();
  auto record = RequiredString(document, "", "CloudTrailEvent");
  if (!record.ok()) return record.status();
  response.mutable_event()->set_event_id(*event_id);
  response.mutable_event()->set_raw_json(*record);
  if (const Value* meta = Find(document, "Meta"); meta != nullptr) {
    if (meta->kind_case() != Value::kStructValue) return MemberError("Meta", "expected an object");
    ParseMeta(meta->struct_value(), response.mutable_meta());
  }
  auto provenance = RequiredObject(document, "Provenance");
  if (!provenance.ok()) return provenance.status();
  ORGTRAIL_RETURN_IF_ERROR(ParseProvenance(**provenance, response.mutable_provenance()));
  return response;
}

namespace {
bool AllDigitsText(const std::string& text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}
}  // namespace

// aws-cli accepts ISO 8601 / RFC 3339 timestamps, dates, and epoch seconds.
StatusOr<int64_t> ParseCliTime(const std::string& option, const std::string& text) {
  const auto error = [&]() {
    return absl::InvalidArgumentError(
        option + ": expected an ISO 8601 / RFC 3339 time (2021-06-01T12:00:00Z), a date "
                 "(2021-06-01) or epoch seconds, got '" + text.substr(0, 64) + "'");
  };
  const size_t dot = text.find('.');
  const std::string whole = text.substr(0, dot);
  if (AllDigitsText(whole) && (dot == std::string::npos || AllDigitsText(text.substr(dot + 1)))) {
    if (whole.size() > 11) return error();  // beyond year 5000
    int64_t micros = std::stoll(whole) * 1'000'000;
    if (dot != std::string::npos) {
      std::string fraction = text.substr(dot + 1, 6);
      fraction.resize(6, '0');
      micros += std::stoll(fraction);
    }
    return micros;
  }
  std::string normalized = text;
  if (normalized.size() == 10) normalized += "T00:00:00Z";  // a date
  if (normalized.size() > 10 && normalized[10] == ' ') normalized[10] = 'T';
  const size_t time_part = normalized.find('T');
  if (time_part != std::string::npos) {
    const std::string clock = normalized.substr(time_part);
    const bool has_zone = clock.find_first_of("Zz+-") != std::string::npos;
    if (!has_zone) normalized += "Z";  // no zone given: UTC
  }
  auto micros = ParseRfc3339Micros(normalized);
  if (!micros.ok()) return error();
  return *micros;
}

}  // namespace orgtrail::cli
