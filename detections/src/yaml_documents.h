// LoadYamlDocuments: every YAML document of a rule file, as yaml-cpp nodes, for input from
// outside (rule folders, Hunt requests). yaml-cpp 0.7's LoadAll never returns on some malformed
// streams: where no document can begin (a stream that is, or goes on with, a lone ',') its parser
// reports an empty document without consuming anything, again and again, and LoadAll collects them
// until memory runs out. This first walks the stream with yaml-cpp's own parser and refuses it,
// naming the line and column, when a document begins where the previous one began; only a stream
// that walks to its end is loaded.
// Thread-safe (no shared state). Errors are InvalidArgument with the reason.
#ifndef ORGTRAIL_DETECTIONS_SRC_YAML_DOCUMENTS_H_
#define ORGTRAIL_DETECTIONS_SRC_YAML_DOCUMENTS_H_

#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "orgtrail/common/status.h"

namespace orgtrail::detections::internal {

StatusOr<std::vector<YAML::Node>> LoadYamlDocuments(std::string_view text);

}  // namespace orgtrail::detections::internal

#endif  // ORGTRAIL_DETECTIONS_SRC_YAML_DOCUMENTS_H_
