#ifndef FABRIQUE_SERVICES_INFERENCE_BATCHING_CONFIG_H_
#define FABRIQUE_SERVICES_INFERENCE_BATCHING_CONFIG_H_

// The batching flags of fabrique-inference: the preferred batch sizes (--preferred_batch_sizes)
// and the per-model overrides file (--batching_file), a CSV with one model per line:
//
//   model,max_batch_size,max_queue_delay_us,preferred,instances
//   churn,64,500,8;16;32,2
//   fraud,,,,4
//
// The header line is optional; '#' starts a comment; an empty field keeps the server-wide value;
// `preferred` lists sizes separated by ';' (commas separate the fields).

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/serving/dynamic_batcher.h"

namespace fabrique::services {

// "8,16,32" (or ';'-separated) as sorted sizes; "" = none. INVALID_ARGUMENT naming `flag` and
// the entry when one is not a positive whole number.
absl::StatusOr<std::vector<int>> ParseBatchSizes(absl::string_view text, absl::string_view flag);

// The overrides in `csv` (the file's text), each starting from `defaults`. INVALID_ARGUMENT
// naming `source`, the line and the field at fault (a wrong field count, a number that is not
// one, a model given twice).
absl::StatusOr<std::map<std::string, serving::BatcherOptions>> ParseBatchingOverrides(
    absl::string_view csv, const serving::BatcherOptions& defaults, absl::string_view source);

// ParseBatchingOverrides of the file at `path`; NOT_FOUND naming it when it cannot be read.
absl::StatusOr<std::map<std::string, serving::BatcherOptions>> ReadBatchingFile(
    const std::string& path, const serving::BatcherOptions& defaults);

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_INFERENCE_BATCHING_CONFIG_H_
