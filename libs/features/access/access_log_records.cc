#include "libs/features/access/access_log_records.h"

#include "libs/core/hash_chain.h"
#include "libs/kv/key_codec.h"

namespace fabrique::features {

std::string PersonalDataReadHash(const v1::PersonalDataRead& read) {
  core::CanonicalBytes out;
  out.Int64(read.sequence());
  out.Int64(read.time().seconds());
  out.Int32(read.time().nanos());
  out.String(read.caller().subject());
  out.Int32(read.caller().roles_size());
  for (const std::string& role : read.caller().roles()) out.String(role);
  out.String(read.caller().squad());
  out.String(read.caller().service());
  out.String(read.call());
  out.String(read.group());
  out.Int32(read.features_size());
  for (const std::string& feature : read.features()) out.String(feature);
  out.Int64(read.entity_count());
  out.String(read.dataset_id());
  out.String(read.prev_hash());
  return core::Sha256Hex(out.bytes());
}

void SealPersonalDataRead(v1::PersonalDataRead* read, absl::string_view prev_hash) {
  read->set_prev_hash(std::string(prev_hash));
  read->set_hash(PersonalDataReadHash(*read));
}

std::string ReadsPrefix() { return kv::KeyBuilder().AddString("r").key(); }

std::string ReadKey(uint64_t sequence) {
  return kv::KeyBuilder().AddString("r").AddUint64(sequence).key();
}

std::string GroupReadsPrefix(absl::string_view group) {
  return kv::KeyBuilder().AddString("g").AddString(group).key();
}

std::string GroupReadKey(absl::string_view group, uint64_t sequence) {
  return kv::KeyBuilder().AddString("g").AddString(group).AddUint64(sequence).key();
}

}  // namespace fabrique::features
