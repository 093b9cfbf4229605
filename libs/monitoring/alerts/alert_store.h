#ifndef FABRIQUE_LIBS_MONITORING_ALERTS_ALERT_STORE_H_
#define FABRIQUE_LIBS_MONITORING_ALERTS_ALERT_STORE_H_

// Alerts and their lifecycle. A condition (a model version, an alert kind and the feature or
// metric it is about) has at most one open alert: raised FIRING the first time an evaluation
// finds it, updated (summary, severity, report) while later evaluations still find it, RESOLVED
// when one finds it clear. People acknowledge an open alert (ACKNOWLEDGED), optionally muting
// it for a while; an acknowledged alert whose severity rises fires again.
//
// Alert ids are time-sortable (core/ids.h), so the newest-first list is a reverse scan.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "fabrique/v1/monitor.pb.h"
#include "libs/core/clock.h"
#include "libs/core/ids.h"
#include "libs/kv/store.h"

namespace fabrique::monitoring {

// What one alert is about.
struct AlertCondition {
  std::string model;
  int64_t version = 0;
  v1::AlertKind kind = v1::ALERT_KIND_UNSPECIFIED;
  // The feature, output or metric; "" for conditions of the whole version (NO_TRAFFIC).
  std::string subject;

  bool operator==(const AlertCondition& other) const {
    return model == other.model && version == other.version && kind == other.kind &&
           subject == other.subject;
  }
};

// A condition found to hold by an evaluation.
struct AlertFinding {
  AlertCondition condition;
  v1::Severity severity = v1::SEVERITY_WARNING;
  std::string summary;                // One line, e.g. "PSI 0.31 on amount (critical >= 0.25)".
  std::vector<std::string> features;  // Features involved.
  std::string report_id;              // Report that found it.
};

// Filters of List; empty / UNSPECIFIED = any.
struct AlertFilter {
  std::string model;
  v1::AlertState state = v1::ALERT_STATE_UNSPECIFIED;
  v1::Severity min_severity = v1::SEVERITY_UNSPECIFIED;
  v1::AlertKind kind = v1::ALERT_KIND_UNSPECIFIED;
  absl::Time fired_from = absl::InfinitePast();  // fire_time >= this.
  absl::Time fired_to = absl::InfiniteFuture();  // fire_time < this.
  // Whether the caller may see an alert (their squads); nullptr = all.
  std::function<bool(const v1::Alert&)> visible;
};

struct AlertPage {
  std::vector<v1::Alert> alerts;
  std::string next_page_token;  // "" on the last page.
};

struct AlertStoreOptions {
  // Opened by OpenAlertStorage (alert_storage.h). Not owned; required.
  kv::Store* store = nullptr;
  // Stamps fire, resolve and acknowledge times and makes ids. Not owned; nullptr = real.
  core::Clock* clock = nullptr;
};

class AlertStore {
 public:
  // INVALID_ARGUMENT without a store; NOT_FOUND when it lacks the alert families.
  static absl::StatusOr<std::unique_ptr<AlertStore>> Create(AlertStoreOptions options);

  // Raises the finding's condition: a new FIRING alert, or the open one updated. Returns it.
  absl::StatusOr<v1::Alert> Raise(const AlertFinding& finding);
  // Resolves the condition's open alert; nullopt when none was open.
  absl::StatusOr<std::optional<v1::Alert>> Resolve(const AlertCondition& condition);
  // The open (FIRING or ACKNOWLEDGED) alerts of `model` `version`, with their conditions.
  absl::StatusOr<std::vector<std::pair<AlertCondition, v1::Alert>>> OpenAlerts(
      absl::string_view model, int64_t version) const;

  // The alert `id`, or NOT_FOUND.
  absl::StatusOr<v1::Alert> Get(absl::string_view id) const;
  // Acknowledges alert `id` as `by`, with `comment`, muted for `silence_for` (0 = not muted).
  // NOT_FOUND for an unknown id; FAILED_PRECONDITION when it is resolved (nothing to act on);
  // INVALID_ARGUMENT for a negative silence.
  absl::StatusOr<v1::Alert> Acknowledge(absl::string_view id, const v1::Principal& by,
                                        absl::string_view comment, absl::Duration silence_for);
  // Records the tower job a retrain submitted for alert `id`.
  absl::Status SetRetrainJob(absl::string_view id, absl::string_view job_id);
  // Alerts matching `filter`, newest first.
  absl::StatusOr<AlertPage> List(const AlertFilter& filter, int32_t page_size,
                                 absl::string_view page_token) const;
  // FIRING alerts not muted at `now`, per severity, for `model` (index = v1::Severity).
  absl::StatusOr<std::vector<int64_t>> FiringBySeverity(absl::string_view model,
                                                        absl::Time now) const;

 private:
  AlertStore(kv::Store* store, kv::ColumnFamily alerts, kv::ColumnFamily open, core::Clock* clock)
      : store_(store), alerts_(alerts), open_(open), clock_(clock), ids_(clock) {}

  absl::StatusOr<v1::Alert> Load(absl::string_view id) const;
  absl::StatusOr<std::optional<std::string>> OpenId(const std::string& condition_key) const;

  kv::Store* const store_;
  const kv::ColumnFamily alerts_;
  const kv::ColumnFamily open_;
  core::Clock* const clock_;
  core::IdGenerator ids_;
  // Serialises read-modify-writes of one alert (raise, resolve, acknowledge).
  absl::Mutex mu_;
};

// The key of a condition in the open-alert index: model, version, kind and subject.
std::string ConditionKey(const AlertCondition& condition);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_ALERTS_ALERT_STORE_H_
