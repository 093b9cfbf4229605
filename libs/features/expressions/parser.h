#ifndef FABRIQUE_LIBS_FEATURES_EXPRESSIONS_PARSER_H_
#define FABRIQUE_LIBS_FEATURES_EXPRESSIONS_PARSER_H_

// Recursive-descent parser of the expression language. Precedence, lowest first:
//   or;  and;  not;  < <= > >= == != (not chained);  + -;  * / %;  unary -;
//   literals, features, f(args), (expr), [n1, n2, ...] (bucketize's boundaries only).

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/features/expressions/syntax_tree.h"

namespace fabrique::features::expr {

// Deepest nesting accepted, so that no text can exhaust the stack.
inline constexpr int kMaxNesting = 64;

// The syntax tree of `text`, untyped. INVALID_ARGUMENT with the position of the first error.
absl::StatusOr<std::unique_ptr<Node>> Parse(absl::string_view text);

}  // namespace fabrique::features::expr

#endif  // FABRIQUE_LIBS_FEATURES_EXPRESSIONS_PARSER_H_
