// One finding (orgtrail.v1.Finding) as the JSON object orgtrailctl prints per line for
// `findings` and `hunt`: commitIndex, ruleId, title, level, status, author, references, tags,
// eventID, accountId, region, eventSource, eventName, eventTime, detectedTime, ruleFile.
#ifndef ORGTRAIL_CLI_FINDINGS_FORMAT_H_
#define ORGTRAIL_CLI_FINDINGS_FORMAT_H_

#include <string>

#include "orgtrail/v1/findings.pb.h"

namespace orgtrail::cli {

std::string FindingLine(const v1::Finding& finding);

}  // namespace orgtrail::cli

#endif  // ORGTRAIL_CLI_FINDINGS_FORMAT_H_
