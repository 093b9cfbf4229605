#include "libs/monitoring/intake/batch_results.h"

#include <initializer_list>
#include <vector>

#include "libs/kv/key_codec.h"

namespace fabrique::monitoring {
namespace {

// Counts in a fixed order, then (row, reason) pairs to the end. kv's codec is reused for its
// fixed-width integers and self-delimiting strings; the order it preserves is not needed here.
std::string Encode(std::initializer_list<int64_t> counts, const std::vector<RowError>& errors) {
  kv::KeyBuilder builder;
  for (int64_t count : counts) builder.AddInt64(count);
  for (const RowError& error : errors) builder.AddInt64(error.row).AddString(error.reason);
  return std::move(builder).key();
}

bool Decode(absl::string_view bytes, std::initializer_list<int64_t*> counts,
            std::vector<RowError>* errors) {
  kv::KeyReader reader(bytes);
  for (int64_t* count : counts) {
    absl::StatusOr<int64_t> value = reader.ReadInt64();
    if (!value.ok()) return false;
    *count = *value;
  }
  while (!reader.done()) {
    absl::StatusOr<int64_t> row = reader.ReadInt64();
    if (!row.ok()) return false;
    absl::StatusOr<std::string> reason = reader.ReadString();
    if (!reason.ok()) return false;
    errors->push_back(RowError{*row, *std::move(reason)});
  }
  return true;
}

absl::Status Corrupt() { return absl::DataLossError("a stored batch result is corrupt"); }

}  // namespace

std::string EncodeResult(const PredictionIntakeResult& r) {
  return Encode({r.accepted, r.duplicates, r.rejected, r.unknown_version, r.outcomes_joined,
                 r.outcomes_refused},
                r.errors);
}

std::string EncodeResult(const OutcomeIntakeResult& r) {
  return Encode({r.accepted, r.matched, r.pending, r.duplicates, r.rejected}, r.errors);
}

absl::StatusOr<PredictionIntakeResult> DecodePredictionResult(absl::string_view bytes) {
  PredictionIntakeResult r;
  if (!Decode(bytes,
              {&r.accepted, &r.duplicates, &r.rejected, &r.unknown_version, &r.outcomes_joined,
               &r.outcomes_refused},
              &r.errors)) {
    return Corrupt();
  }
  return r;
}

absl::StatusOr<OutcomeIntakeResult> DecodeOutcomeResult(absl::string_view bytes) {
  OutcomeIntakeResult r;
  if (!Decode(bytes, {&r.accepted, &r.matched, &r.pending, &r.duplicates, &r.rejected},
              &r.errors)) {
    return Corrupt();
  }
  return r;
}

}  // namespace fabrique::monitoring
