#include "libs/features/catalog/names.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace fabrique::features {
namespace {

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Quotes at most 64 bytes of a rejected name, so an oversized one cannot flood the message.
std::string Quote(absl::string_view name) {
  constexpr size_t kShown = 64;
  if (name.size() <= kShown) return absl::StrCat("\"", name, "\"");
  return absl::StrCat("\"", name.substr(0, kShown), "...\" (", name.size(), " bytes)");
}

}  // namespace

bool IsValidName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength || !IsLower(name[0])) return false;
  for (char c : name) {
    if (!IsLower(c) && !IsDigit(c) && c != '_') return false;
  }
  return true;
}

absl::Status ValidateName(absl::string_view what, absl::string_view name) {
  if (IsValidName(name)) return absl::OkStatus();
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  if (name.size() > kMaxNameLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", Quote(name), " is longer than ", kMaxNameLength, " bytes"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(what, " ", Quote(name),
                   " is invalid: names start with a lower-case letter and contain only a-z, 0-9 "
                   "and _ ([a-z][a-z0-9_]*)"));
}

}  // namespace fabrique::features
