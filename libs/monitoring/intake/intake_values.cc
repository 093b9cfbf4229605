#include "libs/monitoring/intake/intake_values.h"

#include "libs/core/status_macros.h"
#include "libs/core/stored_proto.h"
#include "libs/kv/key_codec.h"

namespace fabrique::monitoring {
namespace {

// Flag bits of the byte that precedes a stored prediction record; room for more.
constexpr uint8_t kUnknownVersion = 1;

}  // namespace

std::string WithTime(int64_t time_micros, absl::string_view body) {
  std::string value;
  value.reserve(kTimeHeaderBytes + body.size());
  kv::AppendInt64(&value, time_micros);
  value.append(body.data(), body.size());
  return value;
}

absl::StatusOr<TimedValue> SplitTime(absl::string_view value) {
  kv::KeyReader reader(value);
  absl::StatusOr<int64_t> time = reader.ReadInt64();
  if (!time.ok()) return absl::DataLossError("a stored intake value has no time header");
  return TimedValue{*time, reader.remaining()};
}

// A prediction key ends with its id's string terminator, 0x00 0x01 (kv::AppendString), so a
// byte after it is unambiguous.
constexpr char kSoleEntityMark = 'S';

std::string EncodeEntityIndexValue(int64_t time_micros, absl::string_view prediction_key,
                                   bool sole_entity) {
  std::string value = WithTime(time_micros, prediction_key);
  if (sole_entity) value.push_back(kSoleEntityMark);
  return value;
}

absl::StatusOr<EntityIndexValue> DecodeEntityIndexValue(absl::string_view value) {
  ASSIGN_OR_RETURN(TimedValue timed, SplitTime(value));
  EntityIndexValue decoded;
  decoded.time_micros = timed.time_micros;
  decoded.prediction_key = timed.body;
  if (!timed.body.empty() && timed.body.back() == kSoleEntityMark) {
    decoded.prediction_key.remove_suffix(1);
    decoded.sole_entity = true;
  }
  return decoded;
}

std::string EncodePrediction(int64_t time_micros, const v1::PredictionRecord& record,
                             bool unknown_version) {
  std::string body(1, static_cast<char>(unknown_version ? kUnknownVersion : 0));
  record.AppendToString(&body);
  return WithTime(time_micros, body);
}

absl::StatusOr<StoredPrediction> DecodePrediction(absl::string_view value) {
  ASSIGN_OR_RETURN(TimedValue timed, SplitTime(value));
  if (timed.body.empty()) return absl::DataLossError("a stored prediction has no flags");
  StoredPrediction stored;
  stored.unknown_version = (static_cast<uint8_t>(timed.body[0]) & kUnknownVersion) != 0;
  ASSIGN_OR_RETURN(stored.record, core::ParseStored<v1::PredictionRecord>(timed.body.substr(1),
                                                                          "prediction record"));
  return stored;
}

}  // namespace fabrique::monitoring
