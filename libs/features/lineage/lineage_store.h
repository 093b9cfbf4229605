#ifndef FABRIQUE_LIBS_FEATURES_LINEAGE_LINEAGE_STORE_H_
#define FABRIQUE_LIBS_FEATURES_LINEAGE_LINEAGE_STORE_H_

// Lineage: which datasets were built from which feature groups, and which model versions were
// trained on which datasets. It answers the data steward's question "which models depend on
// this feature group" without asking the registry.
//
// Records, in one column family (default "lineage"), keyed with kv::KeyBuilder:
//   ("d", dataset_id)                          -> Dataset (serialized, used_by left empty)
//   ("g", group, dataset_id)                   -> ""   index: datasets reading a group
//   ("u", dataset_id, model, version)          -> ""   a model version trained on a dataset
//   ("q", request_id)                          -> dataset_id "\n" spec fingerprint: a build's
//                                                 idempotency key
// Dataset ids are time-sortable (core::IdGenerator), so reverse key order is newest first.

#include <memory>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "fabrique/v1/features.pb.h"
#include "libs/core/clock.h"
#include "libs/core/ids.h"
#include "libs/kv/store.h"

namespace fabrique::features {

class LineageStore {
 public:
  struct Options {
    // Where records are kept. Required; not owned; must outlive the LineageStore.
    kv::Store* store = nullptr;
    // Dates dataset records. Not owned. Default: nullptr = the real clock.
    core::Clock* clock = nullptr;
    // Makes dataset ids. Not owned. Default: nullptr = core::IdGenerator::Default().
    core::IdGenerator* ids = nullptr;
    // Column family of the records; created when missing. Default: "lineage".
    std::string family = "lineage";
  };

  static absl::StatusOr<std::unique_ptr<LineageStore>> Create(Options options);

  // A fresh dataset id, for a caller that must announce the id before the record is complete
  // (a training set streams its header first). Pass it back in the record.
  std::string NewDatasetId() { return options_.ids->Next(); }

  // The dataset id of idempotency key `request_id`: the one an earlier build with that key was
  // given, else a fresh one, reserved for the key at once (so a retry that starts while the
  // first build still runs gets the same id too). `fingerprint` identifies what the key asks
  // for (a hash of the spec): a key reused for a different one is FAILED_PRECONDITION, since
  // its dataset is another's. An empty `request_id` always gets a fresh id.
  absl::StatusOr<std::string> DatasetIdFor(absl::string_view request_id,
                                           absl::string_view fingerprint);

  // Stores a dataset record and returns it with its id (kept if the record has one from
  // NewDatasetId or DatasetIdFor, else made) and create time set (the first recording's, when
  // the id was recorded before). The record must name at least one feature, each with a group
  // and feature name (INVALID_ARGUMENT). Written durably in one batch with its group index
  // entries.
  absl::StatusOr<v1::Dataset> RecordDataset(v1::Dataset dataset);

  // The dataset with its used_by filled in, or NOT_FOUND naming the id.
  absl::StatusOr<v1::Dataset> GetDataset(absl::string_view dataset_id) const;

  // Datasets newest first, optionally only those reading `request.group()`. Page size: default
  // 100, at most 1000; the page token is the last id of the previous page.
  // Only datasets `keep` accepts are listed (and counted in a page): a caller's view.
  absl::StatusOr<v1::ListDatasetsResponse> ListDatasets(
      const v1::ListDatasetsRequest& request,
      absl::FunctionRef<bool(const v1::Dataset&)> keep = KeepAll) const;
  static bool KeepAll(const v1::Dataset&) { return true; }

  // Records that `model_version` was trained on `dataset_id`. Idempotent. NOT_FOUND for an
  // unknown dataset; INVALID_ARGUMENT for an empty model name or a version < 1.
  absl::Status RecordUsage(absl::string_view dataset_id, const v1::ModelVersionRef& model_version);

  // The datasets that read `group` (newest first) and the model versions trained on them, each
  // with the group's features it used. A group no dataset reads has an empty lineage.
  absl::StatusOr<v1::FeatureGroupLineage> GroupLineage(absl::string_view group) const;

 private:
  LineageStore(Options options, kv::ColumnFamily family)
      : options_(std::move(options)), family_(family) {}

  // Reads the stored dataset record (used_by not filled).
  absl::StatusOr<v1::Dataset> ReadDataset(absl::string_view dataset_id) const;
  // Appends the model versions recorded for `dataset_id` to `dataset->used_by`.
  absl::Status FillUsedBy(v1::Dataset* dataset) const;

  const Options options_;
  const kv::ColumnFamily family_;
  absl::Mutex request_mu_;  // Makes DatasetIdFor's read-then-reserve one step.
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_LINEAGE_LINEAGE_STORE_H_
