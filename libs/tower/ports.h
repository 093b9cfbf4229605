#ifndef FABRIQUE_LIBS_TOWER_PORTS_H_
#define FABRIQUE_LIBS_TOWER_PORTS_H_

// How the tower's parts reach each other and the outside, as narrow interfaces, so each core is
// tested with fakes and none of them sees gRPC:
// - approvals are opened by the organisation (onboarding), the portfolio (use-case approval),
//   quotas (increase) and budget (overrun), and each kind's handler applies what was approved;
// - the job queue asks the budget whether a squad or use case may be admitted, meters what jobs
//   used, takes priorities and retraining policies from the portfolio, and runs jobs through an
//   executor;
// - the registry is reached through a port for the closed loop (candidate alias, canary share)
//   and for the portfolio (a use case's models and what is in production).
//
// main.cc wires the cores together through these; services/tower implements the remote ones over
// libs/client.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabrique/v1/registry.pb.h"
#include "fabrique/v1/tower.pb.h"

namespace fabrique::tower {

// ---- Approvals ----

// Opens approvals. The rule of the approval's kind sets its required role, number of approvals
// and expiry.
class ApprovalOpener {
 public:
  virtual ~ApprovalOpener() = default;
  // Opens `draft` (kind, subject_id, summary, payload, squad set by the caller) for `requester`.
  // Idempotent by `request_id` when not empty: the same id returns the first approval.
  virtual absl::StatusOr<v1::Approval> Open(v1::Approval draft, const v1::Principal& requester,
                                            absl::string_view request_id) = 0;
};

// Applies what an approval of one kind carries. Registered with the approvals core per kind.
class ApprovalHandler {
 public:
  virtual ~ApprovalHandler() = default;
  // Checks, when the approval is opened, that its payload could be applied (NOT_FOUND for an
  // unknown squad, INVALID_ARGUMENT for a bad value); an error refuses the request.
  virtual absl::Status Validate(const v1::Approval& draft) = 0;
  // Applies an approval that has just been APPROVED. Must be idempotent: after a crash the
  // approvals core applies every approved-but-not-applied approval again at start. An error
  // is recorded as the approval's close_reason.
  virtual absl::Status Apply(const v1::Approval& approved) = 0;
  // Learns that an approval closed without applying: REJECTED, EXPIRED or WITHDRAWN (e.g. a job
  // waiting for it is failed with close_reason).
  virtual void Closed(const v1::Approval& closed) = 0;
};

// ---- Budget ----

// What the job queue asks of the budget.
class BudgetGate {
 public:
  virtual ~BudgetGate() = default;
  // OK when a job of `squad` for `use_case_id` may be admitted now; RESOURCE_EXHAUSTED naming
  // the budget, its spend and what to ask for when a hard threshold is reached and not lifted.
  virtual absl::Status CheckAdmission(absl::string_view squad, absl::string_view use_case_id) = 0;
  // Meters what a job used (usage and cost are the job's totals so far); idempotent by job id:
  // a later call with larger totals adds only the difference. Returns the job's cost.
  virtual absl::StatusOr<v1::Money> MeterJob(const v1::Job& job) = 0;
  // Everything a use case has cost so far, all months (for the portfolio's spend and ROI).
  virtual absl::StatusOr<v1::Money> SpentByUseCase(absl::string_view use_case_id) = 0;
};

// ---- Organisation and portfolio lookups ----

class OrgDirectory {
 public:
  virtual ~OrgDirectory() = default;
  // NOT_FOUND for an unknown squad or entity.
  virtual absl::StatusOr<v1::Squad> GetSquad(absl::string_view id) = 0;
  virtual absl::StatusOr<v1::OrgEntity> GetEntity(absl::string_view id) = 0;
  // Every squad, or those of one entity ("" = all).
  virtual absl::StatusOr<std::vector<v1::Squad>> ListSquads(absl::string_view entity) = 0;
};

class UseCaseDirectory {
 public:
  virtual ~UseCaseDirectory() = default;
  // NOT_FOUND for an unknown use case. Its wsjf is computed.
  virtual absl::StatusOr<v1::UseCase> GetUseCase(absl::string_view id) = 0;
};

// ---- The registry ----

class RegistryPort {
 public:
  virtual ~RegistryPort() = default;
  // Points `alias` of `model` at `version`, acting for `on_behalf_of` (the job's submitter).
  virtual absl::Status SetAlias(absl::string_view model, absl::string_view alias, int64_t version,
                                absl::string_view reason, const v1::Principal& on_behalf_of) = 0;
  // Sets the canary share of the model's traffic policy, candidate alias `candidate_alias`.
  virtual absl::Status SetCanary(absl::string_view model, absl::string_view candidate_alias,
                                 double percent, const v1::Principal& on_behalf_of) = 0;
  // Asks the registry to move `alias` of `model` to `version` through the alias's promotion
  // policy, acting for `on_behalf_of`: the request as stored (COMPLETED, or PENDING while a gate
  // waits, e.g. for the monitor's canary comparison). Safe to retry: a second call for the same
  // model, alias and version answers with the first request. FAILED_PRECONDITION when an
  // automatic gate refuses it.
  virtual absl::StatusOr<v1::PromotionRequest> RequestPromotion(
      absl::string_view model, absl::string_view alias, int64_t version, absl::string_view reason,
      const v1::Principal& on_behalf_of) = 0;
  // The models of a use case, each with the version its production alias names (0 = none).
  virtual absl::StatusOr<std::vector<v1::PortfolioModel>> ModelsOf(
      absl::string_view use_case_id) = 0;
};

// ---- Executors ----

// What an executor reports about a job it runs.
struct ExecutionUpdate {
  std::string job_id;
  // RUNNING, SUCCEEDED, FAILED, or CANCELLED (stopped on request).
  v1::JobState state = v1::JOB_STATE_UNSPECIFIED;
  std::string reason;       // Why it failed or stopped; empty otherwise.
  v1::ResourceUsage usage;  // Totals so far.
  std::string trainer_run_id;
  std::string kubernetes_job_name;
  std::string kubernetes_namespace;
  v1::ModelVersionRef result_version;  // Set when a training job succeeded.
  int32_t checkpoint_epoch = 0;        // The last epoch checkpointed.
};

class ExecutionSink {
 public:
  virtual ~ExecutionSink() = default;
  // Called from the executor's threads, in order per job.
  virtual void OnUpdate(const ExecutionUpdate& update) = 0;
};

// Runs admitted jobs somewhere and reports on them.
class JobExecutor {
 public:
  virtual ~JobExecutor() = default;
  // Starts an admitted job; idempotent by (job id, preemptions), so a tower restarted between
  // admitting and recording the start does not run it twice. A job whose checkpoint_epoch is
  // set resumes after that epoch.
  virtual absl::Status Start(const v1::Job& job, ExecutionSink* sink) = 0;
  // Follows a job started before a tower restart; its updates go to `sink`.
  virtual absl::Status Follow(const v1::Job& job, ExecutionSink* sink) = 0;
  // Stops a running job (cancelled or preempted); the sink then gets its last update.
  virtual absl::Status Stop(const v1::Job& job, absl::string_view reason) = 0;
};

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_PORTS_H_
