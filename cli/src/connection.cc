#include "connection.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include <grpcpp/create_channel.h>
#include <grpcpp/support/channel_arguments.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "orgtrail/common/config.h"
#include "orgtrail/common/tls.h"

namespace orgtrail::cli {
namespace {

namespace po = boost::program_options;

struct OptionSpec {
  const char* flag;  // without "--"
  const char* env;   // ORGTRAIL_<FLAG>
};

constexpr OptionSpec kCollector{"collector", "ORGTRAIL_COLLECTOR"};
constexpr OptionSpec kCa{"ca", "ORGTRAIL_CA"};
constexpr OptionSpec kCert{"cert", "ORGTRAIL_CERT"};
constexpr OptionSpec kKey{"key", "ORGTRAIL_KEY"};
constexpr OptionSpec kTimeout{"timeout", "ORGTRAIL_TIMEOUT"};
constexpr const char* kTlsServerName = "tls-server-name";

// Flag value if given, else the environment variable if set and non-empty, else "".
std::string FlagOrEnv(const po::variables_map& values, const OptionSpec& spec) {
  if (values.count(spec.flag) > 0 && !values[spec.flag].defaulted()) {
    return values[spec.flag].as<std::string>();
  }
  const char* env = std::getenv(spec.env);
  if (env != nullptr && env[0] != '\0') return env;
  return "";
}

Status CheckReadableFile(const OptionSpec& spec, const std::string& path) {
  if (path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", spec.flag, ": required (or set ", spec.env, ")"));
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::InvalidArgumentError(absl::StrCat("--", spec.flag, ": cannot read '", path,
                                                   "': ", std::strerror(errno)));
  }
  char probe = 0;
  const ssize_t n = ::read(fd, &probe, 1);
  const int read_errno = errno;
  ::close(fd);
  if (n < 0) {
    return absl::InvalidArgumentError(absl::StrCat("--", spec.flag, ": cannot read '", path,
                                                   "': ", std::strerror(read_errno)));
  }
  if (n == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", spec.flag, ": '", path, "' is empty (expected a PEM file)"));
  }
  return absl::OkStatus();
}

StatusOr<int64_t> ParseTimeout(const std::string& text) {
  if (text.empty()) return kDefaultRpcTimeoutUs;
  int64_t seconds = 0;
  if (absl::SimpleAtoi(text, &seconds)) {  // bare number = seconds
    if (seconds <= 0 || seconds > 86400) {
      return absl::InvalidArgumentError(
          absl::StrCat("--timeout: expected a positive duration up to 24h, got '", text, "'"));
    }
    return seconds * 1'000'000;
  }
  auto micros = ParseDuration("--timeout", text);
  if (!micros.ok()) return micros.status();
  if (*micros <= 0 || *micros > int64_t{86400} * 1'000'000) {
    return absl::InvalidArgumentError(
        absl::StrCat("--timeout: expected a positive duration up to 24h, got '", text, "'"));
  }
  return *micros;
}

}  // namespace

void AddConnectionOptions(po::options_description* options) {
  options->add_options()
      (kCollector.flag, po::value<std::string>()->value_name("HOST:PORT"),
       "collector address (env ORGTRAIL_COLLECTOR, default 127.0.0.1:7443)")
      (kCa.flag, po::value<std::string>()->value_name("FILE"),
       "organization CA certificate bundle, PEM (env ORGTRAIL_CA)")
      (kCert.flag, po::value<std::string>()->value_name("FILE"),
       "client certificate, PEM, an auditor/admin identity (env ORGTRAIL_CERT)")
      (kKey.flag, po::value<std::string>()->value_name("FILE"),
       "client private key, PEM (env ORGTRAIL_KEY)")
      (kTimeout.flag, po::value<std::string>()->value_name("DURATION"),
       "per-request deadline, e.g. 500ms, 30s, 2m (env ORGTRAIL_TIMEOUT, default 30s)")
      (kTlsServerName, po::value<std::string>()->value_name("NAME"),
       "name expected in the collector's certificate (default: host of --collector)");
}

std::vector<std::string> ConnectionEnvOptions() {
  return {kCollector.flag, kCa.flag, kCert.flag, kKey.flag, kTimeout.flag};
}

StatusOr<ConnectionOptions> ConnectionOptionsFromValues(const po::variables_map& values) {
  ConnectionOptions options;
  std::string collector = FlagOrEnv(values, kCollector);
  if (collector.empty()) collector = kDefaultCollectorAddress;
  auto host_port = ParseHostPort("--collector", collector);
  if (!host_port.ok()) return host_port.status();
  if (host_port->port <= 0 || host_port->port > 65535 || host_port->host.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--collector: expected host:port, got '", collector, "'"));
  }
  options.collector = collector;

  options.ca_path = FlagOrEnv(values, kCa);
  options.cert_path = FlagOrEnv(values, kCert);
  options.key_path = FlagOrEnv(values, kKey);
  ORGTRAIL_RETURN_IF_ERROR(CheckReadableFile(kCa, options.ca_path));
  ORGTRAIL_RETURN_IF_ERROR(CheckReadableFile(kCert, options.cert_path));
  ORGTRAIL_RETURN_IF_ERROR(CheckReadableFile(kKey, options.key_path));

  auto timeout = ParseTimeout(FlagOrEnv(values, kTimeout));
  if (!timeout.ok()) return timeout.status();
  options.timeout_us = *timeout;

  if (values.count(kTlsServerName) > 0) {
    options.tls_server_name = values[kTlsServerName].as<std::string>();
    if (options.tls_server_name.empty() || options.tls_server_name.size() > 253) {
      return absl::InvalidArgumentError("--tls-server-name: expected a host name");
    }
  }
  return options;
}

StatusOr<std::shared_ptr<grpc::Channel>> MakeCollectorChannel(const ConnectionOptions& options) {
  TlsFiles files;
  files.ca_cert_path = options.ca_path;
  files.cert_path = options.cert_path;
  files.key_path = options.key_path;
  auto credentials = MakeChannelCredentials(files);
  if (!credentials.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--ca/--cert/--key: cannot build TLS credentials: ", credentials.status().message()));
  }
  grpc::ChannelArguments arguments;
  if (!options.tls_server_name.empty()) {
    arguments.SetSslTargetNameOverride(options.tls_server_name);
  }
  arguments.SetMaxReceiveMessageSize(64 << 20);
  auto channel = grpc::CreateCustomChannel(options.collector, *credentials, arguments);
  if (channel == nullptr) {
    return absl::InternalError(
        absl::StrCat("--collector: cannot create a channel to ", options.collector));
  }
  return channel;
}

void SetDeadline(const ConnectionOptions& options, grpc::ClientContext* context) {
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::microseconds(options.timeout_us));
}

std::string DescribeRpcError(const ConnectionOptions& options, const grpc::Status& status) {
  static constexpr const char* kCodeNames[] = {
      "OK",           "CANCELLED",          "UNKNOWN",           "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND",     "ALREADY_EXISTS",    "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",     "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",          "UNAVAILABLE",       "DATA_LOSS",
      "UNAUTHENTICATED"};
  const int code = static_cast<int>(status.error_code());
  const char* name = (code >= 0 && code <= 16) ? kCodeNames[code] : "UNKNOWN";
  return absl::StrCat("collector ", options.collector, ": ", name, ": ", status.error_message());
}

}  // namespace orgtrail::cli
