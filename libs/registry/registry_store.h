#ifndef FABRIQUE_LIBS_REGISTRY_REGISTRY_STORE_H_
#define FABRIQUE_LIBS_REGISTRY_REGISTRY_STORE_H_

// RegistryStore: the registry's records (models, immutable numbered versions, aliases) on kv.
// Every mutation commits its record, its audit entry and its watch events in one batch
// (RegistryLog), so a crash leaves all of a mutation or none of it, and never a change without
// its trail. Mutations are serialized by one lock (registry writes are rare and small); reads
// take none.
//
// Errors name what they are about: NOT_FOUND for an unknown model or version,
// ALREADY_EXISTS for a taken model name, INVALID_ARGUMENT for a malformed name or request,
// FAILED_PRECONDITION for an alias onto an archived version or a version whose artifact was
// never uploaded, ABORTED for a compare-and-set that lost.
//
// Keys in its family: ("m", model) -> Model (with latest_version and its aliases),
// ("v", model, number) -> ModelVersion, ("l", model, alias) -> Alias.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "fabrique/v1/registry.pb.h"
#include "libs/core/clock.h"
#include "libs/kv/store.h"
#include "libs/registry/registry_log.h"

namespace fabrique::registry {

struct RegistryStoreOptions {
  // The store. Not owned; must outlive the registry. Required.
  kv::Store* store = nullptr;
  // The log its mutations are recorded in. Not owned; must outlive the registry. Required.
  RegistryLog* log = nullptr;
  // Column family of the records; created when missing. Default: "registry".
  std::string family = "registry";
  // Dates records. Not owned. Default: nullptr = the real clock.
  core::Clock* clock = nullptr;
  // Says whether an artifact (hex SHA-256) is stored: OK, NOT_FOUND, or another error. A version
  // naming an artifact it does not find is refused. Default: every artifact exists.
  std::function<absl::Status(const std::string& sha256)> artifact_exists;
};

class RegistryStore {
 public:
  using Options = RegistryStoreOptions;

  static absl::StatusOr<std::unique_ptr<RegistryStore>> Create(Options options);

  // Creates `model` (name, owner, use case, task, description, tags; output fields are set).
  absl::StatusOr<v1::Model> CreateModel(v1::Model model, const v1::Principal& caller);
  absl::StatusOr<v1::Model> GetModel(const std::string& name) const;

  // Registers `version` as its model's next number (1, 2, ...), ACTIVE, after checking that
  // every artifact it names is stored. The version is immutable from then on.
  absl::StatusOr<v1::ModelVersion> RegisterVersion(v1::ModelVersion version,
                                                   const v1::Principal& caller);
  absl::StatusOr<v1::ModelVersion> GetVersion(const std::string& model, int64_t number) const;

  // Points `alias` of `model` at `number`. `expected_current` > 0 makes it a compare-and-set
  // (ABORTED unless the alias holds that version now). Gates are the caller's business
  // (promotion_gates.h): this is the move itself.
  absl::StatusOr<v1::Alias> SetAlias(const std::string& model, const std::string& alias,
                                     int64_t number, const v1::Principal& caller,
                                     int64_t expected_current = 0,
                                     const std::string& promotion_request_id = "");
  absl::StatusOr<v1::Alias> GetAlias(const std::string& model, const std::string& alias) const;

  // Archives a version and removes it from every alias that holds it; archiving an archived
  // version changes nothing.
  absl::StatusOr<v1::ModelVersion> ArchiveVersion(const std::string& model, int64_t number,
                                                  const v1::Principal& caller);

 private:
  RegistryStore(Options options, kv::ColumnFamily family)
      : options_(std::move(options)), family_(family) {}
  // Commits `batch` with `mutation`'s records staged into it.
  absl::Status Commit(kv::WriteBatch batch, Mutation mutation)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_);
  google::protobuf::Timestamp Now() const;

  const Options options_;
  const kv::ColumnFamily family_;
  absl::Mutex writer_;  // Serializes mutations.
};

}  // namespace fabrique::registry

#endif  // FABRIQUE_LIBS_REGISTRY_REGISTRY_STORE_H_
