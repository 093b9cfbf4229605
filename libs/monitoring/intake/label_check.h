#ifndef FABRIQUE_LIBS_MONITORING_INTAKE_LABEL_CHECK_H_
#define FABRIQUE_LIBS_MONITORING_INTAKE_LABEL_CHECK_H_

// Whether an observed label can be compared with what a model predicts. A label of the wrong type
// would make back-testing metrics silently wrong (a "yes" averaged into an RMSE), so the intake
// refuses it with the row and this reason instead of storing it.
//
//   binary classification   a bool, or 0 / 1 as an integer or a number
//   multiclass              a class name (string) or a class index (integer >= 0)
//   regression              a finite number (float, double or integer)
//   unspecified (unknown)   any single value; the type is checked when the model is known
//
// A missing label and a vector label are refused whatever the task.

#include "absl/status/status.h"
#include "fabrique/v1/common.pb.h"

namespace fabrique::monitoring {

// OK, or INVALID_ARGUMENT whose message says why `label` does not fit `task`.
absl::Status CheckLabel(v1::Task task, const v1::Value& label);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_INTAKE_LABEL_CHECK_H_
