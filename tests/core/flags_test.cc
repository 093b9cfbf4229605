#include "libs/core/flags.h"

#include "catch2/catch.hpp"

namespace fabrique::core {
namespace {

struct Fixture {
  std::string host = "0.0.0.0";
  int port = 7101;
  int64_t big = 5;
  double ratio = 0.5;
  bool verbose = false;
  bool sync = true;
  absl::Duration grace = absl::Seconds(10);
  FlagSet flags{"fabrique-test", "A test program."};
  Fixture() {
    flags.Add("host", &host, "host to bind");
    flags.Add("port", &port, "gRPC port");
    flags.Add("big", &big, "a large number");
    flags.Add("ratio", &ratio, "a fraction");
    flags.Add("verbose", &verbose, "talk more");
    flags.Add("sync", &sync, "fsync writes");
    flags.Add("grace", &grace, "drain time");
  }
};

TEST_CASE("flags parse in every accepted form") {
  Fixture f;
  auto parsed = f.flags.Parse(std::vector<std::string>{
      "--host=127.0.0.1", "--port", "0", "-big=9000000000", "--ratio=0.25", "--verbose", "--nosync",
      "--grace=1m30s", "positional", "--", "--not-a-flag"});
  REQUIRE(parsed.ok());
  CHECK(f.host == "127.0.0.1");
  CHECK(f.port == 0);
  CHECK(f.big == 9000000000);
  CHECK(f.ratio == 0.25);
  CHECK(f.verbose);
  CHECK_FALSE(f.sync);
  CHECK(f.grace == absl::Seconds(90));
  CHECK(parsed->positional == std::vector<std::string>{"positional", "--not-a-flag"});
  CHECK_FALSE(parsed->help);
}

TEST_CASE("explicit boolean values are accepted") {
  Fixture f;
  REQUIRE(f.flags.Parse(std::vector<std::string>{"--verbose=true", "--sync=false"}).ok());
  CHECK(f.verbose);
  CHECK_FALSE(f.sync);
}

TEST_CASE("help is reported, not treated as an error") {
  Fixture f;
  auto parsed = f.flags.Parse(std::vector<std::string>{"--help"});
  REQUIRE(parsed.ok());
  CHECK(parsed->help);
}

TEST_CASE("bad flags are INVALID_ARGUMENT naming the flag") {
  Fixture f;
  auto unknown = f.flags.Parse(std::vector<std::string>{"--prot=1"});
  CHECK(unknown.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(unknown.status().message().find("--prot") != std::string::npos);

  auto not_a_number = f.flags.Parse(std::vector<std::string>{"--port=abc"});
  CHECK(not_a_number.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(not_a_number.status().message().find("expected a int") != std::string::npos);

  auto bad_duration = f.flags.Parse(std::vector<std::string>{"--grace=10"});
  CHECK(bad_duration.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(bad_duration.status().message().find("30s") != std::string::npos);

  auto missing_value = f.flags.Parse(std::vector<std::string>{"--port"});
  CHECK(missing_value.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("dashes in a flag's name read as underscores") {
  bool dry_run = false;
  bool sync = true;
  std::string media_type;
  FlagSet flags("fabrique-test", "A test program.");
  flags.Add("dry_run", &dry_run, "store nothing");
  flags.Add("sync", &sync, "fsync writes");
  flags.Add("media_type", &media_type, "MIME type");
  REQUIRE(
      flags.Parse(std::vector<std::string>{"--dry-run", "--no-sync", "--media-type=text/x"}).ok());
  CHECK(dry_run);
  CHECK_FALSE(sync);
  CHECK(media_type == "text/x");
  // Positional arguments keep their dashes.
  auto parsed = flags.Parse(std::vector<std::string>{"my-model"});
  REQUIRE(parsed.ok());
  CHECK(parsed->positional == std::vector<std::string>{"my-model"});
}

TEST_CASE("a repeatable flag collects every occurrence, replacing its defaults") {
  std::vector<std::string> tags = {"team=core"};
  FlagSet flags("fabrique-test", "A test program.");
  flags.Add("tag", &tags, "key=value, repeatable");
  CHECK(flags.Usage().find("--tag (string, repeatable; default: \"team=core\")") !=
        std::string::npos);
  REQUIRE(flags.Parse(std::vector<std::string>{"--tag", "a=1", "x", "--tag=b=2"}).ok());
  CHECK(tags == std::vector<std::string>{"a=1", "b=2"});

  std::vector<std::string> none;
  FlagSet empty("fabrique-test", "A test program.");
  empty.Add("tag", &none, "key=value, repeatable");
  CHECK(empty.Usage().find("--tag (string, repeatable; default: none)") != std::string::npos);
  REQUIRE(empty.Parse(std::vector<std::string>{}).ok());
  CHECK(none.empty());
}

TEST_CASE("usage lists every flag with its type and default") {
  Fixture f;
  const std::string usage = f.flags.Usage();
  CHECK(usage.find("Usage: fabrique-test [flags]") != std::string::npos);
  CHECK(usage.find("--host (string; default: \"0.0.0.0\")") != std::string::npos);
  CHECK(usage.find("--port (int; default: 7101)") != std::string::npos);
  CHECK(usage.find("--verbose (bool; default: false)") != std::string::npos);
  CHECK(usage.find("--grace (duration; default: 10s)") != std::string::npos);
  CHECK(usage.find("--help") != std::string::npos);
}

}  // namespace
}  // namespace fabrique::core
