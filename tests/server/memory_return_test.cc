// Memory a service freed goes back to the system: at once with ReturnNow, and on the returner's
// schedule; a returner stops at once, and one with no interval runs no thread.

#include "libs/server/memory_return.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

#include "catch2/catch.hpp"
#include "prometheus/counter.h"
#include "prometheus/registry.h"

namespace fabrique::server {
namespace {

// Resident memory of this process, in bytes.
int64_t Resident() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0;
  int64_t resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

#if defined(__GLIBC__)
TEST_CASE("freed memory that glibc keeps is returned by ReturnNow") {
  // 64 MiB in blocks below glibc's mmap threshold, so they come from its heap, written so that
  // they are resident; then all but every 16th freed, so that they leave holes glibc keeps rather
  // than a top of the heap it trims on its own.
  constexpr size_t kBlock = 64 << 10;
  constexpr int kBlocks = 1024;
  std::vector<char*> blocks;
  for (int i = 0; i < kBlocks; ++i) {
    blocks.push_back(static_cast<char*>(std::malloc(kBlock)));
    REQUIRE(blocks.back() != nullptr);
    std::memset(blocks.back(), i, kBlock);
  }
  for (int i = 0; i < kBlocks; ++i) {
    if (i % 16 != 15) std::free(blocks[i]);
  }
  const int64_t kept = Resident();

  CHECK(MemoryReturn::ReturnNow());
  const int64_t returned = kept - Resident();
  INFO("resident fell by " << returned / (1 << 20) << " MiB");
  CHECK(returned >= int64_t{48} << 20);
  for (int i = 15; i < kBlocks; i += 16) std::free(blocks[i]);
}
#endif

TEST_CASE("the returner returns every interval, counts its time and stops at once") {
  prometheus::Registry registry;
  prometheus::Counter& seconds =
      prometheus::BuildCounter().Name("memory_return_seconds_total").Register(registry).Add({});
  MemoryReturnOptions options;
  options.interval = absl::Milliseconds(5);
  options.seconds = &seconds;
  std::unique_ptr<MemoryReturn> returner = MemoryReturn::Start(options);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (returner->rounds() < 3 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  CHECK(returner->rounds() >= 3);
  CHECK(seconds.Value() > 0);

  options.interval = absl::Hours(1);
  returner = MemoryReturn::Start(options);
  const auto start = std::chrono::steady_clock::now();
  returner.reset();
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
}

TEST_CASE("Soon asks the running returner for a return within its short delay") {
  MemoryReturn::Soon();  // None runs: nothing happens.
  MemoryReturnOptions options;
  options.interval = absl::Hours(1);
  options.soon_delay = absl::Milliseconds(10);
  options.soon_spacing = absl::Milliseconds(300);
  std::unique_ptr<MemoryReturn> returner = MemoryReturn::Start(options);
  absl::SleepFor(absl::Milliseconds(30));
  CHECK(returner->rounds() == 0);
  MemoryReturn::Soon();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (returner->rounds() < 1 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  CHECK(returner->rounds() == 1);
  // Asked again at once: not before soon_spacing has passed since that return.
  const absl::Time asked = absl::Now();
  MemoryReturn::Soon();
  while (returner->rounds() < 2 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  CHECK(returner->rounds() == 2);
  CHECK(absl::Now() - asked >= absl::Milliseconds(250));
  // A stopped returner is no longer asked.
  returner.reset();
  MemoryReturn::Soon();
}

TEST_CASE("a returner without an interval runs nothing") {
  MemoryReturnOptions options;
  options.interval = absl::ZeroDuration();
  std::unique_ptr<MemoryReturn> returner = MemoryReturn::Start(options);
  absl::SleepFor(absl::Milliseconds(30));
  CHECK(returner->rounds() == 0);
}

}  // namespace
}  // namespace fabrique::server
