// The folder and S3 sources of validate-logs (see export_source.h).
#include "export_source.h"

#include <algorithm>
#include <cstdlib>
#include <initializer_list>
#include <filesystem>

#include <simdjson.h>

#include "validate_files.h"

namespace orgtrail::cli::validate_logs {
namespace {

class FolderSource : public ExportSource {
 public:
  FolderSource(std::string root, std::string key_prefix) : root_(std::move(root)), key_prefix_(std::move(key_prefix)) {}

  StatusOr<std::vector<std::string>> List(const std::string& prefix) const override {
    std::vector<std::string> keys;
    std::string local;
    if (!Local(prefix, &local)) return keys;
    const std::string folder = local.empty() ? root_ : root_ + "/" + local;
    std::error_code ec;
    if (!std::filesystem::is_directory(folder, ec)) return keys;
    for (auto it = std::filesystem::recursive_directory_iterator(folder, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      const std::string rel = it->path().lexically_relative(root_).generic_string();
      keys.push_back(key_prefix_.empty() ? rel : key_prefix_ + "/" + rel);
    }
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  std::unique_ptr<ObjectStream> Open(const std::string& key) const override {
    std::string local;
    if (!Local(key, &local)) return nullptr;
    const std::string path = root_ + "/" + local;
    if (!IsRegularFile(path)) return nullptr;
    auto stream = std::make_unique<ObjectStream>();
    stream->file = std::fopen(path.c_str(), "rb");
    return stream->file == nullptr ? nullptr : std::move(stream);
  }

  bool Read(const std::string& key, std::string* out, size_t limit) const override {
    std::string local;
    return Local(key, &local) && ReadWholeFile(root_ + "/" + local, out, limit) && out->size() <= limit;
  }

  bool SignatureMetadata(const std::string& key, std::map<std::string, std::string>* out) const override {
    std::string text;
    if (!Read(key + ".metadata.json", &text, 1u << 20)) return false;
    simdjson::dom::parser parser;
    simdjson::dom::object meta;
    if (parser.parse(text).get(meta) != simdjson::SUCCESS) return false;
    for (auto [name, value] : meta) {
      std::string_view text_value;
      if (value.get_string().get(text_value) == simdjson::SUCCESS) (*out)[std::string(name)] = std::string(text_value);
    }
    return true;
  }

 private:
  // The key's path under the root: the key without the key prefix (false when not under it).
  bool Local(const std::string& key, std::string* local) const {
    if (key_prefix_.empty()) {
      *local = key;
      return true;
    }
    if (key == key_prefix_) {
      local->clear();
      return true;
    }
    if (key.size() <= key_prefix_.size() || key.compare(0, key_prefix_.size(), key_prefix_) != 0 ||
        key[key_prefix_.size()] != '/') {
      return false;
    }
    *local = key.substr(key_prefix_.size() + 1);
    return true;
  }

  std::string root_;
  std::string key_prefix_;
};

class S3Source : public ExportSource {
 public:
  S3Source(std::string bucket, std::unique_ptr<objectstore::S3Client> client)
      : bucket_(std::move(bucket)), client_(std::move(client)) {}

  StatusOr<std::vector<std::string>> List(const std::string& prefix) const override {
    auto listed = client_->ListAllObjects(bucket_, prefix.empty() ? "" : prefix + "/");
    if (!listed.ok()) return listed.status();
    std::vector<std::string> keys;
    for (const auto& object : *listed) keys.push_back(object.key);
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  std::unique_ptr<ObjectStream> Open(const std::string& key) const override {
    auto object = client_->GetObject(bucket_, key);
    if (!object.ok()) return nullptr;
    auto stream = std::make_unique<ObjectStream>();
    stream->buffer = std::move(object->body);
    // fmemopen needs a non-empty buffer; an empty object reads as an empty file.
    stream->file = stream->buffer.empty() ? std::fopen("/dev/null", "rb")
                                          : fmemopen(stream->buffer.data(), stream->buffer.size(), "rb");
    return stream->file == nullptr ? nullptr : std::move(stream);
  }

  bool Read(const std::string& key, std::string* out, size_t limit) const override {
    auto object = client_->GetObject(bucket_, key);
    if (!object.ok() || object->body.size() > limit) return false;
    *out = std::move(object->body);
    return true;
  }

  bool SignatureMetadata(const std::string& key, std::map<std::string, std::string>* out) const override {
    auto info = client_->HeadObject(bucket_, key);
    if (!info.ok()) return false;
    for (const auto& [name, value] : info->metadata) (*out)[name] = value;
    return out->count("signature") > 0;
  }

 private:
  std::string bucket_;
  std::unique_ptr<objectstore::S3Client> client_;
};

}  // namespace

std::unique_ptr<ExportSource> NewFolderSource(std::string root, std::string key_prefix) {
  return std::make_unique<FolderSource>(std::move(root), std::move(key_prefix));
}

StatusOr<std::unique_ptr<ExportSource>> NewS3Source(std::string bucket, objectstore::S3ClientOptions options) {
  auto client = objectstore::S3Client::Create(std::move(options));
  if (!client.ok()) return client.status();
  std::unique_ptr<ExportSource> source = std::make_unique<S3Source>(std::move(bucket), std::move(*client));
  return source;
}

namespace {
std::string EnvOr(std::initializer_list<const char*> names, const std::string& fallback) {
  for (const char* name : names) {
    const char* v = std::getenv(name);
    if (v != nullptr && *v != '\0') return v;
  }
  return fallback;
}
}  // namespace

StatusOr<objectstore::S3ClientOptions> S3ClientOptionsFor(const std::string& endpoint_flag,
                                                          const std::string& region_flag,
                                                          const std::string& ca_file_flag) {
  objectstore::S3ClientOptions options;
  options.region = !region_flag.empty() ? region_flag : EnvOr({"AWS_REGION", "AWS_DEFAULT_REGION"}, "us-east-1");
  options.endpoint = !endpoint_flag.empty()
                         ? endpoint_flag
                         : EnvOr({"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}, "https://s3." + options.region + ".amazonaws.com");
  options.ca_file = ca_file_flag;
  auto credentials = objectstore::LoadCredentials(objectstore::ProcessEnvironment());
  if (!credentials.ok()) return credentials.status();
  options.credentials = *credentials;
  return options;
}

Status ParseS3Url(const std::string& url, std::string* bucket, std::string* prefix) {
  if (url.rfind("s3://", 0) != 0) return absl::InvalidArgumentError("'" + url + "': expected s3://bucket[/prefix]");
  const std::string rest = url.substr(5);
  const size_t slash = rest.find('/');
  *bucket = rest.substr(0, slash);
  *prefix = slash == std::string::npos ? "" : rest.substr(slash + 1);
  while (!prefix->empty() && prefix->back() == '/') prefix->pop_back();
  if (bucket->empty()) return absl::InvalidArgumentError("'" + url + "': expected s3://bucket[/prefix]");
  return absl::OkStatus();
}

}  // namespace orgtrail::cli::validate_logs
