#include "libs/registry/audit_chain.h"

#include <cstring>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "openssl/evp.h"

namespace fabrique::registry {
namespace {

// The canonical encoding AuditEntryHash digests (see the header).
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

std::string Sha256Hex(const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(digest), length));
}

}  // namespace

std::string AuditEntryHash(const v1::AuditEntry& entry) {
  CanonicalBytes out;
  out.Int64(entry.sequence());
  out.Int64(entry.time().seconds());
  out.Int32(entry.time().nanos());
  out.String(entry.actor().subject());
  out.Int32(entry.actor().roles_size());
  for (const std::string& role : entry.actor().roles()) out.String(role);
  out.String(entry.actor().squad());
  out.String(entry.action());
  out.String(entry.target());
  out.String(entry.before_json());
  out.String(entry.after_json());
  out.String(entry.prev_hash());
  out.Int64(entry.revision());
  // Appended only when given, so entries sealed before the field existed keep their hash.
  if (!entry.reason().empty()) out.String(entry.reason());
  // The service that acted for the user, tagged so it cannot be mistaken for a reason.
  if (!entry.actor().service().empty()) {
    out.String("service");
    out.String(entry.actor().service());
  }
  return Sha256Hex(out.bytes());
}

void SealAuditEntry(v1::AuditEntry* entry, absl::string_view prev_hash) {
  entry->set_prev_hash(std::string(prev_hash));
  entry->set_hash(AuditEntryHash(*entry));
}

bool AuditChainVerifier::Fail(const v1::AuditEntry& entry, std::string detail) {
  result_.valid = false;
  result_.first_bad_sequence = entry.sequence() != 0 ? entry.sequence() : prev_sequence_ + 1;
  result_.detail = std::move(detail);
  return false;
}

bool AuditChainVerifier::Add(const v1::AuditEntry& entry) {
  if (!result_.valid) return false;
  if (entry.sequence() != prev_sequence_ + 1) {
    return Fail(entry, absl::StrCat("entry ", entry.sequence(), " follows entry ", prev_sequence_,
                                    ": an entry is missing or out of order"));
  }
  if (entry.prev_hash() != result_.head_hash) {
    return Fail(entry, absl::StrCat("entry ", entry.sequence(), " links to ",
                                    entry.prev_hash().empty() ? "nothing" : entry.prev_hash(),
                                    " but the entry before it hashes to ",
                                    result_.head_hash.empty() ? "nothing" : result_.head_hash));
  }
  const std::string hash = AuditEntryHash(entry);
  if (entry.hash() != hash) {
    return Fail(entry, absl::StrCat("entry ", entry.sequence(),
                                    " was changed after it was written: its content hashes to ",
                                    hash, ", not the recorded ", entry.hash()));
  }
  ++result_.entries_checked;
  prev_sequence_ = entry.sequence();
  result_.head_hash = hash;
  return true;
}

}  // namespace fabrique::registry
