// The helpers every orgtrailctl subcommand shares; see command_util.h.
#include "command_util.h"

#include <cstdio>

#include "connection.h"

namespace orgtrail::cli {

int ReportFailure(std::string_view command, std::string_view message, int exit_code) {
  std::fprintf(stderr, "orgtrailctl %.*s: %.*s\n", static_cast<int>(command.size()), command.data(),
               static_cast<int>(message.size()), message.data());
  return exit_code;
}

int ParseArgs(int argc, const char* const* argv, const BinaryInfo& info,
              const boost::program_options::options_description& options,
              boost::program_options::variables_map* values,
              const boost::program_options::positional_options_description* positional) {
  auto outcome = ParseCommandLine(argc, argv, info, options, values, ConnectionEnvOptions(), positional);
  if (!outcome.ok()) return ReportFailure(argv[0], std::string(outcome.status().message()), kExitUsage);
  if (*outcome == ParseOutcome::kExitSuccess) return kExitOk;
  return -1;
}

std::string FlagValue(const boost::program_options::variables_map& values, const char* name) {
  return values.count(name) ? values[name].as<std::string>() : "";
}

}  // namespace orgtrail::cli
