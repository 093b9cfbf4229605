#ifndef FABRIQUE_TOOLS_CLI_TOWER_ARGS_H_
#define FABRIQUE_TOOLS_CLI_TOWER_ARGS_H_

// What `fabrique tower` reads from its command line and how it writes values back: quantities as
// Kubernetes writes them ("500m" CPU, "8Gi" memory), money ("1500.50 EUR"), skills and skill
// needs ("data-science=1.5"), the tower's enums in lower case with dashes ("in-production",
// "budget-overrun"), months ("2026-12"), and records a user writes as YAML or JSON files. Every
// parser answers INVALID_ARGUMENT naming the flag and what it accepts: a usage error (exit 2).

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabrique/v1/tower.pb.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"

namespace fabrique::cli {

// CPU as millicores: "500m" -> 500, "2" -> 2000, "1.5" -> 1500.
absl::StatusOr<int64_t> ParseMillicores(absl::string_view flag, absl::string_view text);
// Memory as bytes, with Kubernetes' suffixes: "512Mi", "8Gi", "1G", "100M", "1024" (bytes).
absl::StatusOr<int64_t> ParseBytes(absl::string_view flag, absl::string_view text);
// A quantity of `resource` in the unit quotas count it in (millicores, bytes, devices).
absl::StatusOr<int64_t> ParseQuantity(v1::Resource resource, absl::string_view flag,
                                      absl::string_view text);
// The reverse, as short as exact: 1500 millicores -> "1500m", 2000 -> "2", 8 GiB -> "8Gi".
std::string FormatQuantity(v1::Resource resource, int64_t amount);
// "cpu", "memory", "gpu".
std::string ResourceName(v1::Resource resource);
absl::StatusOr<v1::Resource> ParseResource(absl::string_view flag, absl::string_view text);

// Money: "1500", "1500.50", "1500.50 EUR", "1500.50EUR"; a missing currency is
// `default_currency`. Negative amounts are refused.
absl::StatusOr<v1::Money> ParseMoney(absl::string_view flag, absl::string_view text,
                                     absl::string_view default_currency = "EUR");
// "1500.50 EUR", "1500 EUR"; "0" for an unset amount.
std::string FormatMoney(const v1::Money& money);
// The amount as a number of units, for ratios.
double MoneyValue(const v1::Money& money);

// "data-science" (or data_science, SKILL_DATA_SCIENCE) -> SKILL_DATA_SCIENCE.
absl::StatusOr<v1::Skill> ParseSkill(absl::string_view flag, absl::string_view text);
// "data-science=1.5" -> {SKILL_DATA_SCIENCE, 1.5}; the effort is in full-time equivalents.
absl::StatusOr<v1::SkillNeed> ParseSkillNeed(absl::string_view flag, absl::string_view text);
// "a,b, c" -> {"a", "b", "c"}; empty items are dropped.
std::vector<std::string> SplitList(absl::string_view text);

// An enum value from its short name: the value's name without the enum's prefix, in any case,
// with dashes or underscores ("in-production", "IN_PRODUCTION", "USE_CASE_STATUS_IN_PRODUCTION").
// UNSPECIFIED is refused; the error lists the accepted names.
absl::StatusOr<int> ParseEnumValue(const google::protobuf::EnumDescriptor* type,
                                   absl::string_view flag, absl::string_view text);
template <typename Enum>
absl::StatusOr<Enum> ParseTowerEnum(const google::protobuf::EnumDescriptor* type,
                                    absl::string_view flag, absl::string_view text) {
  absl::StatusOr<int> value = ParseEnumValue(type, flag, text);
  if (!value.ok()) return value.status();
  return static_cast<Enum>(*value);
}
// The short name ParseEnumValue reads: "in-production"; "-" for UNSPECIFIED.
std::string EnumText(const google::protobuf::EnumDescriptor* type, int value);
// The accepted short names: "idea, qualified, approved, ...".
std::string EnumChoices(const google::protobuf::EnumDescriptor* type);

// "2026-12" -> 2026-12-01T00:00:00Z, the month GetBudgetReport reports.
absl::StatusOr<google::protobuf::Timestamp> ParseMonth(absl::string_view flag,
                                                       absl::string_view text);

// A squad member from the members flags: --user, --roles (comma-separated), --skills
// (comma-separated), --allocation (percent, 0..100; negative = unset).
absl::StatusOr<v1::SquadMember> MemberFromFlags(const std::string& user, const std::string& roles,
                                                const std::string& skills, double allocation);

// The quota flags: quantities per resource in one flavour, and limits written "cpu=2",
// "memory=4Gi" (one per resource).
struct QuotaFlags {
  std::string cpu;
  std::string memory;
  std::string gpu;
  std::string flavor = "default";
  std::vector<std::string> borrowing_limits;
  std::vector<std::string> lending_limits;
  bool any() const {
    return !cpu.empty() || !memory.empty() || !gpu.empty() || !borrowing_limits.empty() ||
           !lending_limits.empty();
  }
};
// Merges the flags into `quota`: each resource given replaces its entry in the flavour (keeping
// the limits not given), the others stay. A limit for a resource with no nominal quota given or
// held is refused.
absl::Status ApplyQuotaFlags(const QuotaFlags& flags, v1::Quota* quota);
// Checks every value of the flags reads, before anything is asked of the tower.
absl::Status CheckQuotaFlags(const QuotaFlags& flags);

// Reads a message from a file a user wrote: protobuf JSON when the name ends in .json, else
// YAML with the same field names (snake_case or camelCase; enums by name; numbers may be
// quoted). INVALID_ARGUMENT naming the file and why: a usage error.
absl::Status ReadRecordFile(const std::string& path, google::protobuf::Message* message);
// The YAML text as protobuf JSON's input; exposed for tests.
absl::StatusOr<std::string> YamlToJson(const std::string& yaml);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_TOWER_ARGS_H_
