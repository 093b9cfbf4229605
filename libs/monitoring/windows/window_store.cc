#include "libs/monitoring/windows/window_store.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "libs/core/status_macros.h"
#include "libs/kv/key_codec.h"
#include "libs/monitoring/intake/intake_families.h"
#include "libs/monitoring/intake/intake_keys.h"
#include "libs/monitoring/intake/intake_values.h"

namespace fabrique::monitoring {
namespace {

constexpr int64_t kMinMicros = std::numeric_limits<int64_t>::min();

// `micros` - `width`, saturating at the infinite past.
int64_t Before(int64_t micros, int64_t width) {
  return micros < kMinMicros + width ? kMinMicros : micros - width;
}

absl::Time FromMicros(int64_t micros) {
  return micros == kMinMicros ? absl::InfinitePast() : absl::FromUnixMicros(micros);
}

}  // namespace

absl::StatusOr<std::unique_ptr<WindowStore>> WindowStore::Open(IntakeStore* intake,
                                                               WindowOptions options) {
  if (intake == nullptr) return absl::InvalidArgumentError("the windows need an intake store");
  if (options.window < absl::Seconds(1)) {
    return absl::InvalidArgumentError("the window width must be at least one second");
  }
  if (options.clock == nullptr) options.clock = core::Clock::Real();
  std::unique_ptr<WindowStore> store(new WindowStore(intake, std::move(options)));
  RETURN_IF_ERROR(store->ResolveFamilies());
  RETURN_IF_ERROR(store->Replay());
  intake->SetObserver(store.get());
  return store;
}

WindowStore::WindowStore(IntakeStore* intake, WindowOptions options)
    : options_(std::move(options)),
      width_micros_(absl::ToInt64Microseconds(options_.window)),
      intake_(intake),
      db_(intake->database()),
      last_persist_(options_.clock->Now()) {}

WindowStore::~WindowStore() { intake_->SetObserver(nullptr); }

absl::Status WindowStore::ResolveFamilies() {
  ASSIGN_OR_RETURN(predictions_, db_.Family(kPredictionsFamily));
  ASSIGN_OR_RETURN(windows_, db_.Family(kWindowsFamily));
  ASSIGN_OR_RETURN(index_, db_.Family(kWindowIndexFamily));
  ASSIGN_OR_RETURN(journal_, db_.Family(kWindowJournalFamily));
  return absl::OkStatus();
}

int64_t WindowStore::WindowStartMicros(int64_t time_micros) const {
  int64_t start = time_micros / width_micros_ * width_micros_;
  if (start > time_micros) start -= width_micros_;  // Floor, for times before the epoch.
  return start;
}

absl::Time WindowStore::WindowStart(absl::Time time) const {
  return absl::FromUnixMicros(WindowStartMicros(TimeMicros(time)));
}

absl::Status WindowStore::Replay() {
  std::vector<std::pair<uint64_t, std::string>> entries;
  RETURN_IF_ERROR(
      db_.Scan(journal_, kv::KeyRange::All(), [&](absl::string_view key, absl::string_view value) {
        absl::StatusOr<uint64_t> sequence = DecodeJournalKey(key);
        if (sequence.ok()) entries.emplace_back(*sequence, value);
        return sequence.ok();
      }));
  absl::MutexLock lock(&mutex_);
  for (const auto& [sequence, value] : entries) {
    ASSIGN_OR_RETURN(TimedValue timed, SplitTime(value));
    ASSIGN_OR_RETURN(std::vector<std::string> keys, DecodeJournalKeys(timed.body));
    ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> stored,
                     db_.MultiGet(predictions_, keys));
    for (const std::optional<std::string>& prediction : stored) {
      if (!prediction) continue;  // Dropped by retention since.
      ASSIGN_OR_RETURN(StoredPrediction decoded, DecodePrediction(*prediction));
      AddLocked(decoded.record);
      ++unpersisted_records_;
    }
    merged_sequences_.push_back(sequence);
    next_sequence_ = sequence + 1;
  }
  return absl::OkStatus();
}

uint64_t WindowStore::Staged(absl::Span<const AcceptedPrediction> accepted, kv::WriteBatch& batch) {
  if (accepted.empty()) return 0;
  std::vector<absl::string_view> keys;
  keys.reserve(accepted.size());
  for (const AcceptedPrediction& prediction : accepted) keys.push_back(prediction.key);
  const std::string value = WithTime(TimeMicros(options_.clock->Now()), EncodeJournalKeys(keys));
  uint64_t sequence = 0;
  {
    absl::MutexLock lock(&mutex_);
    sequence = next_sequence_++;
  }
  batch.Put(journal_, JournalKey(sequence), value);
  return sequence;
}

void WindowStore::Committed(uint64_t token, absl::Span<const AcceptedPrediction> accepted) {
  if (token == 0) return;
  absl::MutexLock lock(&mutex_);
  for (const AcceptedPrediction& prediction : accepted) AddLocked(*prediction.record);
  merged_sequences_.push_back(token);
  unpersisted_records_ += static_cast<int64_t>(accepted.size());
  if (unpersisted_records_ >= options_.persist_after_records ||
      options_.clock->Now() - last_persist_ >= options_.persist_interval) {
    // On failure the deltas stay, their records journalled: the next write tries again.
    PersistLocked().IgnoreError();
  }
}

// Its journal entry was never stored: there is nothing to delete.
void WindowStore::Abandoned(uint64_t) {}

void WindowStore::AddLocked(const v1::PredictionRecord& record) {
  const v1::ModelVersionRef& ref = record.model_version();
  const int64_t start = WindowStartMicros(TimestampMicros(record.time()));
  if (last_id_ == nullptr || last_id_->start_micros != start ||
      last_id_->version != ref.version() || last_id_->model != ref.model()) {
    auto it = deltas_.try_emplace(WindowId{ref.model(), ref.version(), start}).first;
    last_id_ = &it->first;
    last_delta_ = &it->second;
  }
  last_delta_->Add(record);
}

absl::Status WindowStore::Persist() {
  absl::MutexLock lock(&mutex_);
  return PersistLocked();
}

absl::Status WindowStore::PersistLocked() {
  const absl::Time now = options_.clock->Now();
  if (deltas_.empty() && merged_sequences_.empty()) {
    last_persist_ = now;
    return absl::OkStatus();
  }
  kv::WriteBatch batch;
  for (const auto& [id, delta] : deltas_) {
    const std::string key = WindowKey(id);
    int64_t end = id.start_micros + width_micros_;
    std::optional<WindowSummary> merged;
    absl::StatusOr<std::string> stored = db_.Get(windows_, key);
    if (stored.ok()) {
      ASSIGN_OR_RETURN(TimedValue timed, SplitTime(*stored));
      ASSIGN_OR_RETURN(merged, WindowSummary::Decode(timed.body));
      merged->Merge(delta);
      end = std::max(end, timed.time_micros);
    } else if (!absl::IsNotFound(stored.status())) {
      return stored.status();
    }
    const WindowSummary& summary = merged ? *merged : delta;
    batch.Put(windows_, key, WithTime(end, summary.Encode()));
    std::string last;
    kv::AppendInt64(&last, TimeMicros(summary.last_prediction_time()));
    batch.Put(index_, WindowIndexKey(id), WithTime(end, last));
  }
  for (uint64_t sequence : merged_sequences_) batch.Delete(journal_, JournalKey(sequence));
  RETURN_IF_ERROR(db_.Write(batch, kv::SyncMode::kSync));
  deltas_.clear();
  last_id_ = nullptr;
  last_delta_ = nullptr;
  merged_sequences_.clear();
  unpersisted_records_ = 0;
  last_persist_ = now;
  return absl::OkStatus();
}

absl::StatusOr<LiveSummaries> WindowStore::Summaries(absl::string_view model, int64_t version,
                                                     absl::Time from, absl::Time to) const {
  if (from >= to) return absl::InvalidArgumentError("the range's start must be before its end");
  const int64_t from_micros = TimeMicros(from);
  const int64_t to_micros = TimeMicros(to);
  const int64_t scan_from = Before(from_micros, width_micros_);
  // Windows by start: (end, summary).
  std::map<int64_t, std::pair<int64_t, WindowSummary>> windows;
  std::vector<std::pair<int64_t, WindowSummary>> deltas;
  std::optional<kv::Snapshot> snapshot;
  {
    absl::MutexLock lock(&mutex_);
    snapshot.emplace(db_.TakeSnapshot());
    for (auto it = deltas_.lower_bound(WindowId{std::string(model), version, scan_from});
         it != deltas_.end() && it->first.model == model && it->first.version == version &&
         it->first.start_micros < to_micros;
         ++it) {
      if (it->first.start_micros + width_micros_ > from_micros) {
        deltas.emplace_back(it->first.start_micros, it->second);
      }
    }
  }
  kv::ReadOptions read;
  read.snapshot = &*snapshot;
  absl::Status decoded = absl::OkStatus();
  RETURN_IF_ERROR(db_.Scan(
      windows_, WindowRange(model, version, scan_from, to_micros),
      [&](absl::string_view key, absl::string_view value) {
        absl::StatusOr<WindowId> id = DecodeWindowKey(key);
        absl::StatusOr<TimedValue> timed = SplitTime(value);
        if (!id.ok() || !timed.ok()) {
          decoded = id.ok() ? timed.status() : id.status();
          return false;
        }
        if (timed->time_micros <= from_micros) return true;  // Ends before the range.
        absl::StatusOr<WindowSummary> summary = WindowSummary::Decode(timed->body);
        if (!summary.ok()) {
          decoded = summary.status();
          return false;
        }
        windows.try_emplace(id->start_micros, timed->time_micros, *std::move(summary));
        return true;
      },
      read));
  RETURN_IF_ERROR(decoded);
  for (auto& [start, delta] : deltas) {
    auto [it, inserted] = windows.try_emplace(start, start + width_micros_, std::move(delta));
    if (!inserted) it->second.second.Merge(delta);
  }
  if (windows.empty()) return WindowSummary().ToLive(from, from);
  WindowSummary total;
  int64_t end = kMinMicros;
  for (const auto& [start, window] : windows) {
    total.Merge(window.second);
    end = std::max(end, window.first);
  }
  return total.ToLive(FromMicros(windows.begin()->first), FromMicros(end));
}

absl::StatusOr<std::vector<ActiveVersion>> WindowStore::ActiveVersions(absl::Time from,
                                                                       absl::Time to) const {
  if (from >= to) return absl::InvalidArgumentError("the range's start must be before its end");
  const int64_t from_micros = TimeMicros(from);
  const int64_t to_micros = TimeMicros(to);
  std::map<std::pair<std::string, int64_t>, absl::Time> active;
  const auto note = [&active](const WindowId& id, absl::Time last) {
    auto [it, inserted] = active.try_emplace({id.model, id.version}, last);
    if (!inserted) it->second = std::max(it->second, last);
  };
  std::optional<kv::Snapshot> snapshot;
  {
    absl::MutexLock lock(&mutex_);
    snapshot.emplace(db_.TakeSnapshot());
    for (const auto& [id, delta] : deltas_) {
      if (id.start_micros < to_micros && id.start_micros + width_micros_ > from_micros) {
        note(id, delta.last_prediction_time());
      }
    }
  }
  kv::ReadOptions read;
  read.snapshot = &*snapshot;
  absl::Status decoded = absl::OkStatus();
  RETURN_IF_ERROR(db_.Scan(
      index_, WindowIndexRange(Before(from_micros, width_micros_), to_micros),
      [&](absl::string_view key, absl::string_view value) {
        absl::StatusOr<WindowId> id = DecodeWindowIndexKey(key);
        absl::StatusOr<TimedValue> timed = SplitTime(value);
        if (!id.ok() || !timed.ok()) {
          decoded = id.ok() ? timed.status() : id.status();
          return false;
        }
        if (timed->time_micros <= from_micros) return true;
        kv::KeyReader reader(timed->body);
        absl::StatusOr<int64_t> last = reader.ReadInt64();
        if (!last.ok()) {
          decoded = absl::DataLossError("a stored window index entry is corrupt");
          return false;
        }
        note(*id, FromMicros(*last));
        return true;
      },
      read));
  RETURN_IF_ERROR(decoded);
  std::vector<ActiveVersion> versions;
  versions.reserve(active.size());
  for (const auto& [version, last] : active) {
    versions.push_back({version.first, version.second, last});
  }
  return versions;
}

int64_t WindowStore::windows_in_memory() const {
  absl::MutexLock lock(&mutex_);
  return static_cast<int64_t>(deltas_.size());
}

size_t WindowStore::memory_bytes() const {
  absl::MutexLock lock(&mutex_);
  size_t bytes = 0;
  for (const auto& [id, delta] : deltas_) bytes += id.model.size() + delta.ApproxBytes();
  return bytes;
}

}  // namespace fabrique::monitoring
