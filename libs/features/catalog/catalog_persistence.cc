#include "libs/features/catalog/catalog_persistence.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/features/catalog/classification.h"
#include "libs/kv/key_codec.h"

namespace fabrique::features {
namespace {

constexpr uint8_t kEntityTag = 1;
constexpr uint8_t kGroupTag = 2;

std::string TagPrefix(uint8_t tag) { return kv::KeyBuilder().AddUint8(tag).key(); }

absl::Status Corrupt(absl::string_view key, absl::string_view why) {
  return absl::DataLossError(
      absl::StrCat("catalog record \"", absl::CHexEscape(key), "\" is corrupt: ", why));
}

absl::Status LoadEntities(const kv::Store& store, kv::ColumnFamily family, CatalogState& state) {
  absl::Status problem;
  RETURN_IF_ERROR(store.Scan(family, kv::KeyRange::Prefix(TagPrefix(kEntityTag)),
                             [&](absl::string_view key, absl::string_view value) {
                               kv::KeyReader reader(key);
                               reader.ReadUint8().IgnoreError();
                               absl::StatusOr<std::string> name = reader.ReadString();
                               auto entity = std::make_shared<v1::Entity>();
                               if (!name.ok() || !reader.done() ||
                                   !entity->ParseFromArray(value.data(), value.size()) ||
                                   entity->name() != *name) {
                                 problem = Corrupt(key, "not an entity record");
                                 return false;
                               }
                               state.entities.emplace(*std::move(name), std::move(entity));
                               return true;
                             }));
  return problem;
}

// Reads every group version, in key order: by group name, then by version.
absl::Status LoadGroupVersions(const kv::Store& store, kv::ColumnFamily family,
                               std::map<std::string, GroupEntry>& groups) {
  absl::Status problem;
  RETURN_IF_ERROR(store.Scan(
      family, kv::KeyRange::Prefix(TagPrefix(kGroupTag)),
      [&](absl::string_view key, absl::string_view value) {
        kv::KeyReader reader(key);
        reader.ReadUint8().IgnoreError();
        absl::StatusOr<std::string> name = reader.ReadString();
        absl::StatusOr<uint32_t> version = reader.ReadUint32();
        auto group = std::make_shared<v1::FeatureGroup>();
        if (!name.ok() || !version.ok() || !reader.done() ||
            !group->ParseFromArray(value.data(), value.size()) || group->spec().name() != *name ||
            group->schema_version() != static_cast<int32_t>(*version)) {
          problem = Corrupt(key, "not a feature group record");
          return false;
        }
        GroupEntry& entry = groups[*name];
        if (group->schema_version() != static_cast<int32_t>(entry.versions.size()) + 1) {
          problem = Corrupt(key, absl::StrCat("schema version ", group->schema_version(),
                                              " follows version ", entry.versions.size()));
          return false;
        }
        entry.versions.push_back(std::move(group));
        return true;
      }));
  return problem;
}

}  // namespace

std::string EntityKey(absl::string_view name) {
  return kv::KeyBuilder().AddUint8(kEntityTag).AddString(name).key();
}

std::string GroupVersionKey(absl::string_view group, int32_t schema_version) {
  return kv::KeyBuilder()
      .AddUint8(kGroupTag)
      .AddString(group)
      .AddUint32(static_cast<uint32_t>(schema_version))
      .key();
}

absl::StatusOr<std::shared_ptr<const CatalogState>> LoadCatalogState(const kv::Store& store,
                                                                     kv::ColumnFamily family,
                                                                     const core::Clock* clock) {
  auto state = std::make_shared<CatalogState>();
  RETURN_IF_ERROR(LoadEntities(store, family, *state));
  std::map<std::string, GroupEntry> groups;
  RETURN_IF_ERROR(LoadGroupVersions(store, family, groups));
  for (auto& [name, entry] : groups) {
    absl::StatusOr<std::shared_ptr<const ValidationPlan>> plan =
        ValidationPlan::Build(entry.versions.back(), clock);
    if (!plan.ok()) {
      return absl::DataLossError(absl::StrCat("stored feature group \"", name,
                                              "\" is not usable: ", plan.status().message()));
    }
    entry.plan = *std::move(plan);
    entry.personal = PersonalFeatures(entry.latest().spec());
    state->groups.emplace(name, std::make_shared<const GroupEntry>(std::move(entry)));
  }
  return std::shared_ptr<const CatalogState>(std::move(state));
}

}  // namespace fabrique::features
