#ifndef FABRIQUE_TESTS_INTEGRATION_KILLABLE_SERVICE_H_
#define FABRIQUE_TESTS_INTEGRATION_KILLABLE_SERVICE_H_

// One run of a real service binary on a data dir, on free loopback ports, that a crash test can
// kill without warning and start again on the same data dir. Each run writes its own log, so the
// "server_started" line read is this run's.

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
#include "tests/util/test_util.h"
#include "tools/cli/child_process.h"

namespace fabrique::testing {

class KillableService {
 public:
  // Starts BIN_DIR/`binary` with `extra_flags` and waits until it reports SERVING.
  KillableService(const std::string& binary, const std::string& data_dir,
                  const std::string& log_path, const std::vector<std::string>& extra_flags = {})
      : log_path_(log_path) {
    std::vector<std::string> argv = {absl::StrCat(BinDir(), "/", binary), "--listen_host=127.0.0.1",
                                     "--port=0", "--metrics_port=0", "--insecure",
                                     absl::StrCat("--data_dir=", data_dir)};
    argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
    auto spawned = cli::ChildProcess::Spawn(argv, log_path);
    REQUIRE(spawned.ok());
    process_ = *std::move(spawned);
    int grpc_port = 0;
    int metrics_port = 0;
    const bool started = PollUntil(
        [&] {
          return cli::ReadServerStartedPorts(log_path, 0, &grpc_port, &metrics_port) ||
                 process_->Poll().has_value();
        },
        absl::Seconds(30));
    INFO(cli::TailFile(log_path, 20));
    REQUIRE(started);
    REQUIRE_FALSE(process_->Poll().has_value());
    REQUIRE(grpc_port > 0);
    channel_ = client::MakePlaintextChannel(absl::StrCat("127.0.0.1:", grpc_port));
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

 private:
  std::string log_path_;
  std::unique_ptr<cli::ChildProcess> process_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace fabrique::testing

#endif  // FABRIQUE_TESTS_INTEGRATION_KILLABLE_SERVICE_H_
