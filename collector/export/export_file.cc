// gzip and crash-safe file placement for the export (see export_file.h).
#include "collector/export/export_file.h"
#include "collector/export/export_strings.h"

#include <fcntl.h>
#include <libdeflate.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "orgtrail/common/uuid.h"

namespace orgtrail::collector {
namespace {

// gzip level of the export (libdeflate 1..12; 6 = zlib's default, and about its ratio).
constexpr int kGzipLevel = 6;

using internal::Cat;
using internal::Split;

Status Errno(std::string_view what, const std::string& path) {
  return absl::UnavailableError(Cat(what, " ", path, ": ", std::strerror(errno)));
}

Status FsyncPath(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return Errno("open", path);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("fsync", path);
  return absl::OkStatus();
}

// mkdir -p, fsyncing each parent of a newly created folder so the new entry
// survives a crash.
Status MakeDirectories(const std::string& root, std::string_view rel_dir) {
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec) return absl::UnavailableError(Cat("mkdir ", root, ": ", ec.message()));
  std::string path = root;
  if (rel_dir.empty()) return absl::OkStatus();
  for (std::string_view part : Split(rel_dir, '/')) {
    std::string parent = path;
    path = Cat(path, "/", part);
    if (::mkdir(path.c_str(), 0755) == 0) {
      ORGTRAIL_RETURN_IF_ERROR(FsyncPath(parent, true));
    } else if (errno != EEXIST) {
      return Errno("mkdir", path);
    }
  }
  return absl::OkStatus();
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace

StatusOr<std::string> GzipCompress(std::string_view data) {
  // libdeflate: the same gzip member zlib writes, in a fraction of zlib's CPU (the export's
  // compression was ~11 % of the collector's CPU under load with zlib; bench/README.md).
  std::unique_ptr<libdeflate_compressor, decltype(&libdeflate_free_compressor)> compressor(
      libdeflate_alloc_compressor(kGzipLevel), &libdeflate_free_compressor);
  if (compressor == nullptr) return absl::ResourceExhaustedError("libdeflate_alloc_compressor failed");
  std::string out;
  out.resize(libdeflate_gzip_compress_bound(compressor.get(), data.size()));
  const size_t produced =
      libdeflate_gzip_compress(compressor.get(), data.data(), data.size(), out.data(), out.size());
  if (produced == 0) return absl::InternalError("libdeflate_gzip_compress: output did not fit its bound");
  out.resize(produced);
  return out;
}

StatusOr<std::string> GzipDecompress(std::string_view data, size_t max_output_bytes) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return absl::InternalError("inflateInit2 failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[65536];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return absl::InvalidArgumentError("invalid gzip stream");
    }
    out.append(buf, sizeof(buf) - zs.avail_out);
    if (out.size() > max_output_bytes) {
      inflateEnd(&zs);
      return absl::InvalidArgumentError("gzip output too large");
    }
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
      inflateEnd(&zs);
      return absl::InvalidArgumentError("truncated gzip stream");
    }
  }
  size_t rest = zs.avail_in;
  inflateEnd(&zs);
  if (rest != 0) return absl::InvalidArgumentError("unexpected data after end of compressed stream");
  return out;
}

Status CheckExportKey(std::string_view key) {
  if (key.empty() || key.size() > 1024) return absl::InvalidArgumentError("export key: bad length");
  if (key.front() == '/') return absl::InvalidArgumentError("export key: absolute path");
  for (std::string_view part : Split(key, '/')) {
    if (part.empty() || part == "." || part == "..") {
      return absl::InvalidArgumentError(Cat("export key: bad segment in '", key, "'"));
    }
  }
  if (key.find('\0') != std::string_view::npos) return absl::InvalidArgumentError("export key: NUL");
  return absl::OkStatus();
}

Status WriteExportFileDurably(const std::string& root, std::string_view key,
                              std::string_view contents, int mode) {
  ORGTRAIL_RETURN_IF_ERROR(CheckExportKey(key));
  size_t slash = key.rfind('/');
  std::string_view rel_dir = slash == std::string_view::npos ? "" : key.substr(0, slash);
  std::string_view name = slash == std::string_view::npos ? key : key.substr(slash + 1);
  ORGTRAIL_RETURN_IF_ERROR(MakeDirectories(root, rel_dir));
  const std::string dir = rel_dir.empty() ? root : Cat(root, "/", rel_dir);
  const std::string final_path = Cat(dir, "/", name);
  const std::string tmp_path = Cat(dir, "/.tmp-", NewUuidV4(), "-", name);
  int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd >= 0) ::fchmod(fd, static_cast<mode_t>(mode));  // umask-independent
  if (fd < 0) return Errno("create", tmp_path);
  Status st = WriteAll(fd, contents, tmp_path);
  if (st.ok() && ::fsync(fd) != 0) st = Errno("fsync", tmp_path);
  ::close(fd);
  if (st.ok() && ::rename(tmp_path.c_str(), final_path.c_str()) != 0) st = Errno("rename", final_path);
  if (!st.ok()) {
    ::unlink(tmp_path.c_str());
    return st;
  }
  return FsyncPath(dir, true);
}

StatusOr<int> RemoveStaleTemporaryFiles(const std::string& root) {
  std::error_code ec;
  if (!std::filesystem::exists(root, ec)) return 0;
  std::vector<std::filesystem::path> stale;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().filename().string().rfind(".tmp-", 0) == 0) {
      stale.push_back(it->path());
    }
  }
  if (ec) return absl::UnavailableError(Cat("scan ", root, ": ", ec.message()));
  for (const auto& p : stale) std::filesystem::remove(p, ec);
  return static_cast<int>(stale.size());
}

}  // namespace orgtrail::collector
