#include "libs/server/memory_return.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace fabrique::server {

std::unique_ptr<MemoryReturn> MemoryReturn::Start(MemoryReturnOptions options) {
  auto returner = std::unique_ptr<MemoryReturn>(new MemoryReturn(options));
  if (options.interval > absl::ZeroDuration()) {
    returner->thread_ = std::thread([raw = returner.get()] { raw->Run(); });
  }
  return returner;
}

MemoryReturn::~MemoryReturn() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

bool MemoryReturn::ReturnNow() {
#if defined(__GLIBC__)
  return malloc_trim(0) != 0;
#else
  return false;
#endif
}

void MemoryReturn::Run() {
  absl::MutexLock lock(&mutex_);
  while (!mutex_.AwaitWithTimeout(absl::Condition(&stopping_), options_.interval)) {
    // Not under the lock: the destructor must not wait for a return to finish to be heard.
    mutex_.Unlock();
    const absl::Time start = absl::Now();
    ReturnNow();
    if (options_.seconds != nullptr) {
      options_.seconds->Increment(absl::ToDoubleSeconds(absl::Now() - start));
    }
    rounds_.fetch_add(1);
    mutex_.Lock();
  }
}

}  // namespace fabrique::server
