#ifndef FABRIQUE_TOOLS_CLI_FEATURES_APPLY_PROGRESS_H_
#define FABRIQUE_TOOLS_CLI_FEATURES_APPLY_PROGRESS_H_

// Applies an aggregation group through ApplyFeatureGroupWithProgress: when its source group
// already has history, the server computes the tiles from it before answering (the backfill), and
// this shows how far it got on stderr (a bar on a terminal, plain lines in a log) and ends with a
// line saying what was backfilled. stdout is left to the caller's summary.

#include <ostream>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "fabrique/v1/features.pb.h"
#include "tools/cli/features_client.h"

namespace fabrique::cli {

struct ApplyProgressOptions {
  absl::Duration timeout = absl::Hours(1);  // Deadline of the whole call, backfill included.
  bool terminal = false;                    // Draw a bar in place rather than print lines.
  std::ostream* progress = nullptr;         // Where progress goes; nullptr = std::cerr.
};

// Sends `request` on ApplyFeatureGroupWithProgress and returns the response its last message
// carries; fails as the call does, or INTERNAL when the stream ends without a response.
absl::StatusOr<v1::ApplyFeatureGroupResponse> ApplyFeatureGroupWithProgress(
    const FeatureStoreClient& client, const v1::ApplyFeatureGroupRequest& request,
    const ApplyProgressOptions& options);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_FEATURES_APPLY_PROGRESS_H_
