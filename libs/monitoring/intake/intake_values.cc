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
  AppendWithTime(&value, time_micros, body);
  return value;
}

void AppendWithTime(std::string* out, int64_t time_micros, absl::string_view body) {
  kv::AppendInt64(out, time_micros);
  out->append(body.data(), body.size());
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
  std::string value;
  AppendEntityIndexValue(&value, time_micros, prediction_key, sole_entity);
  return value;
}

void AppendEntityIndexValue(std::string* out, int64_t time_micros, absl::string_view prediction_key,
                            bool sole_entity) {
  AppendWithTime(out, time_micros, prediction_key);
  if (sole_entity) out->push_back(kSoleEntityMark);
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
  std::string value;
  AppendPrediction(&value, time_micros, record, unknown_version);
  return value;
}

void AppendPrediction(std::string* out, int64_t time_micros, const v1::PredictionRecord& record,
                      bool unknown_version) {
  kv::AppendInt64(out, time_micros);
  out->push_back(static_cast<char>(unknown_version ? kUnknownVersion : 0));
  // Serialised in place, behind the header: no copy of the record's bytes.
  record.AppendToString(out);
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
