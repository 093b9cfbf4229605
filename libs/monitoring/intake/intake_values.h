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

// An entity index entry's value: the time header, the key of its prediction and, when the
// prediction named exactly one entity (by a non-empty name), a mark saying so: such an entry
// also answers the outcomes that name no entity (EntityEventKey.entity ""). Entries written
// before the mark existed have none; their predictions were indexed under "" as well, as a second
// entry (which also answers outcomes that name no entity).
std::string EncodeEntityIndexValue(int64_t time_micros, absl::string_view prediction_key,
                                   bool sole_entity);
void AppendEntityIndexValue(std::string* out, int64_t time_micros, absl::string_view prediction_key,
                            bool sole_entity);
struct EntityIndexValue {
  int64_t time_micros = 0;
  absl::string_view prediction_key;  // Points into the value it was decoded from.
  bool sole_entity = false;
};
// DATA_LOSS when it is shorter than the header.
absl::StatusOr<EntityIndexValue> DecodeEntityIndexValue(absl::string_view value);

std::string EncodePrediction(int64_t time_micros, const v1::PredictionRecord& record,
                             bool unknown_version);
void AppendPrediction(std::string* out, int64_t time_micros, const v1::PredictionRecord& record,
                      bool unknown_version);
absl::StatusOr<StoredPrediction> DecodePrediction(absl::string_view value);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_INTAKE_INTAKE_VALUES_H_
