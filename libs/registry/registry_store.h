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
// ("v", model, number) -> ModelVersion, ("l", model, alias) -> Alias, ("p", model, alias) ->
// PromotionPolicy, ("r", id) -> PromotionRequest, ("t", model) -> TrafficPolicy, ("s", name) ->
// Standard, ("i", kind,
// request_id) -> what an idempotent call made (registry_records.h). The promotion workflow is
// in registry_promotion.cc; traffic policies and state snapshots in registry_serving.cc.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "fabrique/v1/registry.pb.h"
#include "libs/core/clock.h"
#include "libs/kv/store.h"
#include "libs/registry/monitor_port.h"
#include "libs/registry/registry_log.h"

namespace fabrique::registry {

// Whether the caller may see what `owner_squad` owns. Lists skip the rest before paging, so a
// page is full whenever more visible records exist.
using SquadFilter = absl::FunctionRef<bool(absl::string_view owner_squad)>;
inline bool AnySquad(absl::string_view) { return true; }

struct RegistryStoreOptions {
  // The store. Not owned; must outlive the registry. Required.
  kv::Store* store = nullptr;
  // The log its mutations are recorded in. Not owned; must outlive the registry. Required.
  RegistryLog* log = nullptr;
  // Column family of the records; created when missing. Default: "registry".
  std::string family = "registry";
  // Dates records. Not owned. Default: nullptr = the real clock.
  core::Clock* clock = nullptr;
  // The size of a stored artifact (hex SHA-256): its size in bytes, NOT_FOUND, or another error.
  // A version naming an artifact it does not find is refused; the sizes versions record come
  // from here, not from the client. Default: every artifact exists, with the size it is given.
  std::function<absl::StatusOr<int64_t>(const std::string& sha256)> artifact_size;
  // Asked for the promotion policies' monitor comparison gates, never while a write is held.
  // Not owned. Default nullptr: those gates fail, saying there is no monitor to ask.
  const MonitorPort* monitor = nullptr;
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
  // A non-empty `request_id` makes a retry safe: a later call with the same key returns the
  // version the first one registered (INVALID_ARGUMENT when it names another model).
  absl::StatusOr<v1::ModelVersion> RegisterVersion(v1::ModelVersion version,
                                                   const v1::Principal& caller,
                                                   const std::string& request_id = "");
  // The version, with the aliases that point at it now.
  absl::StatusOr<v1::ModelVersion> GetVersion(const std::string& model, int64_t number) const;

  // Points `alias` of `model` at `number` directly. `expected_current` > 0 makes it a
  // compare-and-set (ABORTED unless the alias holds that version now). Refused with
  // FAILED_PRECONDITION when the alias's policy has gates (use RequestPromotion), and with
  // PERMISSION_DENIED when the alias is protected and the caller holds none of its roles.
  // `reason` is recorded in the audit entry.
  absl::StatusOr<v1::Alias> SetAlias(const std::string& model, const std::string& alias,
                                     int64_t number, const v1::Principal& caller,
                                     int64_t expected_current = 0, const std::string& reason = "");
  absl::StatusOr<v1::Alias> GetAlias(const std::string& model, const std::string& alias) const;

  // Removes `alias` of `model`, under the same rules as SetAlias (gated aliases are moved by
  // promotion only; protected ones by their roles). NOT_FOUND when the alias does not exist.
  absl::Status DeleteAlias(const std::string& model, const std::string& alias,
                           const v1::Principal& caller, const std::string& reason = "");
  // The model's aliases, by name.
  absl::StatusOr<std::vector<v1::Alias>> ListAliases(const std::string& model) const;
  // Models by name, filtered by owner squad, use case, tags ("key" or "key=value", all must
  // match) and name prefix; `page_token` is the name to start from (the last page's
  // next_page_token). Page size 100 by default, 1000 at most.
  // Only models of squads `visible` accepts are listed.
  absl::StatusOr<v1::ListModelsResponse> ListModels(const v1::ListModelsRequest& request,
                                                    SquadFilter visible = AnySquad) const;

  // Versions, newest first within each model, models by name: of the models listed (all when
  // none), filtered by the model's squad and use case, the version's tags ("key" or
  // "key=value") and metric thresholds (a version without the metric does not match); archived
  // ones only with include_archived. `page_token` is the last page's next_page_token
  // ("MODEL:NUMBER", where the next page starts). Page size 100 by default, 1000 at most.
  // Only versions of models of squads `visible` accepts are listed.
  absl::StatusOr<v1::ListVersionsResponse> ListVersions(const v1::ListVersionsRequest& request,
                                                        SquadFilter visible = AnySquad) const;

  // Sets the promotion policy of one alias of a model (output fields are set). The alias's
  // PENDING requests become SUPERSEDED in the same commit: they were evaluated under the old
  // rules.
  absl::StatusOr<v1::PromotionPolicy> SetPromotionPolicy(v1::PromotionPolicy policy,
                                                         const v1::Principal& caller);
  // The alias's policy; an empty one (no gates) when none was set.
  absl::StatusOr<v1::PromotionPolicy> GetPromotionPolicy(const std::string& model,
                                                         const std::string& alias) const;

  // Asks to move `alias` to `number` (FAILED_PRECONDITION when it holds it already): evaluates
  // every gate (promotion_gates.h) and stores the request: COMPLETED, with the alias moved in the
  // same commit, when all hold; PENDING while approvals are missing; REFUSED, answered
  // FAILED_PRECONDITION explaining each failed gate, when an automatic gate fails. `dry_run`
  // evaluates and stores nothing. A non-empty `request_id` makes a retry safe: a later call with
  // the same key answers with the request the first one stored, as it stands now (INVALID_ARGUMENT
  // when it names another model, alias or version).
  absl::StatusOr<v1::PromotionRequest> RequestPromotion(const std::string& model,
                                                        const std::string& alias, int64_t number,
                                                        const std::string& comment,
                                                        const v1::Principal& caller,
                                                        bool dry_run = false,
                                                        const std::string& request_id = "");
  absl::StatusOr<v1::PromotionRequest> GetPromotionRequest(const std::string& id) const;
  // The model's promotion policies that were set, by alias.
  absl::StatusOr<std::vector<v1::PromotionPolicy>> ListPromotionPolicies(
      const std::string& model) const;
  // Promotion requests, oldest first, filtered by model, alias and state (empty / UNSPECIFIED =
  // any); `page_token` is the last page's next_page_token. Page size 100 by default, 1000 at
  // most.
  // Only requests about models of squads `visible` accepts are listed.
  absl::StatusOr<v1::ListPromotionRequestsResponse> ListPromotionRequests(
      const v1::ListPromotionRequestsRequest& request, SquadFilter visible = AnySquad) const;

  // Sets how inference servers split a model's traffic between its primary and candidate
  // aliases (empty names mean "production" and "candidate"). INVALID_ARGUMENT for a canary
  // percent outside 0..100 or one alias named twice; FAILED_PRECONDITION when canary or shadow
  // traffic is asked for and the candidate alias points nowhere, or a new primary points
  // nowhere; PERMISSION_DENIED when the primary alias (the current one or the new one) is
  // protected and the caller holds none of its roles (a canary serves part of the primary's
  // traffic).
  absl::StatusOr<v1::TrafficPolicy> SetTrafficPolicy(v1::TrafficPolicy policy,
                                                     const v1::Principal& caller);
  // The model's traffic policy; all traffic to "production" when none was set.
  absl::StatusOr<v1::TrafficPolicy> GetTrafficPolicy(const std::string& model) const;

  // The current state of `models` (all when empty) as watch events flagged `snapshot`, with the
  // revision they are exact at: per model, by name, the model, its aliases, its promotion
  // policies and its traffic policy. A watcher applies them, then the changes after `revision`.
  struct StateSnapshot {
    int64_t revision = 0;
    std::vector<v1::WatchEvent> events;
  };
  absl::StatusOr<StateSnapshot> SnapshotState(const std::vector<std::string>& models);
  // Records an approval (or a rejection) of a PENDING request and evaluates it again: the alias
  // moves once every gate holds, moved by the approver who completed it. A request whose alias
  // moved otherwise, or whose version was archived, meanwhile becomes SUPERSEDED.
  // FAILED_PRECONDITION when the request is not PENDING; PERMISSION_DENIED when the caller holds
  // none of the roles of the policy's approval gates, or approves their own request where no
  // gate of theirs allows self-approval, except that the requester may withdraw the request (a
  // rejection by a requester who holds no reviewer role: CANCELLED; one who holds one rejects it as
  // a reviewer: REJECTED).
  absl::StatusOr<v1::PromotionRequest> DecidePromotion(const std::string& id, bool approve,
                                                       const std::string& comment,
                                                       const v1::Principal& caller);
  // Evaluates again every PENDING request that waits on the monitor (a monitor comparison gate
  // PENDING: too few labelled predictions, or the monitor unreachable), asking the monitor anew:
  // a request whose gates all hold now completes and moves its alias, moved by `actor`; one whose
  // comparison found the candidate worse is REFUSED. A request whose gates keep their states is
  // left as it is (nothing is written). Returns how many requests changed. Meant to be called
  // periodically (fabrique-registry's --monitor_recheck_interval).
  absl::StatusOr<int> ReevaluateMonitorGates(const v1::Principal& actor);

  // Updates the fields of `update` named by `paths` (description, tags, owner_squad,
  // use_case_id, entity; empty = the first four: the entity changes only when named);
  // INVALID_ARGUMENT naming any other path.
  absl::StatusOr<v1::Model> UpdateModel(const v1::Model& update,
                                        const std::vector<std::string>& paths,
                                        const v1::Principal& caller);
  // Deletes an archived version (archiving releases its aliases first); FAILED_PRECONDITION for
  // an active one. Its artifacts go at the next garbage collection if nothing else uses them.
  absl::Status DeleteVersion(const std::string& model, int64_t number, const v1::Principal& caller);

  // Calls `use` with the digests of every artifact a stored version references, while no version
  // can be registered: a garbage collection run from `use` cannot remove an artifact that a
  // registration has just checked and is about to reference.
  absl::Status WithReferencedArtifacts(
      absl::FunctionRef<absl::Status(const absl::flat_hash_set<std::string>&)> use);

  // Whether a stored version of a model owned by a squad `visible` accepts references the artifact
  // `sha256` (hex, any case). Artifacts are shared across squads by digest: this is what lets a
  // caller read one without reading every squad's. Scans every version.
  absl::StatusOr<bool> ArtifactReferenced(absl::string_view sha256, SquadFilter visible) const;

  // Appends `evaluation` to version `number` of `model`, dated and signed by `caller`, audited,
  // with a VERSION_EVALUATED watch event; the version's registered fields do not change. Returns
  // the version with every evaluation so far. INVALID_ARGUMENT for a malformed kind or an unnamed
  // metric; RESOURCE_EXHAUSTED past 1000 evaluations of one version.
  absl::StatusOr<v1::ModelVersion> AppendEvaluation(const std::string& model, int64_t number,
                                                    v1::VersionEvaluation evaluation,
                                                    const v1::Principal& caller);

  // Sets (creates or replaces, by name) a design-authority standard (standards.h), output fields
  // set, audited. INVALID_ARGUMENT naming the field for a malformed one. Pending promotion
  // requests keep their evaluation; a new request or decision evaluates the standards in force.
  absl::StatusOr<v1::Standard> SetStandard(v1::Standard standard, const v1::Principal& caller);
  // NOT_FOUND naming the standard when none has that name.
  absl::StatusOr<v1::Standard> GetStandard(const std::string& name) const;
  // Standards by name; `entity` "" = any scope, "*" = factory-wide only, else that entity's;
  // `alias` "" = any.
  absl::StatusOr<std::vector<v1::Standard>> ListStandards(const std::string& entity,
                                                          const std::string& alias) const;
  // NOT_FOUND when none has that name. `reason` is recorded in the audit entry.
  absl::Status DeleteStandard(const std::string& name, const v1::Principal& caller,
                              const std::string& reason = "");
  // The standards that govern moving `alias` of `model`, by name.
  absl::StatusOr<std::vector<v1::Standard>> StandardsFor(const v1::Model& model,
                                                         const std::string& alias) const;
  // The alias's policy (as GetPromotionPolicy) with standard_notes: which of its gates a standard
  // overrides or which it tightens.
  absl::StatusOr<v1::PromotionPolicy> DescribePromotionPolicy(const std::string& model,
                                                              const std::string& alias) const;

  // Archives a version and removes it from every alias that holds it; archiving an archived
  // version changes nothing. `reason` is recorded in the audit entry.
  absl::StatusOr<v1::ModelVersion> ArchiveVersion(const std::string& model, int64_t number,
                                                  const v1::Principal& caller,
                                                  const std::string& reason = "");

 private:
  RegistryStore(Options options, kv::ColumnFamily family)
      : options_(std::move(options)), family_(family) {}
  // Adds the records of moving `alias` of `*model` to `number` to `batch` and `mutation`, and
  // updates `*model`. FAILED_PRECONDITION for an archived version.
  absl::StatusOr<v1::Alias> StageAliasMove(v1::Model* model, const std::string& alias,
                                           int64_t number, const v1::Principal& caller,
                                           const std::string& promotion_request_id,
                                           kv::WriteBatch* batch, Mutation* mutation)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_);
  // The monitor's answers to the monitor comparison gates of the policy of `alias` of `model`
  // for candidate `number` against the alias's holder as it is now. Asked without the writer
  // lock (each is a remote call); the evaluation uses them only if the holder is still the one
  // they were asked about.
  struct MonitorAnswers {
    int64_t holder = 0;
    std::vector<absl::StatusOr<MonitorComparisonAnswer>> answers;
  };
  MonitorAnswers AskMonitor(const std::string& model, const std::string& alias,
                            int64_t number) const;
  // Evaluates `request` again with its decisions and `monitor`'s answers (asked beforehand), and
  // stages its new state (moving the alias when it completes) into `batch` and `mutation`.
  absl::Status StageEvaluation(v1::PromotionRequest* request, const MonitorAnswers& monitor,
                               kv::WriteBatch* batch, Mutation* mutation)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_);
  // The answer to a RequestPromotion retried with `request_id`: the promotion request `id` the
  // first call stored, as it stands now.
  absl::StatusOr<v1::PromotionRequest> AnswerRetry(const std::string& id, const std::string& model,
                                                   const std::string& alias, int64_t number,
                                                   const std::string& request_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_);
  static bool HasGates(const v1::PromotionPolicy& policy);
  static absl::Status CheckAllowedRoles(const v1::PromotionPolicy& policy,
                                        const v1::Principal& caller);
  // Commits `batch` with `mutation`'s records staged into it.
  absl::Status Commit(kv::WriteBatch batch, Mutation mutation)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_);
  google::protobuf::Timestamp Now() const;
  // Calls `visit` with every stored version, as stored (no output-only aliases).
  absl::Status ForEachVersion(absl::FunctionRef<void(const v1::ModelVersion&)> visit) const;
  // The version as stored (no output-only aliases), for mutations to change and write back.
  absl::StatusOr<v1::ModelVersion> ReadVersion(const std::string& model, int64_t number) const;

  const Options options_;
  const kv::ColumnFamily family_;
  // What an earlier call of `kind` with idempotency key `request_id` stored (its record's bytes);
  // NOT_FOUND when none did.
  absl::StatusOr<std::string> Retried(absl::string_view kind, const std::string& request_id) const;

  absl::Mutex writer_;  // Serializes mutations.
};

}  // namespace fabrique::registry

#endif  // FABRIQUE_LIBS_REGISTRY_REGISTRY_STORE_H_
