#ifndef FABRIQUE_LIBS_SERVING_ARTIFACT_CACHE_H_
#define FABRIQUE_LIBS_SERVING_ARTIFACT_CACHE_H_

// The inference server's local copy of the registry's artifacts: one file per artifact, named by
// its SHA-256 (`<dir>/<sha256>`), so a version's module is downloaded once however many versions
// or restarts share it, and a restart with the registry down still finds it.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<ArtifactCache> cache,
//                    ArtifactCache::Create({.dir = "/var/cache/fabrique", .registry = port}));
//   ASSIGN_OR_RETURN(std::string path, cache->FetchModule(version_record));
//
// A file is trusted only once its hash was checked in this process (once; remembered after), so
// a file corrupted on disk is found, removed and downloaded again. A download goes to a temporary
// file in the same directory, resumes where it stopped when the stream breaks, and is checked
// (size, SHA-256), fsynced and renamed into place: a reader never sees half an artifact. Several
// threads may fetch at once; an artifact wanted by several is downloaded once. One process owns
// a cache directory (Create removes the temporary files a crashed one left).

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "fabrique/v1/registry.pb.h"
#include "libs/serving/registry_port.h"

namespace fabrique::serving {

struct ArtifactCacheOptions {
  // The directory artifacts are kept in; created when absent. Required.
  std::string dir;
  // Where artifacts are downloaded from. Not owned; required.
  RegistryPort* registry = nullptr;
  // How many times one download resumes after its stream broke (UNAVAILABLE) before the fetch
  // fails with that error. Default 5.
  int max_resumes = 5;
};

class ArtifactCache {
 public:
  using Options = ArtifactCacheOptions;

  // INVALID_ARGUMENT when an option is missing; FAILED_PRECONDITION naming the directory when it
  // cannot be created.
  static absl::StatusOr<std::unique_ptr<ArtifactCache>> Create(Options options);

  // The local path of `version`'s TorchScript module, fetched and verified when needed.
  // FAILED_PRECONDITION naming the version when it has no ARTIFACT_KIND_TORCHSCRIPT_MODULE
  // artifact; otherwise as Fetch.
  absl::StatusOr<std::string> FetchModule(const v1::ModelVersion& version);

  // The local path of `artifact`, downloaded when absent. INVALID_ARGUMENT when its sha256 is not
  // 64 lower-case hex digits; DATA_LOSS naming it when the bytes downloaded do not have its size
  // or hash; NOT_FOUND / UNAVAILABLE from the registry; RESOURCE_EXHAUSTED when the disk is full.
  absl::StatusOr<std::string> Fetch(const v1::Artifact& artifact);

  // Where `sha256` is (or would be) kept.
  std::string PathOf(const std::string& sha256) const;

 private:
  // One fetch in progress; the threads wanting the same artifact wait for its result.
  struct Flight {
    bool done = false;
    absl::Status status;
  };

  explicit ArtifactCache(Options options) : options_(std::move(options)) {}
  // Checks a file already present, then downloads it if needed: the work of one flight.
  absl::Status Materialize(const v1::Artifact& artifact);
  absl::Status Download(const v1::Artifact& artifact);

  const Options options_;
  absl::Mutex mu_;
  std::set<std::string> verified_ ABSL_GUARDED_BY(mu_);  // Hashes checked in this process.
  std::map<std::string, std::shared_ptr<Flight>> flights_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_ARTIFACT_CACHE_H_
