#include "libs/monitoring/alerts/alert_store.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "libs/core/stored_proto.h"
#include "libs/monitoring/alerts/alert_storage.h"
#include "libs/monitoring/alerts/paging.h"
#include "libs/monitoring/alerts/proto_time.h"

namespace fabrique::monitoring {
namespace {

constexpr char kSep = '\0';

std::string VersionPrefix(absl::string_view model, int64_t version) {
  return absl::StrFormat("%s%c%020d%c", model, kSep, version, kSep);
}

absl::StatusOr<AlertCondition> ParseConditionKey(absl::string_view key) {
  std::vector<absl::string_view> parts = absl::StrSplit(key, absl::MaxSplits(kSep, 3));
  AlertCondition condition;
  int kind = 0;
  if (parts.size() != 4 || !absl::SimpleAtoi(parts[1], &condition.version) ||
      !absl::SimpleAtoi(parts[2], &kind)) {
    return absl::DataLossError("a stored open-alert key is corrupt");
  }
  condition.model = std::string(parts[0]);
  condition.kind = static_cast<v1::AlertKind>(kind);
  condition.subject = std::string(parts[3]);
  return condition;
}

bool Matches(const AlertFilter& filter, const v1::Alert& alert) {
  if (!filter.model.empty() && alert.model_version().model() != filter.model) return false;
  if (filter.state != v1::ALERT_STATE_UNSPECIFIED && alert.state() != filter.state) return false;
  if (filter.min_severity != v1::SEVERITY_UNSPECIFIED && alert.severity() < filter.min_severity) {
    return false;
  }
  if (filter.kind != v1::ALERT_KIND_UNSPECIFIED && alert.kind() != filter.kind) return false;
  const absl::Time fired = FromProtoTime(alert.fire_time());
  if (fired < filter.fired_from || fired >= filter.fired_to) return false;
  return filter.visible == nullptr || filter.visible(alert);
}

}  // namespace

std::string ConditionKey(const AlertCondition& condition) {
  return absl::StrCat(VersionPrefix(condition.model, condition.version),
                      static_cast<int>(condition.kind), std::string(1, kSep), condition.subject);
}

absl::StatusOr<std::unique_ptr<AlertStore>> AlertStore::Create(AlertStoreOptions options) {
  if (options.store == nullptr) return absl::InvalidArgumentError("AlertStore needs a store");
  absl::StatusOr<kv::ColumnFamily> alerts = options.store->Family(kAlertsFamily);
  if (!alerts.ok()) return alerts.status();
  absl::StatusOr<kv::ColumnFamily> open = options.store->Family(kOpenAlertsFamily);
  if (!open.ok()) return open.status();
  core::Clock* clock = options.clock != nullptr ? options.clock : core::Clock::Real();
  return std::unique_ptr<AlertStore>(new AlertStore(options.store, *alerts, *open, clock));
}

absl::StatusOr<v1::Alert> AlertStore::Load(absl::string_view id) const {
  absl::StatusOr<std::string> bytes = store_->Get(alerts_, id);
  if (absl::IsNotFound(bytes.status())) {
    return absl::NotFoundError(absl::StrCat("alert '", id, "' not found"));
  }
  if (!bytes.ok()) return bytes.status();
  return core::ParseStored<v1::Alert>(*bytes, "alert");
}

absl::StatusOr<std::optional<std::string>> AlertStore::OpenId(
    const std::string& condition_key) const {
  absl::StatusOr<std::string> id = store_->Get(open_, condition_key);
  if (absl::IsNotFound(id.status())) return std::optional<std::string>();
  if (!id.ok()) return id.status();
  return std::optional<std::string>(*std::move(id));
}

absl::StatusOr<v1::Alert> AlertStore::Raise(const AlertFinding& finding) {
  absl::MutexLock lock(&mu_);
  const std::string key = ConditionKey(finding.condition);
  absl::StatusOr<std::optional<std::string>> open_id = OpenId(key);
  if (!open_id.ok()) return open_id.status();
  v1::Alert alert;
  if (open_id->has_value()) {
    absl::StatusOr<v1::Alert> loaded = Load(**open_id);
    if (!loaded.ok()) return loaded.status();
    alert = *std::move(loaded);
    // Worse than when it was acknowledged: it needs a human again.
    if (alert.state() == v1::ALERT_STATE_ACKNOWLEDGED && finding.severity > alert.severity()) {
      alert.set_state(v1::ALERT_STATE_FIRING);
    }
  } else {
    alert.set_id(ids_.Next());
    alert.set_kind(finding.condition.kind);
    alert.set_state(v1::ALERT_STATE_FIRING);
    alert.mutable_model_version()->set_model(finding.condition.model);
    alert.mutable_model_version()->set_version(finding.condition.version);
    *alert.mutable_fire_time() = ToProtoTime(clock_->Now());
  }
  alert.set_severity(finding.severity);
  alert.set_summary(finding.summary);
  alert.mutable_features()->Assign(finding.features.begin(), finding.features.end());
  alert.set_report_id(finding.report_id);
  kv::WriteBatch batch;
  batch.Put(alerts_, alert.id(), alert.SerializeAsString()).Put(open_, key, alert.id());
  if (absl::Status written = store_->Write(batch); !written.ok()) return written;
  return alert;
}

absl::StatusOr<std::optional<v1::Alert>> AlertStore::Resolve(const AlertCondition& condition) {
  absl::MutexLock lock(&mu_);
  const std::string key = ConditionKey(condition);
  absl::StatusOr<std::optional<std::string>> open_id = OpenId(key);
  if (!open_id.ok()) return open_id.status();
  if (!open_id->has_value()) return std::optional<v1::Alert>();
  absl::StatusOr<v1::Alert> alert = Load(**open_id);
  if (!alert.ok()) return alert.status();
  alert->set_state(v1::ALERT_STATE_RESOLVED);
  *alert->mutable_resolve_time() = ToProtoTime(clock_->Now());
  kv::WriteBatch batch;
  batch.Put(alerts_, alert->id(), alert->SerializeAsString()).Delete(open_, key);
  if (absl::Status written = store_->Write(batch); !written.ok()) return written;
  return std::optional<v1::Alert>(*std::move(alert));
}

absl::StatusOr<std::vector<std::pair<AlertCondition, v1::Alert>>> AlertStore::OpenAlerts(
    absl::string_view model, int64_t version) const {
  std::vector<std::pair<AlertCondition, std::string>> ids;
  absl::Status failure;
  absl::Status scanned = store_->Scan(open_, kv::KeyRange::Prefix(VersionPrefix(model, version)),
                                      [&](absl::string_view key, absl::string_view id) {
                                        absl::StatusOr<AlertCondition> condition =
                                            ParseConditionKey(key);
                                        if (!condition.ok()) {
                                          failure = condition.status();
                                          return false;
                                        }
                                        ids.emplace_back(*std::move(condition), std::string(id));
                                        return true;
                                      });
  if (!scanned.ok()) return scanned;
  if (!failure.ok()) return failure;
  std::vector<std::pair<AlertCondition, v1::Alert>> open;
  for (auto& [condition, id] : ids) {
    absl::StatusOr<v1::Alert> alert = Load(id);
    if (!alert.ok()) return alert.status();
    open.emplace_back(std::move(condition), *std::move(alert));
  }
  return open;
}

absl::StatusOr<v1::Alert> AlertStore::Get(absl::string_view id) const { return Load(id); }

absl::StatusOr<v1::Alert> AlertStore::Acknowledge(absl::string_view id, const v1::Principal& by,
                                                  absl::string_view comment,
                                                  absl::Duration silence_for) {
  if (silence_for < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "silence_for is negative (", absl::FormatDuration(silence_for), "); 0 = not muted"));
  }
  absl::MutexLock lock(&mu_);
  absl::StatusOr<v1::Alert> alert = Load(id);
  if (!alert.ok()) return alert.status();
  if (alert->state() == v1::ALERT_STATE_RESOLVED) {
    return absl::FailedPreconditionError(
        absl::StrCat("alert '", id, "' is resolved: its condition cleared at ",
                     absl::FormatTime(FromProtoTime(alert->resolve_time())),
                     "; a new alert is raised if it returns"));
  }
  const absl::Time now = clock_->Now();
  alert->set_state(v1::ALERT_STATE_ACKNOWLEDGED);
  *alert->mutable_acknowledge_time() = ToProtoTime(now);
  *alert->mutable_acknowledged_by() = by;
  alert->set_acknowledge_comment(std::string(comment));
  if (silence_for > absl::ZeroDuration()) {
    *alert->mutable_silenced_until() = ToProtoTime(now + silence_for);
  } else {
    alert->clear_silenced_until();
  }
  if (absl::Status put = store_->Put(alerts_, alert->id(), alert->SerializeAsString()); !put.ok()) {
    return put;
  }
  return alert;
}

absl::Status AlertStore::SetRetrainJob(absl::string_view id, absl::string_view job_id) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<v1::Alert> alert = Load(id);
  if (!alert.ok()) return alert.status();
  alert->set_retrain_job_id(std::string(job_id));
  return store_->Put(alerts_, alert->id(), alert->SerializeAsString());
}

absl::StatusOr<AlertPage> AlertStore::List(const AlertFilter& filter, int32_t page_size,
                                           absl::string_view page_token) const {
  absl::StatusOr<int32_t> size = PageSize(page_size);
  if (!size.ok()) return size.status();
  absl::StatusOr<std::string> before = DecodePageToken(page_token);
  if (!before.ok()) return before.status();
  absl::StatusOr<std::unique_ptr<kv::Iterator>> it = store_->NewIterator(alerts_);
  if (!it.ok()) return it.status();
  kv::Iterator& iter = **it;
  if (before->empty()) {
    iter.SeekToLast();
  } else {
    iter.SeekForPrev(*before);
    if (iter.Valid() && iter.key() == *before) iter.Prev();
  }
  AlertPage page;
  std::string last_id;
  for (; iter.Valid(); iter.Prev()) {
    if (static_cast<int32_t>(page.alerts.size()) == *size) {
      page.next_page_token = EncodePageToken(last_id);
      break;
    }
    absl::StatusOr<v1::Alert> alert = core::ParseStored<v1::Alert>(iter.value(), "alert");
    if (!alert.ok()) return alert.status();
    last_id = alert->id();
    if (Matches(filter, *alert)) page.alerts.push_back(*std::move(alert));
  }
  if (absl::Status status = iter.status(); !status.ok()) return status;
  return page;
}

absl::StatusOr<std::vector<int64_t>> AlertStore::FiringBySeverity(absl::string_view model,
                                                                  absl::Time now) const {
  std::vector<int64_t> counts(v1::Severity_ARRAYSIZE, 0);
  absl::Status failure;
  std::vector<std::string> ids;
  absl::Status scanned =
      store_->Scan(open_, kv::KeyRange::Prefix(absl::StrCat(model, std::string(1, kSep))),
                   [&](absl::string_view, absl::string_view id) {
                     ids.emplace_back(id);
                     return true;
                   });
  if (!scanned.ok()) return scanned;
  for (const std::string& id : ids) {
    absl::StatusOr<v1::Alert> alert = Load(id);
    if (!alert.ok()) return alert.status();
    if (alert->state() != v1::ALERT_STATE_FIRING) continue;
    if (alert->has_silenced_until() && FromProtoTime(alert->silenced_until()) > now) continue;
    ++counts[alert->severity()];
  }
  return counts;
}

}  // namespace fabrique::monitoring
