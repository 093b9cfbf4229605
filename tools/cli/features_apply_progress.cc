#include "tools/cli/features_apply_progress.h"

#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "tools/cli/progress_bar.h"

namespace fabrique::cli {

absl::StatusOr<v1::ApplyFeatureGroupResponse> ApplyFeatureGroupWithProgress(
    const FeatureStoreClient& client, const v1::ApplyFeatureGroupRequest& request,
    const ApplyProgressOptions& options) {
  std::ostream* out = options.progress != nullptr ? options.progress : &std::cerr;
  const std::string call = absl::StrCat("group ", request.spec().name());
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context =
      client.NewContext(std::max(options.timeout, client.context().timeout));
  if (!context.ok()) return context.status();
  auto reader = client.stub()->ApplyFeatureGroupWithProgress(context->get(), request);

  const absl::Time start = absl::Now();
  // Made at the first progress message, which brings the estimate the percentage is of.
  std::unique_ptr<ProgressBar> bar;
  v1::AggregationBackfillProgress last;
  v1::ApplyFeatureGroupResponse response;
  bool answered = false;
  v1::ApplyFeatureGroupProgress message;
  while (reader->Read(&message)) {
    if (message.has_done()) {
      response = message.done();
      answered = true;
      continue;
    }
    if (!message.has_backfill()) continue;
    last = message.backfill();
    if (bar == nullptr) {
      ProgressBar::Options bar_options;
      bar_options.total_bytes = last.rows_estimate();
      bar_options.terminal = options.terminal;
      bar_options.label = absl::StrCat("backfill ", request.spec().name(), ":");
      bar_options.rows_verb = "scanned";
      bar = std::make_unique<ProgressBar>(bar_options, out);
    }
    bar->Update(last.rows_scanned(), last.rows_scanned());
  }
  const absl::Status status = client.Error(reader->Finish(), call);
  if (bar != nullptr) bar->Finish(last.rows_scanned(), last.rows_scanned());
  if (!status.ok()) return status;
  if (!answered) {
    return absl::InternalError(absl::StrCat(call,
                                            ": the feature store ended the apply without "
                                            "saying whether it was applied"));
  }
  // A source without history has nothing to say.
  if (bar != nullptr && last.rows_scanned() > 0) {
    *out << absl::StrFormat("group %s: backfilled from %d source rows of %d entities in %.1f s\n",
                            request.spec().name(), last.rows_scanned(), last.entities(),
                            absl::ToDoubleSeconds(absl::Now() - start));
  }
  return response;
}

}  // namespace fabrique::cli
