#include "collector/delivery/export_uploader.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <simdjson.h>

#include "collector/integrity/digest_format.h"
#include "orgtrail/common/hash.h"
#include "orgtrail/common/str_cat.h"

namespace orgtrail::collector {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSidecarSuffix = ".metadata.json";

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool IsDigestKey(const std::string& key) {
  return key.find("/CloudTrail-Digest/") != std::string::npos;
}

StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::UnavailableError(StrCat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::UnavailableError(StrCat("cannot read ", path));
  return ss.str();
}

// Log files, Insights files and digests (all under .../CloudTrail*/...); not the manifest or keys.
bool IsPrunable(const std::string& key) { return key.find("/CloudTrail") != std::string::npos; }

std::string ContentType(const std::string& key) {
  if (EndsWith(key, ".gz")) return "application/x-gzip";
  if (EndsWith(key, ".json")) return "application/json";
  return "application/octet-stream";
}

}  // namespace

StatusOr<objectstore::ObjectMetadata> ParseDigestSidecar(std::string_view json,
                                                         std::string_view sidecar_name) {
  auto bad = [&](std::string_view why) {
    return absl::FailedPreconditionError(StrCat("digest sidecar ", sidecar_name, ": ", why));
  };
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS) {
    return bad("not valid JSON");
  }
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) return bad("not a JSON object");
  objectstore::ObjectMetadata metadata;
  for (auto field : object) {
    std::string_view value;
    if (field.value.get_string().get(value) != simdjson::SUCCESS) {
      return bad(StrCat("field '", std::string(field.key), "' is not a string"));
    }
    metadata[std::string(field.key)] = std::string(value);
  }
  if (metadata.count("signature") == 0) return bad("no 'signature'");
  if (metadata.count("signature-algorithm") == 0) return bad("no 'signature-algorithm'");
  return metadata;
}

StatusOr<std::unique_ptr<ExportUploader>> ExportUploader::Create(
    const objectstore::S3Client* client, ExportUploaderOptions options) {
  if (client == nullptr) return absl::InvalidArgumentError("ExportUploader: no S3 client");
  if (options.export_root.empty() || options.bucket.empty() || options.journal_path.empty()) {
    return absl::InvalidArgumentError("ExportUploader: export_root, bucket and journal_path are required");
  }
  const std::string& p = options.key_prefix;
  if (!p.empty() && (p.front() == '/' || p.back() == '/')) {
    return absl::InvalidArgumentError(StrCat("S3 key prefix '", p, "' must not start or end with '/'"));
  }
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(options.export_root, ec);
  const fs::path journal = fs::weakly_canonical(options.journal_path, ec);
  const std::string root_s = root.string() + "/";
  if (journal.string().compare(0, root_s.size(), root_s) == 0) {
    return absl::InvalidArgumentError(StrCat("ExportUploader: the journal ", options.journal_path,
                                             " must not be under the export root"));
  }
  auto opened = UploadJournal::Open(options.journal_path);
  if (!opened.ok()) return opened.status();
  return std::unique_ptr<ExportUploader>(
      new ExportUploader(client, std::move(options), *std::move(opened)));
}

std::string ExportUploader::ObjectKey(const std::string& export_key) const {
  return options_.key_prefix.empty() ? export_key : StrCat(options_.key_prefix, "/", export_key);
}

StatusOr<UploadPass> ExportUploader::UploadPending() {
  // 1. The finished files, log files (and the rest) first, digests last.
  std::vector<std::string> keys;
  std::error_code ec;
  fs::recursive_directory_iterator it(options_.export_root, ec), end;
  if (ec) return absl::UnavailableError(StrCat("cannot list ", options_.export_root, ": ", ec.message()));
  for (; it != end; it.increment(ec)) {
    if (ec) return absl::UnavailableError(StrCat("cannot list ", options_.export_root, ": ", ec.message()));
    if (!it->is_regular_file(ec)) continue;
    const std::string name = it->path().filename().string();
    if (name.rfind(".tmp-", 0) == 0 || EndsWith(name, kSidecarSuffix)) continue;
    keys.push_back(fs::relative(it->path(), options_.export_root).generic_string());
  }
  std::stable_sort(keys.begin(), keys.end(), [](const std::string& a, const std::string& b) {
    const bool da = IsDigestKey(a), db = IsDigestKey(b);
    if (da != db) return !da;
    return a < b;
  });

  // 2. Upload what the journal does not have with these bytes.
  UploadPass pass;
  for (const std::string& key : keys) {
    const std::string path = StrCat(options_.export_root, "/", key);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      return absl::UnavailableError(StrCat("cannot stat ", path));
    }
    const int64_t mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    const UploadJournalEntry* known = journal_->Find(key);
    if (known != nullptr && known->size == static_cast<uint64_t>(st.st_size) &&
        known->mtime_ns == mtime_ns) {
      ++pass.unchanged;
      ORGTRAIL_RETURN_IF_ERROR(PruneConfirmed(key, &pass));
      continue;
    }
    auto body = ReadFile(path);
    if (!body.ok()) return body.status();
    UploadJournalEntry entry{HexEncode(Sha256(*body)), body->size(), mtime_ns};
    if (known != nullptr && known->sha256_hex == entry.sha256_hex) {
      ORGTRAIL_RETURN_IF_ERROR(journal_->Record(key, entry));  // touched, same bytes
      ++pass.unchanged;
      ORGTRAIL_RETURN_IF_ERROR(PruneConfirmed(key, &pass));
      continue;
    }
    objectstore::PutObjectOptions put;
    put.content_type = ContentType(key);
    if (IsDigestKey(key)) {
      const std::string sidecar_key = DigestMetadataKey(key);
      auto sidecar = ReadFile(StrCat(options_.export_root, "/", sidecar_key));
      if (!sidecar.ok()) {
        return absl::FailedPreconditionError(StrCat("digest ", key, " has no readable sidecar ", sidecar_key));
      }
      auto metadata = ParseDigestSidecar(*sidecar, sidecar_key);
      if (!metadata.ok()) return metadata.status();
      put.metadata = *std::move(metadata);
    }
    auto etag = client_->PutObject(options_.bucket, ObjectKey(key), *body, put);
    if (!etag.ok()) return etag.status();
    if (options_.step_hook) options_.step_hook("uploaded", key);
    ORGTRAIL_RETURN_IF_ERROR(journal_->Record(key, entry));
    if (options_.step_hook) options_.step_hook("recorded", key);
    pass.uploaded.push_back(key);
    ORGTRAIL_RETURN_IF_ERROR(PruneConfirmed(key, &pass));
  }
  return pass;
}

Status ExportUploader::PruneConfirmed(const std::string& key, UploadPass* pass) const {
  if (!options_.prune_confirmed || !IsPrunable(key)) return Status();
  // A digest's sidecar goes first: a crash in between leaves the recorded digest, which the next
  // pass deletes (a sidecar left alone would never be listed again).
  std::vector<std::string> paths;
  if (IsDigestKey(key)) paths.push_back(StrCat(options_.export_root, "/", DigestMetadataKey(key)));
  paths.push_back(StrCat(options_.export_root, "/", key));
  for (const std::string& path : paths) {
    std::error_code ec;
    fs::remove(path, ec);
    if (ec) return absl::UnavailableError(StrCat("cannot delete the delivered local copy ", path, ": ", ec.message()));
  }
  ++pass->pruned;
  return Status();
}

}  // namespace orgtrail::collector
