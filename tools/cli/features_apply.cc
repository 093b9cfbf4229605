// `fabrique features apply FILE`: creates or updates entities and feature groups from a JSON file
// in the proto JSON mapping, entities first (groups refer to them). Stops at the first refused
// definition, so a file is applied in order up to the problem and never past it.

#include <unistd.h>

#include <iostream>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "libs/core/status_macros.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/features_apply_progress.h"
#include "tools/cli/features_client.h"
#include "tools/cli/input_file.h"
#include "tools/cli/rpc_call.h"

namespace fabrique::cli {
namespace {

constexpr char kCommand[] = "fabrique features apply";

struct Definitions {
  std::vector<v1::Entity> entities;
  std::vector<v1::FeatureGroupSpec> groups;
};

// Converts each element of `list` on its own, so an error names the entry at fault.
template <typename Message>
absl::Status ParseEntries(const google::protobuf::Value& list, const std::string& key,
                          std::vector<Message>* out) {
  if (!list.has_list_value()) {
    return absl::InvalidArgumentError(absl::StrCat("'", key, "' must be a JSON array"));
  }
  for (int i = 0; i < list.list_value().values_size(); ++i) {
    std::string json;
    google::protobuf::util::MessageToJsonString(list.list_value().values(i), &json);
    Message message;
    const auto status = google::protobuf::util::JsonStringToMessage(json, &message);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(key, "[", i, "]: ", std::string(status.message())));
    }
    out->push_back(std::move(message));
  }
  return absl::OkStatus();
}

// Reads and parses the file; every error is INVALID_ARGUMENT, a usage error (exit 2).
absl::StatusOr<Definitions> ReadDefinitions(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string text, ReadInputFile(path));
  google::protobuf::Struct root;
  const auto parsed = google::protobuf::util::JsonStringToMessage(text, &root);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a JSON object: ", std::string(parsed.message())));
  }
  Definitions definitions;
  for (const auto& [key, value] : root.fields()) {
    if (key == "entities") {
      RETURN_IF_ERROR(ParseEntries(value, key, &definitions.entities));
    } else if (key == "feature_groups" || key == "featureGroups") {
      RETURN_IF_ERROR(ParseEntries(value, "feature_groups", &definitions.groups));
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": unknown key '", key, "' (expected \"entities\" and \"feature_groups\")"));
    }
  }
  return definitions;
}

struct ApplyOptions {
  bool dry_run = false;
  // Deadline of an aggregation group's apply, which backfills its tiles before answering.
  absl::Duration backfill_timeout = absl::Hours(1);
};

// Entities have no validate_only, so the outcome is worked out by comparing with what is stored;
// a dry run stops there.
absl::StatusOr<std::string> ApplyEntity(const FeatureStoreClient& client, const v1::Entity& entity,
                                        const ApplyOptions& options) {
  v1::GetEntityRequest get;
  get.set_name(entity.name());
  absl::StatusOr<v1::Entity> current =
      client.Call(&FeatureStoreStub::GetEntity, get, absl::StrCat("GetEntity ", entity.name()));
  if (!current.ok() && !absl::IsNotFound(current.status())) return current.status();
  std::string outcome = "created";
  if (current.ok()) {
    current->clear_create_time();
    current->clear_update_time();
    outcome = google::protobuf::util::MessageDifferencer::Equals(*current, entity) ? "unchanged"
                                                                                   : "updated";
  }
  if (options.dry_run) return absl::StrCat("would be ", outcome);
  if (outcome == "unchanged") return outcome;
  v1::ApplyEntityRequest request;
  *request.mutable_entity() = entity;
  RETURN_IF_ERROR(client
                      .Call(&FeatureStoreStub::ApplyEntity, request,
                            absl::StrCat("ApplyEntity ", entity.name()))
                      .status());
  return outcome;
}

// ", features count_1h, amount_sum_1h, ..." for a created aggregation group, whose features the
// server makes from its aggregations; "" for any other group.
std::string OutputFeatures(const v1::ApplyFeatureGroupResponse& response) {
  if (!response.created() || !response.group().spec().has_aggregation()) return "";
  return absl::StrCat(", features ",
                      absl::StrJoin(response.group().spec().features(), ", ",
                                    [](std::string* out, const v1::FeatureSpec& feature) {
                                      out->append(feature.name());
                                    }));
}

// The server says whether a group was created and which features were added; a change of
// description, TTL or tags alone is told apart from "unchanged" by comparing with the group
// as it was before. An aggregation group goes through the call that streams its backfill's
// progress.
absl::StatusOr<std::string> ApplyGroup(const FeatureStoreClient& client,
                                       const v1::FeatureGroupSpec& spec,
                                       const ApplyOptions& options) {
  v1::GetFeatureGroupRequest get;
  get.set_name(spec.name());
  absl::StatusOr<v1::FeatureGroup> before = client.Call(
      &FeatureStoreStub::GetFeatureGroup, get, absl::StrCat("GetFeatureGroup ", spec.name()));
  if (!before.ok() && !absl::IsNotFound(before.status())) return before.status();

  v1::ApplyFeatureGroupRequest request;
  *request.mutable_spec() = spec;
  request.set_validate_only(options.dry_run);
  absl::StatusOr<v1::ApplyFeatureGroupResponse> applied;
  if (spec.has_aggregation()) {
    ApplyProgressOptions progress;
    progress.timeout = options.backfill_timeout;
    progress.terminal = isatty(STDERR_FILENO) == 1;
    applied = ApplyFeatureGroupWithProgress(client, request, progress);
  } else {
    applied = client.Call(&FeatureStoreStub::ApplyFeatureGroup, request,
                          absl::StrCat("group ", spec.name()));
  }
  if (!applied.ok()) return applied.status();
  const v1::ApplyFeatureGroupResponse& response = *applied;

  const std::string prefix = options.dry_run ? "would be " : "";
  const std::string version = absl::StrCat(" (schema v", response.group().schema_version(), ")");
  if (response.created()) {
    return absl::StrCat(prefix, "created", version, OutputFeatures(response));
  }
  if (!response.added_features().empty()) {
    return absl::StrCat(prefix, "updated, added features ",
                        absl::StrJoin(response.added_features(), ","), version);
  }
  const bool same = before.ok() && google::protobuf::util::MessageDifferencer::Equals(
                                       before->spec(), response.group().spec());
  return absl::StrCat(same ? "unchanged" : prefix + "updated", version);
}

}  // namespace

int RunFeaturesApply(const std::vector<std::string>& args) {
  FeaturesTarget target;
  ApplyOptions options;
  core::FlagSet flags(
      kCommand,
      "Creates or updates entities and feature groups from a JSON file: "
      "{\"entities\": [Entity...], \"feature_groups\": [FeatureGroupSpec...]} in "
      "the proto JSON mapping of fabrique.v1. Entities are applied first. A group with an "
      "\"aggregation\" is created with its tiles backfilled from the source "
      "group's history, with progress on stderr, and its line lists the "
      "features it makes.");
  flags.set_usage_args("[flags] FILE");
  AddTargetFlags(&flags, &target);
  flags.Add("dry_run", &options.dry_run, "Validate and report the outcome; store nothing");
  flags.Add("backfill_timeout", &options.backfill_timeout,
            "Deadline of an aggregation group's apply, which first computes its tiles from the "
            "source group's history (progress on stderr)");
  flags.set_epilog(
      "Exit codes: 0 all applied, 1 a definition was refused (nothing after it is tried) or\n"
      "the feature store failed or could not be reached, 2 bad usage (a FILE that cannot be\n"
      "read or is not such JSON included: nothing is sent).");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one FILE", &parsed)) return *code;
  absl::StatusOr<Definitions> definitions = ReadDefinitions(parsed.positional[0]);
  if (!definitions.ok()) return BadInput(kCommand, definitions.status());
  absl::StatusOr<FeatureStoreClient> store = ConnectFeatureStore(target);
  if (!store.ok()) return Fail(kCommand, store.status());

  const size_t total = definitions->entities.size() + definitions->groups.size();
  size_t done = 0;
  auto report = [&](const std::string& what, const absl::StatusOr<std::string>& outcome) {
    if (outcome.ok()) {
      std::cout << what << ": " << *outcome << "\n";
      ++done;
      return true;
    }
    std::cerr << ErrorLine(kCommand, outcome.status()) << AccessHint(outcome.status());
    std::cerr << kCommand << ": " << done << " of " << total << " definitions "
              << (options.dry_run ? "checked" : "applied")
              << " before this one; the rest were not tried\n";
    return false;
  };
  // In a dry run nothing is stored, so the server cannot check a group against an entity the
  // same file would create; such groups are reported as not checked rather than as failures.
  std::set<std::string> not_stored;
  for (const v1::Entity& entity : definitions->entities) {
    absl::StatusOr<std::string> outcome = ApplyEntity(*store, entity, options);
    if (outcome.ok() && *outcome == "would be created") not_stored.insert(entity.name());
    if (!report(absl::StrCat("entity ", entity.name()), outcome)) return kExitFailure;
  }
  for (const v1::FeatureGroupSpec& spec : definitions->groups) {
    if (not_stored.count(spec.entity()) > 0) {
      report(absl::StrCat("group ", spec.name()),
             absl::StrCat("not checked: its entity ", spec.entity(), " would be created first"));
      continue;
    }
    if (!report(absl::StrCat("group ", spec.name()), ApplyGroup(*store, spec, options))) {
      return kExitFailure;
    }
  }
  return 0;
}

}  // namespace fabrique::cli
