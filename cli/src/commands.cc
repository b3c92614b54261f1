#include "commands.h"

namespace orgtrail::cli {

// Declarations of the subcommand entry points (defined in cmd_*.cc).
// Add one line here and one row below when adding a subcommand.

const std::vector<CliCommand>& Commands() {
  static const std::vector<CliCommand> kCommands = {
  };
  return kCommands;
}

}  // namespace orgtrail::cli
