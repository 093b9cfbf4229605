// The policy file and its reloads: errors at start name the file and line; a change is picked up
// after the check interval (driven by a FakeClock, never by sleeping); a bad change keeps the
// policy in force and is counted once.

#include "libs/auth/policy_store.h"

#include <cstdio>
#include <fstream>
#include <thread>
#include <vector>

#include "catch2/catch.hpp"
#include "tests/util/test_util.h"

namespace fabrique::auth {
namespace {

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  REQUIRE(out.good());
}

constexpr char kBobReads[] = "p, ds, models.read, squad\ng, user:bob, risk:ds\n";
// Longer than kBobReads, so the file's size changes whatever the clock's resolution.
constexpr char kBobReadsAndWrites[] =
    "p, ds, models.read, squad\np, ds, models.write, squad\ng, user:bob, risk:ds\n";

bool BobMayWrite(PolicyStore& store) {
  return store.Current()->Decide({"user:bob", {}}, "models.write", "risk").allowed;
}

struct Fixture {
  testing::TempDir dir;
  core::FakeClock clock;
  std::string path = dir.Sub("policy.csv");

  std::unique_ptr<PolicyStore> Open() {
    PolicyStore::Options options;
    options.path = path;
    options.clock = &clock;
    absl::StatusOr<std::unique_ptr<PolicyStore>> store = PolicyStore::Create(options);
    REQUIRE(store.ok());
    return *std::move(store);
  }
};

TEST_CASE("Create reads the policy file") {
  Fixture f;
  WriteFile(f.path, kBobReads);
  std::unique_ptr<PolicyStore> store = f.Open();
  CHECK(store->Current()->Decide({"user:bob", {}}, "models.read", "risk").allowed);
  CHECK_FALSE(BobMayWrite(*store));
  CHECK(store->reloads() == 0);
  CHECK(store->reload_failures() == 0);
}

TEST_CASE("Create reads YAML by the file's extension") {
  Fixture f;
  f.path = f.dir.Sub("policy.yaml");
  WriteFile(f.path,
            "roles: {ds: [{permission: models.write, scope: squad}]}\n"
            "bindings: [{subject: 'user:bob', squad: risk, role: ds}]\n");
  CHECK(BobMayWrite(*f.Open()));
}

TEST_CASE("Create's errors name the file, and the line of a bad policy") {
  Fixture f;
  PolicyStore::Options options;
  options.clock = &f.clock;
  options.path = f.path;
  absl::Status status = PolicyStore::Create(options).status();
  CHECK(status.code() == absl::StatusCode::kNotFound);
  CHECK(status.message() == "policy file " + f.path + ": No such file or directory");

  WriteFile(f.path, "p, ds, models.read, squad\ng, user:bob, risk\n");
  status = PolicyStore::Create(options).status();
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(status.message() == f.path +
                                ": line 2: malformed SQUAD:ROLE 'risk' (expected SQUAD:ROLE, e.g. "
                                "risk:data-scientist)");

  options.path = f.dir.Sub("policy.txt");
  WriteFile(options.path, kBobReads);
  status = PolicyStore::Create(options).status();
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(status.message() == "policy file '" + options.path +
                                "' must end in .csv, .yaml or .yml (the name says its format)");

  options.path = "";
  CHECK(PolicyStore::Create(options).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("a changed file is picked up once the check interval has passed") {
  Fixture f;
  WriteFile(f.path, kBobReads);
  std::unique_ptr<PolicyStore> store = f.Open();
  const std::shared_ptr<const Policy> before = store->Current();
  WriteFile(f.path, kBobReadsAndWrites);

  f.clock.Advance(absl::Seconds(1));  // Within the default 2 s: the file is not looked at.
  CHECK(store->Current() == before);
  CHECK(store->reloads() == 0);

  f.clock.Advance(absl::Seconds(1));
  CHECK(BobMayWrite(*store));
  CHECK(store->reloads() == 1);
  CHECK(store->Current() != before);

  // Unchanged since: the next checks keep the same policy object.
  const std::shared_ptr<const Policy> after = store->Current();
  f.clock.Advance(absl::Seconds(10));
  CHECK(store->Current() == after);
  CHECK(store->reloads() == 1);
}

TEST_CASE("a bad change keeps the policy in force, counted once until the file changes again") {
  Fixture f;
  WriteFile(f.path, kBobReads);
  std::unique_ptr<PolicyStore> store = f.Open();
  const std::shared_ptr<const Policy> before = store->Current();

  WriteFile(f.path, "p, ds, models.write, squad\ng, user:bob, risk:ds\nz\n");
  f.clock.Advance(absl::Seconds(2));
  CHECK(store->Current() == before);
  CHECK(store->reload_failures() == 1);
  f.clock.Advance(absl::Seconds(2));
  CHECK(store->Current() == before);
  CHECK(store->reload_failures() == 1);
  CHECK(store->reloads() == 0);

  WriteFile(f.path, kBobReadsAndWrites);
  f.clock.Advance(absl::Seconds(2));
  CHECK(BobMayWrite(*store));
  CHECK(store->reloads() == 1);
  CHECK(store->reload_failures() == 1);
}

TEST_CASE("a removed file keeps the policy in force; its return is loaded") {
  Fixture f;
  WriteFile(f.path, kBobReads);
  std::unique_ptr<PolicyStore> store = f.Open();
  REQUIRE(std::remove(f.path.c_str()) == 0);
  f.clock.Advance(absl::Seconds(2));
  CHECK(store->Current()->Decide({"user:bob", {}}, "models.read", "risk").allowed);
  f.clock.Advance(absl::Seconds(2));
  store->Current();
  CHECK(store->reload_failures() == 1);

  WriteFile(f.path, kBobReadsAndWrites);
  f.clock.Advance(absl::Seconds(2));
  CHECK(BobMayWrite(*store));
  CHECK(store->reloads() == 1);
}

TEST_CASE("the check interval is an option") {
  Fixture f;
  WriteFile(f.path, kBobReads);
  PolicyStore::Options options;
  options.path = f.path;
  options.clock = &f.clock;
  options.reload_check_interval = absl::Milliseconds(100);
  std::unique_ptr<PolicyStore> store = *PolicyStore::Create(options);
  WriteFile(f.path, kBobReadsAndWrites);
  f.clock.Advance(absl::Milliseconds(99));
  CHECK_FALSE(BobMayWrite(*store));
  f.clock.Advance(absl::Milliseconds(1));
  CHECK(BobMayWrite(*store));
}

TEST_CASE("readers on many threads always get a whole policy while it reloads") {
  Fixture f;
  WriteFile(f.path, kBobReads);
  std::unique_ptr<PolicyStore> store = f.Open();
  WriteFile(f.path, kBobReadsAndWrites);
  std::vector<std::thread> readers;
  std::atomic<int> missing{0};
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        const std::shared_ptr<const Policy> policy = store->Current();
        if (policy == nullptr || !policy->Decide({"user:bob", {}}, "models.read", "risk").allowed) {
          ++missing;
        }
      }
    });
  }
  f.clock.Advance(absl::Seconds(2));
  for (std::thread& reader : readers) reader.join();
  CHECK(missing == 0);
  CHECK(BobMayWrite(*store));
  CHECK(store->reloads() == 1);
}

}  // namespace
}  // namespace fabrique::auth
