// What this binary was built from: the release version, the git commit of the source tree
// ("<12 hex>", "<12 hex>-dirty" with uncommitted changes, "unknown" outside git) and the UTC
// build date (YYYY-MM-DD). Written at build time (cmake/OrgtrailBuildInfo.cmake); immutable.
// Shown by every binary's --version and by the daemons' orgtrail_build_info metric.
#ifndef ORGTRAIL_COMMON_BUILD_INFO_H_
#define ORGTRAIL_COMMON_BUILD_INFO_H_

namespace orgtrail {

struct BuildInfo {
  const char* version;
  const char* commit;
  const char* build_date;
};

const BuildInfo& GetBuildInfo();

class MetricsRegistry;
// The Prometheus convention: orgtrail_build_info{version,commit,build_date} 1.
void ExportBuildInfo(MetricsRegistry* metrics);

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_BUILD_INFO_H_
