#include "libs/serving/feature_lookup_batcher.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/serving/lookup_merge.h"

namespace fabrique::serving {
namespace {

absl::Status WaitExpired() {
  return absl::DeadlineExceededError(
      "the deadline passed while waiting for a feature lookup: lookups of the same features were "
      "still in flight");
}

}  // namespace

absl::StatusOr<std::unique_ptr<FeatureLookupBatcher>> FeatureLookupBatcher::Create(
    FeatureLookupBatcherOptions options) {
  if (options.port == nullptr) {
    return absl::InvalidArgumentError("FeatureLookupBatcherOptions.port is required");
  }
  if (options.clock == nullptr) {
    return absl::InvalidArgumentError("FeatureLookupBatcherOptions.clock is required");
  }
  const std::pair<const char*, int> positive[] = {
      {"max_in_flight", options.max_in_flight},
      {"max_rows", options.max_rows},
      {"threads", options.threads},
      {"max_waiting_requests", options.max_waiting_requests}};
  for (const auto& [name, value] : positive) {
    if (value <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("FeatureLookupBatcherOptions.", name, " must be > 0, got ", value));
    }
  }
  auto batcher = std::unique_ptr<FeatureLookupBatcher>(new FeatureLookupBatcher(options));
  for (int i = 0; i < options.threads; ++i) {
    batcher->workers_.emplace_back([b = batcher.get()] { b->Work(); });
  }
  batcher->reaper_ = std::thread([b = batcher.get()] { b->Reap(); });
  return batcher;
}

FeatureLookupBatcher::FeatureLookupBatcher(FeatureLookupBatcherOptions options)
    : options_(std::move(options)) {}

FeatureLookupBatcher::~FeatureLookupBatcher() {
  Stop();
  {
    absl::MutexLock lock(&mu_);
    shutdown_ = true;
  }
  for (std::thread& worker : workers_) worker.join();
  reaper_.join();
}

void FeatureLookupBatcher::Lookup(v1::LookupOnlineRequest request, absl::Time deadline,
                                  LookupDone done) {
  Lookup(std::make_shared<const v1::LookupOnlineRequest>(std::move(request)), deadline,
         std::move(done));
}

void FeatureLookupBatcher::Lookup(std::shared_ptr<const v1::LookupOnlineRequest> held,
                                  absl::Time deadline, LookupDone done) {
  const v1::LookupOnlineRequest& request = *held;
  if (request.features().empty()) {
    done(absl::InvalidArgumentError("the lookup names no features"));
    return;
  }
  absl::StatusOr<int64_t> rows = LookupRows(request);
  if (!rows.ok()) {
    done(rows.status());
    return;
  }
  if (deadline <= options_.clock->Now()) {
    done(absl::DeadlineExceededError("the deadline passed before the feature lookup started"));
    return;
  }
  std::string key = LookupMergeKey(request);
  absl::Status refusal;
  Group now;  // A lookup to start on this thread (non-blocking port).
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      refusal = absl::UnavailableError(
          "the feature lookups are stopping (the server is shutting down): retry elsewhere");
    } else if (KeyState& state = keys_[key];
               state.in_flight < options_.max_in_flight && state.queue.empty()) {
      ++state.in_flight;
      ++outstanding_;
      Group group;
      group.key = std::move(key);
      group.waiters.push_back(Waiter{std::move(held), *rows, deadline, std::move(done)});
      if (!options_.port->non_blocking()) {
        ready_.push_back(std::move(group));
        return;
      }
      now = std::move(group);
    } else if (waiting_ >= options_.max_waiting_requests) {
      refusal = absl::ResourceExhaustedError(
          absl::StrCat(waiting_, " requests already wait for a feature lookup (the limit is ",
                       options_.max_waiting_requests, "): slow down"));
    } else {
      state.queue.push_back(Waiter{std::move(held), *rows, deadline, std::move(done)});
      ++waiting_;
      ++outstanding_;
      if (deadline < reaper_target_) ++reaper_generation_;
      return;
    }
  }
  if (!now.waiters.empty()) return Dispatch(std::move(now));
  done(std::move(refusal));
}

void FeatureLookupBatcher::Stop() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
  mu_.Await(absl::Condition(
      +[](int64_t* outstanding) { return *outstanding == 0; }, &outstanding_));
}

FeatureLookupCounters FeatureLookupBatcher::Counters() const {
  absl::MutexLock lock(&mu_);
  return counters_;
}

int64_t FeatureLookupBatcher::waiting_requests() const {
  absl::MutexLock lock(&mu_);
  return waiting_;
}

void FeatureLookupBatcher::Work() {
  while (true) {
    Group group;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](FeatureLookupBatcher* b)
               ABSL_EXCLUSIVE_LOCKS_REQUIRED(b->mu_) { return b->shutdown_ || !b->ready_.empty(); },
          this));
      if (ready_.empty()) return;  // Shut down with nothing left to do.
      group = std::move(ready_.front());
      ready_.pop_front();
    }
    Run(group);
  }
}

void FeatureLookupBatcher::Group::Prepare() {
  std::vector<const v1::LookupOnlineRequest*> parts;
  for (const Waiter& waiter : waiters) {
    deadline = std::min(deadline, waiter.deadline);
    rows += waiter.rows;
    parts.push_back(waiter.request.get());
  }
  if (waiters.size() > 1) merged = MergeLookups(parts);
}

void FeatureLookupBatcher::Run(Group& group) {
  group.Prepare();
  absl::StatusOr<v1::LookupOnlineResponse> answer =
      options_.port->LookupOnline(group.request(), group.deadline);
  if (!answer.ok()) return Complete(group, answer.status());
  Complete(group, std::make_shared<const v1::LookupOnlineResponse>(*std::move(answer)));
}

void FeatureLookupBatcher::Dispatch(Group group) {
  // Held by the port's callback: the request must outlive the call.
  auto held = std::make_shared<Group>(std::move(group));
  held->Prepare();
  options_.port->LookupOnlineAsync(
      held->request(), held->deadline,
      [this, held](absl::StatusOr<LookupAnswer> answer) { Complete(*held, std::move(answer)); });
}

void FeatureLookupBatcher::Complete(Group& group, absl::StatusOr<LookupAnswer> answer) {
  if (answer.ok()) {
    const absl::Status checked = CheckLookupAnswer(group.request(), **answer, group.rows);
    if (!checked.ok()) answer = checked;
  }
  {
    absl::MutexLock lock(&mu_);
    ++counters_.lookups;
    counters_.requests += static_cast<int64_t>(group.waiters.size());
  }
  // The next lookup of this feature list starts before this one's answers are handed out.
  Finish(group.key);
  if (group.waiters.size() == 1) {
    Answer(group.waiters[0].done, std::move(answer));
    return;
  }
  int64_t begin = 0;
  for (Waiter& waiter : group.waiters) {
    if (answer.ok()) {
      Answer(waiter.done, std::make_shared<const v1::LookupOnlineResponse>(
                              SliceLookup(**answer, begin, waiter.rows)));
    } else {
      Answer(waiter.done, answer.status());
    }
    begin += waiter.rows;
  }
}

void FeatureLookupBatcher::Finish(const std::string& key) {
  const absl::Time now = options_.clock->Now();
  Refusals expired;
  Group next;
  bool started = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = keys_.find(key);
    KeyState& state = it->second;
    --state.in_flight;
    started = TakeNextLocked(key, state, now, &next, &expired);
    if (started && !options_.port->non_blocking()) {
      ready_.push_back(std::move(next));
      started = false;
    }
    if (state.in_flight == 0 && state.queue.empty()) keys_.erase(it);
  }
  Refuse(expired);
  if (started) Dispatch(std::move(next));
}

bool FeatureLookupBatcher::TakeNextLocked(const std::string& key, KeyState& state, absl::Time now,
                                          Group* next, Refusals* expired) {
  Group& group = *next;
  group.key = key;
  int64_t rows = 0;
  while (!state.queue.empty()) {
    Waiter& waiter = state.queue.front();
    if (waiter.deadline <= now) {
      expired->emplace_back(std::move(waiter.done), WaitExpired());
    } else if (group.waiters.empty() || rows + waiter.rows <= options_.max_rows) {
      rows += waiter.rows;
      group.waiters.push_back(std::move(waiter));
    } else {
      break;
    }
    state.queue.pop_front();
    --waiting_;
  }
  counters_.deadline_exceeded += static_cast<int64_t>(expired->size());
  if (group.waiters.empty()) return false;
  ++state.in_flight;
  return true;
}

absl::Time FeatureLookupBatcher::EarliestDeadlineLocked() const {
  absl::Time earliest = absl::InfiniteFuture();
  for (const auto& [key, state] : keys_) {
    for (const Waiter& waiter : state.queue) earliest = std::min(earliest, waiter.deadline);
  }
  return earliest;
}

// Answers waiters whose deadline passes while lookups of their feature list are still in flight,
// at their deadline rather than when those lookups end.
void FeatureLookupBatcher::Reap() {
  absl::MutexLock lock(&mu_);
  while (true) {
    mu_.Await(absl::Condition(
        +[](FeatureLookupBatcher* b)
             ABSL_EXCLUSIVE_LOCKS_REQUIRED(b->mu_) { return b->shutdown_ || b->waiting_ > 0; },
        this));
    if (shutdown_) return;
    const absl::Time target = reaper_target_ = EarliestDeadlineLocked();
    const int64_t generation = reaper_generation_;
    mu_.Unlock();
    options_.clock->SleepUntil(target, [this, generation] {
      absl::MutexLock relock(&mu_);
      return shutdown_ || reaper_generation_ != generation;
    });
    const absl::Time now = options_.clock->Now();
    mu_.Lock();
    reaper_target_ = absl::InfiniteFuture();
    Refusals expired;
    for (auto& [key, state] : keys_) {
      auto& queue = state.queue;
      for (auto it = queue.begin(); it != queue.end();) {
        if (it->deadline > now) {
          ++it;
          continue;
        }
        expired.emplace_back(std::move(it->done), WaitExpired());
        it = queue.erase(it);
        --waiting_;
      }
    }
    counters_.deadline_exceeded += static_cast<int64_t>(expired.size());
    mu_.Unlock();
    Refuse(expired);
    mu_.Lock();
  }
}

void FeatureLookupBatcher::Answer(LookupDone& done, absl::StatusOr<LookupAnswer> result) {
  done(std::move(result));
  absl::MutexLock lock(&mu_);
  --outstanding_;
}

void FeatureLookupBatcher::Refuse(Refusals& refusals) {
  for (auto& [done, status] : refusals) Answer(done, std::move(status));
}

}  // namespace fabrique::serving
