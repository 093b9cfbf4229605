#ifndef FABRIQUE_LIBS_AUTH_METHOD_TABLE_H_
#define FABRIQUE_LIBS_AUTH_METHOD_TABLE_H_

// What every RPC of every service needs: the permission (permissions.h) and where the squad it is
// checked in comes from. A method missing from its table is refused, and a test walks every
// service in the descriptor pool so a new RPC cannot ship without a rule.
//
//   const MethodRule* rule = FindRule("fabrique.v1.ModelRegistry", "ApprovePromotion");
//   if (rule == nullptr) return absl::PermissionDeniedError(...);
//   if (rule->squad_from == SquadFrom::kAnyOwnSquad) {
//     squads = policy.SquadsWith(subject, rule->permission);   // then filter the results
//   } else {
//     ASSIGN_OR_RETURN(std::string squad, SquadOf(*rule, request, owner_of));
//     Decision d = policy.Decide(subject, rule->permission, squad);
//   }

#include <functional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace fabrique::auth {

enum class SquadFrom {
  // Platform-wide: the permission must hold in every squad (Decide with "*").
  kNone,
  // A string field of the request names the squad, e.g. "spec.owner_squad".
  kRequestField,
  // A string field of the request names a resource (`resource` says its kind); its owner squad,
  // found by the adapter's OwnerLookup, is the squad.
  kResourceOwner,
  // Lists and calls spanning squads: the caller must hold the permission in some squad
  // (Policy::SquadsWith); the results, or the resources named, are then kept to those squads.
  kAnyOwnSquad,
};

// Resource kinds of kResourceOwner rules: what an OwnerLookup is asked about.
inline constexpr absl::string_view kEntity = "entity";
inline constexpr absl::string_view kFeatureGroup = "feature_group";
inline constexpr absl::string_view kDataset = "dataset";
inline constexpr absl::string_view kModel = "model";
inline constexpr absl::string_view kPromotionRequest = "promotion_request";
inline constexpr absl::string_view kRun = "run";
inline constexpr absl::string_view kAlert = "alert";
inline constexpr absl::string_view kUseCase = "use_case";
inline constexpr absl::string_view kJob = "job";
inline constexpr absl::string_view kApproval = "approval";

struct MethodRule {
  std::string permission;
  SquadFrom squad_from = SquadFrom::kNone;
  // kRequestField: the path of the squad ("squad", "use_case.owner_squad"); kResourceOwner: the
  // path of the resource's name ("name", "ref.model"). Singular string fields only.
  std::string field;
  // kResourceOwner: the resource's kind, one of the constants above.
  std::string resource;
  // An empty `field` makes the call platform-wide ("*") instead of INVALID_ARGUMENT: where the
  // empty value itself means "the platform's" (the monitor's default policy is model "").
  bool empty_is_platform_wide = false;
};

// Method name ("GetModel") -> its rule.
using MethodTable = absl::flat_hash_map<std::string, MethodRule>;

const MethodTable& FeatureStoreMethods();     // fabrique.v1.FeatureStore
const MethodTable& ModelRegistryMethods();    // fabrique.v1.ModelRegistry
const MethodTable& TrainerMethods();          // fabrique.v1.Trainer
const MethodTable& EntityInferenceMethods();  // fabrique.v1.EntityInference
const MethodTable& OpenInferenceMethods();    // inference.GRPCInferenceService
const MethodTable& MonitorMethods();          // fabrique.v1.Monitor
const MethodTable& TowerMethods();            // fabrique.v1.Tower

// Every table, by its service's full name ("fabrique.v1.ModelRegistry").
const absl::flat_hash_map<std::string, const MethodTable*>& MethodTables();

// The rule of `method` of the service `service_full_name`; null when there is none.
const MethodRule* FindRule(absl::string_view service_full_name, absl::string_view method);
// The same for gRPC's method path, "/fabrique.v1.ModelRegistry/GetModel".
const MethodRule* FindRuleForPath(absl::string_view grpc_method_path);

// Answers which squad owns a resource: (kind, name) -> owner squad. Supplied by the adapter;
// NOT_FOUND and other errors are passed to the caller as they are.
using OwnerLookup =
    std::function<absl::StatusOr<std::string>(absl::string_view resource, absl::string_view name)>;

// The squad `request` is checked in under `rule`: "*" for kNone; the field's value for
// kRequestField; the owner of the named resource for kResourceOwner. An empty required field is
// INVALID_ARGUMENT naming it; kAnyOwnSquad has no single squad (INTERNAL: use SquadsWith), nor
// has kResourceOwner without `owner_of` (INTERNAL).
absl::StatusOr<std::string> SquadOf(const MethodRule& rule,
                                    const google::protobuf::Message& request,
                                    const OwnerLookup& owner_of = nullptr);

// The text of the string field at `path` in `message`; "" when it, or a message on the way, is
// unset. INTERNAL when the path does not name a singular string field.
absl::StatusOr<std::string> FieldText(const google::protobuf::Message& message,
                                      absl::string_view path);
// Whether `path` names a singular string field of `type`, through singular message fields.
absl::Status CheckFieldPath(const google::protobuf::Descriptor& type, absl::string_view path);

}  // namespace fabrique::auth

#endif  // FABRIQUE_LIBS_AUTH_METHOD_TABLE_H_
