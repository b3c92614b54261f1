// validate-logs: reading objects out of an export folder (which stands for
// the S3 bucket): the key check that keeps every path inside the export
// root, whole-file reads with a size limit, and a streaming gunzip of one
// gzip member (digests and log files are gzip objects).
// Contract: IsSafeKey accepts only relative keys of non-empty segments other
// than "." and "..", without NUL, at most 1,024 bytes. ReadWholeFile stops
// reading once more than `limit` bytes were read (the caller sees a string
// longer than the limit). GunzipStream returns kOk only for exactly one
// complete gzip member with nothing after it, and never feeds `sink` more
// than `max_output` bytes in total. Pure functions; thread-safe.
#ifndef ORGTRAIL_CLI_VALIDATE_FILES_H_
#define ORGTRAIL_CLI_VALIDATE_FILES_H_

#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace orgtrail::cli::validate_logs {

// Relative, no "." / ".." segments, no NUL, not absolute.
bool IsSafeKey(std::string_view key);

bool ReadWholeFile(const std::string& path, std::string* out, size_t limit);

bool IsRegularFile(const std::string& path);

enum class GunzipResult { kOk, kInvalid, kTrailingData, kTooLarge };

// Inflates one gzip member from `in`, feeding the output to `sink`.
template <typename Sink>
GunzipResult GunzipStream(FILE* in, size_t max_output, Sink sink) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  if (inflateInit2(&zs, MAX_WBITS | 16) != Z_OK) return GunzipResult::kInvalid;
  std::vector<unsigned char> inbuf(1 << 16), outbuf(1 << 16);
  size_t produced = 0;
  int rc = Z_OK;
  GunzipResult result = GunzipResult::kInvalid;
  while (true) {
    if (zs.avail_in == 0) {
      size_t n = std::fread(inbuf.data(), 1, inbuf.size(), in);
      if (n == 0) break;  // input ended before the stream did
      zs.next_in = inbuf.data();
      zs.avail_in = static_cast<uInt>(n);
    }
    zs.next_out = outbuf.data();
    zs.avail_out = static_cast<uInt>(outbuf.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    size_t got = outbuf.size() - zs.avail_out;
    produced += got;
    if (produced > max_output) {
      result = GunzipResult::kTooLarge;
      break;
    }
    sink(std::string_view(reinterpret_cast<char*>(outbuf.data()), got));
    if (rc == Z_STREAM_END) {
      // Anything after the member (left in the buffer or in the file)?
      if (zs.avail_in > 0) {
        result = GunzipResult::kTrailingData;
      } else {
        unsigned char extra;
        result = std::fread(&extra, 1, 1, in) == 1 ? GunzipResult::kTrailingData : GunzipResult::kOk;
      }
      break;
    }
  }
  inflateEnd(&zs);
  return result;
}

}  // namespace orgtrail::cli::validate_logs

#endif  // ORGTRAIL_CLI_VALIDATE_FILES_H_
