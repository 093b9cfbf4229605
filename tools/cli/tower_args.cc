#include "tools/cli/tower_args.h"

#include <cmath>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "libs/core/status_macros.h"
#include "tools/cli/input_file.h"
#include "tools/cli/json_file.h"
#include "yaml-cpp/yaml.h"

namespace fabrique::cli {
namespace {

constexpr int64_t kKi = 1024;

absl::Status NotA(absl::string_view flag, absl::string_view text, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, " '", text, "': ", what));
}

// A non-negative finite number, or nothing.
bool ParseAmount(absl::string_view text, double* value) {
  return absl::SimpleAtod(text, value) && std::isfinite(*value) && *value >= 0 &&
         !absl::StartsWith(text, "-");
}

// The prefix every value name of `type` carries: "USE_CASE_STATUS_" from
// USE_CASE_STATUS_UNSPECIFIED.
std::string EnumPrefix(const google::protobuf::EnumDescriptor* type) {
  const std::string& zero = type->value(0)->name();
  return std::string(absl::StripSuffix(zero, "UNSPECIFIED"));
}

void AppendJsonString(absl::string_view text, std::string* out) {
  out->push_back('"');
  for (const char c : text) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(out, "\\u%04x", c);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

// Writes `node` as JSON. Plain scalars stay strings, which protobuf's JSON parser takes for
// numbers and enums alike, except true, false and null; quoted scalars are always strings.
void AppendJson(const YAML::Node& node, std::string* out) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      out->push_back('{');
      bool first = true;
      for (const auto& entry : node) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(entry.first.as<std::string>(), out);
        out->push_back(':');
        AppendJson(entry.second, out);
      }
      out->push_back('}');
      return;
    }
    case YAML::NodeType::Sequence: {
      out->push_back('[');
      bool first = true;
      for (const auto& item : node) {
        if (!first) out->push_back(',');
        first = false;
        AppendJson(item, out);
      }
      out->push_back(']');
      return;
    }
    case YAML::NodeType::Scalar: {
      const std::string& value = node.Scalar();
      if (node.Tag() == "?" && (value == "true" || value == "false")) {
        out->append(value);
      } else if (node.Tag() == "?" && (value == "null" || value == "~")) {
        out->append("null");
      } else {
        AppendJsonString(value, out);
      }
      return;
    }
    default:
      out->append("null");
  }
}

}  // namespace

absl::StatusOr<int64_t> ParseMillicores(absl::string_view flag, absl::string_view text) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  absl::string_view number = trimmed;
  const bool milli = absl::ConsumeSuffix(&number, "m");
  double value = 0;
  if (!ParseAmount(number, &value) || value > 1e12) {
    return NotA(flag, text, "not a CPU quantity: give cores (2, 0.5) or millicores (500m)");
  }
  return static_cast<int64_t>(std::llround(milli ? value : value * 1000));
}

absl::StatusOr<int64_t> ParseBytes(absl::string_view flag, absl::string_view text) {
  struct Suffix {
    const char* text;
    double factor;
  };
  static constexpr Suffix kSuffixes[] = {
      {"Ki", 1024.0},
      {"Mi", 1024.0 * 1024},
      {"Gi", 1024.0 * 1024 * 1024},
      {"Ti", 1024.0 * 1024 * 1024 * 1024},
      {"Pi", 1024.0 * 1024 * 1024 * 1024 * 1024},
      {"k", 1e3},
      {"K", 1e3},
      {"M", 1e6},
      {"G", 1e9},
      {"T", 1e12},
      {"P", 1e15},
  };
  absl::string_view number = absl::StripAsciiWhitespace(text);
  double factor = 1;
  for (const Suffix& suffix : kSuffixes) {
    if (absl::ConsumeSuffix(&number, suffix.text)) {
      factor = suffix.factor;
      break;
    }
  }
  double value = 0;
  if (!ParseAmount(number, &value) || value * factor > 9e18) {
    return NotA(flag, text, "not a memory quantity: give bytes with a suffix (512Mi, 8Gi, 1G)");
  }
  return static_cast<int64_t>(std::llround(value * factor));
}

absl::StatusOr<int64_t> ParseQuantity(v1::Resource resource, absl::string_view flag,
                                      absl::string_view text) {
  switch (resource) {
    case v1::RESOURCE_CPU:
      return ParseMillicores(flag, text);
    case v1::RESOURCE_MEMORY:
      return ParseBytes(flag, text);
    default: {
      int64_t devices = 0;
      if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &devices) || devices < 0) {
        return NotA(flag, text, "not a number of GPUs: give a whole number (0, 1, 8)");
      }
      return devices;
    }
  }
}

std::string FormatQuantity(v1::Resource resource, int64_t amount) {
  switch (resource) {
    case v1::RESOURCE_CPU:
      return amount % 1000 == 0 ? absl::StrCat(amount / 1000) : absl::StrCat(amount, "m");
    case v1::RESOURCE_MEMORY: {
      if (amount == 0) return "0";
      static constexpr const char* kUnits[] = {"Ti", "Gi", "Mi", "Ki"};
      int64_t factor = kKi * kKi * kKi * kKi;
      for (const char* unit : kUnits) {
        if (amount % factor == 0) return absl::StrCat(amount / factor, unit);
        factor /= kKi;
      }
      return absl::StrCat(amount);
    }
    default:
      return absl::StrCat(amount);
  }
}

std::string ResourceName(v1::Resource resource) {
  return EnumText(v1::Resource_descriptor(), resource);
}

absl::StatusOr<v1::Resource> ParseResource(absl::string_view flag, absl::string_view text) {
  return ParseTowerEnum<v1::Resource>(v1::Resource_descriptor(), flag, text);
}

absl::StatusOr<v1::Money> ParseMoney(absl::string_view flag, absl::string_view text,
                                     absl::string_view default_currency) {
  absl::string_view rest = absl::StripAsciiWhitespace(text);
  std::string currency(default_currency);
  // The currency, before or after the amount: three letters.
  size_t end = rest.size();
  while (end > 0 && absl::ascii_isalpha(rest[end - 1])) --end;
  if (end < rest.size()) {
    currency = std::string(rest.substr(end));
    rest = absl::StripAsciiWhitespace(rest.substr(0, end));
  } else {
    size_t start = 0;
    while (start < rest.size() && absl::ascii_isalpha(rest[start])) ++start;
    if (start > 0) {
      currency = std::string(rest.substr(0, start));
      rest = absl::StripAsciiWhitespace(rest.substr(start));
    }
  }
  const auto bad = [&] {
    return NotA(flag, text, "not an amount of money: give e.g. 1500, 1500.50 or '1500.50 EUR'");
  };
  if (currency.size() != 3) return bad();
  const std::vector<absl::string_view> parts = absl::StrSplit(rest, '.');
  if (parts.size() > 2 || parts[0].empty()) return bad();
  int64_t units = 0;
  if (!absl::SimpleAtoi(parts[0], &units) || units < 0 || !absl::ascii_isdigit(parts[0][0])) {
    return bad();
  }
  int32_t nanos = 0;
  if (parts.size() == 2) {
    const absl::string_view fraction = parts[1];
    if (fraction.empty() || fraction.size() > 9) return bad();
    for (const char c : fraction) {
      if (!absl::ascii_isdigit(c)) return bad();
    }
    const std::string padded = absl::StrCat(fraction, std::string(9 - fraction.size(), '0'));
    if (!absl::SimpleAtoi(padded, &nanos)) return bad();
  }
  v1::Money money;
  money.set_currency_code(absl::AsciiStrToUpper(currency));
  money.set_units(units);
  money.set_nanos(nanos);
  return money;
}

std::string FormatMoney(const v1::Money& money) {
  const bool negative = money.units() < 0 || money.nanos() < 0;
  const int64_t units = money.units() < 0 ? -money.units() : money.units();
  const int32_t nanos = money.nanos() < 0 ? -money.nanos() : money.nanos();
  std::string text = absl::StrCat(negative ? "-" : "", units);
  if (nanos != 0) {
    std::string fraction = absl::StrFormat("%09d", nanos);
    while (fraction.size() > 2 && fraction.back() == '0') fraction.pop_back();
    absl::StrAppend(&text, ".", fraction);
  }
  if (!money.currency_code().empty()) absl::StrAppend(&text, " ", money.currency_code());
  return text;
}

double MoneyValue(const v1::Money& money) {
  return static_cast<double>(money.units()) + money.nanos() / 1e9;
}

absl::StatusOr<v1::Skill> ParseSkill(absl::string_view flag, absl::string_view text) {
  return ParseTowerEnum<v1::Skill>(v1::Skill_descriptor(), flag, text);
}

absl::StatusOr<v1::SkillNeed> ParseSkillNeed(absl::string_view flag, absl::string_view text) {
  const std::pair<absl::string_view, absl::string_view> parts =
      absl::StrSplit(text, absl::MaxSplits('=', 1));
  double fte = 0;
  if (!absl::StrContains(text, '=') || !ParseAmount(parts.second, &fte) || fte == 0) {
    return NotA(flag, text, "give SKILL=FTE, e.g. data-science=1.5");
  }
  ASSIGN_OR_RETURN(v1::Skill skill, ParseSkill(flag, parts.first));
  v1::SkillNeed need;
  need.set_skill(skill);
  need.set_fte(fte);
  return need;
}

std::vector<std::string> SplitList(absl::string_view text) {
  std::vector<std::string> items;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (!item.empty()) items.emplace_back(item);
  }
  return items;
}

absl::StatusOr<int> ParseEnumValue(const google::protobuf::EnumDescriptor* type,
                                   absl::string_view flag, absl::string_view text) {
  std::string name = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(text));
  std::replace(name.begin(), name.end(), '-', '_');
  const std::string prefix = EnumPrefix(type);
  const google::protobuf::EnumValueDescriptor* value = type->FindValueByName(prefix + name);
  if (value == nullptr && absl::StartsWith(name, prefix)) value = type->FindValueByName(name);
  if (value == nullptr || value->number() == 0) {
    return NotA(flag, text, absl::StrCat("give one of ", EnumChoices(type)));
  }
  return value->number();
}

std::string EnumText(const google::protobuf::EnumDescriptor* type, int value) {
  const google::protobuf::EnumValueDescriptor* found = type->FindValueByNumber(value);
  if (found == nullptr) return absl::StrCat(value);
  if (value == 0) return "-";
  std::string name = absl::AsciiStrToLower(absl::StripPrefix(found->name(), EnumPrefix(type)));
  std::replace(name.begin(), name.end(), '_', '-');
  return name;
}

std::string EnumChoices(const google::protobuf::EnumDescriptor* type) {
  std::vector<std::string> names;
  for (int i = 0; i < type->value_count(); ++i) {
    if (type->value(i)->number() != 0) names.push_back(EnumText(type, type->value(i)->number()));
  }
  return absl::StrJoin(names, ", ");
}

absl::StatusOr<google::protobuf::Timestamp> ParseMonth(absl::string_view flag,
                                                       absl::string_view text) {
  absl::Time time;
  std::string error;
  if (!absl::ParseTime("%Y-%m", std::string(text), absl::UTCTimeZone(), &time, &error)) {
    return NotA(flag, text, "not a month: give YYYY-MM, e.g. 2026-12");
  }
  google::protobuf::Timestamp month;
  month.set_seconds(absl::ToUnixSeconds(time));
  return month;
}

absl::StatusOr<v1::SquadMember> MemberFromFlags(const std::string& user, const std::string& roles,
                                                const std::string& skills, double allocation) {
  if (user.empty()) return absl::InvalidArgumentError("--user is required: the member's subject");
  v1::SquadMember member;
  member.set_user(user);
  for (const std::string& role : SplitList(roles)) member.add_roles(role);
  for (const std::string& text : SplitList(skills)) {
    ASSIGN_OR_RETURN(v1::Skill skill, ParseSkill("skills", text));
    member.add_skills(skill);
  }
  if (allocation > 100) {
    return absl::InvalidArgumentError(
        absl::StrCat("--allocation ", allocation, ": a percent of the person's time, 0..100"));
  }
  if (allocation >= 0) member.set_allocation_percent(allocation);
  return member;
}

namespace {

bool SameFlavor(const std::string& a, const std::string& b) {
  return (a.empty() ? "default" : a) == (b.empty() ? "default" : b);
}

v1::ResourceQuota* FindQuota(v1::Quota* quota, const std::string& flavor, v1::Resource resource) {
  for (v1::ResourceQuota& entry : *quota->mutable_resources()) {
    if (entry.resource() == resource && SameFlavor(entry.flavor(), flavor)) return &entry;
  }
  return nullptr;
}

absl::Status ApplyLimit(absl::string_view flag, const std::string& text, const std::string& flavor,
                        v1::Quota* quota) {
  const std::pair<std::string, std::string> parts = absl::StrSplit(text, absl::MaxSplits('=', 1));
  if (!absl::StrContains(text, '=')) {
    return NotA(flag, text, "give RESOURCE=QUANTITY, e.g. cpu=2 or memory=4Gi ('none': no limit)");
  }
  ASSIGN_OR_RETURN(v1::Resource resource, ParseResource(flag, parts.first));
  v1::ResourceQuota* entry = FindQuota(quota, flavor, resource);
  if (entry == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " ", text, ": squad ", quota->squad(), " has no ", parts.first,
                     " quota in flavour ", flavor, "; give --", parts.first, " too"));
  }
  const bool borrowing = flag == "borrowing_limit";
  if (parts.second == "none") {
    borrowing ? entry->clear_borrowing_limit() : entry->clear_lending_limit();
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(int64_t amount, ParseQuantity(resource, flag, parts.second));
  (borrowing ? entry->mutable_borrowing_limit() : entry->mutable_lending_limit())
      ->set_value(amount);
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyQuotaFlags(const QuotaFlags& flags, v1::Quota* quota) {
  const std::string flavor = flags.flavor.empty() ? "default" : flags.flavor;
  const std::pair<v1::Resource, const std::string*> nominal[] = {
      {v1::RESOURCE_CPU, &flags.cpu},
      {v1::RESOURCE_MEMORY, &flags.memory},
      {v1::RESOURCE_GPU, &flags.gpu},
  };
  for (const auto& [resource, text] : nominal) {
    if (text->empty()) continue;
    ASSIGN_OR_RETURN(int64_t amount, ParseQuantity(resource, ResourceName(resource), *text));
    v1::ResourceQuota* entry = FindQuota(quota, flavor, resource);
    if (entry == nullptr) {
      entry = quota->add_resources();
      entry->set_flavor(flavor);
      entry->set_resource(resource);
    }
    entry->set_nominal(amount);
  }
  for (const std::string& limit : flags.borrowing_limits) {
    RETURN_IF_ERROR(ApplyLimit("borrowing_limit", limit, flavor, quota));
  }
  for (const std::string& limit : flags.lending_limits) {
    RETURN_IF_ERROR(ApplyLimit("lending_limit", limit, flavor, quota));
  }
  return absl::OkStatus();
}

absl::Status CheckQuotaFlags(const QuotaFlags& flags) {
  // Applied to a quota that holds every resource, so that only the values can be wrong.
  v1::Quota full;
  const std::string flavor = flags.flavor.empty() ? "default" : flags.flavor;
  for (v1::Resource resource : {v1::RESOURCE_CPU, v1::RESOURCE_MEMORY, v1::RESOURCE_GPU}) {
    v1::ResourceQuota* entry = full.add_resources();
    entry->set_flavor(flavor);
    entry->set_resource(resource);
  }
  return ApplyQuotaFlags(flags, &full);
}

absl::StatusOr<std::string> YamlToJson(const std::string& yaml) {
  try {
    const YAML::Node root = YAML::Load(yaml);
    std::string json;
    AppendJson(root, &json);
    return json;
  } catch (const YAML::Exception& error) {
    return absl::InvalidArgumentError(
        absl::StrCat("not YAML: line ", error.mark.line + 1, ": ", error.msg));
  }
}

absl::Status ReadRecordFile(const std::string& path, google::protobuf::Message* message) {
  if (absl::EndsWith(path, ".json")) return ReadJsonFile(path, message);
  ASSIGN_OR_RETURN(const std::string text, ReadInputFile(path));
  absl::StatusOr<std::string> json = YamlToJson(text);
  if (!json.ok())
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", json.status().message()));
  const auto parsed = google::protobuf::util::JsonStringToMessage(*json, message);
  if (parsed.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(path, ": not a ",
                                                 message->GetDescriptor()->full_name(), ": ",
                                                 std::string(parsed.message())));
}

}  // namespace fabrique::cli
