// fabrique-tower: the control tower binary (see --help).
// Wired in one function, in order: flags -> storage -> cores -> services -> server.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "libs/auth/method_table.h"
#include "libs/core/flags.h"
#include "libs/core/status_macros.h"
#include "libs/server/access_wiring.h"
#include "libs/server/service_flags.h"
#include "libs/server/service_host.h"
#include "libs/server/service_state.h"
#include "services/tower/tower_service.h"
// ---- Organisation includes ----
#include "libs/tower/approvals/approvals.h"
#include "libs/tower/org/organisation.h"
// ---- Portfolio includes ----
#include "libs/tower/portfolio/portfolio.h"
// ---- Jobs includes ----
// ---- Approvals includes ----
// ---- Budget includes ----

namespace fabrique::services {
namespace {

// ---- Organisation flags ----

// ---- Portfolio flags ----

// ---- Jobs flags ----

// ---- Approvals flags ----

// ---- Budget flags ----

// Declares the tower's own flags, one section per core.
void AddFlags(core::FlagSet& flags) {
  // ---- Organisation flag declarations ----
  // ---- Portfolio flag declarations ----
  // ---- Jobs flag declarations ----
  // ---- Approvals flag declarations ----
  // ---- Budget flag declarations ----
}

// The store's column families, one set per core.
std::vector<std::string> ColumnFamilies() {
  std::vector<std::string> families;
  // ---- Organisation families ----
  for (std::string& family : tower::Organisation::ColumnFamilies()) {
    families.push_back(std::move(family));
  }
  // ---- Portfolio families ----
  for (std::string& family : tower::PortfolioFamilies()) families.push_back(std::move(family));
  // ---- Jobs families ----
  // ---- Approvals families ----
  // ---- Budget families ----
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
  // ---- Approvals cores ----

  // ---- Organisation cores ----
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

  // ---- Portfolio cores ----
  // Use cases, templates and the ranked portfolio. It reaches the squads, approvals, spend and
  // models through the ports of the cores wired before it; the USE_CASE approvals are its own.
  tower::PortfolioOptions portfolio_options;
  portfolio_options.store = &state->store();
  ASSIGN_OR_RETURN(std::unique_ptr<tower::Portfolio> portfolio,
                   tower::Portfolio::Create(portfolio_options));
  parts.portfolio = portfolio.get();

  // ---- Budget cores ----

  // ---- Jobs cores ----

  // The squad owning a use case, job or approval, for the calls checked in their owner's squad.
  auth::OwnerLookup owner_of = [&parts](absl::string_view kind,
                                        absl::string_view name) -> absl::StatusOr<std::string> {
    // ---- Owner lookups ----
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
  // ---- Background work (started after the service is built) ----
  // Services follow the role bindings through a stream that never ends by itself: end them
  // when shutdown begins, so the server drains in time.
  host->OnShutdown([&organisation] { organisation->Interrupt(); });

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
