// `fabrique tower squads create | show | list | update | members add|update|remove`: squads of
// an entity and their members. Members change one at a time; --etag makes a change refused
// (ABORTED, exit 1) when the squad changed since it was read.

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/field_mask.pb.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/tower_args.h"
#include "tools/cli/tower_client.h"
#include "tools/cli/tower_commands.h"
#include "tools/cli/tower_print.h"

namespace fabrique::cli {
namespace {

void PrintSquadOut(const v1::Squad& squad) { PrintSquad(squad, std::cout); }

int SquadsCreate(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  v1::Squad squad;
  std::string entity, name, description;
  double weight = 0;
  bool json = false;
  core::FlagSet flags("fabrique tower squads create",
                      "Creates a squad in an existing entity (NOT_FOUND for an unknown entity, "
                      "ALREADY_EXISTS for a taken id). Add members with 'squads members add'.");
  flags.set_usage_args("[flags] SQUAD");
  flags.set_epilog(
      "Example:\n  fabrique tower squads create risk --entity retail --name 'Credit risk' "
      "--weight 2\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("entity", &entity, "The entity it belongs to (required)");
  flags.Add("name", &name, "Display name");
  flags.Add("description", &description, "What the squad does");
  flags.Add("weight", &weight, "Relative weight in fair sharing; 0 = 1");
  flags.Add("json", &json, "Print the squad as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one SQUAD id", &parsed)) return *code;
  if (entity.empty()) return BadUsage(flags, "--entity is required: the squad's entity");
  if (weight < 0) return BadUsage(flags, "--weight must not be negative");
  v1::CreateSquadRequest request;
  request.mutable_squad()->set_id(parsed.positional[0]);
  request.mutable_squad()->set_entity(entity);
  request.mutable_squad()->set_display_name(name);
  request.mutable_squad()->set_description(description);
  request.mutable_squad()->set_share_weight(weight);
  return CallTower<v1::CreateSquadRequest, v1::Squad>(
      flags.program(), connection, &TowerStub::CreateSquad, request,
      "CreateSquad " + parsed.positional[0], false, json, PrintSquadOut);
}

int SquadsShow(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  bool json = false;
  core::FlagSet flags("fabrique tower squads show",
                      "Shows a squad: entity, weight, etag, and each member's roles, skills and "
                      "allocation.");
  flags.set_usage_args("[flags] SQUAD");
  flags.set_epilog("Example:\n  fabrique tower squads show risk\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("json", &json, "Print the squad as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one SQUAD", &parsed)) return *code;
  v1::GetSquadRequest request;
  request.set_id(parsed.positional[0]);
  return CallTower<v1::GetSquadRequest, v1::Squad>(
      flags.program(), connection, &TowerStub::GetSquad, request, "GetSquad " + request.id(), true,
      json, PrintSquadOut);
}

int SquadsList(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  v1::ListSquadsRequest request;
  std::string entity, member;
  bool json = false;
  core::FlagSet flags("fabrique tower squads list",
                      "Lists squads with their entity, weight and members.");
  flags.set_epilog("Example:\n  fabrique tower squads list --entity retail\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("entity", &entity, "Only squads of this entity");
  flags.Add("member", &member, "Only squads this user belongs to");
  flags.Add("json", &json, "Print the squads as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 0, "", &parsed)) return *code;
  request.set_entity(entity);
  request.set_member(member);
  return ListTower<v1::ListSquadsRequest, v1::ListSquadsResponse>(
      flags.program(), connection, &TowerStub::ListSquads, request, "ListSquads", json,
      [](const v1::ListSquadsResponse& all) { PrintSquads(all, std::cout); });
}

int SquadsUpdate(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  std::string name = "\x01", description = "\x01", etag;
  double weight = -1;
  bool json = false;
  core::FlagSet flags("fabrique tower squads update",
                      "Changes a squad's name, description or fair-share weight (members change "
                      "with 'squads members'). Only the flags given change. With --etag, a squad "
                      "changed since is refused (ABORTED).");
  flags.set_usage_args("[flags] SQUAD");
  flags.set_epilog("Example:\n  fabrique tower squads update risk --weight 2 --etag 3\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("name", &name, "New display name");
  flags.Add("description", &description, "New description");
  flags.Add("weight", &weight, "New weight in fair sharing (0 = 1)");
  flags.Add("etag", &etag, "The squad's etag as read; empty = no check");
  flags.Add("json", &json, "Print the squad as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one SQUAD", &parsed)) return *code;
  v1::UpdateSquadRequest request;
  v1::Squad* squad = request.mutable_squad();
  squad->set_id(parsed.positional[0]);
  squad->set_etag(etag);
  if (name != "\x01") {
    squad->set_display_name(name);
    request.mutable_update_mask()->add_paths("display_name");
  }
  if (description != "\x01") {
    squad->set_description(description);
    request.mutable_update_mask()->add_paths("description");
  }
  if (weight != -1) {
    if (weight < 0) return BadUsage(flags, "--weight must not be negative");
    squad->set_share_weight(weight);
    request.mutable_update_mask()->add_paths("share_weight");
  }
  if (request.update_mask().paths().empty()) {
    return BadUsage(flags, "nothing to change: give --name, --description or --weight");
  }
  return CallTower<v1::UpdateSquadRequest, v1::Squad>(
      flags.program(), connection, &TowerStub::UpdateSquad, request, "UpdateSquad " + squad->id(),
      false, json, PrintSquadOut);
}

// members add|update|remove SQUAD --user U ...: one function, as the three share their flags.
int SquadsMembersAction(const std::string& action, const std::vector<std::string>& args) {
  ConnectionFlags connection;
  std::string user, roles, skills, etag;
  double allocation = -1;
  bool json = false;
  const bool remove = action == "remove";
  core::FlagSet flags(
      "fabrique tower squads members " + action,
      remove            ? "Removes one member from a squad (NOT_FOUND if absent)."
      : action == "add" ? "Adds one member to a squad with roles (bound for every service), skills "
                          "and the share of their time given to it (ALREADY_EXISTS if present)."
                        : "Replaces one member's roles, skills and allocation.");
  flags.set_usage_args("[flags] SQUAD");
  flags.set_epilog(
      remove ? "Example:\n  fabrique tower squads members remove risk --user bob --etag 4\n"
             : absl::StrCat("Example:\n  fabrique tower squads members ", action,
                            " risk --user alice --roles data-scientist,product-owner \\\n"
                            "      --skills data-science,domain --allocation 50 --etag 3\n"
                            "Roles: product-owner, data-scientist, data-engineer, "
                            "data-steward.\nSkills: ",
                            EnumChoices(v1::Skill_descriptor()), "\n"));
  AddTowerFlags(&flags, &connection);
  flags.Add("user", &user, "The member's subject, as tokens carry it (required)");
  if (!remove) {
    flags.Add("roles", &roles, "Roles in the squad, comma-separated");
    flags.Add("skills", &skills, "Skills, comma-separated: data-science, mlops, ...");
    flags.Add("allocation", &allocation, "Percent of their time given to the squad (0..100)");
  }
  flags.Add("etag", &etag, "The squad's etag as read; empty = no check");
  flags.Add("json", &json, "Print the squad as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one SQUAD", &parsed)) return *code;
  const std::string& squad = parsed.positional[0];
  if (remove) {
    if (user.empty()) return BadUsage(flags, "--user is required: the member to remove");
    v1::RemoveSquadMemberRequest request;
    request.set_squad(squad);
    request.set_user(user);
    request.set_etag(etag);
    return CallTower<v1::RemoveSquadMemberRequest, v1::Squad>(
        flags.program(), connection, &TowerStub::RemoveSquadMember, request,
        absl::StrCat("RemoveSquadMember ", squad, " ", user), false, json, PrintSquadOut);
  }
  absl::StatusOr<v1::SquadMember> member = MemberFromFlags(user, roles, skills, allocation);
  if (!member.ok()) return BadUsage(flags, member.status().message());
  if (action == "add") {
    v1::AddSquadMemberRequest request;
    request.set_squad(squad);
    *request.mutable_member() = *member;
    request.set_etag(etag);
    return CallTower<v1::AddSquadMemberRequest, v1::Squad>(
        flags.program(), connection, &TowerStub::AddSquadMember, request,
        absl::StrCat("AddSquadMember ", squad, " ", user), false, json, PrintSquadOut);
  }
  v1::UpdateSquadMemberRequest request;
  request.set_squad(squad);
  *request.mutable_member() = *member;
  request.set_etag(etag);
  return CallTower<v1::UpdateSquadMemberRequest, v1::Squad>(
      flags.program(), connection, &TowerStub::UpdateSquadMember, request,
      absl::StrCat("UpdateSquadMember ", squad, " ", user), false, json, PrintSquadOut);
}

int SquadsMembers(const std::vector<std::string>& args) {
  static const std::vector<Subcommand> kSubcommands = {
      {"add", "add SQUAD --user U [--roles R,R --skills S,S --allocation P --etag E]",
       "Add one member", [](const auto& a) { return SquadsMembersAction("add", a); }},
      {"update", "update SQUAD --user U [--roles --skills --allocation --etag]",
       "Replace one member's roles, skills and allocation",
       [](const auto& a) { return SquadsMembersAction("update", a); }},
      {"remove", "remove SQUAD --user U [--etag E]", "Remove one member",
       [](const auto& a) { return SquadsMembersAction("remove", a); }},
  };
  return RunSubcommand("fabrique tower squads members",
                       "Changes a squad's members one at a time. Their roles are the role "
                       "bindings every service authorises calls by.",
                       kSubcommands, args);
}

}  // namespace

int RunTowerSquads(const std::vector<std::string>& args) {
  static const std::vector<Subcommand> kSubcommands = {
      {"create", "create SQUAD --entity E [--name N --weight W]", "Create a squad", SquadsCreate},
      {"show", "show SQUAD", "Show a squad and its members", SquadsShow},
      {"list", "list [--entity E] [--member U]", "List squads", SquadsList},
      {"update", "update SQUAD [--name --description --weight --etag]",
       "Change a squad's name, description or weight", SquadsUpdate},
      {"members", "members add|update|remove SQUAD --user U ...",
       "Add, change or remove one member", SquadsMembers},
  };
  return RunSubcommand("fabrique tower squads",
                       "Squads are cross-functional teams of an entity that build use cases; "
                       "their members hold roles, skills and an allocation of their time.",
                       kSubcommands, args);
}

}  // namespace fabrique::cli
