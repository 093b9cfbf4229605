#ifndef FABRIQUE_LIBS_MONITORING_INTAKE_INTAKE_KEYS_H_
#define FABRIQUE_LIBS_MONITORING_INTAKE_INTAKE_KEYS_H_

// The keys of the intake's column families (see intake_families.h), built with kv's
// order-preserving codec so that each family's natural query is one bounded, ordered scan:
//
//   predictions    (model, version, time, prediction id)    a version's records in a window
//   joined         the same key as the prediction it joins  the outcome beside its prediction
//   prediction_ids (prediction id)                          an outcome's join by id
//   entity_index   (model, entity, entity key, time desc, prediction id)
//                  one Seek finds the latest prediction at or before an event time (its value
//                  marks a prediction that named one entity alone: intake_values.h)
//   pending        (1, prediction id) or (2, model, entity, entity key, event time, batch, row)
//                  outcomes waiting for their prediction, found from the prediction's side
//   batches        (kind, batch id)                          idempotency of replayed batches
//
// Times are microseconds since the Unix epoch. These encodings are on disk: never change one.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "libs/kv/key_range.h"

namespace fabrique::monitoring {

// Microseconds since the epoch of a protobuf timestamp, and of an absl::Time (saturating at the
// infinite past and future, so open-ended windows need no special case).
int64_t TimestampMicros(const google::protobuf::Timestamp& timestamp);
int64_t TimeMicros(absl::Time time);

std::string PredictionKey(absl::string_view model, int64_t version, int64_t time_micros,
                          absl::string_view prediction_id);
// The same key appended to `out`: a batch builds its keys in one buffer (prepared_entries.h).
void AppendPredictionKey(std::string* out, absl::string_view model, int64_t version,
                         int64_t time_micros, absl::string_view prediction_id);
// Keys of `model` `version` with from_micros <= time < to_micros, in time order.
kv::KeyRange PredictionRange(absl::string_view model, int64_t version, int64_t from_micros,
                             int64_t to_micros);

// The encoded (model, version) that every prediction key of that version starts with; the
// prediction's time follows it (PredictionTimeAfter).
std::string PredictionVersionPrefix(absl::string_view model, int64_t version);
// The time of a prediction key whose version prefix is `prefix_size` bytes long, read without
// decoding the rest of the key; DATA_LOSS when the key is too short to hold one.
absl::StatusOr<int64_t> PredictionTimeAfter(absl::string_view key, size_t prefix_size);

struct PredictionKeyParts {
  std::string model;
  int64_t version = 0;
  int64_t time_micros = 0;
  std::string prediction_id;
};
// Takes a prediction key apart; DATA_LOSS when it is not one.
absl::StatusOr<PredictionKeyParts> DecodePredictionKey(absl::string_view key);

std::string PredictionIdKey(absl::string_view prediction_id);
void AppendPredictionIdKey(std::string* out, absl::string_view prediction_id);

// Every entity index entry of `model`, and of `model` for one entity name.
std::string EntityIndexModelPrefix(absl::string_view model);
std::string EntityIndexEntityPrefix(absl::string_view model, absl::string_view entity);
// The entity name of an entity index key; DATA_LOSS when it is not one.
absl::StatusOr<std::string> EntityOfIndexKey(absl::string_view key);
// Every indexed prediction of `model` for one entity key, newest first.
std::string EntityIndexPrefix(absl::string_view model, absl::string_view entity,
                              absl::string_view entity_key);
std::string EntityIndexKey(absl::string_view model, absl::string_view entity,
                           absl::string_view entity_key, int64_t time_micros,
                           absl::string_view prediction_id);
void AppendEntityIndexKey(std::string* out, absl::string_view model, absl::string_view entity,
                          absl::string_view entity_key, int64_t time_micros,
                          absl::string_view prediction_id);
struct EntityIndexKeyParts {
  std::string model;
  std::string entity;
  std::string entity_key;
  int64_t time_micros = 0;
  std::string prediction_id;
};
// Takes an entity index key apart; DATA_LOSS when it is not one.
absl::StatusOr<EntityIndexKeyParts> DecodeEntityIndexKey(absl::string_view key);
// The first key at or after this one in the entity's prefix is its latest prediction at or
// before `time_micros`: times sort newest first, and the bare prefix sorts before any id.
std::string EntityIndexSeekKey(absl::string_view model, absl::string_view entity,
                               absl::string_view entity_key, int64_t time_micros);

std::string PendingByIdKey(absl::string_view prediction_id);
std::string PendingByEntityKey(absl::string_view model, absl::string_view entity,
                               absl::string_view entity_key, int64_t event_time_micros,
                               absl::string_view batch_id, uint32_t row);
// Pending outcomes of one entity key whose event time is at or after `from_micros`: those a
// prediction made at `from_micros` may answer.
kv::KeyRange PendingByEntityRange(absl::string_view model, absl::string_view entity,
                                  absl::string_view entity_key, int64_t from_micros);
// Every pending outcome by prediction id; every one by entity.
kv::KeyRange PendingByIdAll();
kv::KeyRange PendingByEntityAll();
enum class BatchKind : uint8_t { kPredictions = 1, kOutcomes = 2 };
std::string BatchKey(BatchKind kind, absl::string_view batch_id);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_INTAKE_INTAKE_KEYS_H_
