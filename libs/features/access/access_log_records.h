#ifndef FABRIQUE_LIBS_FEATURES_ACCESS_ACCESS_LOG_RECORDS_H_
#define FABRIQUE_LIBS_FEATURES_ACCESS_ACCESS_LOG_RECORDS_H_

// The access log's records and their tamper evidence. In one column family (default
// "access_log"), keyed with kv::KeyBuilder:
//   ("r", sequence)          -> PersonalDataRead (serialized), the chain in sequence order
//   ("g", group, sequence)   -> ""   index: the reads of a group, for "who read it"
// Sequences are uint64 key components, so key order is sequence order and a reverse walk over a
// group's index lists its reads newest first.
//
// Each entry is chained (libs/core/hash_chain.h): its hash covers, in canonical form, sequence,
// time, the caller (subject, roles, squad, service), call, group, features, entity count,
// dataset id and prev_hash.

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "fabrique/v1/features.pb.h"

namespace fabrique::features {

// Lowercase hex SHA-256 of `read`'s canonical encoding, every field but `hash` included.
std::string PersonalDataReadHash(const v1::PersonalDataRead& read);

// Links `read` to the entry whose hash is `prev_hash` ("" for the first) and sets its hash. Call
// once every other field is final.
void SealPersonalDataRead(v1::PersonalDataRead* read, absl::string_view prev_hash);

// Keys of the layout above.
std::string ReadKey(uint64_t sequence);
std::string ReadsPrefix();
std::string GroupReadKey(absl::string_view group, uint64_t sequence);
std::string GroupReadsPrefix(absl::string_view group);

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_ACCESS_ACCESS_LOG_RECORDS_H_
