#include "libs/tower/portfolio/portfolio_storage.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/core/stored_proto.h"

namespace fabrique::tower {

std::vector<std::string> PortfolioFamilies() { return {kUseCasesFamily, kTemplatesFamily}; }

absl::StatusOr<std::unique_ptr<PortfolioStorage>> PortfolioStorage::Open(kv::Store* store) {
  if (store == nullptr) return absl::InvalidArgumentError("the portfolio needs a store");
  ASSIGN_OR_RETURN(kv::ColumnFamily use_cases, store->Family(kUseCasesFamily));
  ASSIGN_OR_RETURN(kv::ColumnFamily templates, store->Family(kTemplatesFamily));
  return std::unique_ptr<PortfolioStorage>(new PortfolioStorage(store, use_cases, templates));
}

absl::StatusOr<v1::UseCase> PortfolioStorage::GetUseCase(absl::string_view id) const {
  absl::StatusOr<std::string> bytes = store_->Get(use_cases_, id);
  if (absl::IsNotFound(bytes.status())) {
    return absl::NotFoundError(
        absl::StrCat("no use case '", id, "'; `fabrique tower usecases list` shows them"));
  }
  if (!bytes.ok()) return bytes.status();
  return core::ParseStored<v1::UseCase>(*bytes, "use case");
}

absl::Status PortfolioStorage::PutUseCase(const v1::UseCase& use_case) {
  return store_->Put(use_cases_, use_case.id(), use_case.SerializeAsString(), kv::SyncMode::kSync);
}

absl::Status PortfolioStorage::ScanUseCases(
    absl::string_view after_id, absl::FunctionRef<bool(v1::UseCase use_case)> visit) const {
  // The smallest key after `after_id` is `after_id` with a 0 byte appended.
  const std::string begin =
      after_id.empty() ? std::string() : absl::StrCat(after_id, std::string(1, '\0'));
  absl::Status parse_error;
  RETURN_IF_ERROR(store_->Scan(use_cases_, kv::KeyRange::Between(begin, ""),
                               [&](absl::string_view, absl::string_view value) {
                                 absl::StatusOr<v1::UseCase> use_case =
                                     core::ParseStored<v1::UseCase>(value, "use case");
                                 if (!use_case.ok()) {
                                   parse_error = use_case.status();
                                   return false;
                                 }
                                 return visit(*std::move(use_case));
                               }));
  return parse_error;
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
  absl::StatusOr<std::string> bytes = store_->Get(templates_, name);
  if (absl::IsNotFound(bytes.status())) {
    return absl::NotFoundError(
        absl::StrCat("no template '", name, "'; `fabrique tower templates list` shows them"));
  }
  if (!bytes.ok()) return bytes.status();
  return core::ParseStored<v1::Template>(*bytes, "template");
}

absl::Status PortfolioStorage::PutTemplate(const v1::Template& template_) {
  return store_->Put(templates_, template_.name(), template_.SerializeAsString(),
                     kv::SyncMode::kSync);
}

absl::StatusOr<std::vector<v1::Template>> PortfolioStorage::AllTemplates() const {
  std::vector<v1::Template> all;
  absl::Status parse_error;
  RETURN_IF_ERROR(store_->Scan(
      templates_, kv::KeyRange::All(), [&](absl::string_view, absl::string_view value) {
        absl::StatusOr<v1::Template> template_ = core::ParseStored<v1::Template>(value, "template");
        if (!template_.ok()) {
          parse_error = template_.status();
          return false;
        }
        all.push_back(*std::move(template_));
        return true;
      }));
  if (!parse_error.ok()) return parse_error;
  return all;
}

}  // namespace fabrique::tower
