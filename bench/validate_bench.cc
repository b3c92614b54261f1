// validate-logs throughput next to raw SHA-256 on this machine.
//   BM_Sha256Raw          - SHA-256 (OpenSSL EVP via Sha256Hasher) over 1 MiB chunks.
//   BM_GunzipSha256       - what validate-logs does per log file: gunzip + SHA-256,
//                           in process, over a real export (bytes = uncompressed).
//   BM_GunzipSha256Parallel/N - the same on N threads: the raw limit for validate-logs --jobs N
//                           (issue target: validate-logs >= 0.8x of it on the same thread count).
//   BM_ValidateLogsBinary/N - the real `orgtrailctl validate-logs --jobs N` process over the
//                           same export (one signed digest listing every file);
//                           bytes = uncompressed log bytes re-hashed, so the
//                           figure includes process start, digest checks and I/O.
// The export: the 2,900 invictus records written 10 times (~37 MB uncompressed,
// 1,000 records per file) under a fresh temp dir, removed at exit. ORGTRAIL_VALIDATE_BENCH_COPIES=N
// writes them N times instead: at the default size the binary's fixed costs (process start,
// dynamic linking, digest checks; ~25 ms) are a third of the run, at 100 copies (~370 MB)
// the re-hash dominates as it does over days of real logs.
// Run: build/bench/validate_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "collector/integrity/digest_format.h"
#include "collector/integrity/digest_key_ring.h"
#include "collector/export/export_file.h"
#include "collector/export/export_log_writer.h"
#include "orgtrail/common/hash.h"
#include "orgtrail/common/time_util.h"

namespace orgtrail::collector {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kBase = 1767225600ll * 1000000;  // 2026-01-01T00:00:00Z

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Raw record bytes of a {"Records":[...]} document.
std::vector<std::string> Records(const std::string& doc) {
  std::vector<std::string> out;
  int depth = 0;
  bool in_string = false, escape = false;
  size_t start = 0;
  for (size_t i = doc.find('[') + 1; i < doc.size(); ++i) {
    char c = doc[i];
    if (in_string) {
      if (escape) escape = false;
      else if (c == '\\') escape = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      if (depth++ == 0) start = i;
    } else if (c == '}') {
      if (--depth == 0) out.push_back(doc.substr(start, i - start + 1));
    } else if (c == ']' && depth == 0) {
      break;
    }
  }
  return out;
}

struct BenchExport {
  std::string root;
  std::vector<std::string> log_paths;
  uint64_t uncompressed_bytes = 0;
};

const BenchExport& Export() {
  static BenchExport* e = [] {
    auto* out = new BenchExport;
    char tmpl[] = "/tmp/validate-bench-XXXXXX";
    out->root = mkdtemp(tmpl);
    std::vector<std::string> records;
    for (const auto& f : fs::directory_iterator(std::string(ORGTRAIL_SHARED_DATA_DIR) + "/invictus-aws-dataset/CloudTrail")) {
      for (auto& r : Records(Slurp(f.path().string()))) records.push_back(std::move(r));
    }
    auto keys = DigestKeyRing::Open(out->root + "/keys", kBase);
    DigestContent d;
    d.account_id = "123837392027";
    d.start_time_us = kBase;
    d.end_time_us = kBase + 3600ll * 1000000;
    d.s3_bucket = "bench-bucket";
    d.s3_object = DigestKey("o-benchorg01", "123837392027", "us-east-1", "org-trail", "us-east-1", d.end_time_us, false);
    d.public_key_fingerprint = (*keys)->CurrentFingerprint();
    ExportPartition p{"o-benchorg01", "123837392027", "us-east-1"};
    int part = 0;
    const char* copies_env = std::getenv("ORGTRAIL_VALIDATE_BENCH_COPIES");
    const int copies = copies_env != nullptr && std::atoi(copies_env) > 0 ? std::atoi(copies_env) : 10;
    for (int copy = 0; copy < copies; ++copy) {
      for (size_t i = 0; i < records.size(); i += 1000) {
        std::vector<ExportRecord> batch;
        for (size_t j = i; j < std::min(records.size(), i + 1000); ++j) batch.push_back({records[j], kBase});
        auto file = WriteLogFile(out->root + "/export", p, batch, kBase + 60ll * 1000000 * (1 + part % 50),
                                 "bench-" + std::to_string(part));
        ++part;
        out->log_paths.push_back(out->root + "/export/" + file->key);
        out->uncompressed_bytes += file->uncompressed_bytes;
        d.log_files.push_back({"bench-bucket", file->key, HexEncode(file->sha256), kBase, kBase});
      }
    }
    const std::string json = SerializeDigest(d);
    auto sig = (*keys)->SignHex(DigestStringToSign(FormatRfc3339Seconds(d.end_time_us), d.s3_bucket, d.s3_object,
                                                   HexEncode(Sha256(json)), "null"),
                                nullptr);
    (void)WriteExportFileDurably(out->root + "/export", DigestMetadataKey(d.s3_object), DigestMetadataJson(*sig));
    (void)WriteExportFileDurably(out->root + "/export", d.s3_object, *GzipCompress(json));
    (void)WriteExportFileDurably(out->root + "/export", "AWSLogs/o-benchorg01/public-keys.json", (*keys)->PublicKeysJson());
    std::atexit([] { fs::remove_all(Export().root); });
    return out;
  }();
  return *e;
}

void BM_Sha256Raw(benchmark::State& state) {
  std::string chunk(1 << 20, 'x');
  for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<char>(i * 131);
  for (auto _ : state) {
    Sha256Hasher h;
    h.Update(chunk);
    benchmark::DoNotOptimize(h.Finish());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(chunk.size()));
}
BENCHMARK(BM_Sha256Raw);

void BM_GunzipSha256(benchmark::State& state) {
  const BenchExport& e = Export();
  for (auto _ : state) {
    for (const auto& path : e.log_paths) {
      auto doc = GzipDecompress(Slurp(path));
      Sha256Hasher h;
      h.Update(*doc);
      benchmark::DoNotOptimize(h.Finish());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * e.uncompressed_bytes));
}
BENCHMARK(BM_GunzipSha256)->Unit(benchmark::kMillisecond);

// The raw limit validate-logs is held to: the same gunzip + SHA-256 over the same files on
// state.range(0) threads (one file per thread at a time, as validate-logs --jobs does).
void BM_GunzipSha256Parallel(benchmark::State& state) {
  const BenchExport& e = Export();
  const size_t workers = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t i = next++; i < e.log_paths.size(); i = next++) {
        auto doc = GzipDecompress(Slurp(e.log_paths[i]));
        Sha256Hasher h;
        h.Update(*doc);
        benchmark::DoNotOptimize(h.Finish());
      }
    };
    std::vector<std::thread> threads;
    for (size_t w = 1; w < workers; ++w) threads.emplace_back(work);
    work();
    for (std::thread& t : threads) t.join();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * e.uncompressed_bytes));
}
BENCHMARK(BM_GunzipSha256Parallel)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// state.range(0): --jobs.
void BM_ValidateLogsBinary(benchmark::State& state) {
  const BenchExport& e = Export();
  const std::string jobs = std::to_string(state.range(0));
  const std::string ctl = fs::canonical("/proc/self/exe").parent_path().parent_path().string() + "/cli/orgtrailctl";
  for (auto _ : state) {
    pid_t pid = fork();
    if (pid == 0) {
      freopen("/dev/null", "w", stdout);
      execl(ctl.c_str(), ctl.c_str(), "validate-logs", "--export-root", (e.root + "/export").c_str(), "--trail-arn",
            "arn:aws:cloudtrail:us-east-1:123837392027:trail/org-trail", "--start-time", "2026-01-01T00:00:00Z",
            "--end-time", "2026-01-01T02:00:00Z", "--s3-bucket", "bench-bucket", "--org-id", "o-benchorg01",
            "--no-unlisted-check", "--jobs", jobs.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      state.SkipWithError("validate-logs failed (is cli/orgtrailctl built?)");
      break;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * e.uncompressed_bytes));
}
BENCHMARK(BM_ValidateLogsBinary)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

}  // namespace
}  // namespace orgtrail::collector

BENCHMARK_MAIN();
