// The audit trail's hash chain: a sealed chain verifies; changing, removing, reordering or
// re-sealing an entry is caught at the first entry it breaks; verification can start mid-chain;
// and the canonical encoding is pinned, since stored chains must verify forever.

#include "libs/registry/audit_chain.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"

namespace fabrique::registry {
namespace {

v1::AuditEntry Entry(int64_t sequence) {
  v1::AuditEntry entry;
  entry.set_sequence(sequence);
  entry.mutable_time()->set_seconds(1'800'000'000 + sequence);
  entry.mutable_actor()->set_subject("dana");
  entry.mutable_actor()->add_roles("design-authority");
  entry.set_action("alias.set");
  entry.set_target("models/fraud/aliases/production");
  entry.set_after_json(absl::StrCat("{\"version\":\"", sequence, "\"}"));
  entry.set_revision(sequence * 10);
  return entry;
}

std::vector<v1::AuditEntry> Chain(int n) {
  std::vector<v1::AuditEntry> chain;
  std::string head;
  for (int i = 1; i <= n; ++i) {
    chain.push_back(Entry(i));
    SealAuditEntry(&chain.back(), head);
    head = chain.back().hash();
  }
  return chain;
}

AuditChainResult Verify(const std::vector<v1::AuditEntry>& entries,
                        AuditChainVerifier verifier = AuditChainVerifier()) {
  for (const v1::AuditEntry& entry : entries) {
    if (!verifier.Add(entry)) break;
  }
  return verifier.result();
}

TEST_CASE("A sealed chain verifies, and its head is the last hash", "[audit]") {
  const std::vector<v1::AuditEntry> chain = Chain(5);
  CHECK(chain[0].prev_hash().empty());
  CHECK(chain[3].prev_hash() == chain[2].hash());
  const AuditChainResult result = Verify(chain);
  CHECK(result.valid);
  CHECK(result.entries_checked == 5);
  CHECK(result.first_bad_sequence == 0);
  CHECK(result.head_hash == chain[4].hash());
  CHECK(Verify({}).valid);
}

TEST_CASE(
    "An entry a service made for a user verifies; changing or dropping its service does "
    "not",
    "[audit]") {
  std::vector<v1::AuditEntry> chain = Chain(3);
  // The middle entry: the trainer registered a version for dana.
  chain[1] = Entry(2);
  chain[1].set_action("version.register");
  chain[1].mutable_actor()->set_service("trainer");
  SealAuditEntry(&chain[1], chain[0].hash());
  SealAuditEntry(&chain[2], chain[1].hash());
  REQUIRE(Verify(chain).valid);

  for (const std::string& forged : {std::string("tower"), std::string()}) {
    std::vector<v1::AuditEntry> tampered = chain;
    tampered[1].mutable_actor()->set_service(forged);
    const AuditChainResult result = Verify(tampered);
    INFO("service changed to '" << forged << "': " << result.detail);
    CHECK_FALSE(result.valid);
    CHECK(result.first_bad_sequence == 2);
  }
}

TEST_CASE("Tampering is caught at the first entry it breaks", "[audit]") {
  std::vector<v1::AuditEntry> chain = Chain(5);
  SECTION("a changed field") {
    chain[2].set_after_json("{\"version\":\"99\"}");
    const AuditChainResult result = Verify(chain);
    CHECK_FALSE(result.valid);
    CHECK(result.first_bad_sequence == 3);
    CHECK(result.entries_checked == 2);
    CHECK(absl::StrContains(result.detail, "changed after it was written"));
    CHECK(result.head_hash == chain[1].hash());
  }
  SECTION("a reason added to an entry that had none") {
    chain[1].set_reason("approved in the review");
    CHECK(Verify(chain).first_bad_sequence == 2);
  }
  SECTION("a changed role, of the actor") {
    chain[0].mutable_actor()->set_roles(0, "intern");
    CHECK(Verify(chain).first_bad_sequence == 1);
  }
  SECTION("a changed entry re-sealed by the tamperer breaks the next link") {
    chain[2].set_after_json("{\"version\":\"99\"}");
    SealAuditEntry(&chain[2], chain[1].hash());
    const AuditChainResult result = Verify(chain);
    CHECK(result.first_bad_sequence == 4);
    CHECK(absl::StrContains(result.detail, "links to"));
  }
  SECTION("a removed entry") {
    chain.erase(chain.begin() + 1);
    const AuditChainResult result = Verify(chain);
    CHECK(result.first_bad_sequence == 3);
    CHECK(absl::StrContains(result.detail, "missing or out of order"));
  }
  SECTION("two entries swapped") {
    std::swap(chain[3], chain[4]);
    CHECK(Verify(chain).first_bad_sequence == 5);
  }
}

TEST_CASE("Verification can start mid-chain from the hash before it", "[audit]") {
  const std::vector<v1::AuditEntry> chain = Chain(6);
  const std::vector<v1::AuditEntry> tail(chain.begin() + 3, chain.end());
  CHECK(Verify(tail, AuditChainVerifier(chain[2].hash(), 3)).valid);
  CHECK_FALSE(Verify(tail, AuditChainVerifier(chain[1].hash(), 3)).valid);
  CHECK_FALSE(Verify(tail).valid);  // From the start: sequence 4 cannot come first.
}

TEST_CASE("The canonical encoding is pinned", "[audit]") {
  // Computed independently (Python hashlib over the encoding the header documents). If this
  // changes, every stored chain stops verifying: add a new format instead.
  v1::AuditEntry entry;
  entry.set_sequence(1);
  entry.mutable_time()->set_seconds(1'800'000'000);
  entry.mutable_time()->set_nanos(5);
  entry.mutable_actor()->set_subject("dana");
  entry.mutable_actor()->add_roles("design-authority");
  entry.mutable_actor()->add_roles("data-scientist");
  entry.mutable_actor()->set_squad("risk");
  entry.set_action("alias.set");
  entry.set_target("models/fraud/aliases/production");
  entry.set_after_json("{\"version\":\"3\"}");
  entry.set_revision(7);
  entry.set_hash("ignored: the hash never covers itself");
  CHECK(AuditEntryHash(entry) ==
        "f285f8be0021a9a4363000dc8be67c6448f23606a326173f31b6fad810ae9b45");
}

}  // namespace
}  // namespace fabrique::registry
