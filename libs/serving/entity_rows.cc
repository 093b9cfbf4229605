#include "libs/serving/entity_rows.h"

#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/arena.h"
#include "libs/core/status_macros.h"
#include "libs/serving/feature_values.h"
#include "libs/serving/lookup_merge.h"

namespace fabrique::serving {
namespace {

// Rows of `lookup`'s entity keys: every entity named once, all columns of one length > 0, no
// empty key.
absl::StatusOr<int64_t> CheckEntityKeys(const v1::LookupOnlineRequest& lookup) {
  const EntityKeyColumns& entity_keys = lookup.entity_keys();
  ASSIGN_OR_RETURN(const int64_t rows, LookupRows(lookup));
  std::set<std::string> names;
  for (const v1::EntityKeys& column : entity_keys) {
    if (column.entity().empty() && entity_keys.size() > 1) {
      return absl::InvalidArgumentError(
          "an entity key column has no entity name: name every entity when several are sent");
    }
    if (!names.insert(column.entity()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("entity '", column.entity(), "' has two key columns: send one"));
    }
    for (int r = 0; r < column.keys_size(); ++r) {
      if (column.keys(r).empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("entity '", column.entity(), "' has an empty key at row ", r));
      }
    }
  }
  return rows;
}

// The tensor type of an input InputWidth accepted.
DataType InputType(const v1::TensorSpec& input) {
  return input.datatype() == "FP32" ? DataType::kFp32 : DataType::kBytes;
}

// Elements a row of `input`, which must be FP32 or BYTES with fixed non-batch dimensions.
absl::StatusOr<int64_t> InputWidth(const v1::TensorSpec& input) {
  if (input.datatype() != "FP32" && input.datatype() != "BYTES") {
    return absl::FailedPreconditionError(
        absl::StrCat("input '", input.name(), "' is ", input.datatype(),
                     ": rows built from entity keys feed FP32 and BYTES inputs only"));
  }
  int64_t width = 1;
  for (int d = 1; d < input.shape_size(); ++d) {
    if (input.shape(d) <= 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "input '", input.name(), "' has a variable dimension ", d,
          ": rows built from entity keys need every dimension but the batch one fixed"));
    }
    width *= input.shape(d);
  }
  return width;
}

bool Names(const v1::FeatureColumn& column, const v1::TensorSpec& input) {
  const v1::FeatureRef& ref = column.feature();
  if (ref.group().empty()) return ref.feature() == input.name();
  return input.has_feature() && input.feature().ref().group() == ref.group() &&
         input.feature().ref().feature() == ref.feature();
}

// Matches every supplied column to the one input it feeds; `by_input[i]` = column index or -1.
absl::Status MatchSupplied(const v1::ModelSignature& signature, const SuppliedFeatures& supplied,
                           int64_t rows, std::vector<int>* by_input) {
  by_input->assign(signature.inputs_size(), -1);
  for (int s = 0; s < supplied.size(); ++s) {
    const v1::FeatureColumn& column = supplied[s];
    const std::string name = FeatureRefText(column.feature());
    int input = -1;
    for (int i = 0; i < signature.inputs_size() && input < 0; ++i) {
      if (Names(column, signature.inputs(i))) input = i;
    }
    if (input < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("supplied feature '", name, "' is not an input of the model"));
    }
    if ((*by_input)[input] >= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "supplied feature '", name, "' feeds input '", signature.inputs(input).name(),
          "', which another supplied feature already feeds: send one"));
    }
    const v1::ValueColumn& values = column.values();
    if (ValueCount(values) != rows ||
        (!values.is_null().empty() && values.is_null_size() != rows)) {
      return absl::InvalidArgumentError(absl::StrCat("supplied feature '", name, "' has ",
                                                     ValueCount(values), " values for ", rows,
                                                     " rows: send one value per row"));
    }
    (*by_input)[input] = s;
  }
  return absl::OkStatus();
}

// A fault in the data: the store's (FAILED_PRECONDITION: fix the data or the model) or the
// request's (INVALID_ARGUMENT).
absl::Status Fault(bool from_store, absl::string_view message) {
  return from_store ? absl::FailedPreconditionError(message) : absl::InvalidArgumentError(message);
}

// The store's column must be what the model was trained on.
absl::Status CheckSkew(const v1::TensorSpec& input, const v1::OnlineFeatureColumn& column,
                       DataType type, int64_t width) {
  const v1::VersionedFeatureRef& trained = input.feature();
  // Only a fault names the feature: formatting it for every input of every request costs a
  // string each.
  const auto name = [&trained] { return FeatureRefText(trained.ref()); };
  if (column.schema_version() != trained.schema_version()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "training/serving skew: feature ", name(), " was trained on schema version ",
        trained.schema_version(), ", the store serves version ", column.schema_version()));
  }
  if (trained.type() != v1::FEATURE_TYPE_UNSPECIFIED && column.type() != trained.type()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "training/serving skew: feature ", name(), " was trained as ",
        FeatureTypeText(trained.type()), ", the store serves ", FeatureTypeText(column.type())));
  }
  if (!FeedsInput(column.type(), type, width)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "feature ", name(), " is ", FeatureTypeText(column.type()), " in the store, which input '",
        input.name(), "' (", input.datatype(), ", ", width, " a row) cannot take"));
  }
  return absl::OkStatus();
}

// One input's column of values, from the store (`statuses` set) or supplied by the request.
struct ColumnToFill {
  const v1::FeatureRef* ref;
  const v1::ValueColumn* values;
  const v1::OnlineFeatureColumn* stored;  // Null for a supplied column.
};

// A missing value (NaN) in an FP32 input whose nan_allowed is false is a fault of the data, of
// feature `ref`.
absl::Status CheckNoMissing(const v1::TensorSpec& input, const v1::FeatureRef& ref, bool from_store,
                            int64_t width, const Tensor& tensor) {
  if (tensor.type != DataType::kFp32 || input.nan_allowed()) return absl::OkStatus();
  for (size_t e = 0; e < tensor.fp32.size(); ++e) {
    if (!std::isnan(tensor.fp32[e])) continue;
    return Fault(from_store, absl::StrCat("feature ", FeatureRefText(ref), " has no value at row ",
                                          e / width, " and input '", input.name(),
                                          "' takes no missing value (nan_allowed is false)"));
  }
  return absl::OkStatus();
}

// Whether every row of a stored FLOAT column is present and not null, so that it feeds a width-1
// FP32 input as it is: one copy of the column rather than one append per value.
bool CopiesWhole(const ColumnToFill& from, int64_t rows, int64_t width, const Tensor& tensor) {
  if (from.stored == nullptr || width != 1 || tensor.type != DataType::kFp32 ||
      from.values->values_case() != v1::ValueColumn::kFloatValues ||
      from.values->float_values().values_size() != rows) {
    return false;
  }
  for (int r = 0; r < rows; ++r) {
    if (from.stored->statuses(r) != v1::VALUE_STATUS_PRESENT) return false;
  }
  for (int r = 0; r < from.values->is_null_size(); ++r) {
    if (from.values->is_null(r)) return false;
  }
  return true;
}

absl::Status FillInput(const v1::TensorSpec& input, const ColumnToFill& from, int64_t rows,
                       int64_t width, Tensor* tensor, EntityRows* out) {
  const bool from_store = from.stored != nullptr;
  if (CopiesWhole(from, rows, width, *tensor)) {
    const auto& values = from.values->float_values().values();
    tensor->fp32.assign(values.begin(), values.end());
    return CheckNoMissing(input, *from.ref, from_store, width, *tensor);
  }
  if (tensor->type == DataType::kFp32) {
    tensor->fp32.reserve(static_cast<size_t>(rows * width));
  } else {
    tensor->bytes.reserve(static_cast<size_t>(rows));
  }
  for (int r = 0; r < rows; ++r) {
    v1::ValueStatus status = from_store ? from.stored->statuses(r) : v1::VALUE_STATUS_PRESENT;
    if (status == v1::VALUE_STATUS_PRESENT && IsNullAt(*from.values, r)) {
      status = v1::VALUE_STATUS_MISSING;
    }
    if (status != v1::VALUE_STATUS_PRESENT) {
      AppendMissing(width, tensor);
      v1::FeatureIssue& issue = out->issues[r].emplace_back();
      *issue.mutable_feature() = *from.ref;
      issue.set_status(status == v1::VALUE_STATUS_EXPIRED ? v1::VALUE_STATUS_EXPIRED
                                                          : v1::VALUE_STATUS_MISSING);
      continue;
    }
    const absl::Status appended = AppendValue(*from.values, r, width, tensor);
    if (!appended.ok()) {
      return Fault(from_store, absl::StrCat("feature ", FeatureRefText(*from.ref), " at row ", r,
                                            ": ", appended.message()));
    }
  }
  return CheckNoMissing(input, *from.ref, from_store, width, *tensor);
}

// INVALID_ARGUMENT when `column`'s values cannot feed `input`.
absl::Status CheckSuppliedType(const v1::TensorSpec& input, const v1::FeatureColumn& column,
                               int64_t width) {
  const DataType type = InputType(input);
  const v1::FeatureType given = TypeOfValues(column.values());
  if (FeedsInput(given, type, width)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("supplied feature '", FeatureRefText(column.feature()), "' holds ",
                   FeatureTypeText(given), " values, which input '", input.name(), "' (",
                   input.datatype(), ", ", width, " a row) cannot take"));
}

// An empty lookup request on an arena that the returned pointer holds, its first block sized for
// 100 keys and 50 features.
std::shared_ptr<v1::LookupOnlineRequest> NewLookupRequest() {
  struct Held {
    static google::protobuf::ArenaOptions Options() {
      google::protobuf::ArenaOptions options;
      options.start_block_size = 16 << 10;
      options.max_block_size = 64 << 10;
      return options;
    }
    google::protobuf::Arena arena{Options()};
  };
  auto held = std::make_shared<Held>();
  return std::shared_ptr<v1::LookupOnlineRequest>(
      held, google::protobuf::Arena::CreateMessage<v1::LookupOnlineRequest>(&held->arena));
}

}  // namespace

absl::StatusOr<EntityRowsPlan> PlanEntityRows(const v1::ModelSignature& signature,
                                              const EntityKeyColumns& entity_keys,
                                              const SuppliedFeatures& supplied) {
  EntityRowsPlan plan;
  plan.lookup = NewLookupRequest();
  v1::LookupOnlineRequest& lookup = *plan.lookup;
  *lookup.mutable_entity_keys() = entity_keys;
  ASSIGN_OR_RETURN(plan.rows, CheckEntityKeys(lookup));
  std::vector<int> supplied_for;
  RETURN_IF_ERROR(MatchSupplied(signature, supplied, plan.rows, &supplied_for));
  // Sized once: a 50-input signature otherwise regrows each of them several times per request.
  // Keyed by the signature's own group and feature names: no string made per input.
  absl::flat_hash_map<std::pair<absl::string_view, absl::string_view>, int> column_of_feature;
  column_of_feature.reserve(static_cast<size_t>(signature.inputs_size()));
  plan.sources.reserve(static_cast<size_t>(signature.inputs_size()));
  lookup.mutable_features()->Reserve(signature.inputs_size());
  for (int i = 0; i < signature.inputs_size(); ++i) {
    const v1::TensorSpec& input = signature.inputs(i);
    InputSource source;
    ASSIGN_OR_RETURN(source.width, InputWidth(input));
    if (supplied_for[i] >= 0) {
      RETURN_IF_ERROR(CheckSuppliedType(input, supplied[supplied_for[i]], source.width));
      source.supplied = true;
      source.index = supplied_for[i];
    } else if (!input.has_feature()) {
      return absl::InvalidArgumentError(
          absl::StrCat("input '", input.name(),
                       "' is not read from the feature store: supply it in "
                       "supplied_features (feature '",
                       input.name(), "', no group), one value per row"));
    } else {
      const v1::FeatureRef& ref = input.feature().ref();
      auto [it, added] = column_of_feature.try_emplace(
          std::make_pair(absl::string_view(ref.group()), absl::string_view(ref.feature())),
          lookup.features_size());
      if (added) *lookup.add_features() = ref;
      source.index = it->second;
    }
    plan.sources.push_back(source);
  }
  if (lookup.features().empty()) lookup.clear_entity_keys();
  return plan;
}

absl::StatusOr<EntityRows> AssembleEntityRows(const v1::ModelSignature& signature,
                                              const EntityRowsPlan& plan,
                                              const v1::LookupOnlineResponse& answer,
                                              const SuppliedFeatures& supplied) {
  if (plan.lookup->features_size() > 0) {
    RETURN_IF_ERROR(CheckLookupAnswer(*plan.lookup, answer, plan.rows));
  }
  EntityRows out;
  out.inputs.rows = plan.rows;
  out.inputs.tensors.reserve(static_cast<size_t>(signature.inputs_size()));
  out.issues.resize(plan.rows);
  for (int i = 0; i < signature.inputs_size(); ++i) {
    const v1::TensorSpec& input = signature.inputs(i);
    const InputSource& source = plan.sources[i];
    Tensor& tensor = out.inputs.tensors.emplace_back();
    tensor.name = input.name();
    tensor.type = InputType(input);
    tensor.shape.assign(input.shape().begin(), input.shape().end());
    if (tensor.shape.empty()) tensor.shape.push_back(-1);
    tensor.shape[0] = plan.rows;
    ColumnToFill from;
    if (source.supplied) {
      const v1::FeatureColumn& column = supplied[source.index];
      from = {&column.feature(), &column.values(), nullptr};
    } else {
      const v1::OnlineFeatureColumn& column = answer.columns(source.index);
      RETURN_IF_ERROR(CheckSkew(input, column, tensor.type, source.width));
      from = {&input.feature().ref(), &column.values(), &column};
    }
    RETURN_IF_ERROR(FillInput(input, from, plan.rows, source.width, &tensor, &out));
  }
  return out;
}

}  // namespace fabrique::serving
