// Files named on the command line: a missing, unreadable or directory path says why in the
// system's words, as INVALID_ARGUMENT (a usage error, exit 2); JSON files name what they should
// have been.

#include "tools/cli/input_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/trainer.pb.h"
#include "tests/util/test_util.h"
#include "tools/cli/json_file.h"

namespace fabrique::cli {
namespace {

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST_CASE("a missing file says so in strerror's words") {
  fabrique::testing::TempDir tmp;
  const std::string path = tmp.Sub("defs.json");
  const absl::Status status = CheckInputFile(path);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(status.message() == "cannot read " + path + ": No such file or directory");
  CHECK(ReadInputFile(path).status() == status);
}

TEST_CASE("a directory is reported as a directory, not as an empty file") {
  fabrique::testing::TempDir tmp;
  const absl::Status status = CheckInputFile(tmp.path());
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(status.message() == tmp.path() + " is a directory; expected a file");
  std::ifstream in;
  CHECK(OpenInputFile(tmp.path(), &in).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("a file that cannot be opened says why in strerror's words") {
  fabrique::testing::TempDir tmp;
  const std::string file = tmp.Sub("secret.csv");
  Write(file, "a,b\n");
  // A file used as a folder: open(2) fails with ENOTDIR.
  CHECK(CheckInputFile(file + "/x").message() == "cannot read " + file + "/x: Not a directory");
  // Permissions bind everyone but root.
  if (::geteuid() != 0) {
    REQUIRE(::chmod(file.c_str(), 0) == 0);
    const absl::Status status = CheckInputFile(file);
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK(status.message() == "cannot read " + file + ": Permission denied");
  }
}

TEST_CASE("a readable file is read whole") {
  fabrique::testing::TempDir tmp;
  const std::string path = tmp.Sub("spec.json");
  Write(path, "{\"model_name\": \"fraud\"}");
  CHECK(CheckInputFile(path).ok());
  absl::StatusOr<std::string> text = ReadInputFile(path);
  REQUIRE(text.ok());
  CHECK(*text == "{\"model_name\": \"fraud\"}");
  v1::RunSpec spec;
  REQUIRE(ReadJsonFile(path, &spec).ok());
  CHECK(spec.model_name() == "fraud");
}

TEST_CASE("a JSON file that is not the expected message names the file and the type") {
  fabrique::testing::TempDir tmp;
  const std::string path = tmp.Sub("spec.json");
  Write(path, "{\"no_such_field\": 1}");
  v1::RunSpec spec;
  const absl::Status status = ReadJsonFile(path, &spec);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StartsWith(status.message(), path + ": not a fabrique.v1.RunSpec in protobuf JSON"));
  CHECK(ReadJsonFile(tmp.path(), &spec).message() ==
        tmp.path() + " is a directory; expected a file");
}

}  // namespace
}  // namespace fabrique::cli
