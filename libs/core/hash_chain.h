#ifndef FABRIQUE_LIBS_CORE_HASH_CHAIN_H_
#define FABRIQUE_LIBS_CORE_HASH_CHAIN_H_

// Tamper evidence for append-only logs (the registry's audit trail, the feature store's access
// log): each entry carries a sequence (1, 2, ... with no gaps), the hash of the entry before it
// and its own hash over every other field, so changing, removing, inserting or reordering any
// entry breaks the chain at that entry, and a verifier names the first bad one.
//
//   CanonicalBytes out;  out.Int64(entry.sequence());  out.String(entry.who());  ...
//   entry.set_hash(Sha256Hex(out.bytes()));       // the log's own EntryHash(entry)
//
//   HashChainVerifier verifier;                    // walking stored entries in sequence order
//   for (...) if (!verifier.Add(e.sequence(), e.prev_hash(), e.hash(), EntryHash(e))) break;
//   verifier.result()                              // valid, first_bad_sequence, detail, head_hash
//
// Hashes cover a canonical encoding, never protobuf's wire bytes, which a library upgrade may
// reorder: integers little-endian, each string as uint32 length + bytes.

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/string_view.h"
#include "libs/core/sha256.h"  // Sha256Hex, which entry hashes use.

namespace fabrique::core {

// The canonical encoding a chained entry's hash covers.
class CanonicalBytes {
 public:
  void Int64(int64_t value) { Fixed(value); }
  void Int32(int32_t value) { Fixed(value); }
  void String(absl::string_view value) {
    Fixed(static_cast<uint32_t>(value.size()));
    bytes_.append(value.data(), value.size());
  }
  const std::string& bytes() const { return bytes_; }

 private:
  template <typename T>
  void Fixed(T value) {
    char raw[sizeof(T)];
    std::memcpy(raw, &value, sizeof(T));  // Little-endian hosts only, as the row codec.
    bytes_.append(raw, sizeof(T));
  }
  std::string bytes_;
};

// What a verification found.
struct HashChainResult {
  bool valid = true;
  int64_t entries_checked = 0;
  int64_t first_bad_sequence = 0;  // 0 = none.
  std::string detail;              // Why the first bad entry is bad.
  std::string head_hash;           // Hash of the last good entry checked.
};

// Checks entries fed in sequence order: consecutive sequences, each prev_hash equal to the hash
// of the entry before, each hash equal to the entry's own. Stops at the first bad entry.
class HashChainVerifier {
 public:
  // Starting mid-chain: the hash of the entry before the first one fed, and its sequence
  // ("" and 0 from the start of the chain).
  explicit HashChainVerifier(std::string prev_hash = "", int64_t prev_sequence = 0)
      : prev_sequence_(prev_sequence) {
    result_.head_hash = std::move(prev_hash);
  }

  // Checks the next entry: its sequence, the hash it links to, the hash stored with it and the
  // hash its content has now. False once an entry is bad (later calls are ignored).
  bool Add(int64_t sequence, absl::string_view prev_hash, absl::string_view stored_hash,
           absl::string_view content_hash);
  const HashChainResult& result() const { return result_; }

 private:
  bool Fail(int64_t sequence, std::string detail);

  int64_t prev_sequence_;
  HashChainResult result_;
};

}  // namespace fabrique::core

#endif  // FABRIQUE_LIBS_CORE_HASH_CHAIN_H_
