// The orgtrailctl subcommand table. Each subcommand group lives in its own
// cmd_<group>.cc and exposes `int Run<Name>(int argc, const char* const* argv)`
// where argv[0] is the subcommand name. Return 0 on success, 1 when the
// command ran and found a failure (e.g. validate-logs found invalid files),
// 2 for usage errors (message on stderr naming the option).
#ifndef ORGTRAIL_CLI_COMMANDS_H_
#define ORGTRAIL_CLI_COMMANDS_H_

#include <vector>

namespace orgtrail::cli {

struct CliCommand {
  const char* name;
  const char* summary;
  int (*run)(int argc, const char* const* argv);
};

// All subcommands, in the order `orgtrailctl --help` lists them.
const std::vector<CliCommand>& Commands();

}  // namespace orgtrail::cli

#endif  // ORGTRAIL_CLI_COMMANDS_H_
