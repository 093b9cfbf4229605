#include "libs/monitoring/alerts/retrain_trigger.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/core/log.h"
#include "libs/core/stored_proto.h"
#include "libs/monitoring/alerts/alert_storage.h"
#include "libs/monitoring/alerts/proto_time.h"

namespace fabrique::monitoring {
namespace {

constexpr char kSep = '\0';

std::string StreakKey(absl::string_view model, int64_t version) {
  return absl::StrCat("s", std::string(1, kSep), model, std::string(1, kSep), version);
}
std::string CooldownKey(absl::string_view model) {
  return absl::StrCat("c", std::string(1, kSep), model);
}
std::string KeptKey(absl::string_view model) {
  return absl::StrCat("k", std::string(1, kSep), model);
}

bool Retryable(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status);
}

// The spec moved to now: the same span of label events, ending now.
void MoveToNow(absl::Time now, v1::RunSpec* spec) {
  if (!spec->has_time_range() || !spec->time_range().has_end_time()) return;
  const absl::Time start = FromProtoTime(spec->time_range().start_time());
  const absl::Time end = FromProtoTime(spec->time_range().end_time());
  *spec->mutable_time_range()->mutable_end_time() = ToProtoTime(now);
  if (spec->time_range().has_start_time()) {
    *spec->mutable_time_range()->mutable_start_time() = ToProtoTime(now - (end - start));
  }
}

}  // namespace

// A request waiting for the tower, stored as the request (v1 message) and its bookkeeping.
struct RetrainTrigger::Kept {
  v1::SubmitJobRequest request;
  int64_t version = 0;
  std::string alert_id;
  int32_t failures = 0;
  absl::Time next_attempt = absl::InfinitePast();
  bool complete = false;  // Squad, use case and spec filled in.
};

absl::StatusOr<std::unique_ptr<RetrainTrigger>> RetrainTrigger::Create(
    RetrainTriggerOptions options) {
  if (options.store == nullptr || options.alerts == nullptr || options.tower == nullptr) {
    return absl::InvalidArgumentError("RetrainTrigger needs a store, the alerts and a tower");
  }
  absl::StatusOr<kv::ColumnFamily> family = options.store->Family(kRetrainFamily);
  if (!family.ok()) return family.status();
  if (options.clock == nullptr) options.clock = core::Clock::Real();
  return std::unique_ptr<RetrainTrigger>(new RetrainTrigger(std::move(options), *family));
}

absl::StatusOr<std::optional<RetrainTrigger::Kept>> RetrainTrigger::LoadKept(
    const std::string& model) const {
  absl::StatusOr<std::string> bytes = options_.store->Get(family_, KeptKey(model));
  if (absl::IsNotFound(bytes.status())) return std::optional<Kept>();
  if (!bytes.ok()) return bytes.status();
  // Layout: version|alert_id|failures|next_attempt_us|complete|request bytes.
  std::vector<absl::string_view> parts = absl::StrSplit(*bytes, absl::MaxSplits('|', 5));
  Kept kept;
  int64_t next_us = 0;
  if (parts.size() != 6 || !absl::SimpleAtoi(parts[0], &kept.version) ||
      !absl::SimpleAtoi(parts[2], &kept.failures) || !absl::SimpleAtoi(parts[3], &next_us) ||
      !kept.request.ParseFromArray(parts[5].data(), static_cast<int>(parts[5].size()))) {
    return absl::DataLossError(
        absl::StrCat("the kept retrain request of '", model, "' is corrupt"));
  }
  kept.alert_id = std::string(parts[1]);
  kept.next_attempt = absl::FromUnixMicros(next_us);
  kept.complete = parts[4] == "1";
  return std::optional<Kept>(std::move(kept));
}

absl::Status RetrainTrigger::SaveKept(const std::string& model, const Kept& kept) {
  return options_.store->Put(
      family_, KeptKey(model),
      absl::StrCat(kept.version, "|", kept.alert_id, "|", kept.failures, "|",
                   absl::ToUnixMicros(kept.next_attempt), "|", kept.complete ? "1" : "0", "|",
                   kept.request.SerializeAsString()));
}

absl::Status RetrainTrigger::DropKept(const std::string& model) {
  return options_.store->Delete(family_, KeptKey(model));
}

absl::StatusOr<int32_t> RetrainTrigger::ConsecutiveDrifted(absl::string_view model,
                                                           int64_t version) const {
  absl::StatusOr<std::string> bytes = options_.store->Get(family_, StreakKey(model, version));
  if (absl::IsNotFound(bytes.status())) return 0;
  if (!bytes.ok()) return bytes.status();
  int32_t count = 0;
  if (!absl::SimpleAtoi(*bytes, &count)) {
    return absl::DataLossError("a stored drifted-window count is corrupt");
  }
  return count;
}

absl::StatusOr<std::optional<v1::SubmitJobRequest>> RetrainTrigger::Pending(
    absl::string_view model) const {
  absl::StatusOr<std::optional<Kept>> kept = LoadKept(std::string(model));
  if (!kept.ok()) return kept.status();
  if (!kept->has_value()) return std::optional<v1::SubmitJobRequest>();
  return std::optional<v1::SubmitJobRequest>((*kept)->request);
}

absl::StatusOr<RetrainOutcome> RetrainTrigger::Observe(const v1::MonitoringPolicy& policy,
                                                       const RetrainSignal& signal) {
  absl::MutexLock lock(&mu_);
  RetrainOutcome outcome;
  absl::StatusOr<int32_t> streak = ConsecutiveDrifted(signal.model, signal.version);
  if (!streak.ok()) return streak.status();
  // Not enough data: the window says nothing, the count stands.
  if (signal.drift_judged) *streak = signal.drifted ? *streak + 1 : 0;
  outcome.consecutive_drifted = *streak;
  const v1::RetrainTrigger& rule = policy.retrain();
  const int32_t needed = std::max(rule.consecutive_windows(), 1);
  const bool due = rule.enabled() && (*streak >= needed || signal.performance_breached);
  if (due) {
    const absl::Time now = options_.clock->Now();
    absl::StatusOr<std::optional<Kept>> kept = LoadKept(signal.model);
    if (!kept.ok()) return kept.status();
    absl::StatusOr<std::string> last = options_.store->Get(family_, CooldownKey(signal.model));
    if (!last.ok() && !absl::IsNotFound(last.status())) return last.status();
    int64_t last_us = 0;
    const bool cooling = last.ok() && absl::SimpleAtoi(*last, &last_us) &&
                         now - absl::FromUnixMicros(last_us) < FromProtoDuration(rule.cooldown());
    if (kept->has_value()) {
      outcome.skipped = "a retrain request is already waiting for the tower";
    } else if (cooling) {
      outcome.skipped = absl::StrCat("within the cooldown of ",
                                     absl::FormatDuration(FromProtoDuration(rule.cooldown())),
                                     " after the last retrain");
    } else {
      Kept fresh;
      fresh.version = signal.version;
      fresh.alert_id = signal.alert_id;
      fresh.request.set_trigger(v1::JOB_TRIGGER_MONITOR);
      fresh.request.set_request_id(absl::StrCat("monitor-retrain-", ids_.Next()));
      fresh.request.set_reason(absl::StrCat(
          signal.performance_breached ? "performance floor breached"
                                      : absl::StrCat(*streak, " consecutive drifted windows"),
          signal.alert_id.empty() ? "" : absl::StrCat(" (alert ", signal.alert_id, ")"), " on ",
          signal.model, " v", signal.version));
      if (rule.has_spec_template()) {
        *fresh.request.mutable_spec()->mutable_training() = rule.spec_template();
      }
      fresh.next_attempt = now;
      kv::WriteBatch batch;
      batch.Put(family_, CooldownKey(signal.model), absl::StrCat(absl::ToUnixMicros(now)));
      if (absl::Status saved = SaveKept(signal.model, fresh); !saved.ok()) return saved;
      *streak = 0;
      outcome.requested = true;
      if (absl::Status written = options_.store->Write(batch); !written.ok()) return written;
    }
  }
  if (absl::Status put = options_.store->Put(family_, StreakKey(signal.model, signal.version),
                                             absl::StrCat(*streak));
      !put.ok()) {
    return put;
  }
  if (outcome.requested) {
    absl::StatusOr<std::optional<v1::Job>> job = TrySubmit(signal.model);
    if (job.ok()) {
      outcome.job = *std::move(job);
    } else {
      outcome.failure = std::string(job.status().message());
    }
  }
  return outcome;
}

absl::StatusOr<std::optional<v1::Job>> RetrainTrigger::TrySubmit(const std::string& model) {
  absl::StatusOr<std::optional<Kept>> loaded = LoadKept(model);
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value()) return std::optional<v1::Job>();
  Kept kept = **std::move(loaded);
  const absl::Time now = options_.clock->Now();
  absl::Status status;
  if (!kept.complete) {
    absl::StatusOr<TrainingOrigin> origin =
        options_.origins != nullptr
            ? options_.origins->Origin(model, kept.version)
            : absl::FailedPreconditionError(
                  "the monitor has no way to ask how a version was trained");
    if (origin.ok()) {
      kept.request.set_squad(origin->squad);
      kept.request.set_use_case_id(origin->use_case_id);
      if (!kept.request.spec().has_training()) {
        if (!origin->has_spec) {
          origin = absl::FailedPreconditionError(absl::StrCat(
              model, " v", kept.version,
              " has no trainer run to repeat; set the policy's retrain.spec_template"));
        } else {
          v1::RunSpec spec = origin->spec;
          MoveToNow(now, &spec);
          spec.set_parent_version(kept.version);
          *kept.request.mutable_spec()->mutable_training() = std::move(spec);
        }
      }
    }
    if (origin.ok()) {
      kept.complete = true;
    } else {
      status = origin.status();
    }
  }
  if (status.ok()) {
    absl::StatusOr<v1::Job> job = options_.tower->SubmitJob(kept.request);
    if (job.ok()) {
      if (absl::Status dropped = DropKept(model); !dropped.ok()) return dropped;
      if (!kept.alert_id.empty()) {
        absl::Status linked = options_.alerts->SetRetrainJob(kept.alert_id, job->id());
        if (!linked.ok()) {
          core::Log(core::LogLevel::kWarning, "retrain_job_not_linked",
                    {{"alert", kept.alert_id},
                     {"job", job->id()},
                     {"error", std::string(linked.message())}});
        }
      }
      core::Log(core::LogLevel::kInfo, "retrain_submitted",
                {{"model", model},
                 {"version", kept.version},
                 {"job", job->id()},
                 {"attempts", kept.failures + 1}});
      return std::optional<v1::Job>(*std::move(job));
    }
    status = job.status();
  }
  if (!Retryable(status)) {
    core::Log(
        core::LogLevel::kError, "retrain_given_up",
        {{"model", model}, {"version", kept.version}, {"error", std::string(status.message())}});
    if (absl::Status dropped = DropKept(model); !dropped.ok()) return dropped;
    return status;
  }
  // Away for now: kept, tried again after a growing wait.
  ++kept.failures;
  const double factor = std::pow(std::max(options_.backoff_multiplier, 1.0), kept.failures - 1);
  const absl::Duration wait = std::min(options_.initial_backoff * factor, options_.max_backoff);
  kept.next_attempt = now + wait;
  core::Log(core::LogLevel::kWarning, "retrain_deferred",
            {{"model", model},
             {"failures", kept.failures},
             {"retry_in_s", absl::ToDoubleSeconds(wait)},
             {"error", std::string(status.message())}});
  if (absl::Status saved = SaveKept(model, kept); !saved.ok()) return saved;
  return std::optional<v1::Job>();
}

absl::StatusOr<std::vector<v1::Job>> RetrainTrigger::RetryPending() {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> due;
  const absl::Time now = options_.clock->Now();
  const std::string prefix = KeptKey("");
  absl::Status scanned = options_.store->Scan(family_, kv::KeyRange::Prefix(prefix),
                                              [&](absl::string_view key, absl::string_view) {
                                                due.emplace_back(key.substr(prefix.size()));
                                                return true;
                                              });
  if (!scanned.ok()) return scanned;
  std::vector<v1::Job> accepted;
  for (const std::string& model : due) {
    absl::StatusOr<std::optional<Kept>> kept = LoadKept(model);
    if (!kept.ok()) return kept.status();
    if (!kept->has_value() || (*kept)->next_attempt > now) continue;
    absl::StatusOr<std::optional<v1::Job>> job = TrySubmit(model);
    // A final refusal of one model's request must not stop the others.
    if (job.ok() && job->has_value()) accepted.push_back(**std::move(job));
  }
  return accepted;
}

}  // namespace fabrique::monitoring
