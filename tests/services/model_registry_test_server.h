#ifndef FABRIQUE_TESTS_SERVICES_MODEL_REGISTRY_TEST_SERVER_H_
#define FABRIQUE_TESTS_SERVICES_MODEL_REGISTRY_TEST_SERVER_H_

// The model registry served in-process on a loopback port, for the adapter tests: in-memory
// records, blobs in a temp dir, guarded by a real local identity (tokens and the default
// policy), and the callers the tests play.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "catch2/catch.hpp"
#include "libs/client/channel.h"
#include "libs/server/service_host.h"
#include "services/registry/model_owners.h"
#include "services/registry/model_registry_service.h"
#include "tests/services/access_refusals.h"
#include "tests/util/test_identity.h"
#include "tests/util/test_util.h"

namespace fabrique::services::registry_test {

// The identity the servers trust.
inline testing::TestIdentity& Identity() { return testing::SharedIdentity(); }

// SHA-256 of "abc" (FIPS 180-2).
inline constexpr char kAbc[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

struct Server {
  testing::TempDir tmp;
  std::unique_ptr<kv::Store> kv;
  std::unique_ptr<registry::BlobStore> blobs;
  std::unique_ptr<registry::RegistryLog> log;
  std::unique_ptr<registry::RegistryStore> store;
  std::unique_ptr<server::ServiceHost> host;
  std::unique_ptr<ModelRegistryService> service;
  std::unique_ptr<v1::ModelRegistry::Stub> stub;
  testing::TestIdentity* const identity_;

  // `tls`: served with the local authority's registry certificate, so that services may call
  // with their own (TrainerStub); plaintext otherwise. `identity`: whose guard checks callers (a
  // test with its own policy lines passes its own). Not owned.
  explicit Server(bool tls = false, testing::TestIdentity* identity = &Identity())
      : identity_(identity) {
    kv::StoreOptions kv_options;
    kv_options.path = "/registry";
    kv_options.in_memory = true;
    kv = *kv::Store::Open(kv_options);
    blobs = *registry::BlobStore::Create({tmp.path() + "/blobs"});
    log = *registry::RegistryLog::Create({kv.get()});
    registry::RegistryStoreOptions options;
    options.store = kv.get();
    options.log = log.get();
    options.artifact_size = [this](const std::string& sha256) { return blobs->Size(sha256); };
    store = *registry::RegistryStore::Create(options);
    server::ServiceHostOptions host_options;
    host_options.plaintext = !tls;
    if (tls) {
      const auth::LocalAuthority& authority = identity_->authority();
      host_options.tls = server::TlsFiles{authority.cert_path("registry"),
                                          authority.key_path("registry"), authority.ca_cert_path()};
    }
    host_options.service_name = "registry";
    host_options.listen_host = "127.0.0.1";
    host_options.shutdown_grace = absl::Seconds(10);  // Watches end at once anyway: below.
    host = *server::ServiceHost::Create(host_options);
    // No grace: a test's blobs are all "old enough" to collect.
    service = std::make_unique<ModelRegistryService>(
        store.get(), log.get(), blobs.get(),
        server::ServiceAccess(identity_->guard(), v1::ModelRegistry::service_full_name(),
                              ModelOwners(store.get())),
        host->metrics(), absl::ZeroDuration());
    host->AddService(service.get(), v1::ModelRegistry::service_full_name(), "the registry");
    host->OnShutdown([this] { log->Interrupt(); });
    REQUIRE(host->Start().ok());
    if (!tls) {
      stub = v1::ModelRegistry::NewStub(
          client::MakePlaintextChannel(absl::StrCat("127.0.0.1:", host->port())));
    } else {
      stub = ServiceStub("cli");
    }
  }
  ~Server() { host->Shutdown(); }

  // A stub calling over TLS with service `name`'s certificate (one of the authority's six, or
  // "cli", which presents none).
  std::unique_ptr<v1::ModelRegistry::Stub> ServiceStub(const std::string& name) const {
    const auth::LocalAuthority& authority = identity_->authority();
    client::ChannelOptions options;
    options.target = absl::StrCat("127.0.0.1:", host->port());
    options.tls.ca_path = authority.ca_cert_path();
    if (name != "cli") {
      options.tls.cert_path = authority.cert_path(name);
      options.tls.key_path = authority.key_path(name);
    }
    options.share_connections = false;
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = client::MakeChannel(options);
    REQUIRE(channel.ok());
    return v1::ModelRegistry::NewStub(*channel);
  }
};

// `user` with token `groups` ("risk:design-authority"), with a 10 s deadline.
inline std::unique_ptr<grpc::ClientContext> As(const std::string& user,
                                               const std::vector<std::string>& groups) {
  return Identity().Context(user, groups);
}

// Dana, data scientist of squad risk, which owns the tests' models.
inline std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout = absl::Seconds(10)) {
  auto context = As("dana", {"risk:data-scientist"});
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

// The platform admin of the default policy ("root").
inline std::unique_ptr<grpc::ClientContext> AdminContext() { return As("root", {}); }

// Gives a context made by the test (a watch's) dana's token.
inline void SignIn(grpc::ClientContext* context) {
  context->AddMetadata("authorization",
                       absl::StrCat("Bearer ", Identity().Token("dana", {"risk:data-scientist"})));
}

// Creates model `name`, owned by `squad`, as the admin.
inline void CreateModel(Server& s, const std::string& name, const std::string& squad = "risk") {
  v1::CreateModelRequest request;
  request.mutable_model()->set_name(name);
  request.mutable_model()->set_owner_squad(squad);
  v1::Model model;
  const grpc::Status status = s.stub->CreateModel(AdminContext().get(), request, &model);
  INFO(status.error_message());
  REQUIRE(status.ok());
}

}  // namespace fabrique::services::registry_test

#endif  // FABRIQUE_TESTS_SERVICES_MODEL_REGISTRY_TEST_SERVER_H_
