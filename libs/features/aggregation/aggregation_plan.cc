#include "libs/features/aggregation/aggregation_plan.h"

#include <algorithm>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "libs/core/status_macros.h"
#include "libs/features/aggregation/tile_state.h"
#include "libs/features/columns/value_column.h"

namespace fabrique::features {
namespace {

int64_t ToMicros(const google::protobuf::Duration& d) {
  return d.seconds() * 1'000'000 + d.nanos() / 1000;
}

std::string FunctionName(v1::AggregationFunction function) {
  std::string name = v1::AggregationFunction_Name(function);
  return absl::AsciiStrToLower(absl::StripPrefix(name, "AGGREGATION_FUNCTION_"));
}

bool IsNumeric(v1::FeatureType type) {
  return type == v1::FEATURE_TYPE_INT64 || type == v1::FEATURE_TYPE_FLOAT ||
         type == v1::FEATURE_TYPE_DOUBLE || type == v1::FEATURE_TYPE_BOOL;
}

// [a-z][a-z0-9_]*: the catalog's naming rule, which output names must follow.
bool IsValidPrefix(absl::string_view name) {
  if (name.empty() || name.size() > 100 || name[0] < 'a' || name[0] > 'z') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// "aggregation 2 (amount_sum)": how errors name an aggregation.
std::string Describe(int index, absl::string_view name) {
  return absl::StrCat("aggregation ", index + 1, " (", name, ")");
}

absl::StatusOr<std::vector<int64_t>> WindowTiles(const v1::Aggregation& aggregation,
                                                 absl::string_view name, int index, int64_t tile) {
  if (aggregation.windows().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Describe(index, name), " has no window: add one or more, e.g. 1h and 24h"));
  }
  std::vector<int64_t> tiles;
  for (const google::protobuf::Duration& window : aggregation.windows()) {
    const int64_t micros = ToMicros(window);
    if (micros <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(Describe(index, name), " has a window of ",
                                                     window.seconds(), "s ", window.nanos(),
                                                     "ns: windows must be positive"));
    }
    if (micros % tile != 0) {
      std::vector<std::string> nearest;
      if (micros / tile > 0) nearest.push_back(WindowLabel(micros / tile * tile));
      nearest.push_back(WindowLabel((micros / tile + 1) * tile));
      return absl::InvalidArgumentError(
          absl::StrCat("window ", WindowLabel(micros), " of ", name, " is not a whole number of ",
                       WindowLabel(tile), " tiles; nearest valid: ", absl::StrJoin(nearest, ", ")));
    }
    tiles.push_back(micros / tile);
  }
  return tiles;
}

// Reads element `row` of a numeric list as a double.
double NumericAt(const v1::ValueColumn& column, int row) {
  switch (column.values_case()) {
    case v1::ValueColumn::kInt64Values:
      return static_cast<double>(column.int64_values().values(row));
    case v1::ValueColumn::kDoubleValues:
      return column.double_values().values(row);
    case v1::ValueColumn::kFloatValues:
      return column.float_values().values(row);
    case v1::ValueColumn::kBoolValues:
      return column.bool_values().values(row) ? 1.0 : 0.0;
    default:
      return 0;
  }
}

// Clears `present` where `filter` is false or null over `rows`.
absl::Status ApplyFilter(const Expression& filter, const v1::RowBatch& rows,
                         std::vector<uint8_t>* present) {
  v1::ValueColumn kept;
  ExpressionWarnings warnings;
  absl::Status status = filter.Evaluate(rows, &kept, &warnings);
  if (!status.ok()) return status;
  const bool nulls = kept.is_null_size() == static_cast<int>(present->size());
  for (size_t r = 0; r < present->size(); ++r) {
    const bool keep = static_cast<int>(r) < kept.bool_values().values_size() &&
                      kept.bool_values().values(r) && !(nulls && kept.is_null(r));
    if (!keep) (*present)[r] = 0;
  }
  return absl::OkStatus();
}

}  // namespace

std::string WindowLabel(int64_t micros) {
  struct Unit {
    int64_t micros;
    const char* suffix;
  };
  static constexpr Unit kUnits[] = {{86'400'000'000, "d"}, {3'600'000'000, "h"}, {60'000'000, "m"},
                                    {1'000'000, "s"},      {1'000, "ms"},        {1, "us"}};
  for (const Unit& unit : kUnits) {
    if (micros != 0 && micros % unit.micros == 0) {
      return absl::StrCat(micros / unit.micros, unit.suffix);
    }
  }
  return absl::StrCat(micros, "us");
}

absl::StatusOr<std::shared_ptr<const AggregationPlan>> AggregationPlan::Create(
    const v1::AggregationSpec& spec, const v1::FeatureGroup& source) {
  if (spec.source_group().empty()) {
    return absl::InvalidArgumentError(
        "aggregation.source_group is empty: name the group whose rows are aggregated");
  }
  const int64_t tile = spec.has_tile() ? ToMicros(spec.tile()) : kDefaultTileMicros;
  if (tile <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("aggregation.tile must be positive (it is ",
                                                   spec.tile().seconds(), "s ", spec.tile().nanos(),
                                                   "ns); leave it unset for 1m tiles"));
  }
  const int64_t lateness = ToMicros(spec.lateness());
  if (lateness < 0) {
    return absl::InvalidArgumentError(
        "aggregation.lateness is negative: set a positive bound, or 0 for none");
  }
  if (spec.aggregations().empty()) {
    return absl::InvalidArgumentError(
        "aggregation.aggregations is empty: declare at least one, e.g. COUNT over 1h");
  }
  absl::flat_hash_map<std::string, v1::FeatureType> types;
  for (const v1::FeatureSpec& feature : source.spec().features()) {
    types[feature.name()] = feature.type();
  }
  std::vector<PlannedAggregation> planned;
  std::set<std::string> outputs;
  std::set<std::string> inputs;
  int64_t longest = 0;
  for (int i = 0; i < spec.aggregations_size(); ++i) {
    const v1::Aggregation& a = spec.aggregations(i);
    PlannedAggregation p;
    p.feature = a.feature();
    p.function = a.function();
    if (a.function() == v1::AGGREGATION_FUNCTION_UNSPECIFIED ||
        !v1::AggregationFunction_IsValid(a.function())) {
      return absl::InvalidArgumentError(
          absl::StrCat("aggregation ", i + 1, " of '", a.feature(),
                       "' has no function: set one of COUNT, SUM, MEAN, MIN, MAX, STDDEV, LAST"));
    }
    if (a.feature().empty()) {
      if (a.function() != v1::AGGREGATION_FUNCTION_COUNT) {
        return absl::InvalidArgumentError(
            absl::StrCat("aggregation ", i + 1, " (", FunctionName(a.function()),
                         ") names no feature: only COUNT may leave it empty (to count rows)"));
      }
      p.name = a.name().empty() ? "count" : a.name();
    } else {
      auto type = types.find(a.feature());
      if (type == types.end()) {
        return absl::InvalidArgumentError(absl::StrCat("aggregation ", i + 1, ": source group '",
                                                       source.spec().name(), "' has no feature '",
                                                       a.feature(), "'"));
      }
      if (!IsNumeric(type->second)) {
        return absl::InvalidArgumentError(
            absl::StrCat("aggregation ", i + 1, ": feature '", a.feature(), "' of '",
                         source.spec().name(), "' is ", v1::FeatureType_Name(type->second),
                         "; aggregations read INT64, FLOAT, DOUBLE or BOOL features"));
      }
      p.name =
          a.name().empty() ? absl::StrCat(a.feature(), "_", FunctionName(a.function())) : a.name();
      inputs.insert(a.feature());
    }
    if (!IsValidPrefix(p.name)) {
      return absl::InvalidArgumentError(
          absl::StrCat(Describe(i, p.name), ": the name must match [a-z][a-z0-9_]* and be short"));
    }
    if (!a.filter().empty()) {
      absl::flat_hash_map<std::string, v1::FeatureType> readable(types.begin(), types.end());
      absl::StatusOr<std::unique_ptr<Expression>> filter =
          Expression::Compile(a.filter(), readable);
      if (!filter.ok()) {
        return absl::Status(filter.status().code(), absl::StrCat("filter of ", Describe(i, p.name),
                                                                 ": ", filter.status().message()));
      }
      if ((*filter)->result_type() != v1::FEATURE_TYPE_BOOL) {
        return absl::InvalidArgumentError(absl::StrCat(
            "filter of ", Describe(i, p.name), ": expression \"", a.filter(), "\" is ",
            v1::FeatureType_Name((*filter)->result_type()), "; a filter must be BOOL"));
      }
      for (const std::string& input : (*filter)->inputs()) inputs.insert(input);
      p.filter = *std::move(filter);
    }
    absl::StatusOr<std::vector<int64_t>> windows = WindowTiles(a, p.name, i, tile);
    if (!windows.ok()) return windows.status();
    p.window_tiles = *std::move(windows);
    for (int64_t k : p.window_tiles) {
      longest = std::max(longest, k);
      std::string output = absl::StrCat(p.name, "_", WindowLabel(k * tile));
      if (!outputs.insert(output).second) {
        return absl::InvalidArgumentError(absl::StrCat(
            "output feature '", output, "' is declared twice (", Describe(i, p.name),
            "): give one of the aggregations another name, or drop the repeated window"));
      }
      p.outputs.push_back(std::move(output));
    }
    planned.push_back(std::move(p));
  }
  // Aggregations of one feature under one filter share a slot.
  std::vector<PlannedSlot> slots;
  for (int i = 0; i < spec.aggregations_size(); ++i) {
    PlannedAggregation& p = planned[i];
    const std::string& filter = spec.aggregations(i).filter();
    auto same = std::find_if(slots.begin(), slots.end(), [&](const PlannedSlot& s) {
      return s.feature == p.feature && s.filter_text == filter;
    });
    if (same == slots.end()) {
      same = slots.insert(slots.end(), PlannedSlot{p.feature, filter, p.filter, 0});
    }
    same->fields |= SlotFieldsOf(p.function);
    p.slot = static_cast<int>(same - slots.begin());
  }
  auto plan =
      std::shared_ptr<AggregationPlan>(new AggregationPlan(tile, TilePyramid::For(tile, longest)));
  plan->source_group_ = spec.source_group();
  plan->lateness_micros_ = lateness;
  plan->aggregations_ = std::move(planned);
  for (const PlannedSlot& s : slots) plan->slot_fields_.push_back(s.fields);
  plan->slots_ = std::move(slots);
  plan->input_features_.assign(inputs.begin(), inputs.end());
  return std::shared_ptr<const AggregationPlan>(std::move(plan));
}

std::vector<v1::FeatureSpec> AggregationPlan::OutputFeatures() const {
  std::vector<v1::FeatureSpec> features;
  for (const PlannedAggregation& a : aggregations_) {
    for (size_t w = 0; w < a.outputs.size(); ++w) {
      v1::FeatureSpec& f = features.emplace_back();
      f.set_name(a.outputs[w]);
      f.set_type(a.function == v1::AGGREGATION_FUNCTION_COUNT ? v1::FEATURE_TYPE_INT64
                                                              : v1::FEATURE_TYPE_DOUBLE);
      f.set_description(absl::StrCat(
          absl::AsciiStrToUpper(FunctionName(a.function)), " of ",
          a.feature.empty() ? std::string("rows") : absl::StrCat("'", a.feature, "'"), " of '",
          source_group_, "' over ", WindowLabel(a.window_tiles[w] * tile_micros_)));
    }
  }
  return features;
}

std::optional<std::pair<int, int>> AggregationPlan::FindOutput(absl::string_view feature) const {
  for (size_t a = 0; a < aggregations_.size(); ++a) {
    const std::vector<std::string>& outputs = aggregations_[a].outputs;
    for (size_t w = 0; w < outputs.size(); ++w) {
      if (outputs[w] == feature) return std::make_pair(static_cast<int>(a), static_cast<int>(w));
    }
  }
  return std::nullopt;
}

absl::Status AggregationPlan::Inputs(const v1::RowBatch& rows, absl::Span<const uint8_t> skip,
                                     std::vector<SlotInputs>* out) const {
  const int n = rows.entity_keys_size();
  out->resize(slots_.size());
  for (size_t a = 0; a < slots_.size(); ++a) {
    SlotInputs& in = (*out)[a];
    in.values.assign(n, 0.0);
    in.present.assign(n, 0);
    // First the rows that count (not skipped, kept by the filter), then their non-null values.
    for (int r = 0; r < n; ++r) in.present[r] = skip.empty() || !skip[r];
    const std::string& feature = slots_[a].feature;
    if (slots_[a].filter != nullptr) {
      RETURN_IF_ERROR(ApplyFilter(*slots_[a].filter, rows, &in.present));
    }
    if (feature.empty()) continue;
    const v1::ValueColumn* column = nullptr;
    for (const v1::FeatureColumn& c : rows.columns()) {
      if (c.feature().feature() == feature) column = &c.values();
    }
    if (column == nullptr) {  // Absent: null in every row.
      in.present.assign(n, 0);
      continue;
    }
    if (!IsNumeric(ColumnType(*column)) || ColumnSize(*column) != n) {
      return absl::InvalidArgumentError(
          absl::StrCat("column '", feature, "' is not a numeric list of ", n, " values"));
    }
    const bool nulls = column->is_null_size() == n;
    for (int r = 0; r < n; ++r) {
      if (!in.present[r]) continue;
      if (nulls && column->is_null(r)) {
        in.present[r] = 0;
        continue;
      }
      in.values[r] = NumericAt(*column, r);
    }
  }
  return absl::OkStatus();
}

}  // namespace fabrique::features
