// Command line + config file + environment for every orgtrail binary, on
// Boost.Program_options. Every binary gets --help, --version and --config
// FILE (INI-style "key = value", same names as the long flags). Environment
// variables ORGTRAIL_<OPTION_NAME> (upper case, '-' -> '_') are read for
// options the caller lists as env-capable. Precedence: flag > env > file >
// default. Invalid values produce INVALID_ARGUMENT naming the option, e.g.
// "--listen: expected host:port, got 'abc'".
#ifndef ORGTRAIL_COMMON_CONFIG_H_
#define ORGTRAIL_COMMON_CONFIG_H_

#include <string>
#include <string_view>
#include <vector>

#include <boost/program_options.hpp>

#include "orgtrail/common/status.h"

namespace orgtrail {

struct BinaryInfo {
  std::string name;     // "orgtrail-collector"
  std::string summary;  // one line for --help
  std::string usage;    // e.g. "orgtrail-collector [options]"
};

enum class ParseOutcome { kRun, kExitSuccess };  // kExitSuccess after --help/--version

// Parses argv. On --help or --version prints to stdout and returns
// kExitSuccess. On error returns INVALID_ARGUMENT naming the option (callers
// print it to stderr and exit 2).
StatusOr<ParseOutcome> ParseCommandLine(int argc, const char* const* argv, const BinaryInfo& info,
                                        const boost::program_options::options_description& options,
                                        boost::program_options::variables_map* values,
                                        const std::vector<std::string>& env_options = {},
                                        const boost::program_options::positional_options_description* positional = nullptr);

std::string VersionString();  // "orgtrail 0.1.0 (commit 3096d7e1a2b4, built 2026-12-06)"

// Value checks that name the option in their errors.
struct HostPort { std::string host; int port = 0; };
StatusOr<HostPort> ParseHostPort(std::string_view option, std::string_view text);
Status CheckAccountId(std::string_view option, std::string_view text);
Status CheckRegion(std::string_view option, std::string_view text);
Status CheckPositive(std::string_view option, int64_t value);
// "64MiB", "1GiB", "4096" -> bytes.
StatusOr<uint64_t> ParseByteSize(std::string_view option, std::string_view text);
// "250ms", "5s", "5m", "1h" -> microseconds.
StatusOr<int64_t> ParseDuration(std::string_view option, std::string_view text);

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_CONFIG_H_
