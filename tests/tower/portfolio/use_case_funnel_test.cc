// Use cases and their funnel: creation (from a template, codes for unknown squads and
// templates), updates with field masks and etags, the funnel's moves, and the approval path.

#include <string>

#include "catch2/catch.hpp"
#include "portfolio_test_util.h"

namespace fabrique::tower {
namespace {

using portfolio_test::Draft;
using portfolio_test::Euros;
using portfolio_test::Harness;
using portfolio_test::Mask;
using portfolio_test::User;

TEST_CASE("A use case is created in IDEA with its squad's entity and a history",
          "[portfolio][usecase]") {
  Harness h;
  v1::UseCase created = h.MustCreate(Draft("card-fraud", "fraud"));
  CHECK(created.status() == v1::USE_CASE_STATUS_IDEA);
  CHECK(created.entity() == "bank");
  CHECK(created.name() == "card-fraud");
  CHECK_FALSE(created.etag().empty());
  REQUIRE(created.history_size() == 1);
  CHECK(created.history(0).to() == v1::USE_CASE_STATUS_IDEA);
  CHECK(created.history(0).by().subject() == "alice");
  CHECK(FromProtoTime(created.history(0).time()) == portfolio_test::kStart);
  CHECK(created.wsjf() == Approx(2.0));  // (5 + 3 + 2) / 5

  absl::StatusOr<v1::UseCase> got = h.portfolio->GetUseCase("card-fraud");
  REQUIRE(got.ok());
  CHECK(got->etag() == created.etag());
  CHECK(got->wsjf() == Approx(2.0));
}

TEST_CASE("Creating a use case refuses bad input with the codes the caller acts on",
          "[portfolio][usecase]") {
  Harness h;
  h.MustCreate(Draft("card-fraud", "fraud"));
  CHECK(absl::IsAlreadyExists(
      h.portfolio->CreateUseCase(Draft("card-fraud", "fraud"), "", User("a")).status()));
  CHECK(absl::IsNotFound(
      h.portfolio->CreateUseCase(Draft("x", "no-such-squad"), "", User("a")).status()));
  CHECK(absl::IsNotFound(
      h.portfolio->CreateUseCase(Draft("y", "fraud"), "no-such-template", User("a")).status()));
  CHECK(absl::IsInvalidArgument(
      h.portfolio->CreateUseCase(Draft("Bad Id", "fraud"), "", User("a")).status()));
  CHECK(absl::IsInvalidArgument(
      h.portfolio->CreateUseCase(Draft("z", "fraud", 11), "", User("a")).status()));
  v1::UseCase started = Draft("w", "fraud");
  started.set_status(v1::USE_CASE_STATUS_BUILDING);
  CHECK(absl::IsInvalidArgument(h.portfolio->CreateUseCase(started, "", User("a")).status()));
  CHECK(absl::IsNotFound(h.portfolio->GetUseCase("nothing").status()));
  CHECK(absl::IsNotFound(h.Move("nothing", v1::USE_CASE_STATUS_QUALIFIED).status()));
}

TEST_CASE("A use case from a template takes its skills and retraining policy",
          "[portfolio][usecase][template]") {
  Harness h;
  v1::Template tabular;
  tabular.set_name("tabular");
  tabular.add_standards("model card");
  v1::SkillNeed* need = tabular.add_skills_needed();
  need->set_skill(v1::SKILL_DATA_SCIENCE);
  need->set_fte(1.5);
  tabular.mutable_retraining()->set_canary_percent(20);
  REQUIRE(h.portfolio->PutTemplate(tabular, User("da")).ok());

  absl::StatusOr<v1::UseCase> created =
      h.portfolio->CreateUseCase(Draft("churn-score", "churn"), "tabular", User("alice"));
  REQUIRE(created.ok());
  CHECK(created->template_() == "tabular");
  REQUIRE(created->skills_needed_size() == 1);
  CHECK(created->skills_needed(0).fte() == 1.5);
  CHECK(created->retraining().canary_percent() == 20);

  // What the draft states wins over the template.
  v1::UseCase own = Draft("churn-2", "churn");
  own.mutable_retraining()->set_canary_percent(5);
  own.set_template_("tabular");
  created = h.portfolio->CreateUseCase(own, "", User("alice"));
  REQUIRE(created.ok());
  CHECK(created->template_() == "tabular");
  CHECK(created->retraining().canary_percent() == 5);
  CHECK(created->skills_needed_size() == 1);
}

TEST_CASE("Updates change only the masked fields and check the etag", "[portfolio][usecase]") {
  Harness h;
  v1::UseCase created = h.MustCreate(Draft("card-fraud", "fraud"));
  h.clock.Advance(absl::Minutes(1));
  v1::UseCase update;
  update.set_id("card-fraud");
  update.set_etag(created.etag());
  update.set_job_size(2);
  update.set_name("ignored, not masked");
  *update.mutable_estimated_cost() = Euros(1000);
  absl::StatusOr<v1::UseCase> updated =
      h.portfolio->UpdateUseCase(update, Mask({"job_size", "estimated_cost"}), User("bob"));
  REQUIRE(updated.ok());
  CHECK(updated->job_size() == 2);
  CHECK(updated->name() == "card-fraud");
  CHECK(updated->estimated_cost().units() == 1000);
  CHECK(updated->wsjf() == Approx(5.0));  // (5 + 3 + 2) / 2
  CHECK(updated->etag() != created.etag());
  CHECK(FromProtoTime(updated->update_time()) == portfolio_test::kStart + absl::Minutes(1));

  // The old etag is stale now.
  CHECK(absl::IsAborted(
      h.portfolio->UpdateUseCase(update, Mask({"job_size"}), User("bob")).status()));
  CHECK(absl::IsInvalidArgument(
      h.portfolio->UpdateUseCase(update, Mask({"history"}), User("bob")).status()));
  CHECK(
      absl::IsInvalidArgument(h.portfolio->UpdateUseCase(update, Mask({}), User("bob")).status()));

  // Moving to another squad takes its entity; an unknown squad is NOT_FOUND.
  update.clear_etag();
  update.set_squad("pricing");
  updated = h.portfolio->UpdateUseCase(update, Mask({"squad"}), User("bob"));
  REQUIRE(updated.ok());
  CHECK(updated->entity() == "insurer");
  update.set_squad("nobody");
  CHECK(absl::IsNotFound(h.portfolio->UpdateUseCase(update, Mask({"squad"}), User("b")).status()));
}

TEST_CASE("The funnel moves one step at a time, back one step, and retires from anywhere",
          "[portfolio][funnel]") {
  Harness h;
  h.MustCreate(Draft("card-fraud", "fraud"));
  absl::StatusOr<v1::UseCase> skipped = h.Move("card-fraud", v1::USE_CASE_STATUS_BUILDING);
  REQUIRE(absl::IsFailedPrecondition(skipped.status()));
  CHECK(skipped.status().message().find("allowed next: QUALIFIED, RETIRED") !=
        absl::string_view::npos);

  h.clock.Advance(absl::Hours(1));
  absl::StatusOr<v1::UseCase> moved = h.Move("card-fraud", v1::USE_CASE_STATUS_QUALIFIED, "bob");
  REQUIRE(moved.ok());
  CHECK(moved->status() == v1::USE_CASE_STATUS_QUALIFIED);
  REQUIRE(moved->history_size() == 2);
  CHECK(moved->history(1).from() == v1::USE_CASE_STATUS_IDEA);
  CHECK(moved->history(1).by().subject() == "bob");
  CHECK(FromProtoTime(moved->history(1).time()) == portfolio_test::kStart + absl::Hours(1));

  // Back one step is allowed; two steps forward is not.
  REQUIRE(h.Move("card-fraud", v1::USE_CASE_STATUS_IDEA).ok());
  CHECK(absl::IsFailedPrecondition(h.Move("card-fraud", v1::USE_CASE_STATUS_APPROVED).status()));
  CHECK(absl::IsInvalidArgument(h.Move("card-fraud", static_cast<v1::UseCaseStatus>(42)).status()));

  // Retired from anywhere, and then final.
  REQUIRE(h.Move("card-fraud", v1::USE_CASE_STATUS_RETIRED).ok());
  absl::StatusOr<v1::UseCase> revived = h.Move("card-fraud", v1::USE_CASE_STATUS_IDEA);
  CHECK(absl::IsFailedPrecondition(revived.status()));
  CHECK(h.portfolio->GetUseCase("card-fraud")->history_size() == 4);
}

TEST_CASE("Moving to APPROVED opens an approval; approving it moves the use case once",
          "[portfolio][funnel][approval]") {
  Harness h;
  h.MustCreate(Draft("card-fraud", "fraud"));
  REQUIRE(h.Move("card-fraud", v1::USE_CASE_STATUS_QUALIFIED).ok());
  absl::StatusOr<v1::UseCase> asked = h.Move("card-fraud", v1::USE_CASE_STATUS_APPROVED);
  REQUIRE(asked.ok());
  CHECK(asked->status() == v1::USE_CASE_STATUS_QUALIFIED);
  CHECK(asked->pending_approval_id() == "appr-1");
  REQUIRE(h.approvals.opened.size() == 1);
  const v1::Approval& opened = h.approvals.opened[0];
  CHECK(opened.kind() == v1::APPROVAL_KIND_USE_CASE);
  CHECK(opened.subject_id() == "card-fraud");
  CHECK(opened.squad() == "fraud");
  CHECK(opened.use_case().to() == v1::USE_CASE_STATUS_APPROVED);
  CHECK(opened.requested_by().subject() == "alice");

  // No other move while it waits.
  CHECK(absl::IsFailedPrecondition(h.Move("card-fraud", v1::USE_CASE_STATUS_IDEA).status()));

  h.clock.Advance(absl::Hours(2));
  v1::Approval approved = h.approvals.Decided(0, "dora", true);
  REQUIRE(h.portfolio->Apply(approved).ok());
  absl::StatusOr<v1::UseCase> now = h.portfolio->GetUseCase("card-fraud");
  REQUIRE(now.ok());
  CHECK(now->status() == v1::USE_CASE_STATUS_APPROVED);
  CHECK(now->pending_approval_id().empty());
  const v1::StatusChange& last = now->history(now->history_size() - 1);
  CHECK(last.approval_id() == "appr-1");
  CHECK(last.by().subject() == "dora");
  CHECK(FromProtoTime(last.time()) == portfolio_test::kStart + absl::Hours(2));

  // Applied again after a restart: nothing changes.
  h.Reopen();
  REQUIRE(h.portfolio->Apply(approved).ok());
  absl::StatusOr<v1::UseCase> again = h.portfolio->GetUseCase("card-fraud");
  CHECK(again->history_size() == now->history_size());
  CHECK(again->etag() == now->etag());
  REQUIRE(h.Move("card-fraud", v1::USE_CASE_STATUS_BUILDING).ok());
}

TEST_CASE("A rejected, expired or withdrawn approval clears the pending one",
          "[portfolio][funnel][approval]") {
  Harness h;
  h.MustCreate(Draft("card-fraud", "fraud"));
  REQUIRE(h.Move("card-fraud", v1::USE_CASE_STATUS_QUALIFIED).ok());
  REQUIRE(h.Move("card-fraud", v1::USE_CASE_STATUS_APPROVED).ok());
  // Another approval closing leaves this one pending.
  v1::Approval other = h.approvals.Decided(0, "dora", false);
  other.set_id("appr-other");
  h.portfolio->Closed(other);
  CHECK(h.portfolio->GetUseCase("card-fraud")->pending_approval_id() == "appr-1");

  h.portfolio->Closed(h.approvals.Decided(0, "dora", false));
  absl::StatusOr<v1::UseCase> now = h.portfolio->GetUseCase("card-fraud");
  CHECK(now->pending_approval_id().empty());
  CHECK(now->status() == v1::USE_CASE_STATUS_QUALIFIED);

  // Asking again opens a new approval, since the use case changed since the first ask.
  absl::StatusOr<v1::UseCase> asked = h.Move("card-fraud", v1::USE_CASE_STATUS_APPROVED);
  REQUIRE(asked.ok());
  CHECK(asked->pending_approval_id() == "appr-2");
}

TEST_CASE("The approval handler validates and refuses a stale approval", "[portfolio][approval]") {
  Harness h;
  h.MustCreate(Draft("card-fraud", "fraud"));
  v1::Approval draft;
  draft.set_kind(v1::APPROVAL_KIND_USE_CASE);
  draft.mutable_use_case()->set_use_case_id("card-fraud");
  draft.mutable_use_case()->set_to(v1::USE_CASE_STATUS_APPROVED);
  CHECK(absl::IsFailedPrecondition(h.portfolio->Validate(draft)));  // Still an IDEA.
  draft.mutable_use_case()->set_use_case_id("nothing");
  CHECK(absl::IsNotFound(h.portfolio->Validate(draft)));
  draft.mutable_use_case()->set_to(v1::USE_CASE_STATUS_BUILDING);
  CHECK(absl::IsInvalidArgument(h.portfolio->Validate(draft)));

  draft.set_id("appr-x");
  draft.mutable_use_case()->set_use_case_id("card-fraud");
  draft.mutable_use_case()->set_to(v1::USE_CASE_STATUS_APPROVED);
  CHECK(absl::IsFailedPrecondition(h.portfolio->Apply(draft)));
  CHECK(h.portfolio->GetUseCase("card-fraud")->status() == v1::USE_CASE_STATUS_IDEA);
}

TEST_CASE("Without an approvals core a use case cannot be approved", "[portfolio][approval]") {
  Harness h;
  PortfolioOptions options;
  options.store = h.store.get();
  options.clock = &h.clock;
  std::unique_ptr<Portfolio> bare = *Portfolio::Create(options);
  REQUIRE(bare->CreateUseCase(Draft("lone", "any-squad"), "", User("a")).ok());
  CHECK(bare->GetUseCase("lone")->entity().empty());
  v1::UseCase update;
  update.set_id("lone");
  update.set_status(v1::USE_CASE_STATUS_QUALIFIED);
  REQUIRE(bare->UpdateUseCase(update, Mask({"status"}), User("a")).ok());
  update.set_status(v1::USE_CASE_STATUS_APPROVED);
  CHECK(absl::IsFailedPrecondition(
      bare->UpdateUseCase(update, Mask({"status"}), User("a")).status()));
  CHECK(absl::IsFailedPrecondition(bare->GetCapacityGaps("").status()));
}

TEST_CASE("Templates are validated, listed by name and survive a restart",
          "[portfolio][template]") {
  Harness h;
  v1::Template bad;
  bad.set_name("Not A Name");
  CHECK(absl::IsInvalidArgument(h.portfolio->PutTemplate(bad, User("da")).status()));
  CHECK(absl::IsInvalidArgument(h.portfolio->PutTemplate(v1::Template(), User("da")).status()));
  for (const char* name : {"vision", "tabular"}) {
    v1::Template template_;
    template_.set_name(name);
    template_.set_description(std::string("for ") + name);
    absl::StatusOr<v1::Template> put = h.portfolio->PutTemplate(template_, User("da"));
    REQUIRE(put.ok());
    CHECK(put->updated_by().subject() == "da");
  }
  h.Reopen();
  absl::StatusOr<std::vector<v1::Template>> all = h.portfolio->ListTemplates();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].name() == "tabular");
  CHECK(h.portfolio->GetTemplate("vision")->description() == "for vision");
  CHECK(absl::IsNotFound(h.portfolio->GetTemplate("nothing").status()));
}

TEST_CASE("Use cases list by id, filtered and paged", "[portfolio][list]") {
  Harness h;
  for (const char* id : {"a1", "a2", "a3", "b1"}) h.MustCreate(Draft(id, "fraud"));
  h.MustCreate(Draft("c1", "pricing"));
  REQUIRE(h.Move("a2", v1::USE_CASE_STATUS_QUALIFIED).ok());

  UseCaseFilter bank;
  bank.entity = "bank";
  absl::StatusOr<UseCasePage> page = h.portfolio->ListUseCases(bank, 2, "");
  REQUIRE(page.ok());
  REQUIRE(page->use_cases.size() == 2);
  CHECK(page->use_cases[0].id() == "a1");
  page = h.portfolio->ListUseCases(bank, 2, page->next_page_token);
  REQUIRE(page.ok());
  REQUIRE(page->use_cases.size() == 2);
  CHECK(page->use_cases[1].id() == "b1");
  CHECK(page->next_page_token.empty());

  UseCaseFilter qualified;
  qualified.statuses = {v1::USE_CASE_STATUS_QUALIFIED};
  page = h.portfolio->ListUseCases(qualified, 0, "");
  REQUIRE(page->use_cases.size() == 1);
  CHECK(page->use_cases[0].id() == "a2");

  UseCaseFilter hidden;
  hidden.visible = [](absl::string_view squad) { return squad == "pricing"; };
  page = h.portfolio->ListUseCases(hidden, 0, "");
  REQUIRE(page->use_cases.size() == 1);
  CHECK(page->use_cases[0].id() == "c1");

  CHECK(absl::IsInvalidArgument(h.portfolio->ListUseCases({}, -1, "").status()));
  CHECK(absl::IsInvalidArgument(h.portfolio->ListUseCases({}, 0, "garbage!").status()));
}

}  // namespace
}  // namespace fabrique::tower
