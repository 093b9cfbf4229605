#include "libs/server/memory_return.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace fabrique::server {
namespace {

// The returner Soon() nudges: the last one started that still runs. Taken before a returner's
// own mutex, never after.
ABSL_CONST_INIT absl::Mutex active_mutex(absl::kConstInit);
MemoryReturn* active ABSL_GUARDED_BY(active_mutex) = nullptr;

}  // namespace

std::unique_ptr<MemoryReturn> MemoryReturn::Start(MemoryReturnOptions options) {
  auto returner = std::unique_ptr<MemoryReturn>(new MemoryReturn(options));
  if (options.interval > absl::ZeroDuration()) {
    returner->thread_ = std::thread([raw = returner.get()] { raw->Run(); });
    absl::MutexLock lock(&active_mutex);
    active = returner.get();
  }
  return returner;
}

MemoryReturn::~MemoryReturn() {
  {
    absl::MutexLock lock(&active_mutex);
    if (active == this) active = nullptr;
  }
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void MemoryReturn::Soon() {
  absl::MutexLock lock(&active_mutex);
  if (active == nullptr) return;
  absl::MutexLock returner_lock(&active->mutex_);
  active->soon_ = true;
}

bool MemoryReturn::ReturnNow() {
#if defined(__GLIBC__)
  return malloc_trim(0) != 0;
#else
  return false;
#endif
}

absl::Status MemoryReturn::LimitArenas(int arenas) {
  if (arenas < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--malloc_arenas must be >= 0 (0 = glibc's default), got ", arenas));
  }
#if defined(__GLIBC__)
  if (arenas > 0 && mallopt(M_ARENA_MAX, arenas) == 0) {
    return absl::InternalError(absl::StrCat("mallopt(M_ARENA_MAX, ", arenas, ") failed"));
  }
#endif
  return absl::OkStatus();
}

void MemoryReturn::Run() {
  absl::MutexLock lock(&mutex_);
  while (true) {
    mutex_.AwaitWithTimeout(absl::Condition(this, &MemoryReturn::Woken), options_.interval);
    if (stopping_) return;
    if (soon_) {
      const absl::Time at =
          std::max(absl::Now() + options_.soon_delay, last_return_ + options_.soon_spacing);
      if (mutex_.AwaitWithDeadline(absl::Condition(&stopping_), at)) return;
      soon_ = false;
    }
    // Not under the lock: the destructor must not wait for a return to finish to be heard.
    mutex_.Unlock();
    const absl::Time start = absl::Now();
    ReturnNow();
    if (options_.seconds != nullptr) {
      options_.seconds->Increment(absl::ToDoubleSeconds(absl::Now() - start));
    }
    rounds_.fetch_add(1);
    mutex_.Lock();
    last_return_ = absl::Now();
  }
}

}  // namespace fabrique::server
