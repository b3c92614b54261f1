// Organization PKI: key and certificate files, written atomically (temporary
// file, fsync, rename, fsync of the directory) and read back with a size
// limit. See pki.h for the contract.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "orgtrail/common/pki.h"
#include "pki_internal.h"

namespace orgtrail {
namespace {

using pki_internal::ParseCertificatePem;
using pki_internal::ParsePrivateKeyPem;

constexpr size_t kMaxReadFileBytes = size_t{256} << 20;

std::string DirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status ErrnoStatus(std::string_view what, const std::string& path, int err) {
  return absl::UnavailableError(std::string(what) + " '" + path + "': " + std::strerror(err));
}

Status WriteAll(int fd, std::string_view contents, const std::string& path) {
  size_t written = 0;
  while (written < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("writing", path, errno);
    }
    written += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

Status FsyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("opening directory", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus("fsync of directory", dir, err);
  return absl::OkStatus();
}

}  // namespace


Status WriteKeyAndCert(const KeyAndCert& kc, const std::string& key_path,
                       const std::string& cert_path) {
  if (!key_path.empty()) ORGTRAIL_RETURN_IF_ERROR(WriteFileAtomically(key_path, kc.key_pem, 0600));
  if (!cert_path.empty()) {
    ORGTRAIL_RETURN_IF_ERROR(WriteFileAtomically(cert_path, kc.cert_pem, 0644));
  }
  return absl::OkStatus();
}

StatusOr<KeyAndCert> ReadKeyAndCert(const std::string& key_path, const std::string& cert_path) {
  KeyAndCert kc;
  if (!key_path.empty()) {
    auto key = ReadFile(key_path);
    if (!key.ok()) return key.status();
    if (!ParsePrivateKeyPem(*key).ok()) {
      return absl::InvalidArgumentError("'" + key_path + "' is not a PEM private key");
    }
    kc.key_pem = std::move(*key);
  }
  if (!cert_path.empty()) {
    auto cert = ReadFile(cert_path);
    if (!cert.ok()) return cert.status();
    if (!ParseCertificatePem(*cert).ok()) {
      return absl::InvalidArgumentError("'" + cert_path + "' is not a PEM certificate");
    }
    kc.cert_pem = std::move(*cert);
  }
  return kc;
}

Status WriteFileAtomically(const std::string& path, std::string_view contents, int mode) {
  if (path.empty()) return absl::InvalidArgumentError("empty file path");
  std::string temp = path + ".tmp.XXXXXX";
  int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("creating temporary file for", path, errno);
  Status status = absl::OkStatus();
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) status = ErrnoStatus("chmod", temp, errno);
  // Keep the owner of a file being replaced (root renewing a certificate
  // that a service user reads). Best effort: only root may give files away.
  struct stat existing;
  if (status.ok() && ::stat(path.c_str(), &existing) == 0 &&
      (existing.st_uid != ::geteuid() || existing.st_gid != ::getegid())) {
    if (::fchown(fd, existing.st_uid, existing.st_gid) != 0 && errno != EPERM) {
      status = ErrnoStatus("chown", temp, errno);
    }
  }
  if (status.ok()) status = WriteAll(fd, contents, temp);
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoStatus("fsync", temp, errno);
  if (::close(fd) != 0 && status.ok()) status = ErrnoStatus("closing", temp, errno);
  if (status.ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus("renaming to", path, errno);
  }
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status;
  }
  return FsyncDirectory(DirectoryOf(path));
}

StatusOr<std::string> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == EACCES || err == ENOTDIR) {
      return absl::InvalidArgumentError("cannot open '" + path + "': " + std::strerror(err));
    }
    return ErrnoStatus("opening", path, err);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError("'" + path + "' is not a regular file");
  }
  std::string out;
  char buffer[65536];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoStatus("reading", path, err);
    }
    if (n == 0) break;
    out.append(buffer, static_cast<size_t>(n));
    if (out.size() > kMaxReadFileBytes) {
      ::close(fd);
      return absl::InvalidArgumentError("'" + path + "' is larger than 256 MiB");
    }
  }
  ::close(fd);
  return out;
}

}  // namespace orgtrail
