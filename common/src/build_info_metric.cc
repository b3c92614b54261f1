#include "orgtrail/common/build_info.h"
#include "orgtrail/common/metrics.h"

namespace orgtrail {

void ExportBuildInfo(MetricsRegistry* metrics) {
  const BuildInfo& info = GetBuildInfo();
  metrics
      ->GetGauge("orgtrail_build_info", "The version, commit and build date of this binary (always 1)",
                 {{"version", info.version}, {"commit", info.commit}, {"build_date", info.build_date}})
      ->Set(1);
}

}  // namespace orgtrail
