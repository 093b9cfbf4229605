#ifndef FABRIQUE_TOOLS_CLI_ARTIFACT_TRANSFER_H_
#define FABRIQUE_TOOLS_CLI_ARTIFACT_TRANSFER_H_

// Moving artifact files to and from the registry without ever holding one in memory: files are
// hashed, sent and received in 1 MiB chunks, so a model larger than RAM works. Uploads announce
// the SHA-256 and size first (the server checks both, and answers at once when it already holds
// the bytes); downloads write PATH.partial, verify the SHA-256 of everything written and only then
// rename it to PATH, so a failed or corrupt download never leaves a bad PATH, and a partial file
// is resumed from where it stopped.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tools/cli/registry_client.h"

namespace fabrique::cli {

struct FileDigest {
  std::string sha256;  // Lower-case hex.
  int64_t size_bytes = 0;
};

struct TransferOptions {
  absl::Duration timeout = absl::Hours(1);  // Deadline of the whole stream.
  bool progress = false;                    // Draw a progress bar on stderr.
  bool terminal = false;                    // stderr is a terminal: redraw in place.
};

// Hashes the file at `path`, reading it in chunks (with progress when options.progress).
absl::StatusOr<FileDigest> HashFile(const std::string& path, const TransferOptions& options);

struct UploadResult {
  v1::Artifact artifact;      // As the server stored it.
  bool already_held = false;  // The server had the bytes and stopped the upload early.
};

// Uploads the file at `path`, whose digest is `digest`, as an artifact of `media_type`.
// DATA_LOSS (nothing kept) if the file changed since it was hashed.
absl::StatusOr<UploadResult> UploadFile(const RegistryClient& client, const std::string& path,
                                        const FileDigest& digest, const std::string& media_type,
                                        const TransferOptions& options);

struct DownloadResult {
  int64_t size_bytes = 0;
  int64_t resumed_from = 0;  // Bytes already in PATH.partial, not fetched again.
};

// Downloads the artifact `sha256` to `path` through `path`.partial, resuming from the partial
// file's size when `resume` (starting over otherwise). DATA_LOSS (and the partial file removed)
// when what was written does not hash to `sha256`; on other failures the partial file stays, for
// a later --resume.
absl::StatusOr<DownloadResult> DownloadFile(const RegistryClient& client, const std::string& sha256,
                                            const std::string& path, bool resume,
                                            const TransferOptions& options);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_ARTIFACT_TRANSFER_H_
