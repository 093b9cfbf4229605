// `fabrique features lookup --features G:F,... --keys K,...`: the online values of features for
// entity keys, as a model would read them, each with its status (PRESENT, MISSING, EXPIRED).
// Aggregation features are read as of the server's now, so the same command run later shows the
// windows slid on.

#include <charconv>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "libs/features/columns/value_column.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/features_client.h"
#include "tools/cli/rpc_call.h"

namespace fabrique::cli {
namespace {

constexpr char kCommand[] = "fabrique features lookup";

// The shortest text that reads back as the same number: a sum prints "1234.5", not
// "1234.5000000000002" nor a rounded "1234.5" hiding a difference.
template <typename Number>
std::string ShortestNumber(Number value) {
  char buffer[64];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return error == std::errc() ? std::string(buffer, end) : absl::StrCat(value);
}

// "PRESENT" for VALUE_STATUS_PRESENT.
std::string StatusWord(int status) {
  return std::string(absl::StripPrefix(v1::ValueStatus_Name(static_cast<v1::ValueStatus>(status)),
                                       "VALUE_STATUS_"));
}

// One cell of a looked-up column, as a JSON value (null where the row has no value).
google::protobuf::Value JsonCell(const v1::OnlineFeatureColumn& column, int row) {
  google::protobuf::Value cell;
  const v1::ValueColumn& values = column.values();
  const bool present =
      row < column.statuses_size() && column.statuses(row) == v1::VALUE_STATUS_PRESENT &&
      !(row < values.is_null_size() && values.is_null(row)) && row < features::ColumnSize(values);
  if (!present) {
    cell.set_null_value(google::protobuf::NULL_VALUE);
    return cell;
  }
  switch (values.values_case()) {
    case v1::ValueColumn::kFloatValues:
      cell.set_number_value(values.float_values().values(row));
      break;
    case v1::ValueColumn::kDoubleValues:
      cell.set_number_value(values.double_values().values(row));
      break;
    case v1::ValueColumn::kInt64Values:
      cell.set_number_value(static_cast<double>(values.int64_values().values(row)));
      break;
    case v1::ValueColumn::kBoolValues:
      cell.set_bool_value(values.bool_values().values(row));
      break;
    case v1::ValueColumn::kStringValues:
      cell.set_string_value(values.string_values().values(row));
      break;
    case v1::ValueColumn::kFloatVectorValues:
      for (float x : values.float_vector_values().values(row).values()) {
        cell.mutable_list_value()->add_values()->set_number_value(x);
      }
      break;
    case v1::ValueColumn::VALUES_NOT_SET:
      cell.set_null_value(google::protobuf::NULL_VALUE);
      break;
  }
  return cell;
}

// The same cell as table text: "-" where there is no value, numbers in their shortest exact
// form, INT64 without a decimal point, vectors as [1, 2, 3].
std::string TextCell(const v1::OnlineFeatureColumn& column, int row) {
  const google::protobuf::Value cell = JsonCell(column, row);
  const v1::ValueColumn& values = column.values();
  switch (cell.kind_case()) {
    case google::protobuf::Value::kNullValue:
      return "-";
    case google::protobuf::Value::kBoolValue:
      return cell.bool_value() ? "true" : "false";
    case google::protobuf::Value::kStringValue:
      return cell.string_value();
    case google::protobuf::Value::kListValue:
      return absl::StrCat("[",
                          absl::StrJoin(cell.list_value().values(), ", ",
                                        [](std::string* out, const google::protobuf::Value& x) {
                                          absl::StrAppend(
                                              out,
                                              ShortestNumber(static_cast<float>(x.number_value())));
                                        }),
                          "]");
    default:
      break;
  }
  if (values.has_int64_values()) return absl::StrCat(values.int64_values().values(row));
  if (values.has_float_values()) return ShortestNumber(values.float_values().values(row));
  return ShortestNumber(cell.number_value());
}

std::string RefText(const v1::FeatureRef& ref) {
  return absl::StrCat(ref.group(), ":", ref.feature());
}

// Parses --features: "G:F" names one feature, a bare "G" every feature of group G (an
// aggregation group's outputs, for one). Returns the features, asking the server for the bare
// groups' lists; a malformed entry is INVALID_ARGUMENT (bad usage), an unknown group the
// server's NOT_FOUND.
absl::StatusOr<std::vector<v1::FeatureRef>> ParseFeatures(const std::vector<std::string>& entries,
                                                          const FeatureStoreClient* store) {
  std::vector<v1::FeatureRef> refs;
  for (const std::string& entry : entries) {
    std::vector<std::string> parts = absl::StrSplit(entry, ':');
    if (parts.size() > 2 || parts[0].empty() || (parts.size() == 2 && parts[1].empty())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--features '", entry, "' is not GROUP:FEATURE (or GROUP for all its features)"));
    }
    if (parts.size() == 2) {
      v1::FeatureRef ref;
      ref.set_group(parts[0]);
      ref.set_feature(parts[1]);
      refs.push_back(std::move(ref));
      continue;
    }
    if (store == nullptr) continue;  // Checking the syntax only.
    v1::GetFeatureGroupRequest get;
    get.set_name(parts[0]);
    absl::StatusOr<v1::FeatureGroup> group = store->Call(
        &FeatureStoreStub::GetFeatureGroup, get, absl::StrCat("GetFeatureGroup ", parts[0]));
    if (!group.ok()) return group.status();
    for (const v1::FeatureSpec& feature : group->spec().features()) {
      v1::FeatureRef ref;
      ref.set_group(parts[0]);
      ref.set_feature(feature.name());
      refs.push_back(std::move(ref));
    }
  }
  return refs;
}

// `value` as JSON text: a string quoted and escaped, a number in its shortest exact form.
std::string JsonText(const google::protobuf::Value& value) {
  std::string text;
  (void)google::protobuf::util::MessageToJsonString(value, &text);
  return text;
}

std::string JsonString(const std::string& text) {
  google::protobuf::Value value;
  value.set_string_value(text);
  return JsonText(value);
}

// {"rows": [{"key": K, "features": {"G:F": {"value": V, "status": S}, ...}}, ...]}: one line per
// key, keys and features in the order asked (so a diff of two runs lines up).
void PrintJson(const std::vector<std::string>& keys, const v1::LookupOnlineResponse& response) {
  std::cout << "{\"rows\": [\n";
  for (int row = 0; row < static_cast<int>(keys.size()); ++row) {
    std::cout << "  {\"key\": " << JsonString(keys[row]) << ", \"features\": {";
    for (int i = 0; i < response.columns_size(); ++i) {
      const v1::OnlineFeatureColumn& column = response.columns(i);
      std::cout << (i > 0 ? ", " : "") << JsonString(RefText(column.feature()))
                << ": {\"value\": " << JsonText(JsonCell(column, row)) << ", \"status\": \""
                << StatusWord(row < column.statuses_size() ? column.statuses(row) : 0) << "\"}";
    }
    std::cout << "}}" << (row + 1 < static_cast<int>(keys.size()) ? "," : "") << "\n";
  }
  std::cout << "]}\n";
}

// KEY FEATURE VALUE STATUS, one line per key and feature, keys in the order given.
void PrintTable(const std::vector<std::string>& keys, const v1::LookupOnlineResponse& response) {
  size_t key_width = 3;
  size_t feature_width = 7;
  size_t value_width = 5;
  for (const std::string& key : keys) key_width = std::max(key_width, key.size());
  for (const v1::OnlineFeatureColumn& column : response.columns()) {
    feature_width = std::max(feature_width, RefText(column.feature()).size());
    for (int row = 0; row < static_cast<int>(keys.size()); ++row) {
      value_width = std::max(value_width, TextCell(column, row).size());
    }
  }
  const auto line = [&](const std::string& key, const std::string& feature,
                        const std::string& value, const std::string& status) {
    std::cout << absl::StrFormat("%-*s  %-*s  %-*s  %s\n", key_width, key, feature_width, feature,
                                 value_width, value, status);
  };
  line("KEY", "FEATURE", "VALUE", "STATUS");
  for (int row = 0; row < static_cast<int>(keys.size()); ++row) {
    for (const v1::OnlineFeatureColumn& column : response.columns()) {
      line(keys[row], RefText(column.feature()), TextCell(column, row),
           StatusWord(row < column.statuses_size() ? column.statuses(row) : 0));
    }
  }
}

}  // namespace

int RunFeaturesLookup(const std::vector<std::string>& args) {
  FeaturesTarget target;
  std::string features_flag;
  std::string keys_flag;
  std::string entity;
  bool json = false;
  core::FlagSet flags(kCommand,
                      "Looks features up online for entity keys, as a served model reads them: "
                      "each value with its status, PRESENT, MISSING (no value, or a null) or "
                      "EXPIRED (older than its group's TTL). Aggregation features are computed "
                      "as of now from their tiles: an empty window counts 0 and has no sum.");
  flags.set_usage_args("--features G:F[,G:F...] --keys K1[,K2...] [flags]");
  AddTargetFlags(&flags, &target);
  flags.Add("features", &features_flag,
            "Comma list of GROUP:FEATURE, or GROUP for every feature of the group (required)");
  flags.Add("keys", &keys_flag, "Comma list of entity keys, one row each (required)");
  flags.Add("entity", &entity,
            "The entity the keys are of, e.g. customer; \"\" when the features share one");
  flags.Add("json", &json,
            "Print {\"rows\": [{\"key\", \"features\": {\"G:F\": {\"value\", \"status\"}}}]}; "
            "value null where not PRESENT");
  flags.set_epilog(
      "Example:\n"
      "  fabrique features lookup --features payment_stats:count_1h,payments:amount \\\n"
      "      --keys c1,c2\n"
      "Exit codes: 0 looked up (MISSING and EXPIRED values included), 1 the feature store\n"
      "refused the lookup (an unknown group or feature: NOT_FOUND) or could not be reached,\n"
      "2 bad usage (nothing is sent).");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 0, "", &parsed)) return *code;
  if (features_flag.empty()) return BadUsage(flags, "--features is required: G:F[,G:F...]");
  if (keys_flag.empty()) return BadUsage(flags, "--keys is required: K1[,K2...]");
  const std::vector<std::string> entries = absl::StrSplit(features_flag, ',');
  const std::vector<std::string> keys = absl::StrSplit(keys_flag, ',');
  if (absl::StatusOr<std::vector<v1::FeatureRef>> syntax = ParseFeatures(entries, nullptr);
      !syntax.ok()) {
    return BadUsage(flags, syntax.status().message());
  }
  absl::StatusOr<FeatureStoreClient> store = ConnectFeatureStore(target);
  if (!store.ok()) return Fail(kCommand, store.status());
  absl::StatusOr<std::vector<v1::FeatureRef>> refs = ParseFeatures(entries, &*store);
  if (!refs.ok()) return Fail(kCommand, refs.status());

  v1::LookupOnlineRequest request;
  for (v1::FeatureRef& ref : *refs) *request.add_features() = std::move(ref);
  v1::EntityKeys* entity_keys = request.add_entity_keys();
  entity_keys->set_entity(entity);
  for (const std::string& key : keys) entity_keys->add_keys(key);
  absl::StatusOr<v1::LookupOnlineResponse> response =
      store->Call(&FeatureStoreStub::LookupOnline, request, "LookupOnline");
  if (!response.ok()) return Fail(kCommand, response.status());
  if (json) {
    PrintJson(keys, *response);
  } else {
    PrintTable(keys, *response);
  }
  return 0;
}

}  // namespace fabrique::cli
