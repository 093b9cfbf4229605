// The registry's records with their audit trail and change feed: models and their errors,
// numbered immutable versions that need their artifacts, aliases (compare-and-set, archived
// versions refused, released on archive), one hash-chained audit entry per mutation that
// survives a reopen and exposes tampering, and a change feed that resumes without gap or
// duplicate and wakes waiting watchers.

#include "libs/registry/registry_store.h"

#include <set>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "libs/kv/key_codec.h"

namespace fabrique::registry {
namespace {

struct Registry {
  std::unique_ptr<kv::Store> kv;
  std::unique_ptr<RegistryLog> log;
  std::unique_ptr<RegistryStore> store;
  std::set<std::string> uploaded = {"aa"};

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
    options.artifact_exists = [this](const std::string& digest) {
      return uploaded.count(digest) ? absl::OkStatus() : absl::NotFoundError(digest);
    };
    store = *RegistryStore::Create(options);
  }
};

v1::Principal Dana() {
  v1::Principal who;
  who.set_subject("dana");
  who.add_roles("data-scientist");
  return who;
}

v1::Model Fraud() {
  v1::Model model;
  model.set_name("fraud");
  model.set_owner_squad("risk");
  return model;
}

v1::ModelVersion Version(const std::string& digest = "aa") {
  v1::ModelVersion version;
  version.set_model("fraud");
  v1::VersionArtifact* artifact = version.add_artifacts();
  artifact->set_name("model.pt");
  artifact->mutable_artifact()->set_sha256(digest);
  return version;
}

std::vector<v1::WatchEvent> EventsAfter(const RegistryLog& log, int64_t after) {
  std::vector<v1::WatchEvent> events;
  REQUIRE(log.EventsAfter(after, 0,
                          [&](const v1::WatchEvent& e) {
                            events.push_back(e);
                            return true;
                          })
              .ok());
  return events;
}

TEST_CASE("Models: created once, found by name, errors naming them", "[registry]") {
  Registry r;
  absl::StatusOr<v1::Model> created = r.store->CreateModel(Fraud(), Dana());
  REQUIRE(created.ok());
  CHECK(created->created_by().subject() == "dana");
  CHECK(created->latest_version() == 0);
  CHECK(r.store->CreateModel(Fraud(), Dana()).status().code() == absl::StatusCode::kAlreadyExists);
  v1::Model bad = Fraud();
  bad.set_name("Fraud Model");
  CHECK(r.store->CreateModel(bad, Dana()).status().code() == absl::StatusCode::kInvalidArgument);
  const absl::Status missing = r.store->GetModel("churn").status();
  CHECK(missing.code() == absl::StatusCode::kNotFound);
  CHECK(absl::StrContains(missing.message(), "churn"));
}

TEST_CASE("Versions are numbered per model and need their artifacts", "[registry]") {
  Registry r;
  REQUIRE(r.store->CreateModel(Fraud(), Dana()).ok());
  CHECK(r.store->RegisterVersion(Version(), Dana())->version() == 1);
  CHECK(r.store->RegisterVersion(Version(), Dana())->version() == 2);
  const absl::StatusOr<v1::ModelVersion> second = r.store->GetVersion("fraud", 2);
  REQUIRE(second.ok());
  CHECK(second->state() == v1::VERSION_STATE_ACTIVE);
  CHECK(second->registered_by().subject() == "dana");
  CHECK(r.store->GetModel("fraud")->latest_version() == 2);

  const int64_t revision = r.log->revision();
  const absl::Status refused = r.store->RegisterVersion(Version("bb"), Dana()).status();
  CHECK(refused.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(refused.message(), "bb"));
  CHECK(r.log->revision() == revision);  // Nothing written, not even a trail.
  CHECK(r.store->GetModel("fraud")->latest_version() == 2);

  CHECK(r.store->GetVersion("fraud", 9).status().code() == absl::StatusCode::kNotFound);
  v1::ModelVersion orphan = Version();
  orphan.set_model("churn");
  CHECK(r.store->RegisterVersion(orphan, Dana()).status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("Aliases: compare-and-set, never onto an archived version, released on archive",
          "[registry]") {
  Registry r;
  REQUIRE(r.store->CreateModel(Fraud(), Dana()).ok());
  REQUIRE(r.store->RegisterVersion(Version(), Dana()).ok());
  REQUIRE(r.store->RegisterVersion(Version(), Dana()).ok());
  REQUIRE(r.store->SetAlias("fraud", "production", 1, Dana()).ok());
  CHECK(r.store->GetAlias("fraud", "production")->version() == 1);

  const absl::Status lost = r.store->SetAlias("fraud", "production", 2, Dana(), 2).status();
  CHECK(lost.code() == absl::StatusCode::kAborted);
  CHECK(absl::StrContains(lost.message(), "holds version 1"));
  REQUIRE(r.store->SetAlias("fraud", "production", 2, Dana(), 1).ok());
  REQUIRE(r.store->SetAlias("fraud", "candidate", 2, Dana()).ok());
  CHECK(r.store->GetModel("fraud")->aliases().at("production") == 2);

  REQUIRE(r.store->ArchiveVersion("fraud", 2, Dana()).ok());
  CHECK(r.store->GetVersion("fraud", 2)->state() == v1::VERSION_STATE_ARCHIVED);
  CHECK(r.store->GetModel("fraud")->aliases().empty());
  CHECK(r.store->GetAlias("fraud", "candidate").status().code() == absl::StatusCode::kNotFound);
  const absl::Status archived = r.store->SetAlias("fraud", "production", 2, Dana()).status();
  CHECK(archived.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(archived.message(), "archived"));
  CHECK(r.store->SetAlias("fraud", "Prod!", 1, Dana()).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Every mutation leaves one chained audit entry, across restarts", "[registry]") {
  Registry r;
  REQUIRE(r.store->CreateModel(Fraud(), Dana()).ok());
  REQUIRE(r.store->RegisterVersion(Version(), Dana()).ok());
  r.Reopen();  // The chain goes on from the stored head.
  REQUIRE(r.store->SetAlias("fraud", "production", 1, Dana()).ok());
  std::vector<v1::AuditEntry> entries;
  REQUIRE(r.log
              ->AuditEntries(0, 0,
                             [&](const v1::AuditEntry& e) {
                               entries.push_back(e);
                               return true;
                             })
              .ok());
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].action() == "model.create");
  CHECK(entries[1].target() == "models/fraud/versions/1");
  CHECK(entries[2].action() == "alias.set");
  CHECK(absl::StrContains(entries[2].after_json(), "\"version\":\"1\""));
  CHECK(entries[2].actor().subject() == "dana");
  CHECK(entries[2].prev_hash() == entries[1].hash());
  absl::StatusOr<AuditChainResult> verified = r.log->VerifyAudit(0, 0);
  REQUIRE(verified.ok());
  CHECK(verified->valid);
  CHECK(verified->entries_checked == 3);
  CHECK(r.log->VerifyAudit(2, 3)->entries_checked == 2);

  // Someone with disk access rewrites history: the verification names the entry.
  v1::AuditEntry forged = entries[1];
  forged.mutable_actor()->set_subject("mallory");
  const std::string key = kv::KeyBuilder().AddString("a").AddInt64(2).key();
  REQUIRE(r.kv->Put(*r.kv->Family("registry_log"), key, forged.SerializeAsString()).ok());
  verified = r.log->VerifyAudit(0, 0);
  CHECK_FALSE(verified->valid);
  CHECK(verified->first_bad_sequence == 2);
}

TEST_CASE("The change feed resumes without gap or duplicate and wakes watchers", "[registry]") {
  Registry r;
  REQUIRE(r.store->CreateModel(Fraud(), Dana()).ok());
  REQUIRE(r.store->RegisterVersion(Version(), Dana()).ok());
  REQUIRE(r.store->SetAlias("fraud", "production", 1, Dana()).ok());
  REQUIRE(r.store->ArchiveVersion("fraud", 1, Dana()).ok());  // Two changes: alias, version.

  const std::vector<v1::WatchEvent> all = EventsAfter(*r.log, 0);
  REQUIRE(all.size() == 5);
  for (size_t i = 0; i < all.size(); ++i) CHECK(all[i].revision() == int64_t(i) + 1);
  CHECK(all[2].type() == v1::WATCH_EVENT_TYPE_ALIAS_SET);
  CHECK(all[3].type() == v1::WATCH_EVENT_TYPE_ALIAS_DELETED);
  CHECK(all[3].previous_version() == 1);
  CHECK(all[4].type() == v1::WATCH_EVENT_TYPE_VERSION_ARCHIVED);
  CHECK(all[4].actor().subject() == "dana");

  // A watcher that saw revision 2 gets exactly 3, 4, 5 — also after a restart.
  r.Reopen();
  const std::vector<v1::WatchEvent> resumed = EventsAfter(*r.log, 2);
  REQUIRE(resumed.size() == 3);
  CHECK(resumed[0].revision() == 3);
  CHECK(r.log->revision() == 5);
  CHECK(EventsAfter(*r.log, 5).empty());

  // A waiting watcher wakes when the next change commits.
  bool registered = false;  // Catch2's assertions are not thread-safe: checked after join.
  std::thread writer([&r, &registered] {
    absl::SleepFor(absl::Milliseconds(20));
    registered = r.store->RegisterVersion(Version(), Dana()).ok();
  });
  const int64_t woken_at = r.log->WaitForRevisionAfter(5, absl::Seconds(10));
  writer.join();
  REQUIRE(registered);
  CHECK(woken_at == 6);
  CHECK(r.log->WaitForRevisionAfter(6, absl::Milliseconds(1)) == 6);  // Times out.
}

}  // namespace
}  // namespace fabrique::registry
