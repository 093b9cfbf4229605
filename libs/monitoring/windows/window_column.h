#ifndef FABRIQUE_LIBS_MONITORING_WINDOWS_WINDOW_COLUMN_H_
#define FABRIQUE_LIBS_MONITORING_WINDOWS_WINDOW_COLUMN_H_

// One column of a live window: a ColumnSummary whose kind is not known in advance. Live records
// carry typed values, and a column is numeric or categorical by the first non-missing value the
// window sees (numbers: numeric; booleans and strings: categorical). Until then its values are
// all missing, so it can still become either. Once settled, a value of the other kind counts as
// missing: a column is one distribution, and a type error upstream should show as missing
// values (which a report flags) rather than split it in two.
//
// Merging windows follows the same rule: a column that holds only missing values takes the
// other's kind; two settled columns of different kinds keep the first one's kind (the earlier
// window's, when windows merge in time order) and count the other's values as missing.

#include <cstdint>

#include "absl/strings/string_view.h"
#include "fabrique/v1/common.pb.h"
#include "libs/monitoring/sketch/column_summary.h"

namespace fabrique::monitoring {

class WindowColumn {
 public:
  // An empty column of unknown kind.
  WindowColumn();
  // A column read back from its persisted summary.
  explicit WindowColumn(ColumnSummary summary) : summary_(std::move(summary)) {}

  // Counts one value: a number, a boolean or a string; a float vector pools its elements as
  // numbers; an unset value counts as missing.
  void Add(const v1::Value& value);
  void AddNumber(double value);
  void AddCategory(absl::string_view value);
  void AddMissing(int64_t times = 1) { summary_.AddMissing(times); }

  // Adds `other`'s values (see the rules above).
  void Merge(const WindowColumn& other);

  // Whether a non-missing value has set the kind.
  bool settled() const { return summary_.count() > summary_.missing_count(); }
  const ColumnSummary& summary() const { return summary_; }
  ColumnSummary& summary() { return summary_; }

  // The bytes the summary holds in memory, roughly (sketch values and category names).
  size_t ApproxBytes() const;

 private:
  // Makes an unsettled column categorical, keeping its missing count.
  void BecomeCategorical();

  ColumnSummary summary_;
};

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_WINDOWS_WINDOW_COLUMN_H_
