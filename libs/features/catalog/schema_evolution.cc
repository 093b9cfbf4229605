#include "libs/features/catalog/schema_evolution.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/message_differencer.h"
#include "libs/core/status_macros.h"
#include "libs/features/catalog/feature_types.h"

namespace fabrique::features {
namespace {

// Clears empty sub-messages, so that an explicit zero TTL or empty expectations compare equal to
// unset ones and re-applying the same file is recognised as unchanged.
void Normalize(v1::FeatureGroupSpec& spec) {
  if (spec.has_ttl() && spec.ttl().ByteSizeLong() == 0) spec.clear_ttl();
  if (spec.has_retention() && spec.retention().ByteSizeLong() == 0) spec.clear_retention();
  for (v1::FeatureSpec& feature : *spec.mutable_features()) {
    if (feature.has_expectations() && feature.expectations().ByteSizeLong() == 0) {
      feature.clear_expectations();
    }
  }
}

SchemaChange NewGroup(const v1::FeatureGroupSpec& desired) {
  SchemaChange change;
  change.spec = desired;
  Normalize(change.spec);
  change.schema_version = 1;
  for (v1::FeatureSpec& feature : *change.spec.mutable_features()) {
    feature.set_since_version(1);
    change.added_features.push_back(feature.name());
  }
  return change;
}

// Why `desired` cannot replace `stored`, or "" when it can.
std::string Incompatibility(const v1::FeatureSpec& stored, const v1::FeatureSpec& desired) {
  if (stored.type() != desired.type()) {
    return absl::StrCat("feature \"", stored.name(), "\" would change type from ",
                        FeatureTypeName(stored.type()), " to ", FeatureTypeName(desired.type()));
  }
  if (stored.vector_length() != desired.vector_length()) {
    return absl::StrCat("feature \"", stored.name(), "\" would change vector_length from ",
                        stored.vector_length(), " to ", desired.vector_length());
  }
  if (stored.expression() != desired.expression()) {
    // Rows already stored hold values of the old expression: a new one would mix two meanings.
    if (stored.expression().empty()) {
      return absl::StrCat("feature \"", stored.name(), "\" would become derived (expression \"",
                          desired.expression(), "\")");
    }
    if (desired.expression().empty()) {
      return absl::StrCat("feature \"", stored.name(), "\" would lose its expression \"",
                          stored.expression(), "\"");
    }
    return absl::StrCat("feature \"", stored.name(), "\" would change its expression from \"",
                        stored.expression(), "\" to \"", desired.expression(), "\"");
  }
  return "";
}

absl::Status Refused(const v1::FeatureGroup& current, const std::vector<std::string>& problems) {
  return absl::FailedPreconditionError(absl::StrCat(
      "feature group \"", current.spec().name(), "\" (schema version ", current.schema_version(),
      "): ", absl::StrJoin(problems, "; "),
      ". Stored values would become unreadable: keep the feature as it is and add one under a new "
      "name instead"));
}

// Desired features by name, not yet placed in the new spec.
using Wanted = absl::flat_hash_map<absl::string_view, const v1::FeatureSpec*>;

// Copies the stored features, in their stored order, from `wanted` into change.spec, removing
// them from `wanted`; FAILED_PRECONDITION naming every one removed or retyped.
absl::Status KeepExisting(const v1::FeatureGroup& current, Wanted& wanted, SchemaChange& change) {
  std::vector<std::string> problems;
  for (const v1::FeatureSpec& old_feature : current.spec().features()) {
    auto it = wanted.find(old_feature.name());
    if (it == wanted.end()) {
      problems.push_back(absl::StrCat("feature \"", old_feature.name(), "\" would be removed"));
      continue;
    }
    std::string problem = Incompatibility(old_feature, *it->second);
    if (!problem.empty()) problems.push_back(std::move(problem));
    v1::FeatureSpec* kept = change.spec.add_features();
    *kept = *it->second;
    kept->set_since_version(old_feature.since_version());
    wanted.erase(it);
  }
  return problems.empty() ? absl::OkStatus() : Refused(current, problems);
}

}  // namespace

absl::StatusOr<SchemaChange> PlanSchemaChange(const v1::FeatureGroup* current,
                                              const v1::FeatureGroupSpec& desired) {
  if (current == nullptr) return NewGroup(desired);
  const v1::FeatureGroupSpec& stored = current->spec();
  if (stored.entity() != desired.entity()) {
    return absl::FailedPreconditionError(
        absl::StrCat("feature group \"", stored.name(), "\" describes entity \"", stored.entity(),
                     "\" and cannot move to entity \"", desired.entity(),
                     "\": its stored keys would mean something else; create a new group instead"));
  }
  Wanted wanted;
  for (const v1::FeatureSpec& feature : desired.features()) wanted[feature.name()] = &feature;
  SchemaChange change;
  change.schema_version = current->schema_version();
  change.spec = desired;
  change.spec.clear_features();
  RETURN_IF_ERROR(KeepExisting(*current, wanted, change));
  if (!wanted.empty()) ++change.schema_version;
  for (const v1::FeatureSpec& feature : desired.features()) {
    if (!wanted.contains(feature.name())) continue;
    v1::FeatureSpec* added = change.spec.add_features();
    *added = feature;
    added->set_since_version(change.schema_version);
    change.added_features.push_back(feature.name());
  }
  Normalize(change.spec);
  // Compared as if nothing was added, so that metadata_changed means "something else changed".
  v1::FeatureGroupSpec without_added = change.spec;
  without_added.mutable_features()->DeleteSubrange(
      stored.features_size(), without_added.features_size() - stored.features_size());
  change.metadata_changed =
      !google::protobuf::util::MessageDifferencer::Equals(without_added, stored);
  return change;
}

}  // namespace fabrique::features
