#ifndef FABRIQUE_TESTS_TOWER_PORTFOLIO_PORTFOLIO_TEST_UTIL_H_
#define FABRIQUE_TESTS_TOWER_PORTFOLIO_PORTFOLIO_TEST_UTIL_H_

// What the portfolio's tests share: the store in a temp dir on a fake clock (reopenable, for
// restarts), and fakes of the ports the portfolio reaches: squads, approvals, spend, models.

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "libs/core/clock.h"
#include "libs/kv/store.h"
#include "libs/tower/portfolio/portfolio.h"
#include "libs/tower/portfolio/proto_time.h"
#include "libs/tower/portfolio/value_scores.h"
#include "tests/util/test_util.h"

namespace fabrique::tower::portfolio_test {

inline const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

class FakeOrg : public OrgDirectory {
 public:
  absl::StatusOr<v1::Squad> GetSquad(absl::string_view id) override {
    auto found = squads.find(std::string(id));
    if (found == squads.end()) return absl::NotFoundError(absl::StrCat("no squad '", id, "'"));
    return found->second;
  }
  absl::StatusOr<v1::OrgEntity> GetEntity(absl::string_view id) override {
    return absl::NotFoundError(absl::StrCat("no entity '", id, "'"));
  }
  absl::StatusOr<std::vector<v1::Squad>> ListSquads(absl::string_view entity) override {
    std::vector<v1::Squad> out;
    for (const auto& [id, squad] : squads) {
      if (entity.empty() || squad.entity() == entity) out.push_back(squad);
    }
    return out;
  }
  v1::Squad& Add(const std::string& id, const std::string& entity) {
    v1::Squad& squad = squads[id];
    squad.set_id(id);
    squad.set_entity(entity);
    return squad;
  }

  std::map<std::string, v1::Squad> squads;
};

inline void AddMember(v1::Squad& squad, const std::string& user, std::vector<v1::Skill> skills,
                      double allocation_percent) {
  v1::SquadMember* member = squad.add_members();
  member->set_user(user);
  for (v1::Skill skill : skills) member->add_skills(skill);
  member->set_allocation_percent(allocation_percent);
}

// Opens approvals as the approvals core would: validated by the handler, idempotent by request
// id, numbered "appr-1", "appr-2"...
class FakeApprovals : public ApprovalOpener {
 public:
  absl::StatusOr<v1::Approval> Open(v1::Approval draft, const v1::Principal& requester,
                                    absl::string_view request_id) override {
    auto seen = by_request.find(std::string(request_id));
    if (!request_id.empty() && seen != by_request.end()) return opened[seen->second];
    if (handler != nullptr) {
      if (absl::Status valid = handler->Validate(draft); !valid.ok()) return valid;
    }
    draft.set_id(absl::StrCat("appr-", opened.size() + 1));
    draft.set_state(v1::APPROVAL_STATE_PENDING);
    *draft.mutable_requested_by() = requester;
    by_request[std::string(request_id)] = opened.size();
    opened.push_back(draft);
    return draft;
  }
  // The approval `index` as decided by `approver`.
  v1::Approval Decided(size_t index, const std::string& approver, bool approve) const {
    v1::Approval approval = opened.at(index);
    approval.set_state(approve ? v1::APPROVAL_STATE_APPROVED : v1::APPROVAL_STATE_REJECTED);
    v1::ApprovalDecision* decision = approval.add_decisions();
    decision->mutable_by()->set_subject(approver);
    decision->set_approve(approve);
    return approval;
  }

  ApprovalHandler* handler = nullptr;
  std::vector<v1::Approval> opened;
  std::map<std::string, size_t> by_request;
};

class FakeBudget : public BudgetGate {
 public:
  absl::Status CheckAdmission(absl::string_view, absl::string_view) override {
    return absl::OkStatus();
  }
  absl::StatusOr<v1::Money> MeterJob(const v1::Job&) override { return v1::Money(); }
  absl::StatusOr<v1::Money> SpentByUseCase(absl::string_view id) override {
    auto found = spent.find(std::string(id));
    if (found == spent.end()) return absl::NotFoundError("nothing spent");
    return FromMicros(found->second * 1'000'000, "EUR");
  }
  std::map<std::string, int64_t> spent;  // Whole euros by use case.
};

class FakeRegistry : public RegistryPort {
 public:
  absl::Status SetAlias(absl::string_view, absl::string_view, int64_t, absl::string_view,
                        const v1::Principal&) override {
    return absl::OkStatus();
  }
  absl::Status SetCanary(absl::string_view, absl::string_view, double,
                         const v1::Principal&) override {
    return absl::OkStatus();
  }
  absl::StatusOr<v1::PromotionRequest> RequestPromotion(absl::string_view, absl::string_view,
                                                        int64_t, absl::string_view,
                                                        const v1::Principal&) override {
    return v1::PromotionRequest();
  }
  absl::StatusOr<std::vector<v1::PortfolioModel>> ModelsOf(absl::string_view id) override {
    return models[std::string(id)];
  }
  std::map<std::string, std::vector<v1::PortfolioModel>> models;
};

inline v1::Money Euros(int64_t units) { return FromMicros(units * 1'000'000, "EUR"); }

inline v1::Principal User(const std::string& subject) {
  v1::Principal principal;
  principal.set_subject(subject);
  return principal;
}

inline google::protobuf::FieldMask Mask(std::vector<std::string> paths) {
  google::protobuf::FieldMask mask;
  for (std::string& path : paths) mask.add_paths(std::move(path));
  return mask;
}

// A use case of `squad` with WSJF inputs (business value, time criticality, risk, size).
inline v1::UseCase Draft(const std::string& id, const std::string& squad, int32_t value = 5,
                         int32_t criticality = 3, int32_t risk = 2, int32_t size = 5) {
  v1::UseCase use_case;
  use_case.set_id(id);
  use_case.set_squad(squad);
  use_case.set_business_value(value);
  use_case.set_time_criticality(criticality);
  use_case.set_risk_reduction(risk);
  use_case.set_job_size(size);
  return use_case;
}

// The portfolio over one storage folder with fakes for every port; Reopen simulates a restart.
struct Harness {
  fabrique::testing::TempDir dir;
  core::FakeClock clock{kStart};
  FakeOrg org;
  FakeApprovals approvals;
  FakeBudget budget;
  FakeRegistry registry;
  std::unique_ptr<kv::Store> store;
  std::unique_ptr<Portfolio> portfolio;

  Harness() {
    org.Add("fraud", "bank");
    org.Add("churn", "bank");
    org.Add("pricing", "insurer");
    Reopen();
  }

  void Reopen() {
    portfolio.reset();
    store.reset();
    kv::StoreOptions options;
    options.path = dir.Sub("kv");
    options.column_families = PortfolioFamilies();
    store = *kv::Store::Open(std::move(options));
    PortfolioOptions portfolio_options;
    portfolio_options.store = store.get();
    portfolio_options.clock = &clock;
    portfolio_options.org = &org;
    portfolio_options.approvals = &approvals;
    portfolio_options.budget = &budget;
    portfolio_options.registry = &registry;
    portfolio = *Portfolio::Create(portfolio_options);
    approvals.handler = portfolio.get();
  }

  v1::UseCase MustCreate(const v1::UseCase& draft) {
    absl::StatusOr<v1::UseCase> created = portfolio->CreateUseCase(draft, "", User("alice"));
    REQUIRE(created.ok());
    return *created;
  }

  absl::StatusOr<v1::UseCase> Move(const std::string& id, v1::UseCaseStatus to,
                                   const std::string& by = "alice") {
    v1::UseCase update;
    update.set_id(id);
    update.set_status(to);
    return portfolio->UpdateUseCase(update, Mask({"status"}), User(by));
  }

  // Moves `id` from IDEA to `to`, approving on the way when it passes APPROVED.
  void Advance(const std::string& id, v1::UseCaseStatus to) {
    for (int status = v1::USE_CASE_STATUS_QUALIFIED; status <= to; ++status) {
      REQUIRE(Move(id, static_cast<v1::UseCaseStatus>(status)).ok());
      if (status == v1::USE_CASE_STATUS_APPROVED) {
        REQUIRE(
            portfolio->Apply(approvals.Decided(approvals.opened.size() - 1, "dora", true)).ok());
      }
    }
  }
};

}  // namespace fabrique::tower::portfolio_test

#endif  // FABRIQUE_TESTS_TOWER_PORTFOLIO_PORTFOLIO_TEST_UTIL_H_
