#include "libs/monitoring/intake/intake_keys.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "libs/kv/key_codec.h"

namespace fabrique::monitoring {
namespace {

// The two kinds of pending key: the first byte keeps them apart in one family.
constexpr uint8_t kPendingById = 1;
constexpr uint8_t kPendingByEntity = 2;

kv::KeyBuilder EntityPrefixBuilder(absl::string_view model, absl::string_view entity,
                                   absl::string_view entity_key) {
  kv::KeyBuilder builder;
  builder.AddString(model).AddString(entity).AddString(entity_key);
  return builder;
}

kv::KeyBuilder PendingEntityPrefixBuilder(absl::string_view model, absl::string_view entity,
                                          absl::string_view entity_key) {
  kv::KeyBuilder builder;
  builder.AddUint8(kPendingByEntity).AddString(model).AddString(entity).AddString(entity_key);
  return builder;
}

}  // namespace

int64_t TimestampMicros(const google::protobuf::Timestamp& timestamp) {
  return timestamp.seconds() * 1'000'000 + timestamp.nanos() / 1'000;
}

int64_t TimeMicros(absl::Time time) {
  if (time == absl::InfinitePast()) return std::numeric_limits<int64_t>::min();
  if (time == absl::InfiniteFuture()) return std::numeric_limits<int64_t>::max();
  return absl::ToUnixMicros(time);
}

std::string PredictionKey(absl::string_view model, int64_t version, int64_t time_micros,
                          absl::string_view prediction_id) {
  std::string key;
  AppendPredictionKey(&key, model, version, time_micros, prediction_id);
  return key;
}

void AppendPredictionKey(std::string* out, absl::string_view model, int64_t version,
                         int64_t time_micros, absl::string_view prediction_id) {
  kv::AppendString(out, model);
  kv::AppendInt64(out, version);
  kv::AppendInt64(out, time_micros);
  kv::AppendString(out, prediction_id);
}

std::string PredictionVersionPrefix(absl::string_view model, int64_t version) {
  return kv::KeyBuilder().AddString(model).AddInt64(version).key();
}

absl::StatusOr<int64_t> PredictionTimeAfter(absl::string_view key, size_t prefix_size) {
  absl::StatusOr<int64_t> time = absl::DataLossError("");
  if (prefix_size <= key.size()) time = kv::KeyReader(key.substr(prefix_size)).ReadInt64();
  if (!time.ok()) {
    return absl::DataLossError(absl::StrCat("a stored prediction key is malformed (", key.size(),
                                            " bytes): it holds no time"));
  }
  return time;
}

kv::KeyRange PredictionRange(absl::string_view model, int64_t version, int64_t from_micros,
                             int64_t to_micros) {
  const std::string version_prefix = PredictionVersionPrefix(model, version);
  std::string begin = kv::KeyBuilder(version_prefix).AddInt64(from_micros).key();
  std::string end = kv::KeyBuilder(version_prefix).AddInt64(to_micros).key();
  return kv::KeyRange::Between(begin, end);
}

absl::StatusOr<PredictionKeyParts> DecodePredictionKey(absl::string_view key) {
  kv::KeyReader reader(key);
  PredictionKeyParts parts;
  auto model = reader.ReadString();
  auto version = reader.ReadInt64();
  auto time = reader.ReadInt64();
  auto id = reader.ReadString();
  if (!model.ok() || !version.ok() || !time.ok() || !id.ok() || !reader.done()) {
    return absl::DataLossError(
        absl::StrCat("a stored prediction key is malformed (", key.size(), " bytes)"));
  }
  parts.model = *std::move(model);
  parts.version = *version;
  parts.time_micros = *time;
  parts.prediction_id = *std::move(id);
  return parts;
}

std::string PredictionIdKey(absl::string_view prediction_id) {
  std::string key;
  AppendPredictionIdKey(&key, prediction_id);
  return key;
}

void AppendPredictionIdKey(std::string* out, absl::string_view prediction_id) {
  kv::AppendString(out, prediction_id);
}

std::string EntityIndexModelPrefix(absl::string_view model) {
  return kv::KeyBuilder().AddString(model).key();
}

std::string EntityIndexEntityPrefix(absl::string_view model, absl::string_view entity) {
  return kv::KeyBuilder().AddString(model).AddString(entity).key();
}

absl::StatusOr<std::string> EntityOfIndexKey(absl::string_view key) {
  kv::KeyReader reader(key);
  absl::StatusOr<std::string> model = reader.ReadString();
  absl::StatusOr<std::string> entity = model.ok() ? reader.ReadString() : model.status();
  if (!entity.ok()) return absl::DataLossError("a stored entity index key is malformed");
  return *std::move(entity);
}

std::string EntityIndexPrefix(absl::string_view model, absl::string_view entity,
                              absl::string_view entity_key) {
  return EntityPrefixBuilder(model, entity, entity_key).key();
}

std::string EntityIndexKey(absl::string_view model, absl::string_view entity,
                           absl::string_view entity_key, int64_t time_micros,
                           absl::string_view prediction_id) {
  std::string key;
  AppendEntityIndexKey(&key, model, entity, entity_key, time_micros, prediction_id);
  return key;
}

void AppendEntityIndexKey(std::string* out, absl::string_view model, absl::string_view entity,
                          absl::string_view entity_key, int64_t time_micros,
                          absl::string_view prediction_id) {
  // As EntityPrefixBuilder(...).AddDescendingInt64(time_micros).AddString(prediction_id).
  kv::AppendString(out, model);
  kv::AppendString(out, entity);
  kv::AppendString(out, entity_key);
  kv::AppendDescendingInt64(out, time_micros);
  kv::AppendString(out, prediction_id);
}

absl::StatusOr<EntityIndexKeyParts> DecodeEntityIndexKey(absl::string_view key) {
  kv::KeyReader reader(key);
  auto model = reader.ReadString();
  auto entity = reader.ReadString();
  auto entity_key = reader.ReadString();
  auto time = reader.ReadDescendingInt64();
  auto id = reader.ReadString();
  if (!model.ok() || !entity.ok() || !entity_key.ok() || !time.ok() || !id.ok() || !reader.done()) {
    return absl::DataLossError(
        absl::StrCat("a stored entity index key is malformed (", key.size(), " bytes)"));
  }
  return EntityIndexKeyParts{*std::move(model), *std::move(entity), *std::move(entity_key), *time,
                             *std::move(id)};
}

std::string EntityIndexSeekKey(absl::string_view model, absl::string_view entity,
                               absl::string_view entity_key, int64_t time_micros) {
  return EntityPrefixBuilder(model, entity, entity_key).AddDescendingInt64(time_micros).key();
}

std::string PendingByIdKey(absl::string_view prediction_id) {
  return kv::KeyBuilder().AddUint8(kPendingById).AddString(prediction_id).key();
}

std::string PendingByEntityKey(absl::string_view model, absl::string_view entity,
                               absl::string_view entity_key, int64_t event_time_micros,
                               absl::string_view batch_id, uint32_t row) {
  return PendingEntityPrefixBuilder(model, entity, entity_key)
      .AddInt64(event_time_micros)
      .AddString(batch_id)
      .AddUint32(row)
      .key();
}

kv::KeyRange PendingByEntityRange(absl::string_view model, absl::string_view entity,
                                  absl::string_view entity_key, int64_t from_micros) {
  const std::string prefix = PendingEntityPrefixBuilder(model, entity, entity_key).key();
  return kv::KeyRange::Between(kv::KeyBuilder(prefix).AddInt64(from_micros).key(),
                               kv::PrefixSuccessor(prefix));
}

kv::KeyRange PendingByIdAll() {
  return kv::KeyRange::Prefix(kv::KeyBuilder().AddUint8(kPendingById).key());
}

kv::KeyRange PendingByEntityAll() {
  return kv::KeyRange::Prefix(kv::KeyBuilder().AddUint8(kPendingByEntity).key());
}

std::string BatchKey(BatchKind kind, absl::string_view batch_id) {
  return kv::KeyBuilder().AddUint8(static_cast<uint8_t>(kind)).AddString(batch_id).key();
}

}  // namespace fabrique::monitoring
