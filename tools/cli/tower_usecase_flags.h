#ifndef FABRIQUE_TOOLS_CLI_TOWER_USECASE_FLAGS_H_
#define FABRIQUE_TOOLS_CLI_TOWER_USECASE_FLAGS_H_

// The flags `fabrique tower usecases create` and `update` share: a use case's value and cost,
// the WSJF inputs (business value, time criticality, risk reduction, job size on 1..10), the
// skills it needs ("--skill data-science=1.5"), tags, models and its retraining policy. Each flag
// given sets its field and names it in the update mask; flags not given leave fields alone.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "fabrique/v1/tower.pb.h"
#include "google/protobuf/field_mask.pb.h"
#include "libs/core/flags.h"

namespace fabrique::cli {

struct UseCaseFlags {
  std::string name;
  std::string description;
  std::string squad;
  std::string sponsor;
  std::string value;  // Money.
  std::string cost;   // Money.
  int business_value = -1;
  int criticality = -1;
  int risk = -1;
  int size = -1;
  std::vector<std::string> skills;  // SKILL=FTE.
  std::vector<std::string> tags;    // KEY=VALUE.
  std::vector<std::string> models;
  std::string candidate_alias;
  double canary = -1;
  std::string promote_to;

  // Declares the flags above on `flags`.
  void AddTo(core::FlagSet* flags);
  // Sets the fields the flags give on `use_case`, adding their names to `mask` (may be null).
  // INVALID_ARGUMENT naming the flag for a value it cannot read or out of range.
  absl::Status ApplyTo(v1::UseCase* use_case, google::protobuf::FieldMask* mask) const;
};

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_TOWER_USECASE_FLAGS_H_
