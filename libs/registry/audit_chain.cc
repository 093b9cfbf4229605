#include "libs/registry/audit_chain.h"

namespace fabrique::registry {

using core::CanonicalBytes;
using core::Sha256Hex;

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

}  // namespace fabrique::registry
