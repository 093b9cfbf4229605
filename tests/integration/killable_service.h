#ifndef FABRIQUE_TESTS_INTEGRATION_KILLABLE_SERVICE_H_
#define FABRIQUE_TESTS_INTEGRATION_KILLABLE_SERVICE_H_

// One run of a real service binary on a data dir, on free loopback ports, serving TLS with the
// test process's local identity (secure_service.h), that a crash test can kill without warning
// and start again on the same data dir. Each run writes its own log, so the "server_started" line
// read is this run's.

#include <signal.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "catch2/catch.hpp"
#include "libs/client/channel.h"
#include "libs/client/health_client.h"
#include "tests/integration/secure_service.h"
#include "tests/util/test_util.h"
#include "tools/cli/child_process.h"

namespace fabrique::testing {

class KillableService {
 public:
  // Starts BIN_DIR/`binary` ("fabrique-<service>") with `extra_flags`, serving TLS with
  // `identity`'s certificate and policy, and waits until it reports SERVING.
  KillableService(const std::string& binary, const std::string& data_dir,
                  const std::string& log_path, const std::vector<std::string>& extra_flags = {},
                  const TestIdentity& identity = LocalIdentity())
      : log_path_(log_path) {
    std::vector<std::string> argv = {absl::StrCat(BinDir(), "/", binary), "--listen_host=127.0.0.1",
                                     "--port=0", "--metrics_port=0",
                                     absl::StrCat("--data_dir=", data_dir)};
    const std::string service = binary.substr(binary.find('-') + 1);
    for (std::string& flag : SecureServerFlags(identity, service)) {
      argv.push_back(std::move(flag));
    }
    argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
    auto spawned = cli::ChildProcess::Spawn(argv, log_path);
    REQUIRE(spawned.ok());
    process_ = *std::move(spawned);
    const bool started = PollUntil(
        [&] {
          return cli::ReadServerStartedPorts(log_path, 0, &grpc_port_, &metrics_port_) ||
                 process_->Poll().has_value();
        },
        absl::Seconds(30));
    INFO(cli::TailFile(log_path, 20));
    REQUIRE(started);
    REQUIRE_FALSE(process_->Poll().has_value());
    REQUIRE(grpc_port_ > 0);
    channel_ = SecureChannel(identity, target());
    const absl::Status serving = client::WaitUntilServing(channel_, "", absl::Seconds(30));
    INFO(serving.message());
    REQUIRE(serving.ok());
  }

  // Kills the process with SIGKILL and waits until it is gone, so its RocksDB lock is free.
  void Kill() {
    process_->Signal(SIGKILL);
    const std::optional<int> code = process_->Wait(absl::Seconds(20));
    REQUIRE(code.has_value());
    CHECK(*code == 128 + SIGKILL);
  }

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  const std::string& log_path() const { return log_path_; }
  std::string target() const { return absl::StrCat("127.0.0.1:", grpc_port_); }
  int metrics_port() const { return metrics_port_; }

 private:
  std::string log_path_;
  int grpc_port_ = 0;
  int metrics_port_ = 0;
  std::unique_ptr<cli::ChildProcess> process_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace fabrique::testing

#endif  // FABRIQUE_TESTS_INTEGRATION_KILLABLE_SERVICE_H_
