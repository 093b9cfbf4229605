#include "libs/core/hash_chain.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace fabrique::core {

bool HashChainVerifier::Fail(int64_t sequence, std::string detail) {
  result_.valid = false;
  result_.first_bad_sequence = sequence != 0 ? sequence : prev_sequence_ + 1;
  result_.detail = std::move(detail);
  return false;
}

bool HashChainVerifier::Add(int64_t sequence, absl::string_view prev_hash,
                            absl::string_view stored_hash, absl::string_view content_hash) {
  if (!result_.valid) return false;
  if (sequence != prev_sequence_ + 1) {
    return Fail(sequence, absl::StrCat("entry ", sequence, " follows entry ", prev_sequence_,
                                       ": an entry is missing or out of order"));
  }
  if (prev_hash != result_.head_hash) {
    return Fail(sequence, absl::StrCat("entry ", sequence, " links to ",
                                       prev_hash.empty() ? "nothing" : prev_hash,
                                       " but the entry before it hashes to ",
                                       result_.head_hash.empty() ? "nothing" : result_.head_hash));
  }
  if (stored_hash != content_hash) {
    return Fail(sequence, absl::StrCat("entry ", sequence,
                                       " was changed after it was written: its content hashes to ",
                                       content_hash, ", not the recorded ", stored_hash));
  }
  ++result_.entries_checked;
  prev_sequence_ = sequence;
  result_.head_hash = std::string(content_hash);
  return true;
}

}  // namespace fabrique::core
