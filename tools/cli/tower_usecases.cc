// `fabrique tower usecases create | show | list | update | move`: the use cases of the
// portfolio. A use case starts as an idea, from a template when one is named; moving it to
// approved opens a use-case approval and the move happens when it is approved.

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/tower_args.h"
#include "tools/cli/tower_client.h"
#include "tools/cli/tower_commands.h"
#include "tools/cli/tower_print.h"
#include "tools/cli/tower_usecase_flags.h"

namespace fabrique::cli {
namespace {

int UseCasesCreate(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  UseCaseFlags use_case_flags;
  std::string template_name, file;
  core::FlagSet flags(
      "fabrique tower usecases create",
      "Creates a use case in the idea stage, with its value, cost, WSJF inputs and the skills "
      "it needs, from flags or from --file (a UseCase in YAML or JSON; flags given win). With "
      "--template, the design authority's template fills what the use case leaves unset "
      "(skills, retraining policy). Prints the use case with its computed WSJF and ROI.");
  flags.set_usage_args("[flags] USE_CASE");
  flags.set_epilog(
      "Example:\n"
      "  fabrique tower usecases create fraud-scoring --squad risk --name 'Card fraud' \\\n"
      "      --template tabular-classifier --value '1200000 EUR' --cost '300000 EUR' \\\n"
      "      --criticality 8 --risk 6 --size 3 --skill data-science=1.5 --skill mlops=0.5\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("template", &template_name, "Start from this template (NOT_FOUND if unknown)");
  flags.Add("file", &file, "Read the use case from this YAML or JSON file first");
  use_case_flags.AddTo(&flags);
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one USE_CASE id", &parsed)) return *code;
  v1::CreateUseCaseRequest request;
  if (!file.empty()) {
    if (absl::Status read = ReadRecordFile(file, request.mutable_use_case()); !read.ok()) {
      return BadInput(flags.program(), read);
    }
  }
  request.mutable_use_case()->set_id(parsed.positional[0]);
  if (absl::Status applied = use_case_flags.ApplyTo(request.mutable_use_case(), nullptr);
      !applied.ok()) {
    return BadUsage(flags, applied.message());
  }
  if (request.use_case().squad().empty()) return BadUsage(flags, "--squad is required");
  request.set_template_(template_name);
  return CallTower<v1::CreateUseCaseRequest, v1::UseCase>(
      flags.program(), connection, &TowerStub::CreateUseCase, request,
      "CreateUseCase " + parsed.positional[0], false, true);
}

int UseCasesShow(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  core::FlagSet flags("fabrique tower usecases show",
                      "Shows a use case as JSON: value, cost, WSJF and ROI, skills needed, "
                      "models, its status history and any approval it waits for.");
  flags.set_usage_args("[flags] USE_CASE");
  flags.set_epilog("Example:\n  fabrique tower usecases show fraud-scoring\n");
  AddTowerFlags(&flags, &connection);
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one USE_CASE", &parsed)) return *code;
  v1::GetUseCaseRequest request;
  request.set_id(parsed.positional[0]);
  return CallTower<v1::GetUseCaseRequest, v1::UseCase>(flags.program(), connection,
                                                       &TowerStub::GetUseCase, request,
                                                       "GetUseCase " + request.id(), true, true);
}

int UseCasesList(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  std::string entity, squad, status;
  bool json = false;
  core::FlagSet flags("fabrique tower usecases list",
                      "Lists use cases with their squad, status, WSJF, ROI and value.");
  flags.set_epilog("Example:\n  fabrique tower usecases list --squad risk --status building\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("entity", &entity, "Only use cases of this entity's squads");
  flags.Add("squad", &squad, "Only this squad's use cases");
  flags.Add(
      "status", &status,
      absl::StrCat("Only use cases in this status: ", EnumChoices(v1::UseCaseStatus_descriptor())));
  flags.Add("json", &json, "Print the use cases as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 0, "", &parsed)) return *code;
  v1::ListUseCasesRequest request;
  request.set_entity(entity);
  request.set_squad(squad);
  if (!status.empty()) {
    absl::StatusOr<v1::UseCaseStatus> value =
        ParseTowerEnum<v1::UseCaseStatus>(v1::UseCaseStatus_descriptor(), "status", status);
    if (!value.ok()) return BadUsage(flags, value.status().message());
    request.set_status(*value);
  }
  return ListTower<v1::ListUseCasesRequest, v1::ListUseCasesResponse>(
      flags.program(), connection, &TowerStub::ListUseCases, request, "ListUseCases", json,
      [](const v1::ListUseCasesResponse& all) { PrintUseCases(all, std::cout); });
}

int UseCasesUpdate(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  UseCaseFlags use_case_flags;
  std::string etag;
  core::FlagSet flags(
      "fabrique tower usecases update",
      "Changes a use case: only the flags given change (a repeated flag replaces the whole "
      "list). With --etag, a use case changed since is refused (ABORTED). Move it through the "
      "funnel with 'usecases move'.");
  flags.set_usage_args("[flags] USE_CASE");
  flags.set_epilog(
      "Example:\n  fabrique tower usecases update fraud-scoring --cost '350000 EUR' --size 5 "
      "--etag 4\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("etag", &etag, "The use case's etag as read; empty = no check");
  use_case_flags.AddTo(&flags);
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one USE_CASE", &parsed)) return *code;
  v1::UpdateUseCaseRequest request;
  request.mutable_use_case()->set_id(parsed.positional[0]);
  request.mutable_use_case()->set_etag(etag);
  if (absl::Status applied =
          use_case_flags.ApplyTo(request.mutable_use_case(), request.mutable_update_mask());
      !applied.ok()) {
    return BadUsage(flags, applied.message());
  }
  if (request.update_mask().paths().empty()) {
    return BadUsage(flags, "nothing to change: give a flag for each field to change");
  }
  return CallTower<v1::UpdateUseCaseRequest, v1::UseCase>(
      flags.program(), connection, &TowerStub::UpdateUseCase, request,
      "UpdateUseCase " + parsed.positional[0], false, true);
}

int UseCasesMove(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  std::string etag;
  bool json = false;
  core::FlagSet flags(
      "fabrique tower usecases move",
      absl::StrCat("Moves a use case through the funnel (",
                   EnumChoices(v1::UseCaseStatus_descriptor()),
                   "). A move to approved opens a use-case approval: its id is printed, and the "
                   "move happens when it is approved. A move the funnel does not allow is "
                   "FAILED_PRECONDITION (exit 1)."));
  flags.set_usage_args("[flags] USE_CASE STATUS");
  flags.set_epilog(
      "Example:\n  fabrique tower usecases move fraud-scoring qualified\n"
      "  fabrique tower usecases move fraud-scoring approved   (prints the approval to decide)\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("etag", &etag, "The use case's etag as read; empty = no check");
  flags.Add("json", &json, "Print the use case as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 2, 2, "USE_CASE STATUS", &parsed)) return *code;
  absl::StatusOr<v1::UseCaseStatus> status = ParseTowerEnum<v1::UseCaseStatus>(
      v1::UseCaseStatus_descriptor(), "status", parsed.positional[1]);
  if (!status.ok()) return BadUsage(flags, status.status().message());
  v1::UpdateUseCaseRequest request;
  request.mutable_use_case()->set_id(parsed.positional[0]);
  request.mutable_use_case()->set_etag(etag);
  request.mutable_use_case()->set_status(*status);
  request.mutable_update_mask()->add_paths("status");
  const std::string wanted = parsed.positional[1];
  return CallTower<v1::UpdateUseCaseRequest, v1::UseCase>(
      flags.program(), connection, &TowerStub::UpdateUseCase, request,
      "UpdateUseCase " + parsed.positional[0], false, json, [&wanted](const v1::UseCase& use_case) {
        const std::string now = EnumText(v1::UseCaseStatus_descriptor(), use_case.status());
        if (!use_case.pending_approval_id().empty()) {
          std::cout << "use case " << use_case.id() << " stays " << now << ": the move to "
                    << wanted << " waits for approval " << use_case.pending_approval_id()
                    << "\napproval: " << use_case.pending_approval_id() << "\n";
        } else {
          std::cout << "use case " << use_case.id() << " is now " << now << "\n";
        }
      });
}

}  // namespace

int RunTowerUseCases(const std::vector<std::string>& args) {
  static const std::vector<Subcommand> kSubcommands = {
      {"create", "create USE_CASE --squad S [--template T --value --cost --skill ...]",
       "Create a use case, from a template when named", UseCasesCreate},
      {"show", "show USE_CASE", "Show a use case", UseCasesShow},
      {"list", "list [--entity --squad --status]", "List use cases", UseCasesList},
      {"update", "update USE_CASE [flags] [--etag E]", "Change a use case's fields",
       UseCasesUpdate},
      {"move", "move USE_CASE STATUS", "Move a use case through the funnel", UseCasesMove},
  };
  return RunSubcommand("fabrique tower usecases",
                       "Use cases are the business problems squads solve with models: their "
                       "value, cost and WSJF inputs rank them in the portfolio, and a funnel "
                       "(idea, qualified, approved, building, in production, retired) tracks "
                       "them.",
                       kSubcommands, args);
}

}  // namespace fabrique::cli
