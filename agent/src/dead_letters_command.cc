// orgtrail-agent dead-letters (see dead_letters_command.h).
#include "orgtrail/agent/dead_letters_command.h"

#include <sys/stat.h>

#include <string>

#include <boost/program_options.hpp>

#include "orgtrail/agent/spool.h"
#include "orgtrail/common/config.h"
#include "orgtrail/common/logger.h"

namespace orgtrail::agent {
namespace {

namespace po = boost::program_options;

std::string Quote(std::string_view text) {
  std::string out = "\"";
  AppendJsonEscaped(&out, text);
  out += '"';
  return out;
}

std::string LetterLine(const Spool::DeadLetterRecord& letter) {
  std::string ids = "[";
  for (size_t i = 0; i < letter.events.size() && i < 10; ++i) {
    if (i > 0) ids += ',';
    ids += Quote(letter.events[i].event_id());
  }
  ids += ']';
  return "{\"sequence\":" + std::to_string(letter.sequence) + ",\"reason\":" + Quote(letter.reason) +
         ",\"readable\":" + (letter.readable ? "true" : "false") +
         ",\"events\":" + std::to_string(letter.events.size()) + ",\"firstEventIDs\":" + ids + "}";
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

int RunDeadLettersCommand(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  po::options_description options("orgtrail-agent dead-letters options");
  options.add_options()("spool-dir", po::value<std::string>(), "the stopped agent's spool directory (required)")(
      "replay", po::bool_switch(),
      "move the events of every readable dead letter back to pending: the agent sends them again when it runs")(
      "quarantine", po::bool_switch(),
      "list the quarantine instead: malformed files, over-long lines, refused records and unreadable spool "
      "entries, each with its reason (and bytes, base64)")(
      "spool-max-bytes", po::value<std::string>()->default_value("256MiB"),
      "the agent's spool bound (a replay that does not fit stops with the letters kept)");
  po::variables_map values;
  BinaryInfo info{"orgtrail-agent dead-letters",
                  "list the batches the collector refused for good, and replay their events",
                  "orgtrail-agent dead-letters --spool-dir DIR [--replay | --quarantine]"};
  auto usage = [&](const std::string& message) {
    err << "orgtrail-agent dead-letters: " << message << "\n";
    return 2;
  };
  auto outcome = ParseCommandLine(argc, argv, info, options, &values);
  if (!outcome.ok()) return usage(std::string(outcome.status().message()));
  if (*outcome == ParseOutcome::kExitSuccess) return 0;
  if (!values.count("spool-dir")) return usage("--spool-dir is required");
  const std::string dir = values["spool-dir"].as<std::string>();
  if (!IsDirectory(dir)) return usage("--spool-dir: '" + dir + "' is not a directory");
  auto max_bytes = ParseByteSize("--spool-max-bytes", values["spool-max-bytes"].as<std::string>());
  if (!max_bytes.ok()) return usage(std::string(max_bytes.status().message()));

  SpoolOptions spool_options;
  spool_options.path = dir;
  spool_options.max_bytes = *max_bytes;
  auto spool = Spool::Open(spool_options);
  if (!spool.ok()) {
    const std::string message(spool.status().message());
    err << "orgtrail-agent dead-letters: cannot open the spool: " << message << "\n";
    if (message.find("lock") != std::string::npos) {
      err << "orgtrail-agent dead-letters: the spool is in use: stop the agent first\n";
    }
    return 1;
  }
  if (values["quarantine"].as<bool>()) {
    if (values["replay"].as<bool>()) return usage("--quarantine and --replay exclude each other");
    const auto entries = (*spool)->ListQuarantine();
    for (const auto& [key, reason] : entries) {
      out << "{\"key\":" << Quote(key) << ",\"reason\":" << Quote(reason) << "}\n";
    }
    err << entries.size() << " quarantined input(s)\n";
    return (*spool)->failed() ? 1 : 0;
  }
  auto letters = (*spool)->ReadDeadLetters();
  if (!letters.ok()) {
    err << "orgtrail-agent dead-letters: " << letters.status().ToString() << "\n";
    return 1;
  }
  for (const auto& letter : *letters) out << LetterLine(letter) << "\n";
  err << letters->size() << " dead letter(s)\n";
  if (!values["replay"].as<bool>()) return 0;
  auto replayed = (*spool)->ReplayDeadLetters();
  if (!replayed.ok()) {
    err << "orgtrail-agent dead-letters: replay stopped: " << replayed.status().ToString() << "\n";
    return 1;
  }
  err << "replayed " << replayed->batches << " batch(es), " << replayed->events
      << " event(s) back to pending; " << replayed->kept_unreadable << " unreadable kept\n";
  return 0;
}

}  // namespace orgtrail::agent
