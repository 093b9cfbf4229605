#include "libs/auth/permissions.h"

#include <iterator>

namespace fabrique::auth {
namespace {

constexpr Permission kPermissions[] = {
    // Feature store.
    {"features.schema.read", "See entities, feature groups, the feature catalog and lineage"},
    {"features.schema.write", "Create and change entities and feature groups"},
    {"features.data.read", "Read feature values: online lookups and stored history"},
    {"features.data.write", "Ingest rows into feature groups"},
    {"features.personal.read",
     "Read features classified as personal data (needed on top of features.data.read)"},
    {"features.classify", "Set the sensitivity of features (personal data or not)"},
    {"datasets.build", "Build point-in-time training sets from features"},
    {"datasets.read", "See training-set dataset records"},
    {"datasets.record_usage", "Record which model version was trained on a dataset (lineage)"},
    // Model registry.
    {"models.read", "See models, versions, aliases, policies, artifacts and promotion requests"},
    {"models.write", "Create and update models, register, archive and upload their versions"},
    {"models.register_for_run",
     "Register a version as the product of a trainer run (lineage only the trainer may claim)"},
    {"models.promote", "Request promotions, move aliases without gates, set traffic policies"},
    {"models.approve", "Approve promotion requests (a promotion gate's sign-off)"},
    {"models.reject", "Reject a promotion request, or withdraw one's own"},
    {"models.policy.write", "Set the promotion policy of a model's aliases"},
    {"models.evaluate",
     "Append evaluations (e.g. a capacity test's latency) to a model's registered versions"},
    {"standards.write",
     "Set and delete the design authority's standards (held in every squad: they span squads)"},
    {"models.admin", "Delete archived versions and collect unreferenced artifacts"},
    {"audit.read", "Read and verify the audit trail"},
    // Trainer.
    {"runs.submit", "Submit training runs"},
    {"runs.read", "See training runs and follow their progress"},
    {"runs.cancel", "Cancel training runs"},
    // Inference.
    {"inference.predict", "Score with a served model"},
    {"inference.read", "See what an inference server serves and whether it is ready"},
    {"predictions.log", "Send prediction records to the monitor (inference servers only)"},
    // Monitor.
    {"outcomes.log", "Send ground-truth outcomes of past predictions to the monitor"},
    {"monitoring.read", "See drift and performance reports, alerts and monitoring policies"},
    {"monitoring.policy.write", "Set and delete monitoring policies"},
    {"alerts.acknowledge", "Acknowledge and silence alerts"},
    // Tower.
    {"squads.read", "See squads, their members and quotas"},
    {"squads.write", "Create and change squads"},
    {"squads.members.write", "Add, change and remove a squad's members (their role bindings)"},
    {"entities.write", "Onboard entities (subsidiaries, business units)"},
    {"bindings.read", "Follow the role bindings of squads' members (services only)"},
    {"quotas.write", "Set a squad's compute quota"},
    {"capacity.write", "Declare the cluster's capacity and its oversubscription factor"},
    {"templates.write", "Publish the design authority's templates for new use cases"},
    {"usecases.read", "See use cases and the portfolio"},
    {"usecases.write", "Propose and update use cases"},
    {"jobs.submit", "Queue jobs on the tower"},
    {"jobs.read", "See jobs and follow their changes"},
    {"jobs.cancel", "Cancel jobs"},
    {"approvals.request", "Ask for an approval"},
    {"approvals.read", "See approvals"},
    {"approvals.decide", "Approve or reject an approval (the tower also checks its role)"},
    {"approvals.rules.write", "Set who decides each kind of approval, how many, for how long"},
    {"usage.record", "Record usage and cost incurred outside the job queue"},
    {"budget.read", "See budget reports"},
    {"budget.write", "Set the rate card and monthly budgets"},
    // Identity.
    {"auth.delegate", "Act on behalf of a user (services only): the user is checked as well"},
};

}  // namespace

absl::Span<const Permission> AllPermissions() { return kPermissions; }

const Permission* FindPermission(absl::string_view name) {
  for (const Permission& permission : kPermissions) {
    if (permission.name == name) return &permission;
  }
  return nullptr;
}

}  // namespace fabrique::auth
