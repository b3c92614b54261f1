#include "orgtrail/common/config.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "orgtrail/common/build_info.h"
#include "orgtrail/common/classify.h"


namespace po = boost::program_options;

namespace orgtrail {
namespace {

std::string EnvName(const std::string& option) {
  std::string out = "ORGTRAIL_";
  for (char c : option) out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

Status OptionError(std::string_view option, const std::string& what) {
  return absl::InvalidArgumentError(std::string(option) + ": " + what);
}

// boost::program_options formats its error messages by replacing placeholders
// such as %canonical_option% and %value% with the offending text until none is
// left: a token that itself contains a placeholder makes that loop forever
// (found by fuzz_config). Such text is refused before boost sees it.
Status CheckNoPlaceholder(std::string_view where, std::string_view text) {
  for (size_t start = text.find('%'); start != std::string_view::npos; start = text.find('%', start + 1)) {
    size_t end = start + 1;
    while (end < text.size() && (std::islower(static_cast<unsigned char>(text[end])) || text[end] == '_')) ++end;
    if (end > start + 1 && end < text.size() && text[end] == '%') {
      return absl::InvalidArgumentError(std::string(where) + ": '" + std::string(text.substr(start, end - start + 1)) +
                                        "' is not allowed in option names or values");
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string VersionString() {
  const BuildInfo& info = GetBuildInfo();
  return std::string("orgtrail ") + info.version + " (commit " + info.commit + ", built " + info.build_date + ")";
}

StatusOr<ParseOutcome> ParseCommandLine(int argc, const char* const* argv, const BinaryInfo& info,
                                        const po::options_description& options,
                                        po::variables_map* values,
                                        const std::vector<std::string>& env_options,
                                        const po::positional_options_description* positional) {
  po::options_description generic("General");
  generic.add_options()
      ("help,h", "print this help and exit")
      ("version", "print the version and exit")
      ("config", po::value<std::string>(), "read options from this file (key = value lines, same names as the flags)");
  po::options_description all;
  all.add(generic).add(options);
  for (int i = 1; i < argc; ++i) ORGTRAIL_RETURN_IF_ERROR(CheckNoPlaceholder("command line", argv[i]));
  try {
    po::command_line_parser parser(argc, argv);
    parser.options(all);
    if (positional) parser.positional(*positional);
    po::store(parser.run(), *values);
    if (values->count("help")) {
      std::cout << info.name << " - " << info.summary << "\n\nusage: " << info.usage << "\n\n" << all;
      if (!env_options.empty()) {
        std::cout << "\nEnvironment (used when the flag is not given):\n";
        for (const auto& o : env_options) std::cout << "  " << EnvName(o) << "  (--" << o << ")\n";
      }
      return ParseOutcome::kExitSuccess;
    }
    if (values->count("version")) {
      std::cout << info.name << ": " << VersionString() << "\n";
      return ParseOutcome::kExitSuccess;
    }
    // Environment: only for options not already set on the command line.
    for (const auto& name : env_options) {
      if (values->count(name) && !(*values)[name].defaulted()) continue;
      const char* v = std::getenv(EnvName(name).c_str());
      if (v == nullptr) continue;
      ORGTRAIL_RETURN_IF_ERROR(CheckNoPlaceholder(EnvName(name), v));
      const char* env_argv[] = {argv[0], nullptr, v};
      std::string flag = "--" + name;
      env_argv[1] = flag.c_str();
      po::store(po::command_line_parser(3, env_argv).options(all).run(), *values);
    }
    if (values->count("config")) {
      const std::string path = (*values)["config"].as<std::string>();
      std::ifstream file(path);
      if (!file) return absl::InvalidArgumentError("--config: cannot read file '" + path + "'");
      std::stringstream text;
      text << file.rdbuf();
      ORGTRAIL_RETURN_IF_ERROR(CheckNoPlaceholder("--config " + path, text.str()));
      std::istringstream in(text.str());
      po::store(po::parse_config_file(in, options, /*allow_unregistered=*/false), *values);
    }
    po::notify(*values);
  } catch (const po::error_with_option_name& e) {
    return absl::InvalidArgumentError(e.what());
  } catch (const po::error& e) {
    return absl::InvalidArgumentError(e.what());
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(e.what());
  }
  return ParseOutcome::kRun;
}

StatusOr<HostPort> ParseHostPort(std::string_view option, std::string_view text) {
  HostPort hp;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return OptionError(option, "expected [ipv6]:port, got '" + std::string(text) + "'");
    }
    hp.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      return OptionError(option, "expected host:port, got '" + std::string(text) + "'");
    }
    hp.host = std::string(text.substr(0, colon));
    if (hp.host.find(':') != std::string::npos) {
      return OptionError(option, "IPv6 addresses need brackets: [addr]:port, got '" + std::string(text) + "'");
    }
    port_text = text.substr(colon + 1);
  }
  if (port_text.empty() || port_text.size() > 5) {
    return OptionError(option, "port must be 0-65535, got '" + std::string(port_text) + "'");
  }
  int port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9') return OptionError(option, "port must be 0-65535, got '" + std::string(port_text) + "'");
    port = port * 10 + (c - '0');
  }
  if (port > 65535) return OptionError(option, "port must be 0-65535, got '" + std::string(port_text) + "'");
  hp.port = port;
  return hp;
}

Status CheckAccountId(std::string_view option, std::string_view text) {
  if (!IsValidAccountId(text)) {
    return OptionError(option, "expected a 12-digit AWS account id, got '" + std::string(text.substr(0, 64)) + "'");
  }
  return absl::OkStatus();
}

Status CheckRegion(std::string_view option, std::string_view text) {
  if (!IsValidRegionName(text)) {
    return OptionError(option, "expected an AWS region name such as us-east-1, got '" + std::string(text.substr(0, 64)) + "'");
  }
  return absl::OkStatus();
}

Status CheckPositive(std::string_view option, int64_t value) {
  if (value <= 0) return OptionError(option, "must be positive, got " + std::to_string(value));
  return absl::OkStatus();
}

namespace {

// Splits "123abc" into the number (at most 18 digits) and the unit.
bool SplitNumberUnit(std::string_view text, uint64_t* number, std::string* unit) {
  size_t i = 0;
  uint64_t n = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (i >= 18) return false;
    n = n * 10 + static_cast<uint64_t>(text[i] - '0');
    ++i;
  }
  if (i == 0) return false;
  *number = n;
  *unit = std::string(text.substr(i));
  return true;
}

}  // namespace

StatusOr<uint64_t> ParseByteSize(std::string_view option, std::string_view text) {
  uint64_t n;
  std::string unit;
  if (!SplitNumberUnit(text, &n, &unit)) {
    return OptionError(option, "expected a size like 4096, 64KiB, 64MiB or 1GiB, got '" + std::string(text.substr(0, 64)) + "'");
  }
  uint64_t mult;
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "KiB" || unit == "K" || unit == "KB") mult = 1ull << 10;
  else if (unit == "MiB" || unit == "M" || unit == "MB") mult = 1ull << 20;
  else if (unit == "GiB" || unit == "G" || unit == "GB") mult = 1ull << 30;
  else if (unit == "TiB" || unit == "T" || unit == "TB") mult = 1ull << 40;
  else return OptionError(option, "unknown size unit '" + unit + "' (use B, KiB, MiB, GiB, TiB)");
  if (n > (UINT64_MAX / mult)) return OptionError(option, "size too large");
  return n * mult;
}

StatusOr<int64_t> ParseDuration(std::string_view option, std::string_view text) {
  uint64_t n;
  std::string unit;
  if (!SplitNumberUnit(text, &n, &unit)) {
    return OptionError(option, "expected a duration like 250ms, 5s, 5m or 1h, got '" + std::string(text.substr(0, 64)) + "'");
  }
  int64_t mult;
  if (unit == "us") mult = 1;
  else if (unit == "ms") mult = 1000;
  else if (unit == "s" || unit.empty()) mult = 1000000;
  else if (unit == "m" || unit == "min") mult = 60ll * 1000000;
  else if (unit == "h") mult = 3600ll * 1000000;
  else if (unit == "d") mult = 86400ll * 1000000;
  else return OptionError(option, "unknown duration unit '" + unit + "' (use us, ms, s, m, h, d)");
  if (n > static_cast<uint64_t>(INT64_MAX / mult)) return OptionError(option, "duration too large");
  return static_cast<int64_t>(n) * mult;
}

}  // namespace orgtrail
