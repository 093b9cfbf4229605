#ifndef FABRIQUE_LIBS_FEATURES_EXPRESSIONS_LEXER_H_
#define FABRIQUE_LIBS_FEATURES_EXPRESSIONS_LEXER_H_

// Splits an expression's text into tokens, each with its 1-based position.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fabrique::features::expr {

enum class TokenKind {
  kNumber,      // 12, 1.5, 2e3, .5 (`text` as written; `is_float` when not an integer).
  kString,      // "..." (`text` holds the value, escapes resolved).
  kIdentifier,  // Feature names, function names and the words and/or/not/true/false/null.
  kSymbol,      // + - * / % < <= > >= == != ( ) , [ ]
  kEnd,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  int position = 1;
  bool is_float = false;
};

// Longest text accepted, in bytes: expressions are short, and the bound keeps compile cheap.
inline constexpr size_t kMaxExpressionBytes = 4096;

// The tokens of `text`, ending with one kEnd token. INVALID_ARGUMENT on a character that starts
// no token, an unterminated string, or a text over kMaxExpressionBytes.
absl::StatusOr<std::vector<Token>> Tokenize(absl::string_view text);

}  // namespace fabrique::features::expr

#endif  // FABRIQUE_LIBS_FEATURES_EXPRESSIONS_LEXER_H_
