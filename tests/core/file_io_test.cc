// ReadSmallFile and WriteFileAtomically: whole contents back, exact permission bits whatever the
// umask, a replaced file never half written, and errors that name the file.

#include "libs/core/file_io.h"

#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "catch2/catch.hpp"
#include "tests/util/test_util.h"

namespace fabrique::core {
namespace {

mode_t ModeOf(const std::string& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_mode & 0777;
}

TEST_CASE("WriteFileAtomically writes what ReadSmallFile reads back, bytes intact") {
  testing::TempDir dir;
  const std::string path = dir.Sub("plan.bin");
  const std::string contents("key\0with\nNUL and newline", 24);
  REQUIRE(WriteFileAtomically(path, contents, 0644).ok());
  absl::StatusOr<std::string> read = ReadSmallFile(path);
  REQUIRE(read.ok());
  CHECK(*read == contents);
}

TEST_CASE("WriteFileAtomically replaces a file, sets the exact mode and leaves no temporary") {
  testing::TempDir dir;
  const std::string path = dir.Sub("signing.key");
  REQUIRE(WriteFileAtomically(path, "old and longer", 0644).ok());
  const mode_t umask = ::umask(0077);
  const absl::Status written = WriteFileAtomically(path, "new", 0640);
  ::umask(umask);
  REQUIRE(written.ok());
  CHECK(*ReadSmallFile(path) == "new");
  CHECK(ModeOf(path) == 0640);
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    INFO(entry.path().string());
    CHECK(entry.path().filename() == "signing.key");
    ++files;
  }
  CHECK(files == 1);
}

TEST_CASE("ReadSmallFile of a missing file is NOT_FOUND naming it") {
  testing::TempDir dir;
  const std::string path = dir.Sub("absent.pem");
  absl::StatusOr<std::string> read = ReadSmallFile(path);
  REQUIRE_FALSE(read.ok());
  CHECK(read.status().code() == absl::StatusCode::kNotFound);
  CHECK(read.status().message().find(path) != absl::string_view::npos);
}

TEST_CASE("WriteFileAtomically into a missing directory is FAILED_PRECONDITION naming it") {
  testing::TempDir dir;
  const std::string path = dir.Sub("no/such/dir/jwks.json");
  const absl::Status written = WriteFileAtomically(path, "{}", 0644);
  CHECK(written.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(written.message().find(dir.Sub("no/such/dir/jwks.json")) != absl::string_view::npos);
}

}  // namespace
}  // namespace fabrique::core
