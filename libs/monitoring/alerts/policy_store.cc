#include "libs/monitoring/alerts/policy_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/stored_proto.h"
#include "libs/monitoring/alerts/alert_storage.h"
#include "libs/monitoring/alerts/paging.h"
#include "libs/monitoring/alerts/policy_validation.h"
#include "libs/monitoring/alerts/proto_time.h"

namespace fabrique::monitoring {
namespace {

// Keys are "p" + the model name, so that the default policy (model "") has a non-empty key.
std::string PolicyKey(absl::string_view model) { return absl::StrCat("p", model); }

absl::Status NoPolicy(absl::string_view model) {
  if (model.empty()) return absl::NotFoundError("no default monitoring policy is set");
  return absl::NotFoundError(
      absl::StrCat("model '", model, "' has no monitoring policy of its own"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<PolicyStore>> PolicyStore::Create(PolicyStoreOptions options) {
  if (options.store == nullptr) return absl::InvalidArgumentError("PolicyStore needs a store");
  absl::StatusOr<kv::ColumnFamily> family = options.store->Family(kPoliciesFamily);
  if (!family.ok()) return family.status();
  core::Clock* clock = options.clock != nullptr ? options.clock : core::Clock::Real();
  return std::unique_ptr<PolicyStore>(new PolicyStore(options.store, *family, clock));
}

absl::StatusOr<v1::MonitoringPolicy> PolicyStore::Set(v1::MonitoringPolicy policy,
                                                      const v1::Principal& by) {
  if (absl::Status valid = ValidatePolicy(policy); !valid.ok()) return valid;
  *policy.mutable_update_time() = ToProtoTime(clock_->Now());
  *policy.mutable_updated_by() = by;
  absl::Status put = store_->Put(family_, PolicyKey(policy.model()), policy.SerializeAsString());
  if (!put.ok()) return put;
  return policy;
}

absl::StatusOr<v1::MonitoringPolicy> PolicyStore::GetOwn(absl::string_view model) const {
  absl::StatusOr<std::string> bytes = store_->Get(family_, PolicyKey(model));
  if (absl::IsNotFound(bytes.status())) return NoPolicy(model);
  if (!bytes.ok()) return bytes.status();
  return core::ParseStored<v1::MonitoringPolicy>(*bytes, "monitoring policy");
}

absl::StatusOr<v1::MonitoringPolicy> PolicyStore::Get(absl::string_view model) const {
  // Found, or a storage error: either is the answer.
  absl::StatusOr<v1::MonitoringPolicy> own = GetOwn(model);
  if (!absl::IsNotFound(own.status())) return own;
  if (!model.empty()) {
    absl::StatusOr<v1::MonitoringPolicy> fallback = GetOwn("");
    if (!absl::IsNotFound(fallback.status())) return fallback;
  }
  return BuiltInPolicy();
}

absl::StatusOr<PolicyPage> PolicyStore::List(int32_t page_size,
                                             absl::string_view page_token) const {
  absl::StatusOr<int32_t> size = PageSize(page_size);
  if (!size.ok()) return size.status();
  absl::StatusOr<std::string> after = DecodePageToken(page_token);
  if (!after.ok()) return after.status();
  PolicyPage page;
  std::string last_key;
  absl::Status parse_error;
  // Keys after the token's: the token's key with a 0 byte appended is the next possible key.
  const std::string begin =
      after->empty() ? std::string() : absl::StrCat(*after, std::string(1, '\0'));
  absl::Status scanned =
      store_->Scan(family_, kv::KeyRange::Between(begin, ""),
                   [&](absl::string_view key, absl::string_view value) {
                     if (static_cast<int32_t>(page.policies.size()) == *size) {
                       page.next_page_token = EncodePageToken(last_key);
                       return false;
                     }
                     absl::StatusOr<v1::MonitoringPolicy> policy =
                         core::ParseStored<v1::MonitoringPolicy>(value, "monitoring policy");
                     if (!policy.ok()) {
                       parse_error = policy.status();
                       return false;
                     }
                     page.policies.push_back(*std::move(policy));
                     last_key = std::string(key);
                     return true;
                   });
  if (!scanned.ok()) return scanned;
  if (!parse_error.ok()) return parse_error;
  return page;
}

absl::Status PolicyStore::Delete(absl::string_view model) {
  absl::StatusOr<std::string> bytes = store_->Get(family_, PolicyKey(model));
  if (absl::IsNotFound(bytes.status())) return NoPolicy(model);
  if (!bytes.ok()) return bytes.status();
  return store_->Delete(family_, PolicyKey(model));
}

}  // namespace fabrique::monitoring
