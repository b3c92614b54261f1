// Config files and option values (common/config.h): every binary reads
// `--config FILE` (INI-style "key = value") through ParseCommandLine, and
// checks values with ParseHostPort / ParseByteSize / ParseDuration /
// CheckAccountId / CheckRegion. The input is written to a file and read with
// --config, against an option set shaped like the daemons' (strings, numbers,
// switches, repeated values); every string value then goes through the value
// checks, as the daemons do after parsing.
#include <cstdint>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "fuzz_util.h"
#include "orgtrail/common/config.h"
#include "orgtrail/common/identity.h"

namespace po = boost::program_options;

namespace {

// The option set is built once: an options_description holds only names, value types and
// defaults; what an input parses goes to its own variables_map.
const po::options_description& DaemonOptions() {
  static const po::options_description* const kOptions = [] {
    // The option names of deploy/config/agent.conf and collector.conf, typed as the daemons type them.
    auto* options = new po::options_description("fuzzed daemon options");
    options->add_options()
        ("collector", po::value<std::string>(), "")
        ("listen", po::value<std::string>()->default_value("127.0.0.1:7443"), "")
        ("http-listen", po::value<std::string>(), "")
        ("ops-listen", po::value<std::string>(), "")
        ("ca", po::value<std::string>(), "")
        ("cert", po::value<std::string>(), "")
        ("key", po::value<std::string>(), "")
        ("trust-domain", po::value<std::string>(), "")
        ("collector-id", po::value<std::string>(), "")
        ("home-region", po::value<std::string>(), "")
        ("management-account-id", po::value<std::string>(), "")
        ("log-level", po::value<std::string>(), "")
        ("unconfigured-selection", po::value<std::string>(), "")
        ("watch-dir", po::value<std::vector<std::string>>()->composing(), "")
        ("spool-max-bytes", po::value<std::string>()->default_value("1GiB"), "")
        ("file-read-ahead", po::value<std::string>()->default_value("8MiB"), "")
        ("batch-max-bytes", po::value<std::string>()->default_value("1MiB"), "")
        ("max-batch-bytes", po::value<std::string>()->default_value("4MiB"), "")
        ("max-event-bytes", po::value<std::string>(), "")
        ("batch-max-age", po::value<std::string>()->default_value("200ms"), "")
        ("batch-max-events", po::value<int>(), "")
        ("max-events-per-batch", po::value<int>(), "")
        ("max-unacked-batches", po::value<int64_t>(), "")
        ("window", po::value<int>(), "")
        ("tls-refresh-seconds", po::value<int64_t>(), "")
        ("retention-days", po::value<double>(), "")
        ("verbose", po::bool_switch(), "");
    return options;
  }();
  return *kOptions;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16 * 1024) return 0;
  static const std::string path = orgtrail::fuzz::ScratchDir() + "/orgtrail.conf";
  orgtrail::fuzz::WriteFileOrDie(path, orgtrail::fuzz::AsView(data, size));
  const po::options_description& options = DaemonOptions();
  po::variables_map values;
  const std::string config_flag = "--config=" + path;
  const char* argv[] = {"orgtrail-fuzz", config_flag.c_str()};
  const orgtrail::BinaryInfo info{"orgtrail-fuzz", "fuzzing", "orgtrail-fuzz [options]"};
  auto outcome = orgtrail::ParseCommandLine(2, argv, info, options, &values);
  if (!outcome.ok()) {
    ORGTRAIL_FUZZ_CHECK(outcome.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  auto str = [&](const char* name) -> std::string {
    return values.count(name) ? values[name].as<std::string>() : std::string();
  };
  for (const char* name : {"collector", "listen", "http-listen", "ops-listen"}) {
    (void)orgtrail::ParseHostPort(name, str(name));
  }
  (void)orgtrail::CheckAccountId("--management-account-id", str("management-account-id"));
  (void)orgtrail::CheckRegion("--home-region", str("home-region"));
  for (const char* name : {"spool-max-bytes", "file-read-ahead", "batch-max-bytes", "max-batch-bytes",
                           "max-event-bytes"}) {
    (void)orgtrail::ParseByteSize(name, str(name));
  }
  (void)orgtrail::ParseDuration("--batch-max-age", str("batch-max-age"));
  (void)orgtrail::ParseSpiffeId("spiffe://" + str("trust-domain") + "/admin/ops", str("trust-domain"));
  if (values.count("watch-dir")) {
    for (const auto& w : values["watch-dir"].as<std::vector<std::string>>()) {
      (void)orgtrail::ParseByteSize("--watch-dir", w);
      (void)orgtrail::ParseDuration("--watch-dir", w);
    }
  }
  if (values.count("max-unacked-batches")) {
    (void)orgtrail::CheckPositive("--max-unacked-batches", values["max-unacked-batches"].as<int64_t>());
  }
  return 0;
}
