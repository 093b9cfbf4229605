#include "libs/features/lineage/lineage_store.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/time_util.h"
#include "libs/core/status_macros.h"
#include "libs/kv/key_codec.h"
#include "libs/kv/key_range.h"
#include "libs/kv/write_batch.h"

namespace fabrique::features {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

std::string DatasetKey(absl::string_view id) {
  return kv::KeyBuilder().AddString("d").AddString(id).key();
}
std::string GroupIndexPrefix(absl::string_view group) {
  return kv::KeyBuilder().AddString("g").AddString(group).key();
}
std::string RequestKey(absl::string_view request_id) {
  return kv::KeyBuilder().AddString("q").AddString(request_id).key();
}
std::string UsagePrefix(absl::string_view dataset_id) {
  return kv::KeyBuilder().AddString("u").AddString(dataset_id).key();
}

int PageSize(int requested) {
  if (requested <= 0) return kDefaultPageSize;
  return std::min(requested, kMaxPageSize);
}

absl::Status ValidateDataset(const v1::Dataset& dataset) {
  if (dataset.features_size() == 0) {
    return absl::InvalidArgumentError(
        "a dataset record must name the features it was built from; it names none");
  }
  for (int i = 0; i < dataset.features_size(); ++i) {
    const v1::FeatureRef& ref = dataset.features(i).ref();
    if (ref.group().empty() || ref.feature().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("dataset feature ", i, " is '", ref.group(), ":", ref.feature(),
                       "'; each feature needs both a group and a feature name"));
    }
  }
  return absl::OkStatus();
}

// Distinct groups a dataset reads, its label group included.
std::set<std::string> GroupsOf(const v1::Dataset& dataset) {
  std::set<std::string> groups;
  for (const v1::VersionedFeatureRef& f : dataset.features()) groups.insert(f.ref().group());
  if (!dataset.label_feature().group().empty()) groups.insert(dataset.label_feature().group());
  return groups;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LineageStore>> LineageStore::Create(Options options) {
  if (options.store == nullptr) {
    return absl::InvalidArgumentError("LineageStore::Options.store is required");
  }
  if (options.clock == nullptr) options.clock = core::Clock::Real();
  if (options.ids == nullptr) options.ids = &core::IdGenerator::Default();
  absl::StatusOr<kv::ColumnFamily> family = options.store->Family(options.family);
  if (absl::IsNotFound(family.status())) family = options.store->CreateFamily(options.family);
  if (!family.ok()) return family.status();
  return std::unique_ptr<LineageStore>(new LineageStore(std::move(options), *family));
}

absl::StatusOr<std::string> LineageStore::DatasetIdFor(absl::string_view request_id,
                                                       absl::string_view fingerprint) {
  if (request_id.empty()) return NewDatasetId();
  absl::MutexLock lock(&request_mu_);
  absl::StatusOr<std::string> earlier = options_.store->Get(family_, RequestKey(request_id));
  if (earlier.ok()) {
    const std::pair<absl::string_view, absl::string_view> parts =
        absl::StrSplit(*earlier, absl::MaxSplits('\n', 1));
    if (parts.second != fingerprint) {
      return absl::FailedPreconditionError(absl::StrCat(
          "request_id '", request_id, "' was used for a different training set (dataset ",
          parts.first, "): give this one its own request_id"));
    }
    return std::string(parts.first);
  }
  if (!absl::IsNotFound(earlier.status())) return earlier.status();
  const std::string id = NewDatasetId();
  kv::WriteBatch batch;
  batch.Put(family_, RequestKey(request_id), absl::StrCat(id, "\n", fingerprint));
  RETURN_IF_ERROR(options_.store->Write(batch, kv::SyncMode::kSync));
  return id;
}

absl::StatusOr<v1::Dataset> LineageStore::RecordDataset(v1::Dataset dataset) {
  RETURN_IF_ERROR(ValidateDataset(dataset));
  if (dataset.dataset_id().empty()) dataset.set_dataset_id(options_.ids->Next());
  absl::StatusOr<v1::Dataset> earlier = ReadDataset(dataset.dataset_id());
  if (!earlier.ok() && !absl::IsNotFound(earlier.status())) return earlier.status();
  *dataset.mutable_create_time() = earlier.ok()
                                       ? earlier->create_time()
                                       : google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
                                             absl::ToUnixMicros(options_.clock->Now()));
  dataset.clear_used_by();  // Derived from usage records, never stored in the dataset.
  kv::WriteBatch batch;
  batch.Put(family_, DatasetKey(dataset.dataset_id()), dataset.SerializeAsString());
  for (const std::string& group : GroupsOf(dataset)) {
    batch.Put(
        family_,
        kv::KeyBuilder().AddEncoded(GroupIndexPrefix(group)).AddString(dataset.dataset_id()).key(),
        "");
  }
  RETURN_IF_ERROR(options_.store->Write(batch, kv::SyncMode::kSync));
  return dataset;
}

absl::StatusOr<v1::Dataset> LineageStore::ReadDataset(absl::string_view dataset_id) const {
  absl::StatusOr<std::string> bytes = options_.store->Get(family_, DatasetKey(dataset_id));
  if (absl::IsNotFound(bytes.status())) {
    return absl::NotFoundError(absl::StrCat("dataset '", dataset_id, "' does not exist"));
  }
  if (!bytes.ok()) return bytes.status();
  v1::Dataset dataset;
  if (!dataset.ParseFromString(*bytes)) {
    return absl::DataLossError(absl::StrCat("dataset record '", dataset_id, "' is corrupt"));
  }
  return dataset;
}

absl::Status LineageStore::FillUsedBy(v1::Dataset* dataset) const {
  absl::Status decode = absl::OkStatus();
  RETURN_IF_ERROR(options_.store->Scan(
      family_, kv::KeyRange::Prefix(UsagePrefix(dataset->dataset_id())),
      [&](absl::string_view key, absl::string_view) {
        kv::KeyReader reader(key);
        reader.ReadString().IgnoreError();  // "u"
        reader.ReadString().IgnoreError();  // dataset id
        absl::StatusOr<std::string> model = reader.ReadString();
        absl::StatusOr<int64_t> version = reader.ReadInt64();
        if (!model.ok() || !version.ok()) {
          decode = absl::DataLossError(
              absl::StrCat("corrupt usage record of dataset '", dataset->dataset_id(), "'"));
          return false;
        }
        v1::ModelVersionRef* ref = dataset->add_used_by();
        ref->set_model(*model);
        ref->set_version(*version);
        return true;
      }));
  return decode;
}

absl::StatusOr<v1::Dataset> LineageStore::GetDataset(absl::string_view dataset_id) const {
  ASSIGN_OR_RETURN(v1::Dataset dataset, ReadDataset(dataset_id));
  RETURN_IF_ERROR(FillUsedBy(&dataset));
  return dataset;
}

absl::StatusOr<v1::ListDatasetsResponse> LineageStore::ListDatasets(
    const v1::ListDatasetsRequest& request,
    absl::FunctionRef<bool(const v1::Dataset&)> keep) const {
  const int page_size = PageSize(request.page_size());
  // Both the dataset records and a group's index end with the dataset id, so one reverse walk
  // over either prefix lists ids newest first.
  const std::string prefix = request.group().empty() ? kv::KeyBuilder().AddString("d").key()
                                                     : GroupIndexPrefix(request.group());
  ASSIGN_OR_RETURN(std::unique_ptr<kv::Iterator> it,
                   options_.store->NewIterator(family_, kv::KeyRange::Prefix(prefix)));
  if (request.page_token().empty()) {
    it->SeekToLast();
  } else {
    // The token is the last id returned: continue just below it.
    it->SeekForPrev(kv::KeyBuilder().AddEncoded(prefix).AddString(request.page_token()).key());
    if (it->Valid()) it->Prev();
  }
  v1::ListDatasetsResponse response;
  std::string last_id;
  for (; it->Valid() && response.datasets_size() < page_size; it->Prev()) {
    kv::KeyReader reader(it->key().substr(prefix.size()));
    ASSIGN_OR_RETURN(last_id, reader.ReadString());
    ASSIGN_OR_RETURN(v1::Dataset dataset, GetDataset(last_id));
    if (keep(dataset)) *response.add_datasets() = std::move(dataset);
  }
  RETURN_IF_ERROR(it->status());
  if (it->Valid()) response.set_next_page_token(last_id);
  return response;
}

absl::Status LineageStore::RecordUsage(absl::string_view dataset_id,
                                       const v1::ModelVersionRef& model_version) {
  if (model_version.model().empty() || model_version.version() < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("model version '", model_version.model(), "' v", model_version.version(),
                     " is not valid: name the model and a version >= 1"));
  }
  RETURN_IF_ERROR(ReadDataset(dataset_id).status());
  const std::string key = kv::KeyBuilder()
                              .AddEncoded(UsagePrefix(dataset_id))
                              .AddString(model_version.model())
                              .AddInt64(model_version.version())
                              .key();
  return options_.store->Put(family_, key, "", kv::SyncMode::kSync);
}

absl::StatusOr<v1::FeatureGroupLineage> LineageStore::GroupLineage(absl::string_view group) const {
  v1::FeatureGroupLineage lineage;
  lineage.set_group(std::string(group));
  v1::ListDatasetsRequest request;
  request.set_group(std::string(group));
  request.set_page_size(kMaxPageSize);
  // Model versions in (model, version) order, each with its datasets and the distinct features
  // of `group` they read.
  struct Dependency {
    v1::ModelDependency proto;
    std::set<std::string> features;  // "feature@schema_version", to list each once.
  };
  std::map<std::pair<std::string, int64_t>, Dependency> models;
  do {
    ASSIGN_OR_RETURN(v1::ListDatasetsResponse page, ListDatasets(request));
    for (v1::Dataset& dataset : *page.mutable_datasets()) {
      for (const v1::ModelVersionRef& user : dataset.used_by()) {
        Dependency& dependency = models[{user.model(), user.version()}];
        *dependency.proto.mutable_model_version() = user;
        dependency.proto.add_dataset_ids(dataset.dataset_id());
        for (const v1::VersionedFeatureRef& feature : dataset.features()) {
          const std::string id =
              absl::StrCat(feature.ref().feature(), "@", feature.schema_version());
          if (feature.ref().group() == group && dependency.features.insert(id).second) {
            *dependency.proto.add_features() = feature;
          }
        }
      }
      *lineage.add_datasets() = std::move(dataset);
    }
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  for (auto& [key, dependency] : models) *lineage.add_models() = std::move(dependency.proto);
  return lineage;
}

}  // namespace fabrique::features
