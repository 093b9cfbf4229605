#ifndef FABRIQUE_LIBS_REGISTRY_AUDIT_CHAIN_H_
#define FABRIQUE_LIBS_REGISTRY_AUDIT_CHAIN_H_

// The audit trail's tamper evidence (libs/core/hash_chain.h): each AuditEntry carries the SHA-256
// of the entry before it (prev_hash) and its own hash over every other field, so changing,
// removing, inserting or reordering any entry breaks the chain at that entry, and a verifier names
// the first bad one.
//
//   SealAuditEntry(&entry, head_hash);         // before storing a new entry
//   AuditChainVerifier verifier;               // walking stored entries in sequence order
//   for (...) if (!verifier.Add(entry)) break;
//   verifier.result()                          // valid, first_bad_sequence, detail, head_hash
//
// The hash covers a canonical encoding (AuditEntryHash), never protobuf's wire bytes, which a
// library upgrade may reorder: integers little-endian, each string as uint32 length + bytes,
// repeated fields as a uint32 count then their elements, in field-number order; `reason` last,
// and only when it is not empty (entries sealed before it existed keep their hashes).

#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "fabrique/v1/common.pb.h"
#include "libs/core/hash_chain.h"

namespace fabrique::registry {

// Lowercase hex SHA-256 of `entry`'s canonical encoding, every field but `hash` included.
std::string AuditEntryHash(const v1::AuditEntry& entry);

// Links `entry` to the chain whose last entry has hash `prev_hash` ("" for the first entry) and
// sets its hash. Call after every other field is final.
void SealAuditEntry(v1::AuditEntry* entry, absl::string_view prev_hash);

// What a verification found (the fields of VerifyAuditChainResponse).
using AuditChainResult = core::HashChainResult;

// Checks entries fed in sequence order (core::HashChainVerifier over AuditEntryHash).
class AuditChainVerifier {
 public:
  // Starting mid-chain: the hash of the entry before the first one fed, and its sequence
  // ("" and 0 from the start of the chain).
  explicit AuditChainVerifier(std::string prev_hash = "", int64_t prev_sequence = 0)
      : chain_(std::move(prev_hash), prev_sequence) {}

  // Checks the next entry; false once an entry is bad (later calls are ignored).
  bool Add(const v1::AuditEntry& entry) {
    return chain_.Add(entry.sequence(), entry.prev_hash(), entry.hash(), AuditEntryHash(entry));
  }
  const AuditChainResult& result() const { return chain_.result(); }

 private:
  core::HashChainVerifier chain_;
};

}  // namespace fabrique::registry

#endif  // FABRIQUE_LIBS_REGISTRY_AUDIT_CHAIN_H_
