// orgtrail-chaos: breaks a real orgtrail organization on purpose and checks,
// in numbers, that nothing was lost, duplicated or forged.
//
// It starts its own PKI, a collector and five agents (file sources,
// PutEvents API, generator) on 127.0.0.1, each agent behind a fault-injecting
// TCP proxy, feeds them events while it injects faults from a seeded
// schedule (every kind at least once, each until it took effect), then waits
// for quiescence and checks the collector's store against the ledger of every
// event a source accepted. README.md (this folder) explains each fault and
// what "survived" means. This file is the command line; harness.h the run.
//
// Exit status: 0 all invariants held, 1 a violation was found, 2 usage or
// setup error.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>

#include <boost/program_options.hpp>

#include "harness.h"
#include "testutil/temp_dir.h"

namespace po = boost::program_options;
using namespace orgtrail::chaos;  // NOLINT

int main(int argc, char** argv) {
  po::options_description desc(
      "orgtrail-chaos: break a real orgtrail cluster (collector + 5 agents behind fault proxies) on "
      "purpose and check that nothing was lost, duplicated or forged.\n\nusage: orgtrail-chaos [--quick | --soak] "
      "[options]\n\noptions");
  desc.add_options()
      ("help,h", "print this help and exit")
      ("quick", "CI mode: fixed seed 20261121, 30 faults, short holds (< 3 min)")
      ("soak", "soak mode: 200 faults (override with --faults), any seed")
      ("seed", po::value<uint64_t>(), "schedule seed (default: 20261121 for --quick, time-based otherwise)")
      ("faults", po::value<int>(), "number of faults (at least one of each kind; default 30, soak 200)")
      ("out", po::value<std::string>()->default_value(""), "write the JSON report here")
      ("keep-dir", "keep the run's folder (PKI, data, logs) and print its path")
      ("binary-dir", po::value<std::string>()->default_value(ORGTRAIL_BINARY_DIR), "build folder with collector/, agent/, cli/")
      ("shim", po::value<std::string>()->default_value(ORGTRAIL_CHAOS_SHIM_PATH), "the fault shim shared library")
      ("generator-limit", po::value<int>()->default_value(1500), "records the generator agent produces")
      ("kinds", po::value<std::string>()->default_value(""),
       "only these fault kinds, comma-separated (default: every kind; see --list-kinds)")
      ("list-kinds", "print every fault kind and exit")
      ("max-attempts", po::value<int>()->default_value(5),
       "injections of a fault that did not take effect before the run fails");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "orgtrail-chaos: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc << "\nFaults: see tests/chaos/README.md. Exit status: 0 pass, 1 invariant violated, 2 setup error.\n";
    return 0;
  }
  if (vm.count("list-kinds")) {
    for (const auto& kind : AllKinds()) std::cout << kind << "\n";
    return 0;
  }
  ChaosOptions o;
  {
    std::stringstream kinds(vm["kinds"].as<std::string>());
    std::string kind;
    while (std::getline(kinds, kind, ',')) {
      if (kind.empty()) continue;
      if (std::find(AllKinds().begin(), AllKinds().end(), kind) == AllKinds().end()) {
        std::cerr << "orgtrail-chaos: --kinds: unknown fault kind '" << kind << "' (see --list-kinds)\n";
        return 2;
      }
      o.kinds.push_back(kind);
    }
  }
  o.max_attempts = vm["max-attempts"].as<int>();
  if (o.max_attempts < 1 || o.max_attempts > 100) {
    std::cerr << "orgtrail-chaos: --max-attempts must be between 1 and 100\n";
    return 2;
  }
  o.quick = vm.count("quick") > 0;
  o.soak = vm.count("soak") > 0;
  if (o.quick && o.soak) {
    std::cerr << "orgtrail-chaos: --quick and --soak exclude each other\n";
    return 2;
  }
  o.seed = o.quick ? 20261121 : static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count() % 1000000007);
  if (vm.count("seed")) o.seed = vm["seed"].as<uint64_t>();
  o.faults = o.soak ? 200 : 30;
  if (vm.count("faults")) o.faults = vm["faults"].as<int>();
  if (o.faults < 1 || o.faults > 100000) {
    std::cerr << "orgtrail-chaos: --faults must be between 1 and 100000\n";
    return 2;
  }
  o.out = vm["out"].as<std::string>();
  o.keep_dir = vm.count("keep-dir") > 0;
  o.binary_dir = vm["binary-dir"].as<std::string>();
  o.shim = vm["shim"].as<std::string>();
  o.generator_limit = vm["generator-limit"].as<int>();
  if (o.quick) {
    o.min_gap_ms = 100;
    o.max_gap_ms = 600;
    o.min_fault_ms = 400;
    o.max_fault_ms = 1200;
    o.recovery_bound_s = 40;
  }
  for (const std::string& bin : {o.binary_dir + "/collector/orgtrail-collector", o.binary_dir + "/agent/orgtrail-agent",
                                 o.binary_dir + "/cli/orgtrailctl", o.shim}) {
    if (::access(bin.c_str(), R_OK) != 0) {
      std::cerr << "orgtrail-chaos: missing " << bin << " (build the targets first)\n";
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  if (o.keep_dir) ::setenv("ORGTRAIL_KEEP_TEST_DIRS", "1", 1);
  orgtrail::testutil::TempDir dir("orgtrail-chaos");
  if (o.keep_dir) std::cerr << "orgtrail-chaos: run folder " << dir.path() << "\n";
  Harness harness(o, dir.path());
  const int status = harness.Run();
  if (status != 0 && !o.keep_dir) {
    // A failed run keeps its folder (PKI, data, every process's log) for the post-mortem.
    ::setenv("ORGTRAIL_KEEP_TEST_DIRS", "1", 1);
    std::cerr << "orgtrail-chaos: the run failed; its folder is kept: " << dir.path() << "\n";
  }
  return status;
}
