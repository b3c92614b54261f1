// ingest_load_bench files: writes generator records as CloudTrail delivery
// files (or one JSONL file) for an agent's file source. Flags and output: the
// header comment of ingest_load_bench.cc.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "ingest_load_common.h"
#include "ingest_load_modes.h"
#include "orgtrail/common/generator.h"

namespace orgtrail::ingest_load {

namespace fs = std::filesystem;

int RunFiles(const Flags& f) {
  const std::string out = f.Get("out");
  const long long events = f.Int("events", 10000);
  const long long per_file = f.Int("per-file", 1000);
  if (out.empty() || events < 1 || per_file < 1) return Fail("files: --out DIR --events >= 1 --per-file >= 1");
  fs::create_directories(out);
  GeneratorOptions g;
  g.seed = static_cast<uint64_t>(f.Int("seed", 7));
  g.account_id = f.Get("account", "111111111111");
  g.mix.global_iam = 0;
  EventGenerator gen(g);
  uint64_t bytes = 0;
  if (f.Get("format") == "jsonl") {
    std::ofstream o(out + "/events.jsonl", std::ios::binary);
    for (long long i = 0; i < events; ++i) {
      std::string json = gen.NextJson();
      bytes += json.size();
      o << json << '\n';
    }
  }
  for (long long written = f.Get("format") == "jsonl" ? events : 0, file = 0; written < events; ++file) {
    std::string text = "{\"Records\":[";
    for (long long i = 0; i < per_file && written < events; ++i, ++written) {
      if (i > 0) text += ",";
      std::string json = gen.NextJson();
      bytes += json.size();
      text += json;
    }
    text += "]}\n";
    char name[64];
    std::snprintf(name, sizeof name, "/bench_%06lld.json", file);
    const std::string tmp = out + "/.tmp" + std::string(name + 1), final_path = out + name;
    {
      std::ofstream o(tmp, std::ios::binary);
      o << text;
    }
    fs::rename(tmp, final_path);
  }
  std::printf("{\"mode\":\"files\",\"events\":%lld,\"mean_event_bytes\":%.1f}\n", events,
              static_cast<double>(bytes) / static_cast<double>(events));
  return 0;
}

}  // namespace orgtrail::ingest_load
