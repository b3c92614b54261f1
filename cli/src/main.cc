// orgtrailctl: dispatches to the subcommand named by argv[1].
#include <cstdio>
#include <cstring>
#include <string>

#include "commands.h"
#include "orgtrail/common/config.h"

namespace {

void PrintUsage(FILE* out) {
  std::fprintf(out,
               "orgtrailctl - query, verify and manage an orgtrail organization audit trail\n\n"
               "usage: orgtrailctl <command> [options]\n"
               "       orgtrailctl <command> --help\n\ncommands:\n");
  for (const auto& c : orgtrail::cli::Commands()) {
    std::fprintf(out, "  %-22s %s\n", c.name, c.summary);
  }
  std::fprintf(out, "\nglobal options:\n  --help      this text\n  --version   print the version\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    PrintUsage(stderr);
    return 2;
  }
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    PrintUsage(stdout);
    return 0;
  }
  if (command == "--version") {
    std::printf("%s\n", orgtrail::VersionString().c_str());
    return 0;
  }
  for (const auto& c : orgtrail::cli::Commands()) {
    if (command == c.name) return c.run(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "orgtrailctl: unknown command '%s' (see orgtrailctl --help)\n", command.c_str());
  return 2;
}
