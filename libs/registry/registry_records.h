#ifndef FABRIQUE_LIBS_REGISTRY_REGISTRY_RECORDS_H_
#define FABRIQUE_LIBS_REGISTRY_REGISTRY_RECORDS_H_

// The vocabulary the registry store's files share: record keys, names' rules, the JSON of
// audit entries, typed reads and error wording. Internal to libs/registry.

#include <algorithm>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "fabrique/v1/registry.pb.h"
#include "google/protobuf/util/json_util.h"
#include "libs/kv/key_codec.h"
#include "libs/kv/key_range.h"
#include "libs/kv/store.h"

namespace fabrique::registry::records {

inline std::string ModelKey(absl::string_view model) {
  return kv::KeyBuilder().AddString("m").AddString(model).key();
}
inline std::string VersionKey(absl::string_view model, int64_t number) {
  return kv::KeyBuilder().AddString("v").AddString(model).AddInt64(number).key();
}
inline std::string AliasKey(absl::string_view model, absl::string_view alias) {
  return kv::KeyBuilder().AddString("l").AddString(model).AddString(alias).key();
}

// Model and alias names: [a-z][a-z0-9_-]*, at most 64 characters (they appear in URLs,
// Kubernetes labels and metric labels).
inline absl::Status CheckName(absl::string_view name, absl::string_view what) {
  bool ok = !name.empty() && name.size() <= 64 && absl::ascii_islower(name[0]);
  for (char c : name) {
    ok = ok && (absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' || c == '-');
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(what, " name '", name,
                   "' is invalid: use a lower-case letter, then a-z, 0-9, _ or -, "
                   "64 characters at most"));
}

inline std::string Json(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  // Cannot fail for our messages (no Any fields).
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

template <typename Message>
absl::StatusOr<Message> Read(const kv::Store& store, kv::ColumnFamily family,
                             const std::string& key, const std::string& what) {
  absl::StatusOr<std::string> bytes = store.Get(family, key);
  if (absl::IsNotFound(bytes.status())) return absl::NotFoundError(what + " does not exist");
  if (!bytes.ok()) return bytes.status();
  Message message;
  if (!message.ParseFromString(*bytes)) return absl::DataLossError(what + " is corrupt");
  return message;
}

inline std::string ModelWhat(absl::string_view model) {
  return absl::StrCat("model '", model, "'");
}
inline std::string VersionWhat(absl::string_view model, int64_t number) {
  return absl::StrCat("version ", number, " of model '", model, "'");
}

// Sets `version`'s output-only aliases: those of `model` pointing at it now, by name.
inline void FillAliases(const v1::Model& model, v1::ModelVersion* version) {
  version->clear_aliases();
  for (const auto& [alias, number] : model.aliases()) {
    if (number == version->version()) version->add_aliases(alias);
  }
  std::sort(version->mutable_aliases()->begin(), version->mutable_aliases()->end());
}

inline v1::WatchEvent Event(v1::WatchEventType type, const std::string& model) {
  v1::WatchEvent event;
  event.set_type(type);
  event.set_model(model);
  return event;
}

inline std::string PolicyKey(absl::string_view model, absl::string_view alias) {
  return kv::KeyBuilder().AddString("p").AddString(model).AddString(alias).key();
}
inline std::string RequestKey(absl::string_view id) {
  return kv::KeyBuilder().AddString("r").AddString(id).key();
}
inline std::string StandardKey(absl::string_view name) {
  return kv::KeyBuilder().AddString("s").AddString(name).key();
}
inline std::string TrafficKey(absl::string_view model) {
  return kv::KeyBuilder().AddString("t").AddString(model).key();
}
// What a retried call with idempotency key `request_id` finds: kind "v" (RegisterVersion) ->
// ModelVersionRef, "r" (RequestPromotion) -> the promotion request's id.
inline std::string IdempotencyKey(absl::string_view kind, absl::string_view request_id) {
  return kv::KeyBuilder().AddString("i").AddString(kind).AddString(request_id).key();
}

// Visits the records of `range` in key order, parsed as `Message`; stops early when `visit`
// returns false. DATA_LOSS naming `what` for a record that does not parse.
template <typename Message, typename Visit>
absl::Status ScanMessages(const kv::Store& store, kv::ColumnFamily family,
                          const kv::KeyRange& range, absl::string_view what, Visit visit) {
  absl::Status parsed;
  absl::Status scanned = store.Scan(family, range, [&](absl::string_view, absl::string_view value) {
    Message message;
    if (!message.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      parsed = absl::DataLossError(absl::StrCat("a stored ", what, " is corrupt"));
      return false;
    }
    return visit(std::move(message));
  });
  return parsed.ok() ? scanned : parsed;
}

}  // namespace fabrique::registry::records

#endif  // FABRIQUE_LIBS_REGISTRY_REGISTRY_RECORDS_H_
