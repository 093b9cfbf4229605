#ifndef FABRIQUE_LIBS_REGISTRY_BLOB_STORE_H_
#define FABRIQUE_LIBS_REGISTRY_BLOB_STORE_H_

// BlobStore: the model registry's content-addressed artifact store, a directory of files named by
// the SHA-256 of their bytes, so identical artifacts are stored once and a name proves content.
//
//   ROOT/sha256/ab/abcdef...   a blob (its lowercase hex digest, fanned out by its first byte)
//   ROOT/incoming/*.part       uploads in progress
//
// An upload streams chunks into a temp file while hashing them (the writing done by a
// BlobWriter's thread, bypassing the page cache where it can); Commit checks the digest the
// client announced (DATA_LOSS on a mismatch, and nothing is kept), fsyncs the file, renames it
// into place and fsyncs the directory. A crash at any point leaves either no blob or the whole
// blob, never part of one: a leftover .part file is invisible and removed by the next Create or
// CollectGarbage. Nothing is held in memory beyond one chunk, so blobs larger than RAM work.
//
// The registry commits a version's metadata only after its blobs are committed, and garbage
// collection removes the blobs no version references (the caller says which are).
//
// Thread-safe: uploads, reads and collections may run concurrently.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/core/sha256.h"
#include "libs/registry/blob_writer.h"

namespace fabrique::registry {

struct BlobStoreOptions {
  // Directory holding the blobs; created with missing parents. Required.
  std::string root;
};

// What a committed upload stored.
struct BlobInfo {
  std::string sha256;  // Lowercase hex.
  int64_t size_bytes = 0;
  bool deduplicated = false;  // The same bytes were already stored: nothing new was written.
};

struct GarbageCollection {
  int64_t blobs_removed = 0;
  int64_t bytes_removed = 0;
  int64_t uploads_abandoned = 0;     // Leftover .part files removed (crashed or stale uploads).
  std::vector<std::string> sha256s;  // The blobs removed (or that would be, on a dry run).
};

class BlobStore {
 public:
  using Options = BlobStoreOptions;

  // One upload: Append the bytes in order, then Commit. Destroying it uncommitted discards the
  // upload. Not thread-safe (one writer per upload).
  class Upload {
   public:
    ~Upload();
    Upload(const Upload&) = delete;
    Upload& operator=(const Upload&) = delete;

    // Appends a chunk; UNAVAILABLE on a disk error (the upload is then void).
    absl::Status Append(absl::string_view chunk);
    // Bytes appended so far.
    int64_t size_bytes() const { return size_; }
    // Verifies the digest (`expected_sha256` in hex, any case; empty = trust the bytes), makes
    // the blob durable and visible. DATA_LOSS naming both digests on a mismatch (nothing kept),
    // INVALID_ARGUMENT for an expected digest that is not 64 hex digits, FAILED_PRECONDITION
    // when called twice.
    absl::StatusOr<BlobInfo> Commit(absl::string_view expected_sha256 = "");

   private:
    friend class BlobStore;
    Upload(BlobStore* store, std::string temp_path, std::unique_ptr<BlobWriter> writer);
    void Discard();

    BlobStore* const store_;
    const std::string temp_path_;
    std::unique_ptr<BlobWriter> writer_;  // Null once finished or discarded.
    core::Sha256Stream hash_;             // Of the bytes appended so far.
    int64_t size_ = 0;
    bool done_ = false;
    absl::Status failed_;
  };

  // A blob opened for reading, chunk by chunk. Not thread-safe.
  class Reader {
   public:
    ~Reader();
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;
    int64_t size_bytes() const { return size_; }
    // Replaces `out` with the next up to `max_bytes` bytes; an empty `out` means the end.
    absl::Status Read(size_t max_bytes, std::string* out);
    // Moves to byte `offset` (to resume a download); OUT_OF_RANGE past the end.
    absl::Status Seek(int64_t offset);

   private:
    friend class BlobStore;
    Reader(int fd, int64_t size) : fd_(fd), size_(size) {}
    int fd_;
    int64_t size_;
  };

  static absl::StatusOr<std::unique_ptr<BlobStore>> Create(Options options);

  // Starts an upload (a temp file under ROOT/incoming).
  absl::StatusOr<std::unique_ptr<Upload>> StartUpload();
  // Opens blob `sha256` (hex): NOT_FOUND naming it when absent, INVALID_ARGUMENT when malformed.
  absl::StatusOr<std::unique_ptr<Reader>> Open(absl::string_view sha256) const;
  // The size of blob `sha256`, or NOT_FOUND.
  absl::StatusOr<int64_t> Size(absl::string_view sha256) const;

  // Removes every blob whose digest is not in `referenced` and that is older than `min_age`,
  // and every abandoned upload (a .part file no live Upload writes). `min_age` spares blobs
  // committed by uploads whose version is not registered yet (the registry lists what its
  // metadata references, then collects): set it above the longest upload-to-register gap.
  // `dry_run` reports what would be removed and removes nothing.
  absl::StatusOr<GarbageCollection> CollectGarbage(
      const absl::flat_hash_set<std::string>& referenced, absl::Duration min_age,
      bool dry_run = false);

  const std::string& root() const { return options_.root; }

 private:
  explicit BlobStore(Options options) : options_(std::move(options)) {}
  std::string BlobPath(absl::string_view hex) const;
  // Removes .part files that no live Upload owns.
  absl::StatusOr<int64_t> RemoveAbandonedUploads();

  const Options options_;
  std::atomic<uint64_t> next_upload_{0};
  mutable absl::Mutex mu_;
  absl::flat_hash_set<std::string> live_uploads_ ABSL_GUARDED_BY(mu_);  // Temp paths.
};

}  // namespace fabrique::registry

#endif  // FABRIQUE_LIBS_REGISTRY_BLOB_STORE_H_
