// MemoryReturn::LimitArenas caps the arenas glibc's allocator spreads threads over. Its own
// binary, so that no other test has made arenas before the cap.

#include <stdio.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/server/memory_return.h"
#include "tests/util/child_exit.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace fabrique::server {
namespace {

#if defined(__GLIBC__)
// The arenas glibc has made so far: the heaps malloc_info lists.
int Arenas() {
  char* text = nullptr;
  size_t size = 0;
  FILE* out = open_memstream(&text, &size);
  malloc_info(0, out);
  fclose(out);
  int heaps = 0;
  for (std::string xml(text, size); xml.find("<heap nr=") != std::string::npos;) {
    xml.erase(0, xml.find("<heap nr=") + 1);
    ++heaps;
  }
  std::free(text);
  return heaps;
}

// Eight threads, all alive at once, each allocating: glibc gives each a new arena while it may.
int ArenasAfterEightThreads() {
  // A thread that ends hands its arena to the next one, so all eight allocate before any ends.
  std::vector<std::thread> threads;
  std::vector<void*> blocks(8, nullptr);
  std::atomic<int> allocated{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&blocks, &allocated, t] {
      blocks[t] = std::malloc(1024);
      allocated.fetch_add(1);
      while (allocated.load() < 8) std::this_thread::yield();
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (void* block : blocks) std::free(block);
  return Arenas();
}

TEST_CASE("LimitArenas caps the arenas that threads get") {
  // Without the cap (in a child, while this process still has one thread), eight threads get
  // arenas of their own.
  CHECK(testing::ExitCodeInChild(ArenasAfterEightThreads) >= 5);

  REQUIRE(MemoryReturn::LimitArenas(2).ok());
  CHECK(ArenasAfterEightThreads() <= 2);
}
#endif

TEST_CASE("LimitArenas refuses a negative count and leaves 0 to glibc") {
  const absl::Status negative = MemoryReturn::LimitArenas(-1);
  CHECK(negative.code() == absl::StatusCode::kInvalidArgument);
  CHECK(negative.message() == "--malloc_arenas must be >= 0 (0 = glibc's default), got -1");
  CHECK(MemoryReturn::LimitArenas(0).ok());
}

}  // namespace
}  // namespace fabrique::server
