#ifndef FABRIQUE_LIBS_SERVING_ENTITY_ROWS_H_
#define FABRIQUE_LIBS_SERVING_ENTITY_ROWS_H_

// A model's input rows built from entity keys: the features the signature reads from the store
// (inputs with `feature` set) come from an online lookup, the others, and any store feature the
// caller chooses to override, from the request's supplied features (one value per row). In two
// steps around the lookup:
//
//   ASSIGN_OR_RETURN(EntityRowsPlan plan, PlanEntityRows(signature, keys, supplied));
//   ... look *plan.lookup up (skipped when it names no features) ...
//   ASSIGN_OR_RETURN(EntityRows rows, AssembleEntityRows(signature, plan, answer, supplied));
//
// Assembly refuses training/serving skew: a store feature served under another schema version,
// or as another type, than the model was trained on.

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "fabrique/v1/common.pb.h"
#include "fabrique/v1/features.pb.h"
#include "fabrique/v1/inference.pb.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "libs/serving/tensor_batch.h"

namespace fabrique::serving {

using EntityKeyColumns = google::protobuf::RepeatedPtrField<v1::EntityKeys>;
using SuppliedFeatures = google::protobuf::RepeatedPtrField<v1::FeatureColumn>;

// Where one signature input's values come from.
struct InputSource {
  bool supplied = false;  // True: supplied_features[index]; false: the lookup's column `index`.
  int index = 0;
  int64_t width = 1;  // Elements a row (the product of the shape's non-batch dimensions).
};

struct EntityRowsPlan {
  int64_t rows = 0;
  // The store features to read (signature order, each once) for the request's entity keys. No
  // features: every input was supplied, and no lookup is needed. Never null once planned. On an
  // arena of its own, which the pointer holds: at 100 rows and 50 features, built on the heap it
  // took some 250 allocations before the lookup could leave, and as many frees.
  std::shared_ptr<v1::LookupOnlineRequest> lookup;
  std::vector<InputSource> sources;  // One per signature input, in order.
};

struct EntityRows {
  TensorBatch inputs;  // One tensor per signature input, in order; `rows` rows.
  // Per row, the features that were not there: MISSING (no value, or null) or EXPIRED.
  std::vector<std::vector<v1::FeatureIssue>> issues;
};

// Checks the request against the signature and says what to look up. A supplied column names a
// store input by its feature (group and name), or any input by its tensor name with an empty
// group. INVALID_ARGUMENT, naming the culprit: entity keys missing, of different lengths, with no
// rows, an empty key, an entity named twice (or unnamed beside others); a supplied feature the
// model does not use, named twice, of the wrong length or of a type its input cannot take; an
// input not read from the store and not supplied. FAILED_PRECONDITION when an input is neither
// FP32 nor BYTES, or has a variable non-batch dimension (entity rows cannot feed it).
absl::StatusOr<EntityRowsPlan> PlanEntityRows(const v1::ModelSignature& signature,
                                              const EntityKeyColumns& entity_keys,
                                              const SuppliedFeatures& supplied);

// Builds the input rows from the lookup's answer (ignored when plan.lookup names no features) and
// the supplied features. Missing, expired and null values become NaN (numbers) or "" (strings)
// and are reported in `issues`. FAILED_PRECONDITION: training/serving skew ("feature g:f was
// trained on schema version 2, the store serves version 3", or another type), a stored vector of
// another length, or a missing value for an FP32 input whose nan_allowed is false. INVALID_ARGUMENT
// for the same faults in supplied values. INTERNAL when the answer does not match the lookup.
absl::StatusOr<EntityRows> AssembleEntityRows(const v1::ModelSignature& signature,
                                              const EntityRowsPlan& plan,
                                              const v1::LookupOnlineResponse& answer,
                                              const SuppliedFeatures& supplied);

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_ENTITY_ROWS_H_
