// A CloudTrail record parsed once for evaluation by many Sigma rules.
//
// RecordParser owns a simdjson parser and the document of the last Parse(); the Record it hands
// out borrows that document and is valid until the next Parse() or the parser's destruction.
// Not thread-safe: use one RecordParser per thread. Parse() returns INVALID_ARGUMENT for input
// that is not a JSON object (malformed JSON, wrong top-level type, oversize, too deep).
//
// Field paths are dotted ("userIdentity.sessionContext.sessionIssuer.type"); where a step meets
// an array, every element is followed (implicit matching across arrays), so one path can select
// several values.
#ifndef ORGTRAIL_DETECTIONS_RECORD_H_
#define ORGTRAIL_DETECTIONS_RECORD_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "absl/container/inlined_vector.h"

#include "orgtrail/common/status.h"

namespace orgtrail::detections {

// A path compiled once at rule load: its steps, split at '.'.
struct FieldPath {
  std::string text;
  std::vector<std::string> steps;
  static FieldPath Parse(std::string_view dotted);
};

// The values one path selects (most paths select one; arrays can make it more).
using Values = absl::InlinedVector<simdjson::dom::element, 4>;

class Record {
 public:
  explicit Record(simdjson::dom::element root) : root_(root) {}
  simdjson::dom::element root() const { return root_; }

  // Appends every value the path selects (arrays met on the way are expanded; a final array is
  // expanded into its elements too). A missing field appends nothing; a JSON null is appended.
  void Select(const FieldPath& path, Values* out) const;
  // True when the path names at least one present value (null included).
  bool Exists(const FieldPath& path) const;

 private:
  simdjson::dom::element root_;
};

class RecordParser {
 public:
  RecordParser();
  RecordParser(const RecordParser&) = delete;
  RecordParser& operator=(const RecordParser&) = delete;
  StatusOr<Record> Parse(std::string_view json);

 private:
  simdjson::dom::parser parser_;
  bool allocation_ = false;
  std::string buffer_;
};

// The text a value is compared as: strings as they are, numbers in their shortest decimal form,
// booleans as "true"/"false"; objects and arrays as minified JSON whose string contents are not
// escaped (a JSON document held in a string, like CloudTrail's policyDocument, reads as written).
// Returns false for null.
bool ValueText(simdjson::dom::element value, std::string* out);
// The same without a copy for strings: `*out` views the document, or `*storage` for the others.
bool ValueView(simdjson::dom::element value, std::string* storage, std::string_view* out);

}  // namespace orgtrail::detections

#endif  // ORGTRAIL_DETECTIONS_RECORD_H_
