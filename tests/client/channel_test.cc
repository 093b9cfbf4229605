// MakeChannel's choices: TLS or plaintext, never neither nor both; TLS files checked before gRPC
// would only log them; a client certificate always with its key.

#include "libs/client/channel.h"

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "tests/util/test_certs.h"
#include "tests/util/test_util.h"

namespace fabrique::client {
namespace {

TEST_CASE("a channel is plaintext or TLS with a CA, never neither nor both") {
  ChannelOptions options;
  options.target = "127.0.0.1:7102";
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakeChannel(options);
  CHECK(channel.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(channel.status().message(), "needs the CA"));
  options.plaintext = true;
  CHECK(MakeChannel(options).ok());
  options.tls.ca_path = "ca.crt";
  CHECK(MakeChannel(options).status().code() == absl::StatusCode::kInvalidArgument);
  options = {};
  options.plaintext = true;
  CHECK(MakeChannel(options).status().code() == absl::StatusCode::kInvalidArgument);  // No target.
}

TEST_CASE("TLS files are checked when the channel is made") {
  fabrique::testing::TempDir dir;
  const fabrique::testing::TestCertificate ca = *fabrique::testing::MakeTestCa(dir.path(), "ca");
  const fabrique::testing::TestCertificate mine =
      *fabrique::testing::MakeTestLeaf(dir.path(), "trainer", ca, /*server=*/false);
  ChannelOptions options;
  options.target = "127.0.0.1:7102";
  options.tls.ca_path = dir.Sub("missing.crt");
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakeChannel(options);
  CHECK(channel.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(channel.status().message(), dir.Sub("missing.crt")));

  options.tls.ca_path = ca.cert_path;
  CHECK(MakeChannel(options).ok());
  options.tls.cert_path = mine.cert_path;
  CHECK(MakeChannel(options).status().code() == absl::StatusCode::kInvalidArgument);  // No key.
  options.tls.key_path = dir.Sub("trainer.missing");
  CHECK(MakeChannel(options).status().code() == absl::StatusCode::kFailedPrecondition);
  options.tls.key_path = mine.key_path;
  CHECK(MakeChannel(options).ok());
}

}  // namespace
}  // namespace fabrique::client
