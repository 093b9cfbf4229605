#include "libs/features/catalog/catalog_filters.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace fabrique::features {

absl::StatusOr<TagFilter> TagFilter::Parse(
    const google::protobuf::RepeatedPtrField<std::string>& filters) {
  TagFilter filter;
  for (int i = 0; i < filters.size(); ++i) {
    const std::string& text = filters[i];
    const size_t equals = text.find('=');
    Term term;
    term.key = text.substr(0, equals);
    term.any_value = equals == std::string::npos;
    if (!term.any_value) term.value = text.substr(equals + 1);
    if (term.key.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("tags[", i, "] \"", text, "\" has no key; write \"key\" or \"key=value\""));
    }
    filter.terms_.push_back(std::move(term));
  }
  return filter;
}

bool TagFilter::Matches(const Tags& tags) const {
  static const Tags* const kNone = new Tags();
  return Matches(tags, *kNone);
}

bool TagFilter::Matches(const Tags& own, const Tags& inherited) const {
  for (const Term& term : terms_) {
    auto it = own.find(term.key);
    if (it == own.end()) {
      it = inherited.find(term.key);
      if (it == inherited.end()) return false;
    }
    if (!term.any_value && it->second != term.value) return false;
  }
  return true;
}

TextQuery::TextQuery(absl::string_view query) : lowered_(absl::AsciiStrToLower(query)) {}

bool TextQuery::FoundIn(absl::string_view text) const {
  if (lowered_.empty()) return true;
  auto equal = [](char a, char b) { return absl::ascii_tolower(a) == b; };
  return std::search(text.begin(), text.end(), lowered_.begin(), lowered_.end(), equal) !=
         text.end();
}

}  // namespace fabrique::features
