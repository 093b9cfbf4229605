#include "libs/auth/default_policy.h"

#include "absl/strings/str_replace.h"

namespace fabrique::auth {
namespace {

constexpr absl::string_view kText = R"(# Fabrique access policy.
#
# Deny by default: a caller may do what a rule below grants, nothing else. This file is reloaded
# within seconds of a change; a change that does not parse is logged and ignored, and the policy
# before it stays in force. `fabrique auth can-i` tells who may do what, and why.
#
#   p, ROLE, PERMISSION, SCOPE   the role grants PERMISSION. SCOPE "squad": in the squads where
#                                the role is held. SCOPE "*": in every squad, wherever the role
#                                is held. PERMISSION "AREA.*" is every permission of an area.
#   g, SUBJECT, SQUAD:ROLE       SUBJECT (user:NAME, group:NAME, service:NAME) holds ROLE in
#                                SQUAD; SQUAD "*" is every squad.

# --- Data scientist: explores features, builds training sets, trains, registers models and asks
# for their promotion, in their squad.
p, data-scientist, features.schema.read, squad
p, data-scientist, features.data.read, squad
p, data-scientist, datasets.build, squad
p, data-scientist, datasets.read, squad
p, data-scientist, runs.submit, squad
p, data-scientist, runs.read, squad
p, data-scientist, runs.cancel, squad
p, data-scientist, models.read, squad
p, data-scientist, models.write, squad
p, data-scientist, models.promote, squad
p, data-scientist, models.evaluate, squad
p, data-scientist, models.reject, squad
p, data-scientist, inference.predict, squad
p, data-scientist, inference.read, squad
p, data-scientist, monitoring.read, squad
p, data-scientist, monitoring.policy.write, squad
p, data-scientist, alerts.acknowledge, squad
p, data-scientist, outcomes.log, squad
p, data-scientist, jobs.submit, squad
p, data-scientist, jobs.read, squad
p, data-scientist, jobs.cancel, squad
p, data-scientist, approvals.request, squad
p, data-scientist, approvals.read, squad
p, data-scientist, usecases.read, squad
p, data-scientist, squads.read, squad

# --- Data engineer: defines entities and feature groups and ingests data, in their squad.
p, data-engineer, features.schema.read, squad
p, data-engineer, features.schema.write, squad
p, data-engineer, features.data.read, squad
p, data-engineer, features.data.write, squad
p, data-engineer, datasets.read, squad
p, data-engineer, usecases.read, squad
p, data-engineer, squads.read, squad

# --- Data steward: guards the squad's data: classifies features and may read personal data.
p, data-steward, features.schema.read, squad
p, data-steward, features.data.read, squad
p, data-steward, features.personal.read, squad
p, data-steward, features.classify, squad
p, data-steward, datasets.read, squad
p, data-steward, audit.read, squad
p, data-steward, squads.read, squad

# --- Design authority: reads across every squad, approves promotions and sets promotion policies
# where it is bound (bind it to *:design-authority for the whole company).
p, design-authority, features.schema.read, *
p, design-authority, datasets.read, *
p, design-authority, models.read, *
p, design-authority, runs.read, *
p, design-authority, inference.read, *
p, design-authority, monitoring.read, *
p, design-authority, audit.read, *
p, design-authority, usecases.read, *
p, design-authority, squads.read, *
p, design-authority, approvals.read, *
p, design-authority, models.approve, squad
p, design-authority, models.reject, squad
p, design-authority, models.policy.write, squad
p, design-authority, models.evaluate, squad
# Standards span squads: the registry asks for standards.write in every squad, which only a
# design authority bound in every squad (*:design-authority) holds.
p, design-authority, standards.write, squad
p, design-authority, approvals.decide, squad
# Templates, capacity and the approval rules span squads too: bind *:design-authority to set them.
p, design-authority, templates.write, squad
p, design-authority, capacity.write, squad
p, design-authority, jobs.read, *
p, design-authority, budget.read, *

# --- SRE: reads everything everywhere, and runs operations: alerts, stuck runs and jobs.
p, sre, features.schema.read, *
p, sre, datasets.read, *
p, sre, models.read, *
p, sre, runs.read, *
p, sre, inference.read, *
p, sre, monitoring.read, *
p, sre, audit.read, *
p, sre, usecases.read, *
p, sre, squads.read, *
p, sre, jobs.read, *
p, sre, approvals.read, *
p, sre, budget.read, *
p, sre, alerts.acknowledge, *
p, sre, runs.cancel, *
p, sre, jobs.cancel, *

# --- Product owner: reads what the squad builds, owns its use cases and gives the business
# sign-off (promotion approvals, tower approvals).
p, product-owner, features.schema.read, squad
p, product-owner, datasets.read, squad
p, product-owner, models.read, squad
p, product-owner, runs.read, squad
p, product-owner, inference.read, squad
p, product-owner, monitoring.read, squad
p, product-owner, usecases.read, squad
p, product-owner, usecases.write, squad
p, product-owner, squads.read, squad
p, product-owner, jobs.read, squad
p, product-owner, budget.read, squad
p, product-owner, approvals.request, squad
p, product-owner, approvals.read, squad
p, product-owner, approvals.decide, squad
p, product-owner, models.approve, squad
p, product-owner, squads.members.write, squad
p, product-owner, models.reject, squad

# --- Platform admin: everything, in the squads where it is held; bound in every squad (*) below,
# that is everything everywhere. Scope "squad" keeps a group such as risk:platform-admin to risk.
p, platform-admin, *, squad

# --- Services. Each is identified by its client certificate and bound below in every squad;
# their rules say "squad" so that the role reaches no further than where it is bound.
# The trainer builds training sets, registers what a run produced, and acts for the user who
# submitted the run (who is checked as well: personal features are read only for a user who
# may read them).
p, trainer, features.schema.read, squad
p, trainer, features.data.read, squad
p, trainer, features.personal.read, squad
p, trainer, datasets.build, squad
p, trainer, datasets.record_usage, squad
p, trainer, models.read, squad
p, trainer, models.write, squad
p, trainer, models.register_for_run, squad
p, trainer, auth.delegate, squad
# Inference servers read the registry and the features of the models they serve (personal ones
# included: a served model needs all its inputs), log predictions and serving cost, and append
# the capacity evaluations they measure to the versions they serve.
p, inference, features.schema.read, squad
p, inference, features.data.read, squad
p, inference, features.personal.read, squad
p, inference, models.read, squad
p, inference, models.evaluate, squad
p, inference, predictions.log, squad
p, inference, usage.record, squad
# The monitor reads models and their reference profiles, and asks the tower for retraining;
# it reads the run that trained a version to learn its squad, use case and spec.
p, monitor, models.read, squad
p, monitor, runs.read, squad
p, monitor, jobs.submit, squad
p, monitor, usecases.read, squad
# The tower runs jobs on the trainer for the user who submitted them, and moves candidates and
# canary shares once they are trained.
p, tower, runs.submit, squad
p, tower, runs.read, squad
p, tower, runs.cancel, squad
p, tower, models.read, squad
p, tower, models.promote, squad
p, tower, auth.delegate, squad
# The registry asks the monitor how a candidate does against an alias's holder on live
# traffic, for promotion policies' monitor comparison gates.
p, registry, monitoring.read, squad
# Every service but the tower follows the tower's squad members as role bindings
# (--bindings_target), under its own certificate.
p, features, bindings.read, squad
p, trainer, bindings.read, squad
p, inference, bindings.read, squad
p, monitor, bindings.read, squad
p, registry, bindings.read, squad

g, service:trainer, *:trainer
g, service:inference, *:inference
g, service:monitor, *:monitor
g, service:tower, *:tower
g, service:registry, *:registry
g, service:features, *:features

# --- People. A group named SQUAD:ROLE grants ROLE in SQUAD, so the identity provider's groups
# (or `fabrique auth token --groups risk:data-scientist`) say who is what where.
# A pattern never grants a service role (trainer, inference, monitor, tower: a group such as
# risk:trainer grants nothing), and its {role} never stands for a role with a "*" grant, which
# reads across squads: the two lines after it name design-authority and sre to grant them by
# group. Where people can make their own groups at the identity provider, remove those two and
# bind the readers across squads by name (g, user:dana, *:design-authority).
g, group:{squad}:{role}, {squad}:{role}
g, group:{squad}:design-authority, {squad}:design-authority
g, group:{squad}:sre, {squad}:sre

# Bind people or groups below, e.g.:
#   g, group:risk-ds, risk:data-scientist
#   g, user:dana, *:design-authority
g, user:ADMIN_USER, *:platform-admin
)";

}  // namespace

std::string DefaultPolicyText(absl::string_view admin_user) {
  return absl::StrReplaceAll(kText, {{"ADMIN_USER", admin_user}});
}

}  // namespace fabrique::auth
