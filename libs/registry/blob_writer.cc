#include "libs/registry/blob_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace fabrique::registry {
namespace {

// O_DIRECT's rule: buffer address, file offset and size multiples of the logical block size;
// 4096 satisfies every block size in use.
constexpr size_t kAlignment = 4096;

absl::Status Errno(absl::string_view what, absl::string_view path) {
  return absl::UnavailableError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

}  // namespace

struct BlobWriter::AlignedBuffer {
  AlignedBuffer() {
    if (posix_memalign(reinterpret_cast<void**>(&data), kAlignment, kBufferBytes) != 0) {
      data = nullptr;
    }
  }
  ~AlignedBuffer() { std::free(data); }
  char* data = nullptr;
};

absl::StatusOr<std::unique_ptr<BlobWriter>> BlobWriter::Create(Options options) {
  const std::string& path = options.path;
  if (path.empty()) return absl::InvalidArgumentError("BlobWriterOptions.path is required");
  const auto open = [&options](const char* name, int flags) {
    return options.open ? options.open(name, flags, 0644) : ::open(name, flags, 0644);
  };
  constexpr int kFlags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
  bool direct = options.allow_direct;
  int fd = direct ? open(path.c_str(), kFlags | O_DIRECT) : -1;
  if (!direct || (fd < 0 && errno == EINVAL)) {  // The filesystem does not do O_DIRECT.
    direct = false;
    fd = open(path.c_str(), kFlags);
  }
  if (fd < 0) return Errno("creating", path);
  std::unique_ptr<BlobWriter> writer(new BlobWriter(path, fd, direct));
  for (auto& buffer : writer->buffers_) {
    if (buffer->data == nullptr) {
      return absl::ResourceExhaustedError("no memory for an upload's write buffers");
    }
  }
  return writer;
}

BlobWriter::BlobWriter(std::string path, int fd, bool direct)
    : path_(std::move(path)), fd_(fd), direct_(direct) {
  buffers_[0] = std::make_unique<AlignedBuffer>();
  buffers_[1] = std::make_unique<AlignedBuffer>();
}

BlobWriter::~BlobWriter() {
  if (thread_.joinable()) {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    thread_.join();
  }
  if (fd_ >= 0) ::close(fd_);
}

absl::Status BlobWriter::Append(absl::string_view data) {
  while (!data.empty()) {
    const size_t take = std::min(data.size(), kBufferBytes - filled_);
    std::memcpy(buffers_[filling_]->data + filled_, data.data(), take);
    filled_ += take;
    data.remove_prefix(take);
    if (filled_ == kBufferBytes) {
      if (absl::Status submitted = Submit(); !submitted.ok()) return submitted;
    }
  }
  return absl::OkStatus();
}

absl::Status BlobWriter::Submit() {
  if (absl::Status idle = WaitIdle(); !idle.ok()) return idle;
  if (!thread_.joinable() && !no_thread_) {
    try {
      thread_ = std::thread([this] { WriteLoop(); });
    } catch (const std::system_error&) {
      no_thread_ = true;  // At the process's thread limit: write in the caller's thread.
    }
  }
  if (no_thread_) {
    absl::Status written = WriteAt(buffers_[filling_]->data, kBufferBytes, offset_);
    if (written.ok() && !direct_) {
      ::sync_file_range(fd_, offset_, kBufferBytes, SYNC_FILE_RANGE_WRITE);
    }
    offset_ += static_cast<int64_t>(filled_);
    filled_ = 0;
    return written;
  }
  {
    absl::MutexLock lock(&mu_);
    pending_ = buffers_[filling_]->data;
    pending_offset_ = offset_;
    busy_ = true;
  }
  offset_ += static_cast<int64_t>(filled_);
  filling_ = 1 - filling_;
  filled_ = 0;
  return absl::OkStatus();
}

absl::Status BlobWriter::WaitIdle() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](bool* busy) { return !*busy; }, &busy_));
  return error_;
}

void BlobWriter::WriteLoop() {
  while (true) {
    const char* data;
    int64_t offset;
    {
      absl::MutexLock lock(&mu_);
      const auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return pending_ != nullptr || stop_;
      };
      mu_.Await(absl::Condition(&ready));
      if (pending_ == nullptr) return;  // Stopped.
      data = pending_;
      offset = pending_offset_;
    }
    absl::Status written = WriteAt(data, kBufferBytes, offset);
    // Through the page cache, start the writeback now, so Finish's fsync waits for the tail only.
    if (written.ok() && !direct_) {
      ::sync_file_range(fd_, offset, kBufferBytes, SYNC_FILE_RANGE_WRITE);
    }
    absl::MutexLock lock(&mu_);
    if (error_.ok()) error_ = written;
    pending_ = nullptr;
    busy_ = false;
  }
}

absl::Status BlobWriter::LeaveDirect() {
  const int flags = ::fcntl(fd_, F_GETFL);
  if (flags < 0 || ::fcntl(fd_, F_SETFL, flags & ~O_DIRECT) != 0) {
    return Errno("switching off O_DIRECT for", path_);
  }
  direct_ = false;
  return absl::OkStatus();
}

absl::Status BlobWriter::WriteAt(const char* data, size_t size, int64_t offset) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pwrite(fd_, data + done, size - done, offset + static_cast<int64_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Errno("writing", path_);
    done += static_cast<size_t>(n);
    // A short direct write (a disk nearly full, say) leaves the rest unaligned: finish it, and
    // the file, through the page cache, so the real error (ENOSPC) shows rather than EINVAL.
    if (done < size && direct_) {
      if (absl::Status left = LeaveDirect(); !left.ok()) return left;
    }
  }
  return absl::OkStatus();
}

absl::Status BlobWriter::Finish() {
  if (absl::Status idle = WaitIdle(); !idle.ok()) return idle;
  const char* tail = buffers_[filling_]->data;
  size_t left = filled_;
  int64_t offset = offset_;
  if (direct_) {
    // The whole blocks go direct; the last partial block through the page cache, since O_DIRECT
    // cannot write part of a block.
    const size_t whole = left / kAlignment * kAlignment;
    if (whole > 0) {
      if (absl::Status written = WriteAt(tail, whole, offset); !written.ok()) return written;
    }
    tail += whole;
    left -= whole;
    offset += static_cast<int64_t>(whole);
    if (left > 0) {
      if (absl::Status left_direct = LeaveDirect(); !left_direct.ok()) return left_direct;
    }
  }
  if (left > 0) {
    if (absl::Status written = WriteAt(tail, left, offset); !written.ok()) return written;
  }
  if (::fsync(fd_) != 0) return Errno("syncing", path_);
  const int closed = ::close(fd_);
  fd_ = -1;
  if (closed != 0) return Errno("closing", path_);
  return absl::OkStatus();
}

}  // namespace fabrique::registry
