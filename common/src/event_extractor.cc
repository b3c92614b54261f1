// CloudTrail record -> v1::Event with the simdjson DOM parser.
//
// Why DOM (not On-Demand): DOM validates the whole document (structure,
// UTF-8, string escapes, max depth) before we read a single field, so a
// record whose unread tail is broken can never be accepted. On a 1 KB record
// the full parse costs well under a microsecond (bench/common_bench.cc).
//
// Defined results beyond the header contract:
// - Duplicate keys: a record with a duplicate key among the members we read
//   (any top-level member this file extracts, and the members read inside
//   userIdentity, sessionContext, sessionContext.attributes, onBehalfOf,
//   tlsDetails, additionalEventData.MFAUsed and each resources[] entry) is
//   refused with INVALID_ARGUMENT ("duplicate key \"userIdentity.arn\""): two
//   JSON readers may disagree on which copy wins, which would let a record say
//   one thing to our indexes and another to a downstream tool. Duplicates of
//   members we do not read are kept as-is (raw bytes are never rewritten).
// - JSON null counts as absent for every optional member. A present member of
//   the wrong JSON type is refused ("readOnly: expected boolean, got string"),
//   with one tolerance: sessionCredentialFromConsole is documented as the
//   string "true", but normalising pipelines (e.g. Panther) emit a JSON
//   boolean; true/false are accepted and stored as "true"/"false".
// - recipientAccountId absent, null or "" -> userIdentity.accountId (flagged).
// - eventID absent -> event_id_missing (event_id stays empty). A present but
//   null or "" eventID is refused: AssignEventId cannot repair it (inserting a
//   new member would create a duplicate key).
// - Username (Event history rules, see docs "userIdentity" + LookupEvents):
//     IAMUser            -> userName
//     AssumedRole        -> role session name: last '/' segment of arn
//                           (else the part of principalId after ':')
//     Root               -> "root" (Event history shows "root" whether or not
//                           the account has an alias; userName carries the alias)
//     FederatedUser      -> the name after "federated-user/" in arn
//                           (else the part of principalId after ':')
//     AWSService         -> invokedBy
//     IdentityCenterUser -> onBehalfOf.userId, else userName
//     anything else / empty result -> userName, then principalId.
#include "orgtrail/common/event_extractor.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "orgtrail/common/time_util.h"

namespace orgtrail {
namespace {

namespace dom = simdjson::dom;

const char* JsonTypeName(dom::element_type type) {
  switch (type) {
    case dom::element_type::ARRAY: return "array";
    case dom::element_type::OBJECT: return "object";
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
    case dom::element_type::DOUBLE: return "number";
    case dom::element_type::STRING: return "string";
    case dom::element_type::BOOL: return "boolean";
    case dom::element_type::NULL_VALUE: return "null";
  }
  return "unknown";
}

Status WrongType(std::string_view path, const char* expected, const dom::element& value) {
  return absl::InvalidArgumentError(std::string(path) + ": expected " + expected + ", got " +
                                    JsonTypeName(value.type()));
}

Status DuplicateKey(std::string_view path) {
  return absl::InvalidArgumentError("duplicate key \"" + std::string(path) + "\"");
}

// Optional string member: null = absent.
Status ReadString(const dom::element& value, std::string_view path, std::string_view* out) {
  if (value.is_null()) return absl::OkStatus();
  if (value.get_string().get(*out) != simdjson::SUCCESS) return WrongType(path, "string", value);
  return absl::OkStatus();
}

Status ReadBool(const dom::element& value, std::string_view path, std::optional<bool>* out) {
  if (value.is_null()) return absl::OkStatus();
  bool b = false;
  if (value.get_bool().get(b) != simdjson::SUCCESS) return WrongType(path, "boolean", value);
  *out = b;
  return absl::OkStatus();
}

// Null or object; `*present` tells which.
Status ReadObject(const dom::element& value, std::string_view path, dom::object* out,
                  bool* present) {
  *present = false;
  if (value.is_null()) return absl::OkStatus();
  if (value.get_object().get(*out) != simdjson::SUCCESS) return WrongType(path, "object", value);
  *present = true;
  return absl::OkStatus();
}

// A fixed table of member names read inside one JSON object, with
// duplicate detection by bitmask.
template <size_t N>
struct MemberTable {
  const std::string_view (&names)[N];
  std::string_view prefix;  // path prefix for messages, e.g. "userIdentity."

  // Index of `key` in names, or -1.
  int Find(std::string_view key) const {
    // Length and first byte reject almost every candidate before memcmp.
    for (size_t i = 0; i < N; ++i) {
      const std::string_view name = names[i];
      if (key.size() == name.size() && !key.empty() && key[0] == name[0] &&
          std::memcmp(key.data() + 1, name.data() + 1, key.size() - 1) == 0) {
        return static_cast<int>(i);
      }
    }
    return -1;
  }
};

// Iterates `object`, calling on_member(index, value) once per known member;
// refuses a known member that appears twice.
template <size_t N, typename OnMember>
Status ForEachKnownMember(const dom::object& object, const MemberTable<N>& table,
                          OnMember&& on_member) {
  static_assert(N <= 64, "bitmask");
  uint64_t seen = 0;
  for (dom::key_value_pair field : object) {
    const int index = table.Find(field.key);
    if (index < 0) continue;
    const uint64_t bit = uint64_t{1} << index;
    if (seen & bit) return DuplicateKey(std::string(table.prefix) + std::string(table.names[index]));
    seen |= bit;
    ORGTRAIL_RETURN_IF_ERROR(on_member(index, field.value));
  }
  return absl::OkStatus();
}

// ---- member tables -------------------------------------------------------

enum TopMember {
  kEventId, kEventTime, kEventSource, kEventName, kAwsRegion, kRecipientAccountId, kEventType,
  kEventCategory, kReadOnly, kManagementEvent, kErrorCode, kErrorMessage, kSourceIp, kUserAgent,
  kVpcEndpointId, kSharedEventId, kSessionCredentialFromConsole, kUserIdentity, kTlsDetails,
  kAdditionalEventData, kResources, kInsightDetails, kTopMemberCount
};
constexpr std::string_view kTopNames[] = {
    "eventID", "eventTime", "eventSource", "eventName", "awsRegion", "recipientAccountId",
    "eventType", "eventCategory", "readOnly", "managementEvent", "errorCode", "errorMessage",
    "sourceIPAddress", "userAgent", "vpcEndpointId", "sharedEventID",
    "sessionCredentialFromConsole", "userIdentity", "tlsDetails", "additionalEventData",
    "resources", "insightDetails"};
static_assert(sizeof(kTopNames) / sizeof(kTopNames[0]) == kTopMemberCount, "table");

enum IdentityMember {
  kIdType, kIdPrincipalId, kIdArn, kIdAccountId, kIdAccessKeyId, kIdUserName, kIdInvokedBy,
  kIdSessionContext, kIdOnBehalfOf, kIdentityMemberCount
};
constexpr std::string_view kIdentityNames[] = {"type",     "principalId", "arn",
                                      "accountId", "accessKeyId", "userName",
                                      "invokedBy", "sessionContext", "onBehalfOf"};
static_assert(sizeof(kIdentityNames) / sizeof(kIdentityNames[0]) == kIdentityMemberCount, "table");

constexpr std::string_view kSessionContextNames[] = {"attributes"};
constexpr std::string_view kAttributesNames[] = {"mfaAuthenticated"};
constexpr std::string_view kOnBehalfOfNames[] = {"userId"};
constexpr std::string_view kTlsNames[] = {"clientProvidedHostHeader"};
constexpr std::string_view kAdditionalNames[] = {"MFAUsed"};
// An Insights record names the API it is about inside insightDetails, not at the top level.
constexpr std::string_view kInsightDetailsNames[] = {"eventSource", "eventName"};
constexpr std::string_view kInsightDetailsPaths[] = {"insightDetails.eventSource", "insightDetails.eventName"};
constexpr std::string_view kResourceNames[] = {"type", "ARN", "accountId"};
constexpr std::string_view kResourcePaths[] = {"resources[].type", "resources[].ARN",
                                               "resources[].accountId"};

// Fields of userIdentity needed for the username rules.
struct IdentityFields {
  std::string_view type, principal_id, arn, account_id, access_key_id, user_name, invoked_by;
  std::string_view mfa_authenticated, on_behalf_of_user_id;
};

std::string_view AfterLast(std::string_view text, char sep) {
  const size_t pos = text.rfind(sep);
  return pos == std::string_view::npos ? std::string_view() : text.substr(pos + 1);
}

std::string_view AfterMarker(std::string_view text, std::string_view marker) {
  const size_t pos = text.find(marker);
  return pos == std::string_view::npos ? std::string_view() : text.substr(pos + marker.size());
}

std::string_view EventHistoryUsername(const IdentityFields& id) {
  std::string_view name;
  if (id.type == "IAMUser") {
    name = id.user_name;
  } else if (id.type == "AssumedRole") {
    name = AfterMarker(id.arn, ":assumed-role/");
    name = name.empty() ? std::string_view() : AfterLast(name, '/');
    if (name.empty()) name = AfterLast(id.principal_id, ':');
  } else if (id.type == "Root") {
    name = "root";
  } else if (id.type == "FederatedUser") {
    name = AfterMarker(id.arn, ":federated-user/");
    if (name.empty()) name = AfterLast(id.principal_id, ':');
  } else if (id.type == "AWSService") {
    name = id.invoked_by;
  } else if (id.type == "IdentityCenterUser") {
    name = id.on_behalf_of_user_id;
  }
  if (name.empty()) name = id.user_name;
  if (name.empty()) name = id.principal_id;
  return name;
}

Status ReadSessionContext(const dom::element& value, IdentityFields* id) {
  dom::object context;
  bool present = false;
  ORGTRAIL_RETURN_IF_ERROR(
      ReadObject(value, "userIdentity.sessionContext", &context, &present));
  if (!present) return absl::OkStatus();
  static const MemberTable<1> kTable{kSessionContextNames, "userIdentity.sessionContext."};
  return ForEachKnownMember(context, kTable, [&](int, const dom::element& attrs_value) {
    dom::object attrs;
    bool attrs_present = false;
    ORGTRAIL_RETURN_IF_ERROR(ReadObject(attrs_value, "userIdentity.sessionContext.attributes",
                                        &attrs, &attrs_present));
    if (!attrs_present) return absl::OkStatus();
    static const MemberTable<1> kAttrs{kAttributesNames, "userIdentity.sessionContext.attributes."};
    return ForEachKnownMember(attrs, kAttrs, [&](int, const dom::element& mfa) {
      return ReadString(mfa, "userIdentity.sessionContext.attributes.mfaAuthenticated",
                        &id->mfa_authenticated);
    });
  });
}

Status ReadOnBehalfOf(const dom::element& value, IdentityFields* id) {
  dom::object obo;
  bool present = false;
  ORGTRAIL_RETURN_IF_ERROR(ReadObject(value, "userIdentity.onBehalfOf", &obo, &present));
  if (!present) return absl::OkStatus();
  static const MemberTable<1> kTable{kOnBehalfOfNames, "userIdentity.onBehalfOf."};
  return ForEachKnownMember(obo, kTable, [&](int, const dom::element& user_id) {
    return ReadString(user_id, "userIdentity.onBehalfOf.userId", &id->on_behalf_of_user_id);
  });
}

Status ReadUserIdentity(const dom::element& value, IdentityFields* id) {
  dom::object identity;
  bool present = false;
  ORGTRAIL_RETURN_IF_ERROR(ReadObject(value, "userIdentity", &identity, &present));
  if (!present) return absl::OkStatus();
  static const MemberTable<kIdentityMemberCount> kTable{kIdentityNames, "userIdentity."};
  return ForEachKnownMember(identity, kTable, [&](int index, const dom::element& v) -> Status {
    switch (index) {
      case kIdType: return ReadString(v, "userIdentity.type", &id->type);
      case kIdPrincipalId: return ReadString(v, "userIdentity.principalId", &id->principal_id);
      case kIdArn: return ReadString(v, "userIdentity.arn", &id->arn);
      case kIdAccountId: return ReadString(v, "userIdentity.accountId", &id->account_id);
      case kIdAccessKeyId: return ReadString(v, "userIdentity.accessKeyId", &id->access_key_id);
      case kIdUserName: return ReadString(v, "userIdentity.userName", &id->user_name);
      case kIdInvokedBy: return ReadString(v, "userIdentity.invokedBy", &id->invoked_by);
      case kIdSessionContext: return ReadSessionContext(v, id);
      case kIdOnBehalfOf: return ReadOnBehalfOf(v, id);
    }
    return absl::OkStatus();
  });
}

Status ReadSingleStringMember(const dom::element& value, std::string_view object_path,
                              const MemberTable<1>& table, std::string_view member_path,
                              std::string_view* out) {
  dom::object object;
  bool present = false;
  ORGTRAIL_RETURN_IF_ERROR(ReadObject(value, object_path, &object, &present));
  if (!present) return absl::OkStatus();
  return ForEachKnownMember(object, table, [&](int, const dom::element& v) {
    return ReadString(v, member_path, out);
  });
}

Status ReadResources(const dom::element& value, v1::Event* out) {
  if (value.is_null()) return absl::OkStatus();
  dom::array resources;
  if (value.get_array().get(resources) != simdjson::SUCCESS) {
    return WrongType("resources", "array", value);
  }
  static const MemberTable<3> kTable{kResourceNames, "resources[]."};
  for (dom::element entry : resources) {
    dom::object resource;
    if (entry.get_object().get(resource) != simdjson::SUCCESS) {
      return WrongType("resources[]", "object", entry);
    }
    std::string_view fields[3];
    ORGTRAIL_RETURN_IF_ERROR(
        ForEachKnownMember(resource, kTable, [&](int index, const dom::element& v) {
          return ReadString(v, kResourcePaths[index], &fields[index]);
        }));
    v1::Resource* r = out->add_resources();
    r->set_type(fields[0].data(), fields[0].size());
    r->set_arn(fields[1].data(), fields[1].size());
    r->set_account_id(fields[2].data(), fields[2].size());
  }
  return absl::OkStatus();
}

void SetString(std::string_view value, std::string* field) { field->assign(value.data(), value.size()); }

// Raw top-level values collected in one pass, then interpreted.
struct TopFields {
  std::string_view strings[kTopMemberCount];
  std::optional<bool> read_only, management_event;
  std::optional<dom::element> event_time;
  std::string_view client_host_header;  // tlsDetails.clientProvidedHostHeader
  std::string_view mfa_used;            // additionalEventData.MFAUsed
  std::string_view insight_source, insight_name;  // insightDetails.eventSource / eventName
};

Status ReadInsightDetails(const dom::element& value, TopFields* top) {
  dom::object details;
  bool present = false;
  ORGTRAIL_RETURN_IF_ERROR(ReadObject(value, "insightDetails", &details, &present));
  if (!present) return absl::OkStatus();
  static const MemberTable<2> kTable{kInsightDetailsNames, "insightDetails."};
  return ForEachKnownMember(details, kTable, [&](int index, const dom::element& v) {
    return ReadString(v, kInsightDetailsPaths[index], index == 0 ? &top->insight_source : &top->insight_name);
  });
}

Status ReadTopLevel(const dom::object& record, TopFields* top, IdentityFields* id, v1::Event* out) {
  static const MemberTable<kTopMemberCount> kTable{kTopNames, ""};
  return ForEachKnownMember(record, kTable, [&](int index, const dom::element& v) -> Status {
    switch (index) {
      case kEventTime:
        top->event_time = v;
        return absl::OkStatus();
      case kEventId: {
        if (v.is_null()) return WrongType("eventID", "string", v);
        ORGTRAIL_RETURN_IF_ERROR(ReadString(v, "eventID", &top->strings[kEventId]));
        if (top->strings[kEventId].empty()) {
          return absl::InvalidArgumentError("eventID: empty string");
        }
        return absl::OkStatus();
      }
      case kReadOnly: return ReadBool(v, "readOnly", &top->read_only);
      case kManagementEvent: return ReadBool(v, "managementEvent", &top->management_event);
      case kUserIdentity: return ReadUserIdentity(v, id);
      case kTlsDetails: {
        static const MemberTable<1> kTls{kTlsNames, "tlsDetails."};
        return ReadSingleStringMember(v, "tlsDetails", kTls, "tlsDetails.clientProvidedHostHeader",
                                      &top->client_host_header);
      }
      case kAdditionalEventData: {
        static const MemberTable<1> kAdditional{kAdditionalNames, "additionalEventData."};
        return ReadSingleStringMember(v, "additionalEventData", kAdditional,
                                      "additionalEventData.MFAUsed",
                                      &top->mfa_used);
      }
      case kResources: return ReadResources(v, out);
      case kInsightDetails: return ReadInsightDetails(v, top);
      case kSessionCredentialFromConsole: {
        bool b = false;
        if (v.get_bool().get(b) == simdjson::SUCCESS) {
          top->strings[index] = b ? "true" : "false";
          return absl::OkStatus();
        }
        return ReadString(v, kTopNames[index], &top->strings[index]);
      }
      default: return ReadString(v, kTopNames[index], &top->strings[index]);
    }
  });
}

Status FillEvent(const TopFields& top, const IdentityFields& id, v1::Event* out,
                 ExtractReport* report) {
  if (!top.event_time.has_value() || top.event_time->is_null()) {
    return absl::InvalidArgumentError("eventTime: missing");
  }
  std::string_view time_text;
  if (top.event_time->get_string().get(time_text) != simdjson::SUCCESS) {
    return WrongType("eventTime", "string", *top.event_time);
  }
  StatusOr<int64_t> micros = ParseRfc3339Micros(time_text);
  if (!micros.ok()) {
    return absl::InvalidArgumentError("eventTime: " + std::string(micros.status().message()));
  }
  out->set_event_time_us(*micros);

  const auto& s = top.strings;
  SetString(s[kEventId], out->mutable_event_id());
  if (s[kEventId].empty()) report->event_id_missing = true;
  // An Insights record has no top-level eventSource/eventName: the API it is about is indexed
  // (LookupEvents with EventCategory=insight filters by EventName and EventSource).
  SetString(s[kEventSource].empty() ? top.insight_source : s[kEventSource], out->mutable_event_source());
  SetString(s[kEventName].empty() ? top.insight_name : s[kEventName], out->mutable_event_name());
  SetString(s[kAwsRegion], out->mutable_aws_region());
  if (!s[kRecipientAccountId].empty()) {
    SetString(s[kRecipientAccountId], out->mutable_recipient_account_id());
  } else if (!id.account_id.empty()) {
    SetString(id.account_id, out->mutable_recipient_account_id());
    out->set_recipient_account_from_user_identity(true);
    report->recipient_account_from_user_identity = true;
  }
  SetString(s[kEventType], out->mutable_event_type());
  if (s[kEventCategory].empty()) {
    out->set_event_category("Management");
  } else {
    SetString(s[kEventCategory], out->mutable_event_category());
  }
  if (top.read_only.has_value()) out->set_read_only(*top.read_only);
  if (top.management_event.has_value()) out->set_management_event(*top.management_event);
  SetString(s[kErrorCode], out->mutable_error_code());
  SetString(s[kErrorMessage], out->mutable_error_message());
  SetString(s[kSourceIp], out->mutable_source_ip_address());
  SetString(s[kUserAgent], out->mutable_user_agent());
  SetString(s[kVpcEndpointId], out->mutable_vpc_endpoint_id());
  SetString(s[kSharedEventId], out->mutable_shared_event_id());
  SetString(s[kSessionCredentialFromConsole], out->mutable_session_credential_from_console());
  SetString(top.client_host_header, out->mutable_client_host_header());
  SetString(top.mfa_used, out->mutable_mfa_used());

  SetString(EventHistoryUsername(id), out->mutable_username());
  SetString(id.arn, out->mutable_principal_arn());
  SetString(id.access_key_id, out->mutable_access_key_id());
  SetString(id.type, out->mutable_user_identity_type());
  SetString(id.account_id, out->mutable_user_identity_account_id());
  SetString(id.mfa_authenticated, out->mutable_mfa_authenticated());
  return absl::OkStatus();
}

Status ParseError(simdjson::error_code code, const ExtractOptions& options) {
  switch (code) {
    case simdjson::DEPTH_ERROR:
      return absl::InvalidArgumentError("invalid JSON: nesting deeper than " +
                                        std::to_string(options.max_depth) + " levels");
    case simdjson::UTF8_ERROR:
      return absl::InvalidArgumentError("invalid JSON: invalid UTF-8");
    case simdjson::CAPACITY:
      return absl::InvalidArgumentError("event too large");
    case simdjson::MEMALLOC:
      return absl::ResourceExhaustedError("JSON parser: out of memory");
    default:
      return absl::InvalidArgumentError(std::string("invalid JSON: ") +
                                        simdjson::error_message(code));
  }
}

}  // namespace

struct EventExtractor::Impl {
  explicit Impl(ExtractOptions opts) : options(opts), parser(opts.max_event_bytes) {}

  // Copies raw_json into a buffer with SIMDJSON_PADDING readable bytes after
  // it (simdjson reads past the end), growing it when needed.
  const uint8_t* PaddedCopy(std::string_view raw_json) {
    const size_t needed = raw_json.size() + simdjson::SIMDJSON_PADDING;
    if (needed > buffer_size) {
      buffer_size = std::max(needed, buffer_size * 2);
      buffer.reset(new uint8_t[buffer_size]);
    }
    std::memcpy(buffer.get(), raw_json.data(), raw_json.size());
    std::memset(buffer.get() + raw_json.size(), 0, simdjson::SIMDJSON_PADDING);
    return buffer.get();
  }

  Status EnsureParserCapacity(size_t len) {
    if (len <= parser_capacity && parser_capacity != 0) return absl::OkStatus();
    const size_t capacity = std::max<size_t>(len, std::max<size_t>(parser_capacity * 2, 64 * 1024));
    const size_t bounded = std::min(capacity, options.max_event_bytes);
    if (parser.allocate(bounded, options.max_depth) != simdjson::SUCCESS) {
      return absl::ResourceExhaustedError("JSON parser: cannot allocate");
    }
    parser_capacity = bounded;
    return absl::OkStatus();
  }

  ExtractOptions options;
  dom::parser parser;
  size_t parser_capacity = 0;
  std::unique_ptr<uint8_t[]> buffer;
  size_t buffer_size = 0;
};

EventExtractor::EventExtractor(ExtractOptions options) : impl_(new Impl(options)) {}

EventExtractor::~EventExtractor() = default;

Status EventExtractor::Extract(std::string_view raw_json, v1::Event* out, ExtractReport* report) {
  out->Clear();
  ExtractReport local_report;
  if (report == nullptr) report = &local_report;
  *report = ExtractReport();

  if (raw_json.empty()) return absl::InvalidArgumentError("empty input");
  if (raw_json.size() > impl_->options.max_event_bytes) {
    return absl::InvalidArgumentError("event too large: " + std::to_string(raw_json.size()) +
                                      " bytes > max " +
                                      std::to_string(impl_->options.max_event_bytes));
  }
  ORGTRAIL_RETURN_IF_ERROR(impl_->EnsureParserCapacity(raw_json.size()));
  const uint8_t* padded = impl_->PaddedCopy(raw_json);
  dom::element root;
  const simdjson::error_code parse_error =
      impl_->parser.parse(padded, raw_json.size(), /*realloc_if_needed=*/false).get(root);
  if (parse_error != simdjson::SUCCESS) return ParseError(parse_error, impl_->options);
  dom::object record;
  if (root.get_object().get(record) != simdjson::SUCCESS) {
    return WrongType("top level", "object", root);
  }

  TopFields top;
  IdentityFields identity;
  ORGTRAIL_RETURN_IF_ERROR(ReadTopLevel(record, &top, &identity, out));
  ORGTRAIL_RETURN_IF_ERROR(FillEvent(top, identity, out, report));
  out->set_raw_json(raw_json.data(), raw_json.size());
  return absl::OkStatus();
}

StatusOr<std::string> AssignEventId(std::string_view raw_json, std::string_view event_id) {
  if (event_id.empty()) return absl::InvalidArgumentError("AssignEventId: empty event id");
  for (char c : event_id) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
      return absl::InvalidArgumentError(
          "AssignEventId: event id must be printable ASCII without quotes or backslashes");
    }
  }
  const size_t brace = raw_json.find_first_not_of(" \t\r\n");
  if (brace == std::string_view::npos || raw_json[brace] != '{') {
    return absl::InvalidArgumentError("AssignEventId: record does not start with '{'");
  }
  const size_t next = raw_json.find_first_not_of(" \t\r\n", brace + 1);
  const bool empty_object = next != std::string_view::npos && raw_json[next] == '}';
  std::string out;
  out.reserve(raw_json.size() + event_id.size() + 16);
  out.append(raw_json.substr(0, brace + 1));
  out.append("\"eventID\":\"").append(event_id).append("\"");
  if (!empty_object) out.push_back(',');
  out.append(raw_json.substr(brace + 1));
  return out;
}

}  // namespace orgtrail
