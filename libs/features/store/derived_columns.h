#ifndef FABRIQUE_LIBS_FEATURES_STORE_DERIVED_COLUMNS_H_
#define FABRIQUE_LIBS_FEATURES_STORE_DERIVED_COLUMNS_H_

// The rows ingest validates and writes: the batch as the client sent it, extended with the
// group's derived features computed from it. Derived values are computed before expectations
// are checked, so a derived feature's expectations apply to its computed value, and they are
// stored like any other, so lookups and training sets read what ingest computed.
//
//   ASSIGN_OR_RETURN(DerivedColumns derived, DerivedColumns::Compute(*plan, request.rows()));
//   plan->Validate(derived.rows()) ... write derived.rows() ...
//
// A group without derived features costs nothing: rows() is the client's batch itself.

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "fabrique/v1/features.pb.h"
#include "libs/features/catalog/row_validator.h"

namespace fabrique::features {

class DerivedColumns {
 public:
  // Computes every derived feature of `plan`'s group over `rows` (which must outlive the result),
  // in spec order, each able to read the ones before it. INVALID_ARGUMENT when the batch supplies
  // a derived feature's column (naming it), or when a column an expression reads has another
  // type or length than the group declares.
  static absl::StatusOr<DerivedColumns> Compute(const ValidationPlan& plan,
                                                const v1::RowBatch& rows);

  const v1::RowBatch& rows() const { return extended_ != nullptr ? *extended_ : *supplied_; }
  // One per derived feature and kind of problem that nulled some of its values, in spec order.
  std::vector<v1::IngestWarning>& warnings() { return warnings_; }

 private:
  explicit DerivedColumns(const v1::RowBatch* supplied) : supplied_(supplied) {}

  const v1::RowBatch* supplied_;
  std::unique_ptr<v1::RowBatch> extended_;  // Set only when the group has derived features.
  std::vector<v1::IngestWarning> warnings_;
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORE_DERIVED_COLUMNS_H_
