#include "libs/monitoring/reference/reference_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/core/stored_proto.h"
#include "libs/kv/key_codec.h"
#include "libs/monitoring/reference/profile_check.h"

namespace fabrique::monitoring {
namespace {

constexpr char kProfiles[] = "profiles";

std::string ProfileKey(absl::string_view model, int64_t version) {
  return kv::KeyBuilder().AddString(model).AddInt64(version).key();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ReferenceStore>> ReferenceStore::Open(
    ReferenceStoreOptions options) {
  if (options.dir.empty()) {
    return absl::InvalidArgumentError("the reference store needs a directory");
  }
  kv::StoreOptions store_options;
  store_options.path = options.dir;
  store_options.column_families = {kProfiles};
  store_options.env = options.env;
  // Profiles are few and small: a small cache and memtable are plenty.
  store_options.block_cache_bytes = size_t{8} << 20;
  store_options.write_buffer_bytes = size_t{4} << 20;
  ASSIGN_OR_RETURN(std::unique_ptr<kv::Store> store, kv::Store::Open(std::move(store_options)));
  ASSIGN_OR_RETURN(kv::ColumnFamily profiles, store->Family(kProfiles));
  return std::unique_ptr<ReferenceStore>(new ReferenceStore(std::move(store), profiles));
}

absl::Status ReferenceStore::Put(const v1::ReferenceProfile& profile) {
  RETURN_IF_ERROR(CheckProfile(profile));
  return store_->Put(profiles_,
                     ProfileKey(profile.model_version().model(), profile.model_version().version()),
                     profile.SerializeAsString(), kv::SyncMode::kSync);
}

absl::StatusOr<std::optional<v1::ReferenceProfile>> ReferenceStore::Get(absl::string_view model,
                                                                        int64_t version) const {
  absl::StatusOr<std::string> bytes = store_->Get(profiles_, ProfileKey(model, version));
  if (absl::IsNotFound(bytes.status())) return std::nullopt;
  if (!bytes.ok()) return bytes.status();
  ASSIGN_OR_RETURN(v1::ReferenceProfile profile,
                   core::ParseStored<v1::ReferenceProfile>(
                       *bytes, absl::StrCat("reference profile of ", model, ":", version)));
  return profile;
}

}  // namespace fabrique::monitoring
