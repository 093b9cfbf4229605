#include "libs/features/catalog/catalog_listing.h"

#include <string>

#include "absl/functional/function_ref.h"
#include "libs/core/status_macros.h"
#include "libs/features/catalog/catalog_filters.h"
#include "libs/features/catalog/catalog_pagination.h"
#include "libs/features/catalog/classification.h"
#include "libs/kv/key_codec.h"

namespace fabrique::features {
namespace {

// The name a cursor of an entity or group list holds (the last one returned).
absl::StatusOr<std::string> NameCursor(PageKind kind, absl::string_view token) {
  ASSIGN_OR_RETURN(std::string cursor, DecodePageToken(kind, token));
  if (cursor.empty()) return cursor;
  kv::KeyReader reader(cursor);
  absl::StatusOr<std::string> name = reader.ReadString();
  if (!name.ok() || !reader.done()) {
    return absl::InvalidArgumentError("page_token is not valid for this list (bad cursor)");
  }
  return name;
}

// Pages through `items` (a map by name) after the token's cursor, emitting those that match.
// Returns the next page token.
template <typename Map>
absl::StatusOr<std::string> PageByName(
    const Map& items, PageKind kind, int32_t requested_size, absl::string_view token,
    absl::FunctionRef<bool(const typename Map::mapped_type&)> matches,
    absl::FunctionRef<void(const typename Map::mapped_type&)> emit) {
  ASSIGN_OR_RETURN(const int32_t page_size, ResolvePageSize(requested_size));
  ASSIGN_OR_RETURN(const std::string after, NameCursor(kind, token));
  auto it = after.empty() ? items.begin() : items.upper_bound(after);
  int32_t emitted = 0;
  absl::string_view last;
  for (; it != items.end(); ++it) {
    if (!matches(it->second)) continue;
    if (emitted == page_size) {
      return EncodePageToken(kind, kv::KeyBuilder().AddString(last).key());
    }
    emit(it->second);
    last = it->first;
    ++emitted;
  }
  return std::string();
}

// The position of one catalog entry: its group and the feature's index in the group.
struct FeatureCursor {
  std::string group;
  uint32_t index = 0;
};

absl::StatusOr<FeatureCursor> DecodeFeatureCursor(absl::string_view token) {
  ASSIGN_OR_RETURN(std::string cursor, DecodePageToken(PageKind::kFeatures, token));
  FeatureCursor position;
  if (cursor.empty()) return position;
  kv::KeyReader reader(cursor);
  absl::StatusOr<std::string> group = reader.ReadString();
  absl::StatusOr<uint32_t> index = reader.ReadUint32();
  if (!group.ok() || !index.ok() || !reader.done()) {
    return absl::InvalidArgumentError("page_token is not valid for this list (bad cursor)");
  }
  position.group = *std::move(group);
  position.index = *index + 1;  // Resume after the last entry returned.
  return position;
}

// The filters of catalog search that apply to the whole group.
bool GroupMatches(const v1::ListFeaturesRequest& request, const v1::FeatureGroupSpec& spec) {
  return (request.entity().empty() || spec.entity() == request.entity()) &&
         (request.owner_squad().empty() || spec.owner_squad() == request.owner_squad());
}

bool FeatureMatches(const v1::ListFeaturesRequest& request, const TagFilter& tags,
                    const TextQuery& query, const v1::FeatureGroup& group,
                    const v1::FeatureSpec& feature) {
  const v1::FeatureGroupSpec& spec = group.spec();
  if (request.type() != v1::FEATURE_TYPE_UNSPECIFIED && feature.type() != request.type()) {
    return false;
  }
  if (!tags.Matches(feature.tags(), spec.tags())) return false;
  return query.FoundIn(feature.name()) || query.FoundIn(spec.name()) ||
         query.FoundIn(feature.description()) || query.FoundIn(spec.description());
}

void AddEntry(const v1::FeatureGroup& group, const v1::FeatureSpec& feature,
              v1::ListFeaturesResponse& response) {
  v1::CatalogEntry* entry = response.add_entries();
  entry->mutable_ref()->set_group(group.spec().name());
  entry->mutable_ref()->set_feature(feature.name());
  *entry->mutable_spec() = feature;
  entry->set_entity(group.spec().entity());
  entry->set_owner_squad(group.spec().owner_squad());
  entry->set_schema_version(group.schema_version());
  entry->set_group_description(group.spec().description());
  entry->set_sensitivity(EffectiveSensitivity(group.spec(), feature));
}

}  // namespace

absl::StatusOr<v1::ListEntitiesResponse> ListEntitiesIn(const CatalogState& state,
                                                        const v1::ListEntitiesRequest& request,
                                                        SquadFilter visible) {
  v1::ListEntitiesResponse response;
  using Entry = std::shared_ptr<const v1::Entity>;
  ASSIGN_OR_RETURN(
      *response.mutable_next_page_token(),
      PageByName(
          state.entities, PageKind::kEntities, request.page_size(), request.page_token(),
          [&](const Entry& entity) { return visible(entity->owner_squad()); },
          [&response](const Entry& entity) { *response.add_entities() = *entity; }));
  return response;
}

absl::StatusOr<v1::ListFeatureGroupsResponse> ListFeatureGroupsIn(
    const CatalogState& state, const v1::ListFeatureGroupsRequest& request, SquadFilter visible) {
  ASSIGN_OR_RETURN(const TagFilter tags, TagFilter::Parse(request.tags()));
  v1::ListFeatureGroupsResponse response;
  using Entry = std::shared_ptr<const GroupEntry>;
  auto matches = [&](const Entry& entry) {
    const v1::FeatureGroupSpec& spec = entry->latest().spec();
    return (request.entity().empty() || spec.entity() == request.entity()) &&
           (request.owner_squad().empty() || spec.owner_squad() == request.owner_squad()) &&
           tags.Matches(spec.tags()) && visible(spec.owner_squad());
  };
  ASSIGN_OR_RETURN(*response.mutable_next_page_token(),
                   PageByName(state.groups, PageKind::kFeatureGroups, request.page_size(),
                              request.page_token(), matches, [&response](const Entry& entry) {
                                *response.add_groups() = entry->latest();
                              }));
  return response;
}

absl::StatusOr<v1::ListFeaturesResponse> ListFeaturesIn(const CatalogState& state,
                                                        const v1::ListFeaturesRequest& request,
                                                        SquadFilter visible) {
  ASSIGN_OR_RETURN(const int32_t page_size, ResolvePageSize(request.page_size()));
  ASSIGN_OR_RETURN(const FeatureCursor start, DecodeFeatureCursor(request.page_token()));
  ASSIGN_OR_RETURN(const TagFilter tags, TagFilter::Parse(request.tags()));
  const TextQuery query(request.query());
  v1::ListFeaturesResponse response;
  uint32_t last_index = 0;  // Of the last entry added, in its group.
  for (auto it = state.groups.lower_bound(start.group); it != state.groups.end(); ++it) {
    const v1::FeatureGroup& group = it->second->latest();
    if (!GroupMatches(request, group.spec()) || !visible(group.spec().owner_squad())) continue;
    const int first = it->first == start.group ? static_cast<int>(start.index) : 0;
    for (int i = first; i < group.spec().features_size(); ++i) {
      if (!FeatureMatches(request, tags, query, group, group.spec().features(i))) continue;
      if (response.entries_size() == page_size) {
        const std::string& last_group = response.entries(page_size - 1).ref().group();
        response.set_next_page_token(
            EncodePageToken(PageKind::kFeatures,
                            kv::KeyBuilder().AddString(last_group).AddUint32(last_index).key()));
        return response;
      }
      AddEntry(group, group.spec().features(i), response);
      last_index = static_cast<uint32_t>(i);
    }
  }
  return response;
}

}  // namespace fabrique::features
