// One process per folder: a second claim is refused naming the holder and its pid; the claim
// goes with its holder (released on destruction, and by the kernel when a process dies), so a
// pid file left behind never blocks a start.

#include "libs/server/data_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "libs/server/service_state.h"
#include "tests/util/test_util.h"

namespace fabrique::server {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_CASE("the first claim writes its pid; a second is UNAVAILABLE naming the holder") {
  fabrique::testing::TempDir tmp;
  const std::string dir = tmp.Sub("data");
  auto first = DataDirLock::Acquire({dir, "fabrique"});
  REQUIRE(first.ok());
  CHECK(ReadFile(dir + "/fabrique.pid") == absl::StrCat(::getpid(), " fabrique\n"));

  auto second = DataDirLock::Acquire({dir, "fabrique"});
  CHECK(second.status().code() == absl::StatusCode::kUnavailable);
  CHECK(second.status().message() == absl::StrCat("fabrique is already running on ", dir, " (pid ",
                                                  ::getpid(),
                                                  "): stop it first or pass another --data_dir"));

  first->reset();  // Released: the folder can be claimed again.
  CHECK(DataDirLock::Acquire({dir, "fabrique-features"}).ok());
}

TEST_CASE("a pid file left by a process that died does not block the next claim") {
  fabrique::testing::TempDir tmp;
  { std::ofstream(tmp.Sub("fabrique.pid")) << "999999 fabrique-features\n"; }
  auto lock = DataDirLock::Acquire({tmp.path(), "fabrique-features"});
  REQUIRE(lock.ok());
  CHECK(ReadFile(tmp.Sub("fabrique.pid")) == absl::StrCat(::getpid(), " fabrique-features\n"));
}

TEST_CASE("a holder that has not written its pid yet is still named as running") {
  fabrique::testing::TempDir tmp;
  const std::string path = tmp.Sub("fabrique.pid");
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  auto refused = DataDirLock::Acquire({tmp.path(), "fabrique"});
  ::close(fd);
  CHECK(refused.status().code() == absl::StatusCode::kUnavailable);
  CHECK(absl::StrContains(refused.status().message(), "another process is already running on " +
                                                          tmp.path() + " (pid unknown)"));
}

// Between a claimant's open and its lock, the holder's clean-up removes the file and another
// process makes a new one and locks it. A lock on the removed file would be a second "holder".
TEST_CASE("a file replaced between open and lock is not held: the claim retries on the new one") {
  fabrique::testing::TempDir tmp;
  const std::string path = tmp.Sub("fabrique.pid");
  int other = -1;
  DataDirLock::Options options{tmp.path(), "fabrique"};
  options.before_lock = [&] {
    if (other >= 0) return;  // Only in the first round.
    REQUIRE(::unlink(path.c_str()) == 0);
    other = ::open(path.c_str(), O_RDWR | O_CREAT, 0644);
    REQUIRE(other >= 0);
    REQUIRE(::flock(other, LOCK_EX | LOCK_NB) == 0);
    const std::string content = "4242 fabrique-features\n";
    REQUIRE(::write(other, content.data(), content.size()) == ssize_t(content.size()));
  };
  auto refused = DataDirLock::Acquire(options);
  CHECK(refused.status().code() == absl::StatusCode::kUnavailable);
  CHECK(refused.status().message() ==
        absl::StrCat("fabrique-features is already running on ", tmp.path(),
                     " (pid 4242): stop it first or pass another --data_dir"));
  ::close(other);
}

TEST_CASE("a file removed between open and lock is made again and claimed") {
  fabrique::testing::TempDir tmp;
  const std::string path = tmp.Sub("fabrique.pid");
  int rounds = 0;
  DataDirLock::Options options{tmp.path(), "fabrique"};
  options.before_lock = [&] {
    if (rounds++ == 0) REQUIRE(::unlink(path.c_str()) == 0);
  };
  auto lock = DataDirLock::Acquire(options);
  REQUIRE(lock.ok());
  CHECK(rounds == 2);
  CHECK(ReadFile(path) == absl::StrCat(::getpid(), " fabrique\n"));  // The file at the path.
}

TEST_CASE(
    "a folder that cannot be created is FAILED_PRECONDITION; missing options INVALID_ARGUMENT") {
  fabrique::testing::TempDir tmp;
  { std::ofstream(tmp.Sub("a-file")) << "x"; }
  CHECK(DataDirLock::Acquire({tmp.Sub("a-file/below"), "fabrique"}).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(DataDirLock::Acquire({"", "fabrique"}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(DataDirLock::Acquire({tmp.path(), ""}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("a service's state held by another process is refused naming it, not RocksDB's LOCK") {
  fabrique::testing::TempDir tmp;
  auto first = ServiceState::Open({tmp.path(), "features"});
  REQUIRE(first.ok());
  auto second = ServiceState::Open({tmp.path(), "features"});
  CHECK(second.status().code() == absl::StatusCode::kUnavailable);
  CHECK(second.status().message() == absl::StrCat("fabrique-features is already running on ",
                                                  tmp.path(), " (pid ", ::getpid(),
                                                  "): stop it first or pass another --data_dir"));
  CHECK_FALSE(absl::StrContains(second.status().message(), "LOCK"));
  first->reset();
  CHECK(ServiceState::Open({tmp.path(), "features"}).ok());
}

}  // namespace
}  // namespace fabrique::server
