#ifndef FABRIQUE_LIBS_MONITORING_INTAKE_INTAKE_VALUES_H_
#define FABRIQUE_LIBS_MONITORING_INTAKE_INTAKE_VALUES_H_

// The values of the intake's column families. Every value begins with the instant its age counts
// from (8 bytes, kv's Int64 encoding, microseconds since the epoch): the prediction's time for
// predictions and what indexes or joins them, the observe or event time for a pending outcome,
// the arrival time for a batch. The retention filter reads only those 8 bytes, so it drops
// entries of every family without knowing their keys or decoding a message.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabrique/v1/monitor.pb.h"

namespace fabrique::monitoring {

inline constexpr size_t kTimeHeaderBytes = 8;

// `body` behind the time header.
std::string WithTime(int64_t time_micros, absl::string_view body);
// The same value appended to `out`. The Append* forms let a batch build its values in one
// buffer (prepared_entries.h).
void AppendWithTime(std::string* out, int64_t time_micros, absl::string_view body);

struct TimedValue {
  int64_t time_micros = 0;
  absl::string_view body;  // Points into the value it was split from.
};
// Splits a stored value; DATA_LOSS when it is shorter than the header.
absl::StatusOr<TimedValue> SplitTime(absl::string_view value);

// A stored prediction: the record, and whether the model version was unknown when it came.
struct StoredPrediction {
  v1::PredictionRecord record;
  bool unknown_version = false;
};

// The values of the index entries (entity index, prediction ids) come in two layouts, both read:
//   compact  written now: the time header (the prediction's time), two mark bytes (0x00 0x02),
//            then only what the entry's key lacks of its prediction's key;
//   full     written by earlier versions of the monitor: the time header and the whole key of
//            the prediction.
// A full value's key begins with the model, a non-empty kv string, whose encoding never begins
// with the mark (kv::AppendString writes a 0x00 byte as 0x00 0xFF, and ends a string with 0x00
// 0x01). The compact layout keeps a third of the bytes each record writes to its indexes.

// An entity index entry's value: compact, the prediction's version; full, its key. Then, when the
// prediction named exactly one entity (by a non-empty name), a mark saying so: such an entry also
// answers the outcomes that name no entity (EntityEventKey.entity ""). Entries written before the
// mark existed have none; their predictions were indexed under "" as well, as a second entry
// (which also answers outcomes that name no entity).
void AppendEntityIndexValue(std::string* out, int64_t time_micros, int64_t version,
                            bool sole_entity);
struct EntityIndexValue {
  int64_t time_micros = 0;
  std::string prediction_key;
  bool sole_entity = false;
};
// Decodes the value of the entity index entry `key`; DATA_LOSS when either is malformed.
absl::StatusOr<EntityIndexValue> DecodeEntityIndexValue(absl::string_view key,
                                                        absl::string_view value);

// A prediction ids entry's value: compact, the prediction's model and version (its id is the
// entry's key); full, the prediction's key.
void AppendPredictionIdValue(std::string* out, int64_t time_micros, absl::string_view model,
                             int64_t version);
// The key of the prediction `prediction_id` whose ids entry holds `value`; DATA_LOSS when the
// value is malformed.
absl::StatusOr<std::string> DecodePredictionIdValue(absl::string_view prediction_id,
                                                    absl::string_view value);

std::string EncodePrediction(int64_t time_micros, const v1::PredictionRecord& record,
                             bool unknown_version);
void AppendPrediction(std::string* out, int64_t time_micros, const v1::PredictionRecord& record,
                      bool unknown_version);
absl::StatusOr<StoredPrediction> DecodePrediction(absl::string_view value);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_INTAKE_INTAKE_VALUES_H_
