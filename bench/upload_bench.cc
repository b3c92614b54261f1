// upload_bench: the delivery's upload rate to S3-compatible storage, next to a plain PUT of the same
// files on the same server (run by bench/upload.sh, which starts a throwaway Ceph RGW on loopback).
// Not a Google Benchmark: it prints one JSON object on stdout and never decides pass/fail on time.
//
//   upload_bench --files N --records R --dir D --bucket B [--rounds K]
//
// The files: N CloudTrail log files (gzipped {"Records":[...]} of R generator records each) in
// CloudTrail's layout under D/export. After 10 untimed warm-up PUTs, each round, on fresh key
// prefixes, both of these, alternating which goes first:
//   put       every file PUT once with objectstore::S3Client::PutObject, in order, one thread (the
//             baseline: the bytes on the wire and nothing else)
//   uploader  collector/delivery's ExportUploader::UploadPending over the same folder, one pass
//             (what a trail's delivery does: the same PUTs, plus reading each file, hashing it and
//             recording it durably in the upload journal before the next one)
// Both: one connection per request (S3Client reuses none), SigV4 with the payload's SHA-256.
// -> objects/s and MB/s (compressed bytes) of each, per round and median, and uploader / put.
// Endpoint and credentials: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (the RGW's
// env file); the bucket is created if missing.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "collector/delivery/export_uploader.h"
#include "collector/export/export_file.h"
#include "objectstore/s3_client.h"
#include "objectstore/s3_credentials.h"
#include "orgtrail/common/generator.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

int Fail(const std::string& message) {
  std::fprintf(stderr, "upload_bench: %s\n", message.c_str());
  return 1;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

struct Files {
  std::vector<std::string> keys;  // export keys (paths under the export root)
  uint64_t bytes = 0;
};

// N gzipped log files of R generator records each, in CloudTrail's layout.
bool WriteFiles(const std::string& root, int files, int records, Files* out) {
  orgtrail::GeneratorOptions g;
  g.seed = 17;
  g.account_id = "111111111111";
  orgtrail::EventGenerator gen(g);
  const std::string dir = "AWSLogs/o-bench00001/111111111111/CloudTrail/us-east-1/2026/12/07/";
  fs::create_directories(root + "/" + dir);
  for (int f = 0; f < files; ++f) {
    std::string doc = "{\"Records\":[";
    for (int r = 0; r < records; ++r) doc += (r ? "," : "") + gen.NextJson();
    doc += "]}";
    auto gz = orgtrail::collector::GzipCompress(doc);
    if (!gz.ok()) return false;
    char name[96];
    std::snprintf(name, sizeof name, "111111111111_CloudTrail_us-east-1_20261207T0000Z_bench%06d.json.gz", f);
    std::ofstream(root + "/" + dir + name, std::ios::binary) << *gz;
    out->keys.push_back(dir + name);
    out->bytes += gz->size();
  }
  return true;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 1; i + 1 < argc; i += 2) flags[std::string(argv[i]).substr(2)] = argv[i + 1];
  if (argc < 2 || std::string(argv[1]) == "--help" || argc % 2 == 0) {
    std::printf("usage: upload_bench --files N --records R --dir D --bucket B [--rounds K] (see the header)\n");
    return argc < 2 || argc % 2 == 0 ? 2 : 0;
  }
  const int files = std::atoi(flags["files"].c_str());
  const int records = std::atoi(flags["records"].c_str());
  const int rounds = flags.count("rounds") ? std::atoi(flags["rounds"].c_str()) : 3;
  const std::string dir = flags["dir"], bucket = flags["bucket"];
  if (files < 1 || records < 1 || rounds < 1 || dir.empty() || bucket.empty()) return Fail("bad flags");
  const char* endpoint = std::getenv("AWS_ENDPOINT_URL");
  if (endpoint == nullptr) return Fail("AWS_ENDPOINT_URL is not set (source the S3 server's env file)");

  orgtrail::objectstore::S3ClientOptions options;
  options.endpoint = endpoint;
  auto credentials = orgtrail::objectstore::LoadCredentials(orgtrail::objectstore::ProcessEnvironment());
  if (!credentials.ok()) return Fail(credentials.status().ToString());
  options.credentials = *credentials;
  auto client = orgtrail::objectstore::S3Client::Create(options);
  if (!client.ok()) return Fail(client.status().ToString());
  if (auto s = (*client)->CreateBucket(bucket); !s.ok() && s.code() != absl::StatusCode::kAlreadyExists) {
    return Fail(s.ToString());
  }

  const std::string root = dir + "/export";
  Files written;
  if (!WriteFiles(root, files, records, &written)) return Fail("could not write the log files");

  // Warm-up (not timed): the store's first writes of a run allocate its pools.
  for (int i = 0; i < 10; ++i) {
    auto etag = (*client)->PutObject(bucket, "warm-up/" + std::to_string(i), Slurp(root + "/" + written.keys[0]));
    if (!etag.ok()) return Fail("warm-up PUT: " + etag.status().ToString());
  }
  std::vector<double> put_rate, put_mb, up_rate, up_mb;
  auto run_put = [&](int round) -> int {  // the same files, PUT in order, read from disk as the uploader does
    const std::string put_prefix = "put-" + std::to_string(round) + "/";
    auto t0 = Clock::now();
    for (const auto& key : written.keys) {
      auto etag = (*client)->PutObject(bucket, put_prefix + key, Slurp(root + "/" + key));
      if (!etag.ok()) return Fail("PUT " + key + ": " + etag.status().ToString());
    }
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    put_rate.push_back(files / secs);
    put_mb.push_back(written.bytes / secs / 1e6);
    return 0;
  };
  auto run_uploader = [&](int round) -> int {
    orgtrail::collector::ExportUploaderOptions uo;
    uo.export_root = root;
    uo.bucket = bucket;
    uo.key_prefix = "uploader-" + std::to_string(round);
    uo.journal_path = dir + "/journal-" + std::to_string(round);
    auto uploader = orgtrail::collector::ExportUploader::Create(client->get(), uo);
    if (!uploader.ok()) return Fail(uploader.status().ToString());
    auto t0 = Clock::now();
    auto pass = (*uploader)->UploadPending();
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    if (!pass.ok()) return Fail("UploadPending: " + pass.status().ToString());
    if (pass->uploaded.size() != written.keys.size()) {
      return Fail("the uploader PUT " + std::to_string(pass->uploaded.size()) + " of " +
                  std::to_string(written.keys.size()) + " files");
    }
    up_rate.push_back(files / secs);
    up_mb.push_back(written.bytes / secs / 1e6);
    return 0;
  };
  for (int round = 0; round < rounds; ++round) {  // alternating which goes first
    int rc = round % 2 == 0 ? run_put(round) : run_uploader(round);
    if (rc == 0) rc = round % 2 == 0 ? run_uploader(round) : run_put(round);
    if (rc != 0) return rc;
  }
  auto list = [](const std::vector<double>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
    return s + "]";
  };
  std::printf("{\"files\":%d,\"records_per_file\":%d,\"mean_file_bytes\":%.0f,\"rounds\":%d,"
              "\"put_objects_per_s\":%s,\"uploader_objects_per_s\":%s,"
              "\"put_objects_per_s_median\":%.1f,\"put_mb_per_s_median\":%.2f,"
              "\"uploader_objects_per_s_median\":%.1f,\"uploader_mb_per_s_median\":%.2f,"
              "\"uploader_over_put\":%.3f}\n",
              files, records, static_cast<double>(written.bytes) / files, rounds, list(put_rate).c_str(),
              list(up_rate).c_str(), Median(put_rate), Median(put_mb), Median(up_rate), Median(up_mb),
              Median(up_rate) / Median(put_rate));
  return 0;
}
