#ifndef FABRIQUE_LIBS_REGISTRY_BLOB_WRITER_H_
#define FABRIQUE_LIBS_REGISTRY_BLOB_WRITER_H_

// BlobWriter: writes one new file sequentially, fast, for artifact uploads of up to many GiB.
// Chunks are copied into 4 MiB aligned buffers that a background thread writes while the caller
// goes on (hashing the next chunk, receiving it): with O_DIRECT where the filesystem takes it, so
// the bytes go to the disk without a copy into the page cache (which would cost a core, and evict
// hotter data for a file read rarely); else through the page cache, with writeback started as it
// goes. Finish writes the tail and fsyncs: once it returns OK the bytes are durable.
//
// Not thread-safe: one caller appends; the writer's thread is its own. A writer destroyed
// without Finish leaves the file as far as it got (the caller removes it).

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace fabrique::registry {

struct BlobWriterOptions {
  // The file to create, or to truncate if it exists. Required.
  std::string path;
  // Whether to try O_DIRECT. When false, or when the filesystem refuses it (open fails with
  // EINVAL), the file is written through the page cache. Default: true.
  bool allow_direct = true;
  // Opens the file as open(2) does: a descriptor, or -1 with errno set. A seam for tests that
  // play a filesystem refusing O_DIRECT. Default: empty = ::open.
  std::function<int(const char* path, int flags, mode_t mode)> open;
};

class BlobWriter {
 public:
  using Options = BlobWriterOptions;

  // Creates (or truncates) the file, direct when allowed and the filesystem takes it, else
  // through the page cache. UNAVAILABLE naming the path when it cannot be created.
  static absl::StatusOr<std::unique_ptr<BlobWriter>> Create(Options options);
  ~BlobWriter();
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;

  // Appends `data`; UNAVAILABLE on a disk error (here or in an earlier background write).
  absl::Status Append(absl::string_view data);
  // Writes what is left, fsyncs and closes the file. UNAVAILABLE on a disk error.
  absl::Status Finish();

  // Whether writes bypass the page cache now (O_DIRECT): false on filesystems that refuse it
  // (tmpfs before Linux 6.6, some FUSE ones), and once the rest of the file went through the
  // cache (after a short direct write, or Finish's last partial block).
  bool direct() const { return direct_.load(); }

  static constexpr size_t kBufferBytes = 4 << 20;

 private:
  struct AlignedBuffer;
  BlobWriter(std::string path, int fd, bool direct);
  // Hands the full buffer to the background thread (after its previous write finished) and
  // continues in the other one.
  absl::Status Submit();
  // Waits until the background thread has no write in flight; its first error, if any.
  absl::Status WaitIdle();
  void WriteLoop();
  // pwrite of all of `data` at `offset`, retried on EINTR and short writes.
  absl::Status WriteAt(const char* data, size_t size, int64_t offset);
  // Turns O_DIRECT off for the rest of the file.
  absl::Status LeaveDirect();

  const std::string path_;
  int fd_;
  // Cleared (and O_DIRECT with it) after a short direct write, whose remainder would no longer
  // be aligned: the rest goes through the page cache.
  std::atomic<bool> direct_;
  std::unique_ptr<AlignedBuffer> buffers_[2];
  int filling_ = 0;         // Which buffer Append copies into.
  size_t filled_ = 0;       // Bytes in it.
  int64_t offset_ = 0;      // File offset of the filling buffer's first byte.
  std::thread thread_;      // Started at the first full buffer, so small files never start one.
  bool no_thread_ = false;  // No thread could be started: buffers are written synchronously.

  absl::Mutex mu_;
  const char* pending_ ABSL_GUARDED_BY(mu_) = nullptr;  // Buffer to write, or none.
  int64_t pending_offset_ ABSL_GUARDED_BY(mu_) = 0;
  bool busy_ ABSL_GUARDED_BY(mu_) = false;  // A write is pending or in flight.
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fabrique::registry

#endif  // FABRIQUE_LIBS_REGISTRY_BLOB_WRITER_H_
