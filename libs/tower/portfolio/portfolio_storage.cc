#include "libs/tower/portfolio/portfolio_storage.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/core/stored_proto.h"

namespace fabrique::tower {
namespace {

// The record at `key`, or NOT_FOUND naming `what` and the CLI command that lists its kind.
template <typename Message>
absl::StatusOr<Message> ReadRecord(const kv::Store& store, kv::ColumnFamily family,
                                   absl::string_view key, absl::string_view what,
                                   absl::string_view listed_by) {
  absl::StatusOr<std::string> bytes = store.Get(family, key);
  if (absl::IsNotFound(bytes.status())) {
    return absl::NotFoundError(absl::StrCat("no ", what, " '", key, "'; `fabrique tower ",
                                            listed_by, " list` shows them"));
  }
  if (!bytes.ok()) return bytes.status();
  return core::ParseStored<Message>(*bytes, what);
}

// Calls `visit` with each record of `family` from `begin` on, in key order, until it returns
// false; a record that does not parse stops the scan with DATA_LOSS.
template <typename Message>
absl::Status ScanRecords(const kv::Store& store, kv::ColumnFamily family, absl::string_view begin,
                         absl::string_view what, absl::FunctionRef<bool(Message)> visit) {
  absl::Status parse_error;
  RETURN_IF_ERROR(store.Scan(
      family, kv::KeyRange::Between(begin, ""), [&](absl::string_view, absl::string_view value) {
        absl::StatusOr<Message> record = core::ParseStored<Message>(value, what);
        if (!record.ok()) {
          parse_error = record.status();
          return false;
        }
        return visit(*std::move(record));
      }));
  return parse_error;
}

}  // namespace

std::vector<std::string> PortfolioFamilies() { return {kUseCasesFamily, kTemplatesFamily}; }

absl::StatusOr<std::unique_ptr<PortfolioStorage>> PortfolioStorage::Open(kv::Store* store) {
  if (store == nullptr) return absl::InvalidArgumentError("the portfolio needs a store");
  ASSIGN_OR_RETURN(kv::ColumnFamily use_cases, store->Family(kUseCasesFamily));
  ASSIGN_OR_RETURN(kv::ColumnFamily templates, store->Family(kTemplatesFamily));
  return std::unique_ptr<PortfolioStorage>(new PortfolioStorage(store, use_cases, templates));
}

absl::StatusOr<v1::UseCase> PortfolioStorage::GetUseCase(absl::string_view id) const {
  return ReadRecord<v1::UseCase>(*store_, use_cases_, id, "use case", "usecases");
}

absl::Status PortfolioStorage::PutUseCase(const v1::UseCase& use_case) {
  return store_->Put(use_cases_, use_case.id(), use_case.SerializeAsString(), kv::SyncMode::kSync);
}

absl::Status PortfolioStorage::ScanUseCases(
    absl::string_view after_id, absl::FunctionRef<bool(v1::UseCase use_case)> visit) const {
  // The smallest key after `after_id` is `after_id` with a 0 byte appended.
  const std::string begin =
      after_id.empty() ? std::string() : absl::StrCat(after_id, std::string(1, '\0'));
  return ScanRecords<v1::UseCase>(*store_, use_cases_, begin, "use case", visit);
}

absl::StatusOr<std::vector<v1::UseCase>> PortfolioStorage::AllUseCases() const {
  std::vector<v1::UseCase> all;
  RETURN_IF_ERROR(ScanUseCases("", [&all](v1::UseCase use_case) {
    all.push_back(std::move(use_case));
    return true;
  }));
  return all;
}

absl::StatusOr<v1::Template> PortfolioStorage::GetTemplate(absl::string_view name) const {
  return ReadRecord<v1::Template>(*store_, templates_, name, "template", "templates");
}

absl::Status PortfolioStorage::PutTemplate(const v1::Template& template_) {
  return store_->Put(templates_, template_.name(), template_.SerializeAsString(),
                     kv::SyncMode::kSync);
}

absl::StatusOr<std::vector<v1::Template>> PortfolioStorage::AllTemplates() const {
  std::vector<v1::Template> all;
  RETURN_IF_ERROR(ScanRecords<v1::Template>(*store_, templates_, "", "template",
                                            [&all](v1::Template template_) {
                                              all.push_back(std::move(template_));
                                              return true;
                                            }));
  return all;
}

}  // namespace fabrique::tower
