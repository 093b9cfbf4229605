#include "libs/auth/method_table.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/core/status_macros.h"

namespace fabrique::auth {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// The fields along `path`, each checked to be singular, messages on the way and a string last.
absl::StatusOr<std::vector<const FieldDescriptor*>> Walk(const Descriptor& type,
                                                         absl::string_view path) {
  std::vector<const FieldDescriptor*> fields;
  const Descriptor* current = &type;
  const std::vector<absl::string_view> parts = absl::StrSplit(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* field =
        current == nullptr ? nullptr : current->FindFieldByName(std::string(parts[i]));
    const bool last = i + 1 == parts.size();
    const bool fits = field != nullptr && !field->is_repeated() &&
                      (last ? field->type() == FieldDescriptor::TYPE_STRING
                            : field->type() == FieldDescriptor::TYPE_MESSAGE);
    if (!fits) {
      return absl::InternalError(absl::StrCat("field path '", path, "' names no singular ",
                                              "string field of ", type.full_name()));
    }
    fields.push_back(field);
    current = field->message_type();
  }
  return fields;
}

}  // namespace

absl::Status CheckFieldPath(const Descriptor& type, absl::string_view path) {
  return Walk(type, path).status();
}

absl::StatusOr<std::string> FieldText(const google::protobuf::Message& message,
                                      absl::string_view path) {
  ASSIGN_OR_RETURN(std::vector<const FieldDescriptor*> fields,
                   Walk(*message.GetDescriptor(), path));
  const google::protobuf::Message* current = &message;
  for (size_t i = 0; i + 1 < fields.size(); ++i) {
    const google::protobuf::Reflection* reflection = current->GetReflection();
    if (!reflection->HasField(*current, fields[i])) return std::string();
    current = &reflection->GetMessage(*current, fields[i]);
  }
  return current->GetReflection()->GetString(*current, fields.back());
}

absl::StatusOr<std::string> SquadOf(const MethodRule& rule,
                                    const google::protobuf::Message& request,
                                    const OwnerLookup& owner_of) {
  switch (rule.squad_from) {
    case SquadFrom::kNone:
      return std::string("*");
    case SquadFrom::kAnyOwnSquad:
      return absl::InternalError(absl::StrCat(
          "a call needing ", rule.permission,
          " in any of the caller's squads has no single squad: check it with SquadsWith"));
    case SquadFrom::kRequestField:
    case SquadFrom::kResourceOwner:
      break;
  }
  ASSIGN_OR_RETURN(std::string value, FieldText(request, rule.field));
  if (value.empty()) {
    if (rule.empty_is_platform_wide) return std::string("*");
    const std::string what = rule.squad_from == SquadFrom::kRequestField
                                 ? std::string("the squad the call acts in")
                                 : absl::StrCat("the ", rule.resource, " the call acts on");
    return absl::InvalidArgumentError(absl::StrCat(rule.field, " is required: it names ", what));
  }
  if (rule.squad_from == SquadFrom::kRequestField) return value;
  if (owner_of == nullptr) {
    return absl::InternalError(
        absl::StrCat("no owner lookup to find the squad of ", rule.resource, " '", value, "'"));
  }
  return owner_of(rule.resource, value);
}

const absl::flat_hash_map<std::string, const MethodTable*>& MethodTables() {
  static const auto* const tables = new absl::flat_hash_map<std::string, const MethodTable*>{
      {"fabrique.v1.FeatureStore", &FeatureStoreMethods()},
      {"fabrique.v1.ModelRegistry", &ModelRegistryMethods()},
      {"fabrique.v1.Trainer", &TrainerMethods()},
      {"fabrique.v1.EntityInference", &EntityInferenceMethods()},
      {"inference.GRPCInferenceService", &OpenInferenceMethods()},
      {"fabrique.v1.Monitor", &MonitorMethods()},
      {"fabrique.v1.Tower", &TowerMethods()},
  };
  return *tables;
}

const MethodRule* FindRule(absl::string_view service_full_name, absl::string_view method) {
  const auto& tables = MethodTables();
  auto table = tables.find(service_full_name);
  if (table == tables.end()) return nullptr;
  auto rule = table->second->find(method);
  return rule == table->second->end() ? nullptr : &rule->second;
}

const MethodRule* FindRuleForPath(absl::string_view grpc_method_path) {
  // "/fabrique.v1.ModelRegistry/GetModel"
  if (grpc_method_path.empty() || grpc_method_path[0] != '/') return nullptr;
  grpc_method_path.remove_prefix(1);
  const size_t slash = grpc_method_path.find('/');
  if (slash == absl::string_view::npos) return nullptr;
  return FindRule(grpc_method_path.substr(0, slash), grpc_method_path.substr(slash + 1));
}

}  // namespace fabrique::auth
