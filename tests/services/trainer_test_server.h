#ifndef FABRIQUE_TESTS_SERVICES_TRAINER_TEST_SERVER_H_
#define FABRIQUE_TESTS_SERVICES_TRAINER_TEST_SERVER_H_

// The trainer's adapter served in-process on a loopback port over the core with fake ports, as
// `fabrique-trainer` wires it, behind a real access guard (tests/util/test_identity.h): callers
// present tokens minted for the users they play, with groups such as "risk:data-scientist".

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "catch2/catch.hpp"
#include "grpcpp/client_context.h"
#include "libs/client/channel.h"
#include "libs/server/server_credentials.h"
#include "libs/server/service_host.h"
#include "services/trainer/trainer_metrics.h"
#include "services/trainer/trainer_service.h"
#include "tests/training/fake_ports.h"
#include "tests/util/test_identity.h"

namespace fabrique::services::trainer_test {

inline constexpr absl::Duration kPatience = absl::Seconds(120);  // For waits that take ms.

// The groups of the users the tests play: dana trains for risk, erin for fraud.
inline const std::vector<std::string> kDana = {"risk:data-scientist"};
inline const std::vector<std::string> kErin = {"fraud:data-scientist"};

// A plaintext host on a free loopback port, without a metrics port: a service under test.
inline server::ServiceHostOptions LoopbackHost(const std::string& name) {
  server::ServiceHostOptions options;
  options.plaintext = true;
  options.service_name = name;
  options.listen_host = "127.0.0.1";
  options.metrics_port = -1;
  return options;
}

struct Adapter {
  fabrique::testing::TestIdentity identity;
  training::testing::FakeDatasets datasets;
  training::testing::FakeModels models;
  std::unique_ptr<kv::Store> kv;
  std::unique_ptr<training::RunStore> runs;
  std::unique_ptr<server::ServiceHost> host;
  std::unique_ptr<TrainerMetrics> metrics;
  std::unique_ptr<training::RunQueue> queue;
  std::unique_ptr<TrainerService> service;
  std::unique_ptr<v1::Trainer::Stub> stub;

  // Behind `guard` (not owned) when given, else behind the identity's; over TLS with the
  // trainer's certificate from the identity's authority when `tls`, else plaintext.
  explicit Adapter(const server::Access* guard = nullptr, bool tls = false) {
    kv = training::testing::InMemoryKv("/in-memory/adapter");
    runs = *training::RunStore::Create({kv.get()});
    server::ServiceHostOptions host_options = LoopbackHost("trainer");
    if (tls) {
      const auth::LocalAuthority& authority = identity.authority();
      host_options.plaintext = false;
      host_options.tls = server::TlsFiles{authority.cert_path("trainer"),
                                          authority.key_path("trainer"), authority.ca_cert_path()};
    }
    host = *server::ServiceHost::Create(host_options);
    metrics = std::make_unique<TrainerMetrics>(host->metrics());
    queue = *training::RunQueue::Create({runs.get(), &datasets, &models, metrics.get()});
    service = std::make_unique<TrainerService>(queue.get(), runs.get(),
                                               guard != nullptr ? guard : identity.guard());
    host->AddService(service.get(), v1::Trainer::service_full_name(), "the trainer");
    REQUIRE(host->Start().ok());
    queue->Start();
    if (!tls) stub = v1::Trainer::NewStub(client::MakePlaintextChannel(target()));
  }
  ~Adapter() {
    host->Shutdown();
    queue.reset();
  }

  std::string target() const { return absl::StrCat("127.0.0.1:", host->port()); }
  // A stub calling the TLS adapter as `service`, under its certificate from the authority.
  std::unique_ptr<v1::Trainer::Stub> StubAs(const std::string& service) const {
    const auth::LocalAuthority& authority = identity.authority();
    client::ChannelOptions options;
    options.target = target();
    options.tls = {authority.ca_cert_path(), authority.cert_path(service),
                   authority.key_path(service), ""};
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = client::MakeChannel(options);
    REQUIRE(channel.ok());
    return v1::Trainer::NewStub(*channel);
  }

  // A context carrying a token for `user` with `groups`, and a deadline runs can be awaited in.
  std::unique_ptr<grpc::ClientContext> As(const std::string& user,
                                          const std::vector<std::string>& groups) const {
    std::unique_ptr<grpc::ClientContext> context = identity.Context(user, groups);
    context->set_deadline(absl::ToChronoTime(absl::Now() + kPatience));
    return context;
  }
  std::unique_ptr<grpc::ClientContext> Dana() const { return As("dana", kDana); }

  // Submits `spec` as `context`'s caller, for `squad` ("" = the caller's only one).
  grpc::Status Submit(std::unique_ptr<grpc::ClientContext> context, v1::RunSpec spec, v1::Run* run,
                      const std::string& squad = "") {
    v1::SubmitRunRequest request;
    *request.mutable_spec() = std::move(spec);
    request.set_squad(squad);
    return stub->SubmitRun(context.get(), request, run);
  }
  grpc::Status Submit(v1::RunSpec spec, v1::Run* run) {
    return Submit(Dana(), std::move(spec), run, "risk");
  }
};

}  // namespace fabrique::services::trainer_test

#endif  // FABRIQUE_TESTS_SERVICES_TRAINER_TEST_SERVER_H_
