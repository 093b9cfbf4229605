#include "libs/monitoring/intake/intake_values.h"

#include <optional>

#include "absl/strings/match.h"
#include "libs/core/status_macros.h"
#include "libs/core/stored_proto.h"
#include "libs/kv/key_codec.h"
#include "libs/monitoring/intake/intake_keys.h"

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

// A prediction key ends with its id's string terminator, 0x00 0x01 (kv::AppendString), and a
// compact entity value with its fixed-width version, so a byte after either is unambiguous.
constexpr char kSoleEntityMark = 'S';
constexpr absl::string_view kCompactMark("\x00\x02", 2);
constexpr size_t kVersionBytes = 8;

// The body of a compact index value behind its mark, or nullopt for a full one.
std::optional<absl::string_view> CompactBody(absl::string_view body) {
  if (!absl::StartsWith(body, kCompactMark)) return std::nullopt;
  body.remove_prefix(kCompactMark.size());
  return body;
}

void AppendEntityIndexValue(std::string* out, int64_t time_micros, int64_t version,
                            bool sole_entity) {
  kv::AppendInt64(out, time_micros);
  out->append(kCompactMark.data(), kCompactMark.size());
  kv::AppendInt64(out, version);
  if (sole_entity) out->push_back(kSoleEntityMark);
}

absl::StatusOr<EntityIndexValue> DecodeEntityIndexValue(absl::string_view key,
                                                        absl::string_view value) {
  ASSIGN_OR_RETURN(TimedValue timed, SplitTime(value));
  EntityIndexValue decoded;
  decoded.time_micros = timed.time_micros;
  std::optional<absl::string_view> compact = CompactBody(timed.body);
  absl::string_view rest = compact ? *compact : timed.body;
  if (!rest.empty() && rest.back() == kSoleEntityMark &&
      (!compact || rest.size() == kVersionBytes + 1)) {
    rest.remove_suffix(1);
    decoded.sole_entity = true;
  }
  if (!compact) {
    decoded.prediction_key = std::string(rest);
    return decoded;
  }
  kv::KeyReader reader(rest);
  absl::StatusOr<int64_t> version = reader.ReadInt64();
  if (!version.ok() || !reader.done()) {
    return absl::DataLossError("a stored entity index value is malformed");
  }
  ASSIGN_OR_RETURN(EntityIndexKeyParts parts, DecodeEntityIndexKey(key));
  decoded.prediction_key =
      PredictionKey(parts.model, *version, decoded.time_micros, parts.prediction_id);
  return decoded;
}

void AppendPredictionIdValue(std::string* out, int64_t time_micros, absl::string_view model,
                             int64_t version) {
  kv::AppendInt64(out, time_micros);
  out->append(kCompactMark.data(), kCompactMark.size());
  kv::AppendString(out, model);
  kv::AppendInt64(out, version);
}

absl::StatusOr<std::string> DecodePredictionIdValue(absl::string_view prediction_id,
                                                    absl::string_view value) {
  ASSIGN_OR_RETURN(TimedValue timed, SplitTime(value));
  std::optional<absl::string_view> compact = CompactBody(timed.body);
  if (!compact) return std::string(timed.body);
  kv::KeyReader reader(*compact);
  absl::StatusOr<std::string> model = reader.ReadString();
  absl::StatusOr<int64_t> version = model.ok() ? reader.ReadInt64() : model.status();
  if (!version.ok() || !reader.done()) {
    return absl::DataLossError("a stored prediction ids value is malformed");
  }
  return PredictionKey(*model, *version, timed.time_micros, prediction_id);
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
