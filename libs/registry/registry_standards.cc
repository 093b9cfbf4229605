// RegistryStore's design-authority standards: stored by name, audited, and found for each
// promotion they govern (standards.h evaluates them).

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/registry/registry_records.h"
#include "libs/registry/registry_store.h"
#include "libs/registry/standards.h"

namespace fabrique::registry {
namespace {

std::string StandardWhat(absl::string_view name) { return absl::StrCat("standard '", name, "'"); }

std::string StandardTarget(absl::string_view name) { return absl::StrCat("standards/", name); }

}  // namespace

absl::StatusOr<v1::Standard> RegistryStore::SetStandard(v1::Standard standard,
                                                        const v1::Principal& caller) {
  RETURN_IF_ERROR(CheckStandard(standard));
  absl::MutexLock lock(&writer_);
  absl::StatusOr<v1::Standard> before = GetStandard(standard.name());
  if (!before.ok() && !absl::IsNotFound(before.status())) return before.status();
  *standard.mutable_update_time() = Now();
  *standard.mutable_updated_by() = caller;
  kv::WriteBatch batch;
  batch.Put(family_, records::StandardKey(standard.name()), standard.SerializeAsString());
  Mutation mutation{caller, "standard.set", StandardTarget(standard.name()),
                    before.ok() ? records::Json(*before) : "", records::Json(standard)};
  RETURN_IF_ERROR(Commit(std::move(batch), std::move(mutation)));
  return standard;
}

absl::StatusOr<v1::Standard> RegistryStore::GetStandard(const std::string& name) const {
  return records::Read<v1::Standard>(*options_.store, family_, records::StandardKey(name),
                                     StandardWhat(name));
}

absl::StatusOr<std::vector<v1::Standard>> RegistryStore::ListStandards(
    const std::string& entity, const std::string& alias) const {
  std::vector<v1::Standard> standards;
  RETURN_IF_ERROR(records::ScanMessages<v1::Standard>(
      *options_.store, family_, kv::KeyRange::Prefix(kv::KeyBuilder().AddString("s").key()),
      "standard", [&](v1::Standard standard) {
        const bool scope_matches = entity.empty() || (entity == "*" && standard.entity().empty()) ||
                                   entity == standard.entity();
        if (scope_matches && (alias.empty() || GovernedAlias(standard) == alias)) {
          standards.push_back(std::move(standard));
        }
        return true;
      }));
  return standards;
}

absl::Status RegistryStore::DeleteStandard(const std::string& name, const v1::Principal& caller,
                                           const std::string& reason) {
  absl::MutexLock lock(&writer_);
  ASSIGN_OR_RETURN(const v1::Standard before, GetStandard(name));
  kv::WriteBatch batch;
  batch.Delete(family_, records::StandardKey(name));
  Mutation mutation{caller, "standard.delete", StandardTarget(name), records::Json(before), ""};
  mutation.reason = reason;
  return Commit(std::move(batch), std::move(mutation));
}

absl::StatusOr<std::vector<v1::Standard>> RegistryStore::StandardsFor(
    const v1::Model& model, const std::string& alias) const {
  ASSIGN_OR_RETURN(std::vector<v1::Standard> standards, ListStandards("", alias));
  standards.erase(std::remove_if(standards.begin(), standards.end(),
                                 [&](const v1::Standard& standard) {
                                   return !StandardApplies(standard, model, alias);
                                 }),
                  standards.end());
  return standards;
}

absl::StatusOr<v1::PromotionPolicy> RegistryStore::DescribePromotionPolicy(
    const std::string& model, const std::string& alias) const {
  ASSIGN_OR_RETURN(const v1::Model found, GetModel(model));
  ASSIGN_OR_RETURN(v1::PromotionPolicy policy, GetPromotionPolicy(model, alias));
  ASSIGN_OR_RETURN(const std::vector<v1::Standard> standards, StandardsFor(found, alias));
  for (std::string& note : CombinationNotes(policy, standards)) {
    policy.add_standard_notes(std::move(note));
  }
  return policy;
}

}  // namespace fabrique::registry
