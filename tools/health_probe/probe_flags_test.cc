#include "tools/health_probe/probe_flags.h"

#include "catch2/catch.hpp"

namespace fabrique::health_probe {
namespace {

TEST_CASE("the probe takes grpc_health_probe's flag syntax and defaults") {
  auto options =
      ParseProbeFlags({"-addr=localhost:7101", "--service", "fabrique.v1.Features", "-tls",
                       "-tls-ca-cert=/ca.pem", "-tls-server-name", "fabrique-features",
                       "-connect-timeout=250ms", "-rpc-header=X-Trace: 1"});
  REQUIRE(options.ok());
  CHECK(options->addr == "localhost:7101");
  CHECK(options->service == "fabrique.v1.Features");
  CHECK(options->tls);
  CHECK(options->tls_ca_cert == "/ca.pem");
  CHECK(options->tls_server_name == "fabrique-features");
  CHECK(options->connect_timeout == absl::Milliseconds(250));
  CHECK(options->rpc_timeout == absl::Seconds(1));
  CHECK(options->user_agent == "grpc_health_probe");
  REQUIRE(options->rpc_headers.size() == 1);
  CHECK(options->rpc_headers[0].first == "x-trace");
  CHECK(options->rpc_headers[0].second == "1");
}

TEST_CASE("a bool flag takes an explicit value, as in Go") {
  auto options = ParseProbeFlags({"-addr=h:1", "-tls=false", "-v=true"});
  REQUIRE(options.ok());
  CHECK_FALSE(options->tls);
  CHECK(options->verbose);
}

TEST_CASE("the probe refuses bad flags with INVALID_ARGUMENT naming them") {
  struct Case {
    std::vector<std::string> args;
    std::string mentions;
  };
  for (const Case& c : std::vector<Case>{
           {{}, "-addr"},
           {{"-addr=h:1", "-bogus"}, "-bogus"},
           {{"-addr=h:1", "-rpc-timeout=soon"}, "-rpc-timeout"},
           {{"-addr=h:1", "-connect-timeout=0s"}, "-connect-timeout"},
           {{"-addr=h:1", "-tls-ca-cert=/ca.pem"}, "-tls"},
           {{"-addr=h:1", "-tls", "-tls-client-cert=/c.pem"}, "-tls-client-key"},
           {{"-addr=h:1", "-tls", "-tls-no-verify"}, "-tls-no-verify"},
           {{"-addr"}, "-addr"},
           {{"-addr=h:1", "extra"}, "extra"},
       }) {
    auto options = ParseProbeFlags(c.args);
    INFO(options.status().ToString());
    REQUIRE(options.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(options.status().message().find(c.mentions) != absl::string_view::npos);
  }
}

TEST_CASE("-help needs no -addr") {
  auto options = ParseProbeFlags({"-help"});
  REQUIRE(options.ok());
  CHECK(options->help);
}

}  // namespace
}  // namespace fabrique::health_probe
