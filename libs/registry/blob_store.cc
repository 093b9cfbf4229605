#include "libs/registry/blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace fabrique::registry {
namespace {

namespace fs = std::filesystem;

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

bool IsHexDigest(absl::string_view hex) {
  if (hex.size() != 64) return false;
  for (char c : hex) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

absl::Status CheckDigest(absl::string_view hex) {
  if (IsHexDigest(hex)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("'", hex, "' is not a SHA-256 digest (64 hex digits)"));
}

// fsyncs a directory, so a rename or an unlink in it is durable.
absl::Status SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return Errno("opening directory", dir);
  const int synced = ::fsync(fd);
  ::close(fd);
  return synced == 0 ? absl::OkStatus() : Errno("syncing directory", dir);
}

}  // namespace

absl::StatusOr<std::unique_ptr<BlobStore>> BlobStore::Create(Options options) {
  if (options.root.empty()) return absl::InvalidArgumentError("BlobStoreOptions.root is required");
  std::error_code error;
  for (const char* dir : {"sha256", "incoming"}) {
    fs::create_directories(fs::path(options.root) / dir, error);
    if (error) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot create ", options.root, "/", dir, ": ", error.message()));
    }
  }
  std::unique_ptr<BlobStore> store(new BlobStore(std::move(options)));
  // Uploads of an earlier process that died: invisible, and now removed.
  absl::StatusOr<int64_t> abandoned = store->RemoveAbandonedUploads();
  if (!abandoned.ok()) return abandoned.status();
  return store;
}

std::string BlobStore::BlobPath(absl::string_view hex) const {
  const std::string lower = absl::AsciiStrToLower(hex);
  return absl::StrCat(options_.root, "/sha256/", lower.substr(0, 2), "/", lower);
}

absl::StatusOr<std::unique_ptr<BlobStore::Upload>> BlobStore::StartUpload() {
  const std::string path =
      absl::StrCat(options_.root, "/incoming/", getpid(), "-", next_upload_.fetch_add(1), ".part");
  // Registered before the file exists, so a concurrent collection never takes it for a leftover.
  {
    absl::MutexLock lock(&mu_);
    live_uploads_.insert(path);
  }
  BlobWriterOptions writer_options;
  writer_options.path = path;
  absl::StatusOr<std::unique_ptr<BlobWriter>> writer = BlobWriter::Create(writer_options);
  if (!writer.ok()) {
    ::unlink(path.c_str());
    absl::MutexLock lock(&mu_);
    live_uploads_.erase(path);
    return writer.status();
  }
  return std::unique_ptr<Upload>(new Upload(this, path, *std::move(writer)));
}

BlobStore::Upload::Upload(BlobStore* store, std::string temp_path,
                          std::unique_ptr<BlobWriter> writer)
    : store_(store), temp_path_(std::move(temp_path)), writer_(std::move(writer)) {}

BlobStore::Upload::~Upload() {
  if (!done_) Discard();
}

void BlobStore::Upload::Discard() {
  done_ = true;
  writer_.reset();  // Stops its thread and closes the file.
  ::unlink(temp_path_.c_str());
  absl::MutexLock lock(&store_->mu_);
  store_->live_uploads_.erase(temp_path_);
}

absl::Status BlobStore::Upload::Append(absl::string_view chunk) {
  if (done_) return absl::FailedPreconditionError("the upload is already committed or discarded");
  if (!failed_.ok()) return failed_;
  // Hashed here while the writer's thread writes the chunks before it.
  hash_.Update(chunk);
  if (absl::Status appended = writer_->Append(chunk); !appended.ok()) return failed_ = appended;
  size_ += static_cast<int64_t>(chunk.size());
  return absl::OkStatus();
}

absl::StatusOr<BlobInfo> BlobStore::Upload::Commit(absl::string_view expected_sha256) {
  if (done_) return absl::FailedPreconditionError("the upload is already committed or discarded");
  if (!expected_sha256.empty()) {
    if (absl::Status valid = CheckDigest(expected_sha256); !valid.ok()) {
      Discard();
      return valid;
    }
  }
  if (!failed_.ok()) {
    Discard();
    return failed_;
  }
  BlobInfo info;
  info.sha256 = hash_.HexDigest();
  info.size_bytes = size_;
  if (!expected_sha256.empty() && absl::AsciiStrToLower(expected_sha256) != info.sha256) {
    Discard();
    return absl::DataLossError(absl::StrCat("the uploaded bytes have SHA-256 ", info.sha256,
                                            ", not the announced ", expected_sha256,
                                            ": nothing was stored; re-send the artifact"));
  }
  if (absl::Status finished = writer_->Finish(); !finished.ok()) {
    Discard();
    return finished;
  }
  writer_.reset();
  const std::string path = store_->BlobPath(info.sha256);
  const std::string dir = fs::path(path).parent_path().string();
  std::error_code error;
  fs::create_directories(dir, error);
  struct stat existing {};
  if (::stat(path.c_str(), &existing) == 0 && existing.st_size == size_) {
    info.deduplicated = true;  // Same digest, same bytes: keep the stored copy.
    Discard();
    return info;
  }
  if (::rename(temp_path_.c_str(), path.c_str()) != 0) {
    const absl::Status status = Errno("renaming into", path);
    Discard();
    return status;
  }
  done_ = true;
  {
    absl::MutexLock lock(&store_->mu_);
    store_->live_uploads_.erase(temp_path_);
  }
  absl::Status synced = SyncDirectory(dir);
  if (!synced.ok()) return synced;
  return info;
}

absl::StatusOr<std::unique_ptr<BlobStore::Reader>> BlobStore::Open(absl::string_view sha256) const {
  if (absl::Status valid = CheckDigest(sha256); !valid.ok()) return valid;
  const std::string path = BlobPath(sha256);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("no artifact ", sha256));
    return Errno("opening", path);
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    ::close(fd);
    return Errno("reading the size of", path);
  }
  return std::unique_ptr<Reader>(new Reader(fd, info.st_size));
}

absl::StatusOr<int64_t> BlobStore::Size(absl::string_view sha256) const {
  if (absl::Status valid = CheckDigest(sha256); !valid.ok()) return valid;
  struct stat info {};
  if (::stat(BlobPath(sha256).c_str(), &info) != 0) {
    return absl::NotFoundError(absl::StrCat("no artifact ", sha256));
  }
  return static_cast<int64_t>(info.st_size);
}

BlobStore::Reader::~Reader() { ::close(fd_); }

absl::Status BlobStore::Reader::Read(size_t max_bytes, std::string* out) {
  out->resize(max_bytes);
  ssize_t n;
  do {
    n = ::read(fd_, out->data(), max_bytes);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    out->clear();
    return absl::UnavailableError(absl::StrCat("reading an artifact: ", std::strerror(errno)));
  }
  out->resize(static_cast<size_t>(n));
  return absl::OkStatus();
}

absl::Status BlobStore::Reader::Seek(int64_t offset) {
  if (offset < 0 || offset > size_) {
    return absl::OutOfRangeError(
        absl::StrCat("offset ", offset, " is outside the artifact's ", size_, " bytes"));
  }
  if (::lseek(fd_, offset, SEEK_SET) < 0) {
    return absl::UnavailableError(absl::StrCat("seeking in an artifact: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> BlobStore::RemoveAbandonedUploads() {
  int64_t removed = 0;
  std::error_code error;
  for (const fs::directory_entry& entry :
       fs::directory_iterator(fs::path(options_.root) / "incoming", error)) {
    const std::string path = entry.path().string();
    {
      absl::MutexLock lock(&mu_);
      if (live_uploads_.contains(path)) continue;
    }
    if (fs::remove(entry.path(), error)) ++removed;
  }
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("listing ", options_.root, "/incoming: ", error.message()));
  }
  return removed;
}

absl::StatusOr<GarbageCollection> BlobStore::CollectGarbage(
    const absl::flat_hash_set<std::string>& referenced, absl::Duration min_age, bool dry_run) {
  GarbageCollection result;
  if (!dry_run) {
    absl::StatusOr<int64_t> abandoned = RemoveAbandonedUploads();
    if (!abandoned.ok()) return abandoned.status();
    result.uploads_abandoned = *abandoned;
  }
  const absl::Time cutoff = absl::Now() - min_age;
  std::error_code error;
  std::set<std::string> touched_dirs;
  for (const fs::directory_entry& entry :
       fs::recursive_directory_iterator(fs::path(options_.root) / "sha256", error)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    if (referenced.contains(name)) continue;
    struct stat info {};
    if (::stat(entry.path().c_str(), &info) != 0) continue;
    if (absl::FromTimeT(info.st_mtime) > cutoff) continue;
    if (dry_run || fs::remove(entry.path(), error)) {
      ++result.blobs_removed;
      result.bytes_removed += info.st_size;
      result.sha256s.push_back(name);
      if (!dry_run) touched_dirs.insert(entry.path().parent_path().string());
    }
  }
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("collecting garbage in ", options_.root, ": ", error.message()));
  }
  for (const std::string& dir : touched_dirs) {
    if (absl::Status synced = SyncDirectory(dir); !synced.ok()) return synced;
  }
  return result;
}

}  // namespace fabrique::registry
