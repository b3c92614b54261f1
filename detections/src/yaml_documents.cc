// Loading every document of a YAML stream without yaml-cpp's endless-document trap (see
// yaml_documents.h).
#include "yaml_documents.h"

#include <exception>
#include <sstream>
#include <string>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include "orgtrail/common/str_cat.h"

namespace orgtrail::detections::internal {
namespace {

// Sees only where each document begins; every other event is ignored.
class DocumentStarts : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    stalled_ = started_ && mark.pos == last_.pos;
    started_ = true;
    last_ = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  // True once a document began where the one before it began: the parser consumed nothing.
  bool stalled() const { return stalled_; }
  const YAML::Mark& last() const { return last_; }

 private:
  bool started_ = false;
  bool stalled_ = false;
  YAML::Mark last_;
};

}  // namespace

StatusOr<std::vector<YAML::Node>> LoadYamlDocuments(std::string_view text) {
  const std::string owned(text);
  try {
    std::istringstream in(owned);
    YAML::Parser parser(in);
    DocumentStarts starts;
    while (parser.HandleNextDocument(starts)) {
      if (starts.stalled()) {
        return absl::InvalidArgumentError(StrCat("malformed YAML: line ", starts.last().line + 1, ", column ",
                                                 starts.last().column + 1, ": no document can begin here"));
      }
    }
    return YAML::LoadAll(owned);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(StrCat("malformed YAML: ", e.what()));
  }
}

}  // namespace orgtrail::detections::internal
