#ifndef FABRIQUE_LIBS_TOWER_PORTFOLIO_PORTFOLIO_STORAGE_H_
#define FABRIQUE_LIBS_TOWER_PORTFOLIO_PORTFOLIO_STORAGE_H_

// Where the portfolio keeps its records in the tower's store: use cases keyed by id and templates
// keyed by name, each a serialised proto in its own column family. Every write is synced before
// it returns, so an answered call survives a crash.

#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabrique/v1/tower.pb.h"
#include "libs/kv/store.h"

namespace fabrique::tower {

inline constexpr char kUseCasesFamily[] = "tower_use_cases";
inline constexpr char kTemplatesFamily[] = "tower_templates";

// The families the tower's store must open for the portfolio.
std::vector<std::string> PortfolioFamilies();

class PortfolioStorage {
 public:
  // NOT_FOUND when the store lacks one of PortfolioFamilies().
  static absl::StatusOr<std::unique_ptr<PortfolioStorage>> Open(kv::Store* store);

  // The stored use case, or NOT_FOUND naming it.
  absl::StatusOr<v1::UseCase> GetUseCase(absl::string_view id) const;
  absl::Status PutUseCase(const v1::UseCase& use_case);
  // Calls `visit` with each use case whose id sorts after `after_id` ("" = from the first), in id
  // order, until it returns false.
  absl::Status ScanUseCases(absl::string_view after_id,
                            absl::FunctionRef<bool(v1::UseCase use_case)> visit) const;
  absl::StatusOr<std::vector<v1::UseCase>> AllUseCases() const;

  // The stored template, or NOT_FOUND naming it.
  absl::StatusOr<v1::Template> GetTemplate(absl::string_view name) const;
  absl::Status PutTemplate(const v1::Template& template_);
  // Every template, by name.
  absl::StatusOr<std::vector<v1::Template>> AllTemplates() const;

 private:
  PortfolioStorage(kv::Store* store, kv::ColumnFamily use_cases, kv::ColumnFamily templates)
      : store_(store), use_cases_(use_cases), templates_(templates) {}

  kv::Store* const store_;
  const kv::ColumnFamily use_cases_;
  const kv::ColumnFamily templates_;
};

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_PORTFOLIO_PORTFOLIO_STORAGE_H_
