#include "services/features/personal_data.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "services/access_checks.h"

namespace fabrique::services {
namespace {

constexpr char kPersonalRead[] = "features.personal.read";

std::string CallerLabel(const v1::Principal& caller) {
  if (caller.service().empty()) return caller.subject();
  return absl::StrCat(caller.subject(), " via ", caller.service());
}

}  // namespace

PersonalDataReads::PersonalDataReads(const server::ServiceAccess* access, features::AccessLog* log,
                                     prometheus::Registry& metrics, int max_callers)
    : access_(access),
      log_(log),
      reads_(prometheus::BuildCounter()
                 .Name("fabrique_features_personal_data_reads_total")
                 .Help(absl::StrCat(
                     "Calls that read features classified PERSONAL_DATA, by caller (subject, or "
                     "'subject via service'); after ",
                     max_callers, " distinct callers the rest count under caller=\"", kOtherCallers,
                     "\"."))
                 .Register(metrics)),
      max_callers_(max_callers) {}

absl::Status PersonalDataReads::Check(const grpc::ServerContextBase& context,
                                      const server::Caller& caller, const v1::FeatureGroup& group,
                                      absl::Span<const std::string> personal) const {
  if (personal.empty()) return absl::OkStatus();
  const std::string& squad = group.spec().owner_squad();
  const absl::Status allowed = AlsoAllowed(*access_, context, kPersonalRead, squad);
  if (allowed.ok() || allowed.code() != absl::StatusCode::kPermissionDenied) return allowed;
  return absl::PermissionDeniedError(
      absl::StrCat("feature '", group.spec().name(), ":", personal.front(),
                   "' is personal data: reading it takes ", kPersonalRead, " in squad '", squad,
                   "', which ", caller.principal.subject(), " lacks (", allowed.message(), ")"));
}

absl::Status PersonalDataReads::Record(const server::Caller& caller, absl::string_view call,
                                       const std::vector<Read>& reads, int64_t entity_count,
                                       absl::string_view dataset_id) {
  if (reads.empty()) return absl::OkStatus();
  for (const Read& read : reads) {
    v1::PersonalDataRead entry;
    *entry.mutable_caller() = caller.principal;
    entry.set_call(std::string(call));
    entry.set_group(read.group);
    for (const std::string& feature : read.features) entry.add_features(feature);
    entry.set_entity_count(entity_count);
    entry.set_dataset_id(std::string(dataset_id));
    // An entry that cannot be queued refuses the read; entries queued before it stay, so the
    // log may name a group of a read that was refused, never miss one that was answered.
    if (absl::Status queued = log_->Append(std::move(entry)); !queued.ok()) return queued;
  }
  CounterFor(caller.principal).Increment();
  return absl::OkStatus();
}

prometheus::Counter& PersonalDataReads::CounterFor(const v1::Principal& caller) {
  std::string label = CallerLabel(caller);
  absl::MutexLock lock(&mu_);
  auto it = counters_.find(label);
  if (it != counters_.end()) return *it->second;
  if (static_cast<int>(counters_.size()) >= max_callers_) {
    auto other = counters_.find(kOtherCallers);
    if (other != counters_.end()) return *other->second;
    label = kOtherCallers;
  }
  prometheus::Counter& counter = reads_.Add({{"caller", label}});
  counters_.emplace(std::move(label), &counter);
  return counter;
}

}  // namespace fabrique::services
