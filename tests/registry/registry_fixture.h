#ifndef FABRIQUE_TESTS_REGISTRY_REGISTRY_FIXTURE_H_
#define FABRIQUE_TESTS_REGISTRY_REGISTRY_FIXTURE_H_

// An in-memory registry (kv store, log and records) that a test can reopen as after a restart,
// and the people and records the registry's tests talk about.

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/registry/registry_store.h"

namespace fabrique::registry::registry_test {

struct Registry {
  std::unique_ptr<kv::Store> kv;
  std::unique_ptr<RegistryLog> log;
  std::unique_ptr<RegistryStore> store;
  std::set<std::string> uploaded = {"aa"};
  // Asked for monitor comparison gates; set before Reopen. Not owned.
  const MonitorPort* monitor = nullptr;

  Registry() {
    kv::StoreOptions options;
    options.path = "/in-memory/registry";
    options.in_memory = true;
    kv = *kv::Store::Open(options);
    Reopen();
  }
  // New log and store objects over the same data, as after a restart.
  void Reopen() {
    store.reset();
    log = *RegistryLog::Create({kv.get()});
    RegistryStoreOptions options;
    options.store = kv.get();
    options.log = log.get();
    options.monitor = monitor;
    options.artifact_size = [this](const std::string& digest) -> absl::StatusOr<int64_t> {
      if (uploaded.count(digest) == 0) return absl::NotFoundError(digest);
      return 3;  // Every test artifact is 3 bytes.
    };
    store = *RegistryStore::Create(options);
  }
};

inline v1::Principal Dana() {
  v1::Principal who;
  who.set_subject("dana");
  who.add_roles("data-scientist");
  return who;
}

inline v1::Model Fraud() {
  v1::Model model;
  model.set_name("fraud");
  model.set_owner_squad("risk");
  return model;
}

inline v1::ModelVersion Version(const std::string& digest = "aa") {
  v1::ModelVersion version;
  version.set_model("fraud");
  v1::VersionArtifact* artifact = version.add_artifacts();
  artifact->set_name("model.pt");
  artifact->mutable_artifact()->set_sha256(digest);
  return version;
}

inline std::vector<v1::WatchEvent> EventsAfter(const RegistryLog& log, int64_t after) {
  std::vector<v1::WatchEvent> events;
  REQUIRE(log.EventsAfter(after, 0,
                          [&](const v1::WatchEvent& e) {
                            events.push_back(e);
                            return true;
                          })
              .ok());
  return events;
}

inline v1::Principal Reviewer(const std::string& subject) {
  v1::Principal who;
  who.set_subject(subject);
  who.add_roles("design-authority");
  return who;
}

// Registers version `number` of "fraud" with validation auc `auc`.
inline void RegisterWithAuc(Registry& r, double auc) {
  v1::ModelVersion version = Version();
  v1::Metric* metric = version.add_metrics();
  metric->set_name("auc");
  metric->set_value(auc);
  metric->set_higher_is_better(true);
  REQUIRE(r.store->RegisterVersion(version, Dana()).ok());
}

}  // namespace fabrique::registry::registry_test

#endif  // FABRIQUE_TESTS_REGISTRY_REGISTRY_FIXTURE_H_
