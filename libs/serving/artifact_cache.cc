#include "libs/serving/artifact_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/core/log.h"
#include "libs/core/sha256.h"
#include "libs/core/status_macros.h"

namespace fabrique::serving {
namespace {

constexpr char kPartialSuffix[] = ".partial";

absl::Status FileError(absl::string_view what, const std::string& path, int error) {
  const std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(error));
  if (error == ENOSPC || error == EDQUOT) return absl::ResourceExhaustedError(message);
  return absl::FailedPreconditionError(message);
}

bool IsSha256Hex(absl::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!absl::ascii_isdigit(c) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
}

// Hashes the file at `path`; its size goes to `size`.
absl::StatusOr<std::string> HashFile(const std::string& path, int64_t* size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return FileError("cannot open", path, errno);
  core::Sha256Stream hash;
  std::string buffer(1 << 20, '\0');
  *size = 0;
  while (true) {
    const ssize_t got = ::read(fd, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      const int error = errno;
      ::close(fd);
      return FileError("cannot read", path, error);
    }
    if (got == 0) break;
    hash.Update(absl::string_view(buffer.data(), static_cast<size_t>(got)));
    *size += got;
  }
  ::close(fd);
  return hash.HexDigest();
}

absl::Status WriteAll(int fd, absl::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t wrote = ::write(fd, bytes.data(), bytes.size());
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote < 0) return FileError("cannot write", path, errno);
    bytes.remove_prefix(static_cast<size_t>(wrote));
  }
  return absl::OkStatus();
}

// The rename lives in the directory: sync it too, so the file survives a power loss. Best
// effort: some filesystems refuse fsync on a directory, and the file itself is complete.
void SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

std::string ArtifactWhat(const v1::Artifact& artifact) {
  return absl::StrCat("artifact ", artifact.sha256(), " (", artifact.size_bytes(), " bytes)");
}

// Whether a complete download is the artifact: its size, then its hash.
absl::Status CheckDownloaded(const v1::Artifact& artifact, int64_t written,
                             core::Sha256Stream* hash) {
  if (written != artifact.size_bytes()) {
    return absl::DataLossError(absl::StrCat("downloaded ", written, " bytes of ",
                                            ArtifactWhat(artifact), ": the stream ended early"));
  }
  const std::string got = hash->HexDigest();
  if (got != artifact.sha256()) {
    return absl::DataLossError(absl::StrCat("the bytes downloaded for ", ArtifactWhat(artifact),
                                            " hash to ", got, ": not stored"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ArtifactCache>> ArtifactCache::Create(Options options) {
  if (options.dir.empty()) {
    return absl::InvalidArgumentError(
        "ArtifactCacheOptions.dir is empty: name the cache directory");
  }
  if (options.registry == nullptr) {
    return absl::InvalidArgumentError(
        "ArtifactCacheOptions.registry is null: pass the registry port");
  }
  std::error_code error;
  std::filesystem::create_directories(options.dir, error);
  if (error) {
    return absl::FailedPreconditionError(absl::StrCat("cannot create the artifact cache directory ",
                                                      options.dir, ": ", error.message()));
  }
  // Downloads a crashed process left half done: never trusted, never finished.
  for (const auto& entry : std::filesystem::directory_iterator(options.dir, error)) {
    if (absl::EndsWith(entry.path().filename().string(), kPartialSuffix)) {
      std::filesystem::remove(entry.path(), error);
    }
  }
  return std::unique_ptr<ArtifactCache>(new ArtifactCache(std::move(options)));
}

std::string ArtifactCache::PathOf(const std::string& sha256) const {
  return absl::StrCat(options_.dir, "/", sha256);
}

absl::StatusOr<std::string> ArtifactCache::FetchModule(const v1::ModelVersion& version) {
  for (const v1::VersionArtifact& artifact : version.artifacts()) {
    if (artifact.kind() == v1::ARTIFACT_KIND_TORCHSCRIPT_MODULE) {
      absl::StatusOr<std::string> path = Fetch(artifact.artifact());
      if (path.ok()) return path;
      return core::WithContext(path.status(), absl::StrCat("the module of model ", version.model(),
                                                           " version ", version.version()));
    }
  }
  return absl::FailedPreconditionError(
      absl::StrCat("model ", version.model(), " version ", version.version(),
                   " has no TorchScript module artifact (ARTIFACT_KIND_TORCHSCRIPT_MODULE): "
                   "register one with the version to serve it"));
}

absl::StatusOr<std::string> ArtifactCache::Fetch(const v1::Artifact& artifact) {
  if (!IsSha256Hex(artifact.sha256())) {
    return absl::InvalidArgumentError(
        absl::StrCat("artifact sha256 '", artifact.sha256(), "' is not 64 lower-case hex digits"));
  }
  const std::string path = PathOf(artifact.sha256());
  std::shared_ptr<Flight> flight;
  bool leader = false;
  {
    absl::MutexLock lock(&mu_);
    if (verified_.count(artifact.sha256()) > 0 && ::access(path.c_str(), R_OK) == 0) return path;
    auto [it, inserted] = flights_.try_emplace(artifact.sha256());
    if (inserted) it->second = std::make_shared<Flight>();
    flight = it->second;
    leader = inserted;
    if (!leader) {
      mu_.Await(absl::Condition(
          +[](Flight* f) { return f->done; }, flight.get()));
      if (!flight->status.ok()) return flight->status;
      return path;
    }
  }
  const absl::Status status = Materialize(artifact);
  absl::MutexLock lock(&mu_);
  flight->status = status;
  flight->done = true;
  flights_.erase(artifact.sha256());
  if (!status.ok()) return status;
  verified_.insert(artifact.sha256());
  return path;
}

absl::Status ArtifactCache::Materialize(const v1::Artifact& artifact) {
  const std::string path = PathOf(artifact.sha256());
  if (::access(path.c_str(), F_OK) == 0) {
    int64_t size = 0;
    absl::StatusOr<std::string> hash = HashFile(path, &size);
    if (hash.ok() && *hash == artifact.sha256() && size == artifact.size_bytes()) {
      return absl::OkStatus();
    }
    core::Log(core::LogLevel::kWarning, "artifact_cache_corrupt_file_removed",
              {{"path", path},
               {"sha256", artifact.sha256()},
               {"reason", hash.ok() ? absl::StrCat("its hash is ", *hash, ", size ", size)
                                    : std::string(hash.status().message())}});
    ::unlink(path.c_str());
  }
  return Download(artifact);
}

absl::Status ArtifactCache::Download(const v1::Artifact& artifact) {
  static std::atomic<uint64_t> sequence{0};
  const std::string path = PathOf(artifact.sha256());
  const std::string temp = absl::StrCat(path, ".", ::getpid(), ".", sequence++, kPartialSuffix);
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return FileError("cannot create", temp, errno);
  // Hashed as it arrives (and a resumed download continues where it stopped), never read back.
  core::Sha256Stream hash;
  int64_t written = 0;
  const auto write = [&](absl::string_view chunk) -> absl::Status {
    if (written + static_cast<int64_t>(chunk.size()) > artifact.size_bytes()) {
      return absl::DataLossError(
          absl::StrCat("the registry sent more bytes than ", ArtifactWhat(artifact), " has"));
    }
    RETURN_IF_ERROR(WriteAll(fd, chunk, temp));
    hash.Update(chunk);
    written += static_cast<int64_t>(chunk.size());
    return absl::OkStatus();
  };
  absl::Status status;
  for (int attempt = 0;; ++attempt) {
    status = options_.registry->Download(artifact.sha256(), written, write);
    if (!absl::IsUnavailable(status) || attempt >= options_.max_resumes) break;
    core::Log(core::LogLevel::kInfo, "artifact_download_resumed",
              {{"sha256", artifact.sha256()}, {"offset", written}, {"attempt", attempt + 1}});
  }
  if (status.ok()) status = CheckDownloaded(artifact, written, &hash);
  if (status.ok() && ::fsync(fd) != 0) status = FileError("cannot fsync", temp, errno);
  if (::close(fd) != 0 && status.ok()) status = FileError("cannot close", temp, errno);
  if (status.ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    status = FileError("cannot rename into", path, errno);
  }
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return core::WithContext(status, absl::StrCat("fetching ", ArtifactWhat(artifact)));
  }
  SyncDir(options_.dir);
  return absl::OkStatus();
}

}  // namespace fabrique::serving
