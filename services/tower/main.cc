// fabrique-tower: the control tower binary (see --help).
// Wired in one function, in order: flags -> storage -> cores -> services -> server.

#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "libs/auth/method_table.h"
#include "libs/client/channel.h"
#include "libs/core/flags.h"
#include "libs/core/log.h"
#include "libs/core/status_macros.h"
#include "libs/scheduling/scheduler.h"
#include "libs/server/access_wiring.h"
#include "libs/server/bindings_follower.h"
#include "libs/server/service_flags.h"
#include "libs/server/service_host.h"
#include "libs/server/service_state.h"
#include "libs/tower/approvals/approvals.h"
#include "libs/tower/budget/budget.h"
#include "libs/tower/jobs/held_executor.h"
#include "libs/tower/jobs/job_approval_handlers.h"
#include "libs/tower/jobs/job_queue.h"
#include "libs/tower/kubernetes/kubernetes_executor.h"
#include "libs/tower/org/organisation.h"
#include "libs/tower/portfolio/portfolio.h"
#include "services/tower/local_trainer_executor.h"
#include "services/tower/registry_port.h"
#include "services/tower/tower_jobs_metrics.h"
#include "services/tower/tower_ledger_metrics.h"
#include "services/tower/tower_ledger_tick.h"
#include "services/tower/tower_service.h"

namespace fabrique::services {
namespace {

struct JobsFlags {
  std::string executor = "local";
  std::string trainer_target = "127.0.0.1:7103";
  std::string registry_target = "127.0.0.1:7102";
  absl::Duration dispatch_tick = absl::Seconds(1);
  int64_t job_event_retention = 100'000;
  // The Kubernetes executor (--executor=kubernetes).
  std::string kube_api_server = "https://kubernetes.default.svc";
  std::string kube_token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string kube_ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::string kube_namespace = "fabrique-{squad}";
  std::string trainer_image = "fabrique:latest";
  std::vector<std::string> trainer_args;
  std::string kueue_queue;
  std::string trainer_service_account;
  absl::Duration kube_poll_interval = absl::Seconds(5);
};
JobsFlags jobs_flags;

// The executors --executor names: the default one, and its name for metrics and messages.
absl::Status AddExecutors(const server::ServiceFlags& flags, tower::JobQueue::Options& options,
                          std::vector<std::unique_ptr<tower::JobExecutor>>& owned,
                          TowerJobsMetrics* metrics) {
  const JobsFlags& f = jobs_flags;
  if (f.executor == "none") {
    owned.push_back(std::make_unique<tower::HeldExecutor>());
    options.executors[v1::EXECUTOR_LOCAL] = owned.back().get();
    options.executor_names[v1::EXECUTOR_LOCAL] = "none";
    options.default_executor = v1::EXECUTOR_LOCAL;
    return absl::OkStatus();
  }
  if (f.executor == "kubernetes") {
    tower::KubernetesExecutor::Options kube;
    kube.api.server = f.kube_api_server;
    kube.api.token_file = f.kube_token_file;
    kube.api.ca_file = f.kube_ca_file;
    kube.manifest.namespace_template = f.kube_namespace;
    kube.manifest.image = f.trainer_image;
    kube.manifest.trainer_args = f.trainer_args;
    kube.manifest.kueue_queue = f.kueue_queue;
    kube.manifest.service_account = f.trainer_service_account;
    kube.poll_interval = f.kube_poll_interval;
    kube.on_error = [metrics] { metrics->ExecutorError("kubernetes"); };
    ASSIGN_OR_RETURN(std::unique_ptr<tower::KubernetesExecutor> executor,
                     tower::KubernetesExecutor::Create(std::move(kube)));
    options.executors[v1::EXECUTOR_KUBERNETES] = executor.get();
    options.executor_names[v1::EXECUTOR_KUBERNETES] = "kubernetes";
    options.default_executor = v1::EXECUTOR_KUBERNETES;
    owned.push_back(std::move(executor));
    return absl::OkStatus();
  }
  if (f.executor != "local") {
    return absl::InvalidArgumentError(
        absl::StrCat("--executor=", f.executor,
                     " is not an executor this tower runs; say local, kubernetes or none"));
  }
  LocalTrainerExecutorOptions local;
  ASSIGN_OR_RETURN(local.trainer, client::MakeChannel(flags.PeerChannel(f.trainer_target)));
  local.trainer_target = f.trainer_target;
  local.on_error = [metrics] { metrics->ExecutorError("local"); };
  ASSIGN_OR_RETURN(std::unique_ptr<LocalTrainerExecutor> executor,
                   LocalTrainerExecutor::Create(std::move(local)));
  options.executors[v1::EXECUTOR_LOCAL] = executor.get();
  options.executor_names[v1::EXECUTOR_LOCAL] = "local";
  options.default_executor = v1::EXECUTOR_LOCAL;
  owned.push_back(std::move(executor));
  return absl::OkStatus();
}

// Declares the tower's own flags.
void AddFlags(core::FlagSet& flags) {
  JobsFlags& jobs = jobs_flags;
  flags.Add("executor", &jobs.executor,
            "Where admitted jobs run: local (fabrique-trainer at --trainer_target), kubernetes "
            "(a batch/v1 Job per job in the squad's namespace, running the trainer image in "
            "one-shot mode) or none (jobs stay ADMITTED, holding their quota, until cancelled: "
            "scheduling only)");
  flags.Add("kube_api_server", &jobs.kube_api_server,
            "Kubernetes API server (kubernetes executor)");
  flags.Add(
      "kube_token_file", &jobs.kube_token_file,
      "Service-account token the tower calls the Kubernetes API with, re-read when it rotates");
  flags.Add("kube_ca_file", &jobs.kube_ca_file, "CA bundle verifying the Kubernetes API server");
  flags.Add("kube_namespace", &jobs.kube_namespace,
            "Namespace of a squad's Jobs; {squad} is replaced by the squad's id");
  flags.Add("trainer_image", &jobs.trainer_image,
            "Container image the Kubernetes Jobs run fabrique-trainer from");
  flags.Add("trainer_arg", &jobs.trainer_args,
            "More arguments of the trainer in a Kubernetes Job, e.g. "
            "--features_target=fabrique-features.fabrique:7101 (repeatable)");
  flags.Add("kueue_queue", &jobs.kueue_queue,
            "Kueue LocalQueue of the squads' namespaces: Jobs are created suspended and labelled "
            "kueue.x-k8s.io/queue-name, and Kueue admits them in the cluster; \"\" = no Kueue");
  flags.Add("trainer_service_account", &jobs.trainer_service_account,
            "ServiceAccount the trainer's pods run as; \"\" = the namespace's default");
  flags.Add("kube_poll_interval", &jobs.kube_poll_interval,
            "How often the tower reads each Kubernetes Job it follows");
  flags.Add("trainer_target", &jobs.trainer_target,
            "host:port of fabrique-trainer, which runs the jobs of the local executor");
  flags.Add("registry_target", &jobs.registry_target,
            "host:port of the model registry, where a succeeded retraining job's version gets "
            "the candidate alias and a canary share");
  flags.Add("dispatch_tick", &jobs.dispatch_tick,
            "Time between admission cycles when no submission or job end starts one sooner");
  flags.Add("job_event_retention", &jobs.job_event_retention,
            "Job events kept for WatchJobs to resume from; older revisions answer OUT_OF_RANGE");
}

// The store's column families, one set per core.
std::vector<std::string> ColumnFamilies() {
  std::vector<std::string> families;
  for (std::string& family : tower::Organisation::ColumnFamilies()) {
    families.push_back(std::move(family));
  }
  for (std::string& family : tower::PortfolioFamilies()) families.push_back(std::move(family));
  for (std::string& family : tower::JobQueue::ColumnFamilies()) {
    families.push_back(std::move(family));
  }
  for (const char* family : {tower::kApprovalsFamily, tower::kApprovalRequestsFamily,
                             tower::kApprovalRulesFamily, tower::kApprovalsToApplyFamily}) {
    families.push_back(family);
  }
  for (const char* family :
       {tower::kBudgetRatesFamily, tower::kBudgetsFamily, tower::kBudgetSpendFamily,
        tower::kBudgetParentsFamily, tower::kBudgetLiftsFamily, tower::kBudgetUsageFamily,
        tower::kBudgetJobsFamily}) {
    families.push_back(family);
  }
  return families;
}

absl::Status Run(const server::ServiceFlags& flags) {
  // Storage: everything under --data_dir, one RocksDB store with a family set per core.
  server::ServiceStateOptions state_options;
  state_options.data_dir = flags.data_dir;
  state_options.service_name = std::string(flags.info->name);
  state_options.column_families = ColumnFamilies();
  ASSIGN_OR_RETURN(auto state, server::ServiceState::Open(std::move(state_options)));
  ASSIGN_OR_RETURN(auto host, server::ServiceHost::Create(flags.host));
  // Identity: the guard the calls are checked by, and fabrique.v1.Access (whoami, can-i). It
  // refuses to start without --jwks and --policy unless --insecure, as every service does.
  ASSIGN_OR_RETURN(auto access, server::ServeAccess(flags, host.get()));

  // Cores.
  TowerParts parts;
  // First, so that every core below can open approvals and register its kind's handler.
  tower::Approvals::Options approvals_options;
  approvals_options.store = &state->store();
  approvals_options.without_identity = flags.insecure;
  ASSIGN_OR_RETURN(auto approvals, tower::Approvals::Create(approvals_options));
  parts.approvals = approvals.get();
  // The budget too, so that the cores below take it as their BudgetGate (the portfolio's spend,
  // the jobs' admission and metering); it gets the organisation and the use cases in the budget
  // section, once they exist.
  tower::Budget::Options budget_options;
  budget_options.store = &state->store();
  ASSIGN_OR_RETURN(auto budget, tower::Budget::Create(budget_options));
  parts.budget = budget.get();
  approvals->RegisterHandler(v1::APPROVAL_KIND_BUDGET_OVERRUN, budget->overrun_handler());

  // An approved onboarding sets the new squads' quotas and the entity's budget through these,
  // which the jobs and budget sections below set (each idempotent); unset, the step is skipped.
  tower::Organisation::OnboardingStep onboard_quotas;
  tower::Organisation::OnboardingStep onboard_budget;
  tower::Organisation::Options org_options;
  org_options.store = &state->store();
  org_options.approvals = parts.approvals;
  org_options.apply_quotas = [&onboard_quotas](const v1::OnboardEntityRequest& request) {
    return onboard_quotas ? onboard_quotas(request) : absl::OkStatus();
  };
  org_options.apply_budget = [&onboard_budget](const v1::OnboardEntityRequest& request) {
    return onboard_budget ? onboard_budget(request) : absl::OkStatus();
  };
  ASSIGN_OR_RETURN(auto organisation, tower::Organisation::Create(std::move(org_options)));
  parts.organisation = organisation.get();
  if (parts.approvals != nullptr) {
    parts.approvals->RegisterHandler(v1::APPROVAL_KIND_ENTITY_ONBOARDING,
                                     organisation->onboarding_handler());
  }

  // Use cases, templates and the ranked portfolio. It reaches the squads, approvals, spend and
  // models through the ports of the cores wired before it; the USE_CASE approvals are its own.
  // The registry, where a use case's models and their production versions are read, and where
  // a retrained version gets its candidate alias and canary share (the jobs section below).
  RemoteRegistryPortOptions registry_options;
  ASSIGN_OR_RETURN(registry_options.registry,
                   client::MakeChannel(flags.PeerChannel(jobs_flags.registry_target)));
  registry_options.registry_target = jobs_flags.registry_target;
  ASSIGN_OR_RETURN(std::unique_ptr<RemoteRegistryPort> registry,
                   RemoteRegistryPort::Create(std::move(registry_options)));
  tower::PortfolioOptions portfolio_options;
  portfolio_options.store = &state->store();
  portfolio_options.registry = registry.get();
  portfolio_options.org = parts.organisation;
  portfolio_options.approvals = parts.approvals;
  portfolio_options.budget = parts.budget;
  ASSIGN_OR_RETURN(std::unique_ptr<tower::Portfolio> portfolio,
                   tower::Portfolio::Create(portfolio_options));
  parts.portfolio = portfolio.get();
  parts.approvals->RegisterHandler(v1::APPROVAL_KIND_USE_CASE, portfolio.get());

  // Usage is attributed to a use case's squad and the squad's entity; budgets are set only for
  // ones that exist. A use case's approvals are decided in its squad.
  budget->set_directories(parts.organisation, parts.portfolio);
  parts.approval_use_cases = parts.portfolio;
  // An onboarded entity's budget, set when its onboarding is approved (idempotent: the same
  // budget again).
  onboard_budget = [&budget](const v1::OnboardEntityRequest& request) -> absl::Status {
    if (!request.has_budget()) return absl::OkStatus();
    v1::Budget entity_budget = request.budget();
    entity_budget.set_scope(v1::BUDGET_SCOPE_ENTITY);
    entity_budget.set_id(request.entity().id());
    return budget->SetBudget(std::move(entity_budget)).status();
  };

  // Quotas, jobs and the dispatcher, over the admission scheduler. Squads, use cases, budget and
  // approvals come from the cores wired above; the registry closes the retraining loop.
  TowerJobsMetrics jobs_metrics(host->metrics());
  std::unique_ptr<scheduling::Scheduler> scheduler = scheduling::Scheduler::Create({});
  tower::JobQueue::Options jobs_options;
  jobs_options.store = &state->store();
  jobs_options.scheduler = scheduler.get();
  jobs_options.org = parts.organisation;
  jobs_options.use_cases = parts.portfolio;
  jobs_options.budget = parts.budget;
  jobs_options.approvals = parts.approvals;
  jobs_options.tick = jobs_flags.dispatch_tick;
  jobs_options.event_retention = jobs_flags.job_event_retention;
  jobs_options.observer = &jobs_metrics;
  std::vector<std::unique_ptr<tower::JobExecutor>> executors;
  RETURN_IF_ERROR(AddExecutors(flags, jobs_options, executors, &jobs_metrics));
  jobs_options.registry = registry.get();
  ASSIGN_OR_RETURN(std::unique_ptr<tower::JobQueue> jobs,
                   tower::JobQueue::Create(std::move(jobs_options)));
  parts.jobs = jobs.get();
  // Executors report to the queue from their threads: they stop before it is destroyed.
  absl::Cleanup stop_executors = [&executors] { executors.clear(); };
  tower::QuotaIncreaseHandler quota_increase_handler(jobs.get(), parts.organisation);
  tower::JobBudgetOverrunHandler job_overrun_handler(jobs.get(), nullptr);
  if (parts.approvals != nullptr) {
    parts.approvals->RegisterHandler(v1::APPROVAL_KIND_QUOTA_INCREASE, &quota_increase_handler);
  }
  // The budget lifts the threshold, then tells the job queue to queue (or fail) the job waiting.
  if (parts.budget != nullptr) parts.budget->set_overrun_follower(&job_overrun_handler);
  // An approved onboarding gives the new squads the quotas it names (others keep the entity's
  // defaults).
  onboard_quotas = [&jobs](const v1::OnboardEntityRequest& request) -> absl::Status {
    for (const v1::Quota& quota : request.quotas())
      RETURN_IF_ERROR(jobs->ApplyQuota(quota).status());
    return absl::OkStatus();
  };

  // The squad owning a use case, job or approval, for the calls checked in their owner's squad.
  auth::OwnerLookup owner_of = [&parts](absl::string_view kind,
                                        absl::string_view name) -> absl::StatusOr<std::string> {
    if (kind == auth::kJob && parts.jobs != nullptr) return parts.jobs->SquadOfJob(name);
    if (kind == auth::kApproval && parts.approvals != nullptr) {
      absl::StatusOr<v1::Approval> approval = parts.approvals->Get(name);
      if (!approval.ok()) return approval.status();
      return approval->squad();  // "" = platform-wide.
    }
    if (kind == auth::kUseCase && parts.portfolio != nullptr) {
      ASSIGN_OR_RETURN(v1::UseCase use_case, parts.portfolio->GetUseCase(name));
      return use_case.squad();
    }
    return absl::NotFoundError(absl::StrCat("no ", kind, " named '", name, "'"));
  };

  // Services.
  TowerService service(
      server::ServiceAccess(access->guard(), fabrique::v1::Tower::service_full_name(), owner_of),
      parts);
  host->AddCollectable(state->metrics());
  host->AddService(&service, fabrique::v1::Tower::service_full_name(),
                   std::string(flags.info->area));
  // The dispatcher: follows the jobs admitted before a restart, then admits every tick.
  jobs->Start();
  host->OnShutdown([&jobs] { jobs->Stop(); });
  // Approvals a crash left approved but not applied are applied now that every kind's handler
  // is registered; then the expiry tick and the budget and approvals gauges.
  if (int applied = approvals->ApplyPending(); applied > 0) {
    core::Log(core::LogLevel::kInfo, "approvals_applied_at_start", {{"count", applied}});
  }
  TowerLedgerMetrics ledger_metrics(host->metrics());
  TowerLedgerTick::Options tick_options;
  tick_options.approvals = approvals.get();
  tick_options.budget = budget.get();
  tick_options.metrics = &ledger_metrics;
  TowerLedgerTick ledger_tick(tick_options);
  ledger_tick.Start();
  host->OnShutdown([&ledger_tick] { ledger_tick.Stop(); });
  // Services follow the role bindings through a stream that never ends by itself: end them
  // when shutdown begins, so the server drains in time.
  host->OnShutdown([&organisation] { organisation->Interrupt(); });
  // The tower's own guard follows its squads' members too, in process, as the other services
  // do through WatchRoleBindings; the thread ends when the stream-ending interrupt comes.
  std::thread own_bindings;
  if (auth::PolicyStore* policy = access->policy_store(); policy != nullptr) {
    own_bindings = std::thread([policy, org = organisation.get()] {
      int64_t applied = -1;
      while (!org->interrupted()) {
        if (org->bindings_revision() > applied) {
          const v1::RoleBindings bindings = org->Bindings();
          policy->SetFollowedBindings(server::ToPolicyBindings(bindings));
          applied = bindings.revision();
        }
        org->WaitForBindingsAfter(applied, absl::Seconds(1));
      }
    });
  }
  struct JoinAtExit {
    tower::Organisation* org;
    std::thread* thread;
    ~JoinAtExit() {
      org->Interrupt();
      if (thread->joinable()) thread->join();
    }
  } join_own_bindings{organisation.get(), &own_bindings};

  // Server: serves until SIGTERM/SIGINT, then drains and stops; storage closes after it.
  RETURN_IF_ERROR(host->Start());
  return host->Run();
}

}  // namespace
}  // namespace fabrique::services

int main(int argc, char** argv) {
  return fabrique::server::ServiceMain(argc, argv, "tower", fabrique::services::AddFlags,
                                       fabrique::services::Run);
}
