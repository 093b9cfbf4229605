// TowerService's portfolio calls served in-process on a loopback port, with the real access
// guard: who may create, update and read use cases and templates, what a list shows each squad,
// and the codes the core's errors become.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/tower.grpc.pb.h"
#include "libs/auth/method_table.h"
#include "libs/client/channel.h"
#include "libs/server/service_host.h"
#include "portfolio_test_util.h"
#include "services/tower/tower_service.h"
#include "tests/util/test_identity.h"

namespace fabrique::services {
namespace {

using tower::portfolio_test::Draft;
using tower::portfolio_test::Harness;

const std::vector<std::string> kFraudOwner = {"fraud:product-owner"};
const std::vector<std::string> kChurnScientist = {"churn:data-scientist"};

struct PortfolioAdapter {
  Harness h;
  fabrique::testing::TestIdentity identity;
  std::unique_ptr<server::ServiceHost> host;
  std::unique_ptr<TowerService> service;
  std::unique_ptr<v1::Tower::Stub> stub;

  PortfolioAdapter() {
    server::ServiceHostOptions host_options;
    host_options.plaintext = true;
    host_options.service_name = "tower";
    host_options.listen_host = "127.0.0.1";
    host_options.metrics_port = -1;
    host = *server::ServiceHost::Create(host_options);
    TowerParts parts;
    parts.portfolio = h.portfolio.get();
    auth::OwnerLookup owners = [this](absl::string_view kind,
                                      absl::string_view name) -> absl::StatusOr<std::string> {
      if (kind != auth::kUseCase) return absl::NotFoundError("unknown kind");
      absl::StatusOr<v1::UseCase> use_case = h.portfolio->GetUseCase(name);
      if (!use_case.ok()) return use_case.status();
      return use_case->squad();
    };
    service = std::make_unique<TowerService>(
        server::ServiceAccess(identity.guard(), v1::Tower::service_full_name(), owners), parts);
    host->AddService(service.get(), v1::Tower::service_full_name(), "the control tower");
    REQUIRE(host->Start().ok());
    stub =
        v1::Tower::NewStub(client::MakePlaintextChannel(absl::StrCat("127.0.0.1:", host->port())));
  }
  ~PortfolioAdapter() { host->Shutdown(); }

  std::unique_ptr<grpc::ClientContext> As(const std::string& user,
                                          const std::vector<std::string>& groups) {
    return identity.Context(user, groups);
  }

  grpc::Status Create(const std::string& user, const std::vector<std::string>& groups,
                      const v1::UseCase& use_case, v1::UseCase* out) {
    v1::CreateUseCaseRequest request;
    *request.mutable_use_case() = use_case;
    return stub->CreateUseCase(As(user, groups).get(), request, out);
  }
};

TEST_CASE("Use cases are created and changed by their squad's product owner",
          "[portfolio][service]") {
  PortfolioAdapter a;
  v1::UseCase created;
  REQUIRE(a.Create("paula", kFraudOwner, Draft("card-fraud", "fraud"), &created).ok());
  CHECK(created.entity() == "bank");
  CHECK(created.history(0).by().subject() == "paula");
  v1::UseCase ignored;
  CHECK(a.Create("paula", kFraudOwner, Draft("churn-x", "churn"), &ignored).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  CHECK(a.Create("carl", kChurnScientist, Draft("churn-y", "churn"), &ignored).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  CHECK(a.Create("paula", kFraudOwner, Draft("card-fraud", "fraud"), &ignored).error_code() ==
        grpc::StatusCode::ALREADY_EXISTS);

  v1::UpdateUseCaseRequest update;
  update.mutable_use_case()->set_id("card-fraud");
  update.mutable_use_case()->set_status(v1::USE_CASE_STATUS_BUILDING);
  update.mutable_update_mask()->add_paths("status");
  v1::UseCase updated;
  CHECK(a.stub->UpdateUseCase(a.As("paula", kFraudOwner).get(), update, &updated).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  update.mutable_use_case()->set_status(v1::USE_CASE_STATUS_QUALIFIED);
  update.mutable_use_case()->set_etag("stale");
  CHECK(a.stub->UpdateUseCase(a.As("paula", kFraudOwner).get(), update, &updated).error_code() ==
        grpc::StatusCode::ABORTED);
  update.mutable_use_case()->set_etag(created.etag());
  REQUIRE(a.stub->UpdateUseCase(a.As("paula", kFraudOwner).get(), update, &updated).ok());
  CHECK(updated.status() == v1::USE_CASE_STATUS_QUALIFIED);
  // Another squad's member may not change it.
  CHECK(a.stub->UpdateUseCase(a.As("carl", kChurnScientist).get(), update, &updated).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);

  v1::GetUseCaseRequest get;
  get.set_id("nothing");
  CHECK(a.stub->GetUseCase(a.As("root", {}).get(), get, &updated).error_code() ==
        grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("Lists and the portfolio show each caller their squads' use cases",
          "[portfolio][service]") {
  PortfolioAdapter a;
  a.h.MustCreate(Draft("card-fraud", "fraud", 9));
  a.h.MustCreate(Draft("churn-score", "churn", 3));
  v1::ListUseCasesResponse list;
  REQUIRE(
      a.stub->ListUseCases(a.As("carl", kChurnScientist).get(), v1::ListUseCasesRequest(), &list)
          .ok());
  REQUIRE(list.use_cases_size() == 1);
  CHECK(list.use_cases(0).id() == "churn-score");

  v1::Portfolio portfolio;
  REQUIRE(a.stub->GetPortfolio(a.As("root", {}).get(), v1::GetPortfolioRequest(), &portfolio).ok());
  REQUIRE(portfolio.entries_size() == 2);
  CHECK(portfolio.entries(0).use_case().id() == "card-fraud");
  CHECK(portfolio.entries(1).rank() == 2);
  v1::GetPortfolioRequest bad_page;
  bad_page.set_page_size(-1);
  CHECK(a.stub->GetPortfolio(a.As("root", {}).get(), bad_page, &portfolio).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  v1::CapacityGaps gaps;
  CHECK(a.stub
            ->GetCapacityGaps(a.As("carl", kChurnScientist).get(), v1::GetCapacityGapsRequest(),
                              &gaps)
            .ok());
}

TEST_CASE("Templates are published platform-wide and read by any squad", "[portfolio][service]") {
  PortfolioAdapter a;
  v1::PutTemplateRequest put;
  put.mutable_template_()->set_name("tabular");
  v1::Template stored;
  CHECK(a.stub->PutTemplate(a.As("paula", kFraudOwner).get(), put, &stored).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  REQUIRE(a.stub->PutTemplate(a.As("root", {}).get(), put, &stored).ok());
  CHECK(stored.updated_by().subject() == "root");
  v1::GetTemplateRequest get;
  get.set_name("tabular");
  REQUIRE(a.stub->GetTemplate(a.As("carl", kChurnScientist).get(), get, &stored).ok());
  get.set_name("nothing");
  CHECK(a.stub->GetTemplate(a.As("carl", kChurnScientist).get(), get, &stored).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  v1::ListTemplatesResponse list;
  REQUIRE(
      a.stub->ListTemplates(a.As("carl", kChurnScientist).get(), v1::ListTemplatesRequest(), &list)
          .ok());
  CHECK(list.templates_size() == 1);

  v1::CreateUseCaseRequest create;
  *create.mutable_use_case() = Draft("fraud-tab", "fraud");
  create.set_template_("tabular");
  v1::UseCase created;
  REQUIRE(a.stub->CreateUseCase(a.As("paula", kFraudOwner).get(), create, &created).ok());
  CHECK(created.template_() == "tabular");
}

}  // namespace
}  // namespace fabrique::services
