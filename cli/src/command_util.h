// What every `orgtrailctl` subcommand shares: the exit codes (0 done, 1 a runtime failure,
// 2 a usage error), the one-line error report on stderr ("orgtrailctl <command>: <message>"),
// the common argv parsing (ParseCommandLine with the connection's environment defaults) and
// flag access. Pure functions over their arguments; thread-safe.
#ifndef ORGTRAIL_CLI_COMMAND_UTIL_H_
#define ORGTRAIL_CLI_COMMAND_UTIL_H_

#include <string>
#include <string_view>

#include <boost/program_options.hpp>

#include "orgtrail/common/config.h"

namespace orgtrail::cli {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// Prints "orgtrailctl <command>: <message>" to stderr and returns `exit_code`.
int ReportFailure(std::string_view command, std::string_view message, int exit_code);

// Parses argv (flags of `options`, the connection's ORGTRAIL_* environment defaults, optional
// positionals). Returns -1 to continue, kExitOk after --help/--version, kExitUsage (reported)
// on a usage error.
int ParseArgs(int argc, const char* const* argv, const BinaryInfo& info,
              const boost::program_options::options_description& options,
              boost::program_options::variables_map* values,
              const boost::program_options::positional_options_description* positional = nullptr);

// The string value of flag `name`, or "" when it was not given.
std::string FlagValue(const boost::program_options::variables_map& values, const char* name);

}  // namespace orgtrail::cli

#endif  // ORGTRAIL_CLI_COMMAND_UTIL_H_
