#include "libs/training/run_store.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "libs/core/ids.h"
#include "libs/core/status_macros.h"
#include "libs/core/stored_proto.h"
#include "libs/kv/key_codec.h"
#include "libs/kv/key_range.h"
#include "libs/kv/write_batch.h"

namespace fabrique::training {
namespace {

std::string RunKey(absl::string_view id) {
  return kv::KeyBuilder().AddString("r").AddString(id).key();
}
std::string EventPrefix(absl::string_view id) {
  return kv::KeyBuilder().AddString("e").AddString(id).key();
}
std::string EventKey(absl::string_view id, int64_t sequence) {
  return kv::KeyBuilder().AddString("e").AddString(id).AddInt64(sequence).key();
}
std::string RequestKey(absl::string_view request_id) {
  return kv::KeyBuilder().AddString("i").AddString(request_id).key();
}

template <typename Message>
absl::StatusOr<Message> Parse(absl::string_view bytes, absl::string_view what) {
  return core::ParseStored<Message>(bytes, what);
}

// Order of the states a run goes through; final states have none after them.
int Rank(v1::RunState state) {
  switch (state) {
    case v1::RUN_STATE_QUEUED:
      return 1;
    case v1::RUN_STATE_BUILDING_DATASET:
      return 2;
    case v1::RUN_STATE_TRAINING:
      return 3;
    case v1::RUN_STATE_EVALUATING:
      return 4;
    case v1::RUN_STATE_REGISTERING:
      return 5;
    default:
      return 6;
  }
}

}  // namespace

bool RunStore::IsFinal(v1::RunState state) {
  return state == v1::RUN_STATE_SUCCEEDED || state == v1::RUN_STATE_FAILED ||
         state == v1::RUN_STATE_CANCELLED;
}

absl::StatusOr<std::unique_ptr<RunStore>> RunStore::Create(RunStoreOptions options,
                                                           int* interrupted) {
  if (options.store == nullptr)
    return absl::InvalidArgumentError("RunStoreOptions.store is required");
  if (options.clock == nullptr) options.clock = core::Clock::Real();
  absl::StatusOr<kv::ColumnFamily> family = options.store->Family(options.family);
  if (absl::IsNotFound(family.status())) family = options.store->CreateFamily(options.family);
  if (!family.ok()) return family.status();
  std::unique_ptr<RunStore> store(new RunStore(std::move(options), *family));
  // Runs a restart cut short: they cannot go on where they were (their process is gone).
  std::vector<v1::Run> cut;
  absl::Status parsed;
  RETURN_IF_ERROR(store->options_.store->Scan(
      store->family_, kv::KeyRange::Prefix(kv::KeyBuilder().AddString("r").key()),
      [&](absl::string_view, absl::string_view value) {
        absl::StatusOr<v1::Run> run = Parse<v1::Run>(value, "run");
        if (!run.ok()) {
          parsed = run.status();
          return false;
        }
        // A queued run had not started: it waits for the worker again, as it was.
        if (!IsFinal(run->state()) && run->state() != v1::RUN_STATE_QUEUED) {
          cut.push_back(*std::move(run));
        }
        return true;
      }));
  RETURN_IF_ERROR(parsed);
  for (const v1::Run& run : cut) {
    RETURN_IF_ERROR(
        store
            ->Transition(run.run_id(), v1::RUN_STATE_FAILED,
                         absl::StrCat("interrupted by a restart of the trainer while ",
                                      v1::RunState_Name(run.state()), ": submit the run again"))
            .status());
  }
  if (interrupted != nullptr) *interrupted = static_cast<int>(cut.size());
  return store;
}

google::protobuf::Timestamp RunStore::Now() const {
  return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
      absl::ToUnixMicros(options_.clock->Now()));
}

int64_t RunStore::LastSequence(const std::string& run_id) const {
  const auto known = last_sequence_.find(run_id);
  if (known != last_sequence_.end()) return known->second;
  int64_t last = 0;
  absl::StatusOr<std::unique_ptr<kv::Iterator>> it =
      options_.store->NewIterator(family_, kv::KeyRange::Prefix(EventPrefix(run_id)));
  if (it.ok()) {
    (*it)->SeekToLast();
    if ((*it)->Valid()) {
      absl::StatusOr<v1::RunEvent> event = Parse<v1::RunEvent>((*it)->value(), "run event");
      if (event.ok()) last = event->sequence();
    }
  }
  last_sequence_[run_id] = last;
  return last;
}

absl::Status RunStore::Commit(v1::Run& run, v1::RunEvent event, kv::WriteBatch batch) {
  int64_t sequence = LastSequence(run.run_id());
  if (event.event_case() != v1::RunEvent::EVENT_NOT_SET) {
    event.set_run_id(run.run_id());
    event.set_sequence(++sequence);
    *event.mutable_time() = Now();
    batch.Put(family_, EventKey(run.run_id(), sequence), event.SerializeAsString());
  }
  batch.Put(family_, RunKey(run.run_id()), run.SerializeAsString());
  // State changes and results are fsynced; progress, many a second, is not (a crash loses at
  // most the last progress, and the run is failed at restart anyway).
  const bool durable = event.has_state_change() || event.has_final_run() ||
                       event.has_trial_completed() ||
                       event.event_case() == v1::RunEvent::EVENT_NOT_SET;
  RETURN_IF_ERROR(
      options_.store->Write(batch, durable ? kv::SyncMode::kSync : kv::SyncMode::kNoSync));
  last_sequence_[run.run_id()] = sequence;
  return absl::OkStatus();
}

absl::StatusOr<v1::Run> RunStore::Submit(v1::Run run, const std::string& request_id) {
  absl::MutexLock lock(&mu_);
  if (!request_id.empty()) {
    absl::StatusOr<std::string> earlier = options_.store->Get(family_, RequestKey(request_id));
    if (earlier.ok()) return Get(*earlier);
    if (!absl::IsNotFound(earlier.status())) return earlier.status();
  }
  run.set_run_id(core::IdGenerator::Default().Next());
  run.set_state(v1::RUN_STATE_QUEUED);
  run.set_best_trial(-1);
  *run.mutable_create_time() = Now();
  v1::RunStateChange* change = run.add_history();
  change->set_to_state(v1::RUN_STATE_QUEUED);
  *change->mutable_time() = run.create_time();
  v1::RunEvent event;
  *event.mutable_state_change() = *change;
  kv::WriteBatch batch;
  // The key goes with the run, in one batch: a retry finds the run, or nothing was made.
  if (!request_id.empty()) batch.Put(family_, RequestKey(request_id), run.run_id());
  RETURN_IF_ERROR(Commit(run, std::move(event), std::move(batch)));
  return run;
}

absl::StatusOr<std::vector<std::string>> RunStore::Queued() const {
  std::vector<std::string> queued;
  absl::Status parsed;
  RETURN_IF_ERROR(options_.store->Scan(family_,
                                       kv::KeyRange::Prefix(kv::KeyBuilder().AddString("r").key()),
                                       [&](absl::string_view, absl::string_view value) {
                                         absl::StatusOr<v1::Run> run = Parse<v1::Run>(value, "run");
                                         if (!run.ok()) {
                                           parsed = run.status();
                                           return false;
                                         }
                                         if (run->state() == v1::RUN_STATE_QUEUED)
                                           queued.push_back(run->run_id());
                                         return true;
                                       }));
  RETURN_IF_ERROR(parsed);
  return queued;
}

absl::StatusOr<v1::Run> RunStore::FindByRequestId(const std::string& request_id) const {
  absl::StatusOr<std::string> run_id = options_.store->Get(family_, RequestKey(request_id));
  if (!run_id.ok()) return run_id.status();
  return Get(*run_id);
}

absl::StatusOr<v1::Run> RunStore::Get(const std::string& run_id) const {
  absl::StatusOr<std::string> bytes = options_.store->Get(family_, RunKey(run_id));
  if (absl::IsNotFound(bytes.status())) {
    return absl::NotFoundError(absl::StrCat("run '", run_id, "' does not exist"));
  }
  if (!bytes.ok()) return bytes.status();
  return Parse<v1::Run>(*bytes, "run");
}

absl::StatusOr<v1::ListRunsResponse> RunStore::List(
    const v1::ListRunsRequest& request,
    const std::function<bool(const std::string& squad)>& visible) const {
  const int page = request.page_size() <= 0 ? 100 : std::min(request.page_size(), 1000);
  ASSIGN_OR_RETURN(std::unique_ptr<kv::Iterator> it,
                   options_.store->NewIterator(
                       family_, kv::KeyRange::Prefix(kv::KeyBuilder().AddString("r").key())));
  // Ids grow with time: newest first is key order backwards, from the page token down.
  if (request.page_token().empty()) {
    it->SeekToLast();
  } else {
    it->SeekForPrev(RunKey(request.page_token()));
  }
  v1::ListRunsResponse response;
  for (; it->Valid(); it->Prev()) {
    ASSIGN_OR_RETURN(v1::Run run, Parse<v1::Run>(it->value(), "run"));
    if ((!request.model_name().empty() && run.spec().model_name() != request.model_name()) ||
        (!request.use_case_id().empty() && run.spec().use_case_id() != request.use_case_id()) ||
        (request.state() != v1::RUN_STATE_UNSPECIFIED && run.state() != request.state()) ||
        (!request.submitted_by().empty() &&
         run.submitted_by().subject() != request.submitted_by()) ||
        (visible != nullptr && !visible(run.squad()))) {
      continue;
    }
    if (response.runs_size() == page) {
      response.set_next_page_token(run.run_id());
      break;
    }
    *response.add_runs() = std::move(run);
  }
  RETURN_IF_ERROR(it->status());
  return response;
}

absl::StatusOr<v1::Run> RunStore::Transition(const std::string& run_id, v1::RunState to,
                                             const std::string& reason) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(v1::Run run, Get(run_id));
  if (IsFinal(run.state())) {
    return absl::FailedPreconditionError(absl::StrCat("run '", run_id, "' has ended already (",
                                                      v1::RunState_Name(run.state()), ")"));
  }
  if (!IsFinal(to) && Rank(to) <= Rank(run.state())) {
    return absl::FailedPreconditionError(absl::StrCat("run '", run_id, "' cannot go from ",
                                                      v1::RunState_Name(run.state()), " to ",
                                                      v1::RunState_Name(to)));
  }
  v1::RunStateChange* change = run.add_history();
  change->set_from_state(run.state());
  change->set_to_state(to);
  change->set_reason(reason);
  *change->mutable_time() = Now();
  if (run.state() == v1::RUN_STATE_QUEUED) *run.mutable_start_time() = change->time();
  run.set_state(to);
  if (to == v1::RUN_STATE_FAILED) run.set_failure_reason(reason);
  if (IsFinal(to)) *run.mutable_end_time() = change->time();
  v1::RunEvent event;
  *event.mutable_state_change() = *change;
  RETURN_IF_ERROR(Commit(run, std::move(event)));
  if (IsFinal(to)) {
    // The last event carries the final record, so a watcher needs no other call.
    v1::RunEvent final_event;
    *final_event.mutable_final_run() = run;
    RETURN_IF_ERROR(Commit(run, std::move(final_event)));
  }
  return run;
}

absl::StatusOr<v1::Run> RunStore::Update(const std::string& run_id,
                                         const std::function<void(v1::Run*)>& change,
                                         v1::RunEvent event) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(v1::Run run, Get(run_id));
  change(&run);
  RETURN_IF_ERROR(Commit(run, std::move(event)));
  return run;
}

absl::Status RunStore::EventsAfter(const std::string& run_id, int64_t after,
                                   absl::FunctionRef<bool(const v1::RunEvent&)> visit) const {
  const kv::KeyRange all = kv::KeyRange::Prefix(EventPrefix(run_id));
  absl::Status parsed;
  RETURN_IF_ERROR(options_.store->Scan(
      family_, kv::KeyRange::Between(EventKey(run_id, after + 1), all.end),
      [&](absl::string_view, absl::string_view value) {
        absl::StatusOr<v1::RunEvent> event = Parse<v1::RunEvent>(value, "run event");
        if (!event.ok()) {
          parsed = event.status();
          return false;
        }
        return visit(*event);
      }));
  return parsed;
}

int64_t RunStore::WaitForEventAfter(const std::string& run_id, int64_t after,
                                    absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  const auto passed = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return LastSequence(run_id) > after;
  };
  ++waiters_;
  mu_.AwaitWithTimeout(absl::Condition(&passed), timeout);
  --waiters_;
  return LastSequence(run_id);
}

int RunStore::waiters() const {
  absl::MutexLock lock(&mu_);
  return waiters_;
}

}  // namespace fabrique::training
