#ifndef FABRIQUE_LIBS_MONITORING_REPORT_HTML_ESCAPE_H_
#define FABRIQUE_LIBS_MONITORING_REPORT_HTML_ESCAPE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace fabrique::monitoring::report {

// Returns `text` safe to place in HTML text and in quoted attribute values: & < > " ' become
// character references, so a feature or model name can never open a tag or end an attribute.
std::string HtmlEscape(absl::string_view text);

}  // namespace fabrique::monitoring::report

#endif  // FABRIQUE_LIBS_MONITORING_REPORT_HTML_ESCAPE_H_
