// Connection options shared by every orgtrailctl subcommand that talks to the
// collector, and the mutual-TLS gRPC channel built from them.
//
// Options (flag > environment > default):
//   --collector host:port   ORGTRAIL_COLLECTOR   default 127.0.0.1:7443
//   --ca FILE               ORGTRAIL_CA          organization CA bundle (PEM), required
//   --cert FILE             ORGTRAIL_CERT        client certificate (PEM), required
//   --key FILE              ORGTRAIL_KEY         client private key (PEM), required
//   --timeout DURATION      ORGTRAIL_TIMEOUT     per-RPC deadline, default 30s ("250ms", "5s", "1m")
//   --tls-server-name NAME                       name checked in the collector's
//                                                certificate (default: the host of --collector)
//
// Usage in a subcommand:
//   po::options_description options("lookup-events options");
//   AddConnectionOptions(&options);
//   ... ParseCommandLine(argc, argv, info, options, &values, ConnectionEnvOptions()) ...
//   auto connection = ConnectionOptionsFromValues(values);    // INVALID_ARGUMENT naming the flag
//   auto channel = MakeCollectorChannel(*connection);         // INVALID_ARGUMENT naming the flag
//   grpc::ClientContext context; SetDeadline(*connection, &context);
//
// Environment variables are read here as well, so a subcommand works the same
// whether or not it passes ConnectionEnvOptions() to ParseCommandLine.
// Every error message starts with the flag it concerns, e.g.
//   "--ca: cannot read '/nope/ca.pem': No such file or directory (or set ORGTRAIL_CA)".
// Pure functions over their arguments (plus getenv/file reads); thread-safe.
#ifndef ORGTRAIL_CLI_CONNECTION_H_
#define ORGTRAIL_CLI_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/support/status.h>

#include "orgtrail/common/status.h"

namespace orgtrail::cli {

inline constexpr const char* kDefaultCollectorAddress = "127.0.0.1:7443";
inline constexpr int64_t kDefaultRpcTimeoutUs = 30'000'000;

struct ConnectionOptions {
  std::string collector = kDefaultCollectorAddress;  // host:port
  std::string ca_path;
  std::string cert_path;
  std::string key_path;
  int64_t timeout_us = kDefaultRpcTimeoutUs;
  std::string tls_server_name;  // empty = host of `collector`
};

// Adds --collector, --ca, --cert, --key, --timeout, --tls-server-name to `options`.
// No default values are registered, so "not given" stays distinguishable from
// "given" and the environment can fill the gaps.
void AddConnectionOptions(boost::program_options::options_description* options);

// The option names that may come from ORGTRAIL_<NAME> (for ParseCommandLine).
std::vector<std::string> ConnectionEnvOptions();

// Resolves flags, environment and defaults and checks them: host:port shape,
// positive timeout, readable CA/cert/key files. INVALID_ARGUMENT naming the flag.
StatusOr<ConnectionOptions> ConnectionOptionsFromValues(
    const boost::program_options::variables_map& values);

// A channel to the collector with mutual TLS (common/tls.h MakeChannelCredentials).
// The channel connects lazily; errors here are about the files and options.
StatusOr<std::shared_ptr<grpc::Channel>> MakeCollectorChannel(const ConnectionOptions& options);

// Sets the per-RPC deadline (options.timeout_us from now) on `context`.
void SetDeadline(const ConnectionOptions& options, grpc::ClientContext* context);

// "collector 127.0.0.1:7443: PERMISSION_DENIED: <message>" for printing to stderr.
std::string DescribeRpcError(const ConnectionOptions& options, const grpc::Status& status);

}  // namespace orgtrail::cli

#endif  // ORGTRAIL_CLI_CONNECTION_H_
