#include "orgtrail/common/readiness.h"

#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>

#include "orgtrail/common/logger.h"

namespace orgtrail {

HttpResponse Readiness::Evaluate() const {
  bool ready = true;
  std::string checks;
  for (const auto& [name, check] : checks_) {
    const std::string failure = check();
    if (!failure.empty()) ready = false;
    if (!checks.empty()) checks += ",";
    checks += "{\"name\":\"";
    AppendJsonEscaped(&checks, name);
    checks += failure.empty() ? "\",\"ok\":true}" : "\",\"ok\":false,\"reason\":\"";
    if (!failure.empty()) {
      AppendJsonEscaped(&checks, failure);
      checks += "\"}";
    }
  }
  HttpResponse response;
  response.status = ready ? 200 : 503;
  response.content_type = "application/json";
  response.body = std::string("{\"status\":\"") + (ready ? "ready" : "not ready") + "\",\"checks\":[" + checks + "]}\n";
  return response;
}

std::string DiskSpaceFailure(const std::string& path, uint64_t min_free_bytes) {
  struct statvfs st;
  if (::statvfs(path.c_str(), &st) != 0) return "statvfs " + path + ": " + std::strerror(errno);
  const uint64_t available = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  if (available >= min_free_bytes) return "";
  return std::to_string(available) + " bytes available on the file system of " + path + ", below the " +
         std::to_string(min_free_bytes) + " required";
}

}  // namespace orgtrail
