// The inference server's registry port against an in-process registry: the watch stream's
// events reach the follower's handler in order, and the stream ends as the registry, the handler
// or Shutdown says.

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/registry.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "libs/client/channel.h"
#include "services/inference/registry_client_port.h"

namespace fabrique::services {
namespace {

// A registry whose Watch sends `events` events (revisions 1, 2, ...), then ends the stream OK or,
// with `hold`, keeps it open until the client cancels it.
class WatchRegistry final : public v1::ModelRegistry::Service {
 public:
  WatchRegistry(int events, bool hold) : events_(events), hold_(hold) {}

  grpc::Status Watch(grpc::ServerContext* context, const v1::WatchRequest*,
                     grpc::ServerWriter<v1::WatchEvent>* writer) override {
    for (int i = 1; i <= events_; ++i) {
      v1::WatchEvent event;
      event.set_revision(i);
      event.set_model(absl::StrCat("m", i));
      if (!writer->Write(event)) return grpc::Status::CANCELLED;
    }
    while (hold_ && !context->IsCancelled()) absl::SleepFor(absl::Milliseconds(5));
    return hold_ ? grpc::Status::CANCELLED : grpc::Status::OK;
  }

 private:
  const int events_;
  const bool hold_;
};

struct Registry {
  explicit Registry(int events, bool hold = false) : service(events, hold) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
    REQUIRE(server != nullptr);
  }
  ~Registry() { server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(5))); }

  std::unique_ptr<RegistryClientPort> Port() {
    const std::string target = absl::StrCat("127.0.0.1:", port);
    auto made = RegistryClientPort::Create({client::MakePlaintextChannel(target), target});
    REQUIRE(made.ok());
    return *std::move(made);
  }

  WatchRegistry service;
  int port = 0;
  std::unique_ptr<grpc::Server> server;
};

TEST_CASE("registry port: every watch event reaches the handler in order, then the end") {
  Registry registry(5);
  auto port = registry.Port();
  std::vector<int64_t> seen;
  const absl::Status status = port->Watch({}, [&](const v1::WatchEvent& event) {
    seen.push_back(event.revision());
    CHECK(event.model() == absl::StrCat("m", event.revision()));
    return absl::OkStatus();
  });
  CHECK(status.ok());
  CHECK(seen == std::vector<int64_t>{1, 2, 3, 4, 5});
}

TEST_CASE("registry port: a handler's error ends the watch with that error") {
  Registry registry(3, /*hold=*/true);
  auto port = registry.Port();
  int calls = 0;
  const absl::Status status = port->Watch({}, [&](const v1::WatchEvent& event) {
    ++calls;
    return event.revision() == 2 ? absl::DataLossError("revision 2 skipped one") : absl::OkStatus();
  });
  CHECK(status.code() == absl::StatusCode::kDataLoss);
  CHECK(calls == 2);
}

TEST_CASE("registry port: Shutdown ends a watch that is waiting for events") {
  Registry registry(1, /*hold=*/true);
  auto port = registry.Port();
  absl::Mutex mu;
  bool first = false;
  absl::Status status;
  std::thread watcher([&] {
    status = port->Watch({}, [&](const v1::WatchEvent&) {
      absl::MutexLock lock(&mu);
      first = true;
      return absl::OkStatus();
    });
  });
  {
    absl::MutexLock lock(&mu);
    REQUIRE(mu.AwaitWithTimeout(absl::Condition(&first), absl::Seconds(10)));
  }
  port->Shutdown();
  watcher.join();
  CHECK(status.code() == absl::StatusCode::kCancelled);
  // Later calls are refused at once.
  CHECK(port->Watch({}, [](const v1::WatchEvent&) { return absl::OkStatus(); }).code() ==
        absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace fabrique::services
