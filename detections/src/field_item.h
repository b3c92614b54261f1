// One field item of a Sigma search identifier (`field|mod|mod: values`) or one keyword item,
// compiled from its modifiers: the matcher kind, its values and how they combine.
//
// Semantics (the Sigma specification; where it is silent, noted here):
// - A field's values come from Record::Select (arrays expanded). A rule value matches when any of
//   them matches; the rule's values are OR-linked, AND-linked under `|all`.
// - Missing fields match nothing except `null` (missing or JSON null) and `|exists: false`.
// - Strings compare case-insensitively (ASCII) unless `|cased`; base64/utf16 encodings are
//   compared cased (their letters are data). Numbers and booleans compare as their text.
// - `|neq`: the field is present and none of its values equals any listed value.
// - Keyword items (no field) look at every scalar in the record with implicit `*value*`.
// Immutable after Compile; Matches() is thread-safe.
#ifndef ORGTRAIL_DETECTIONS_SRC_FIELD_ITEM_H_
#define ORGTRAIL_DETECTIONS_SRC_FIELD_ITEM_H_

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include "orgtrail/common/status.h"
#include "orgtrail/detections/record.h"
#include "orgtrail/detections/rule.h"
#include "pattern.h"

namespace orgtrail::detections::internal {

struct Cidr {
  int family;  // AF_INET or AF_INET6
  unsigned char bytes[16];
  int prefix;
};

enum class CompareOp { kLt, kLte, kGt, kGte, kEq };
enum class TimePart { kNone, kMinute, kHour, kDay, kWeek, kMonth, kYear };
enum class RefShape { kEquals, kContains, kStartsWith, kEndsWith };

class FieldItem {
 public:
  // `key` is the YAML key ("field|mod|mod", or "" / "|mods" for keywords); `value` the YAML value.
  static StatusOr<std::unique_ptr<FieldItem>> Compile(const std::string& key, const YAML::Node& value,
                                                      const CompileOptions& options);
  bool Matches(const Record& record) const;
  // The exact lower-cased values the field must hold for this item to match, when there are.
  std::optional<Requirement> Require() const;

 private:
  enum class Kind { kString, kRegex, kCidr, kCompare, kNull, kExists, kFieldRef };
  bool MatchesText(size_t i, std::string_view text, const Record& record) const;
  template <typename Texts>
  bool Combine(const Texts& texts, const Record& record) const;
  size_t value_count() const;

  FieldPath path_;
  bool keyword_ = false;
  Kind kind_ = Kind::kString;
  bool all_ = false;
  bool neq_ = false;
  bool cased_ = false;
  bool exists_expected_ = true;
  std::vector<std::vector<Glob>> globs_;  // per rule value, its (OR-linked) encodings
  std::vector<std::unique_ptr<RE2>> regexes_;
  std::vector<Cidr> cidrs_;
  CompareOp op_ = CompareOp::kEq;
  TimePart time_part_ = TimePart::kNone;
  std::vector<double> numbers_;
  std::vector<FieldPath> refs_;
  RefShape ref_shape_ = RefShape::kEquals;
};

}  // namespace orgtrail::detections::internal

#endif  // ORGTRAIL_DETECTIONS_SRC_FIELD_ITEM_H_
