// Durable file primitives for the CloudTrail-compatible export: gzip
// compression (libdeflate; zlib inflates, one gzip member) and crash-safe file placement under an
// export root (write to a temporary name in the destination folder, fsync
// the file, rename over the final name, fsync the folder).
//
// Contract: pure functions over their arguments; thread-safe as long as two
// callers do not write the same key at the same time. Keys are relative,
// '/'-separated paths; a key that is empty, absolute, or contains "." / ".."
// segments is INVALID_ARGUMENT. I/O failures are UNAVAILABLE naming the path.
// A crash at any point leaves either the old file (or none) or the complete
// new file under the final name, never a torn one; leftover temporary files
// (prefix ".tmp-") are ignored by readers and removed by
// RemoveStaleTemporaryFiles.
#ifndef ORGTRAIL_COLLECTOR_EXPORT_EXPORT_FILE_H_
#define ORGTRAIL_COLLECTOR_EXPORT_EXPORT_FILE_H_

#include <string>
#include <string_view>

#include "orgtrail/common/status.h"

namespace orgtrail::collector {

// gzip (RFC 1952) of `data`, single member, level 6 (zlib's default).
StatusOr<std::string> GzipCompress(std::string_view data);
// Inverse for one gzip member; INVALID_ARGUMENT on a corrupt/truncated stream
// or bytes after the member.
StatusOr<std::string> GzipDecompress(std::string_view data, size_t max_output_bytes = 1u << 30);

// Checks a relative export key (see contract above).
Status CheckExportKey(std::string_view key);

// Writes root/key durably (creates missing folders).
// `mode` applies from creation (0600 for private keys).
Status WriteExportFileDurably(const std::string& root, std::string_view key,
                              std::string_view contents, int mode = 0644);

// Deletes "*.tmp-*" leftovers below root/<sub> (recursive). Returns how many.
StatusOr<int> RemoveStaleTemporaryFiles(const std::string& root);

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_EXPORT_EXPORT_FILE_H_
