#include "libs/features/expressions/lexer.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "libs/features/expressions/syntax_tree.h"

namespace fabrique::features::expr {
namespace {

bool IsIdentifierStart(char c) { return absl::ascii_isalpha(c) || c == '_'; }
bool IsIdentifierChar(char c) { return absl::ascii_isalnum(c) || c == '_'; }

// Reads a number starting at `i`: digits, an optional fraction and an optional exponent.
size_t NumberEnd(absl::string_view text, size_t i, bool* is_float) {
  while (i < text.size() && absl::ascii_isdigit(text[i])) ++i;
  if (i < text.size() && text[i] == '.') {
    *is_float = true;
    ++i;
    while (i < text.size() && absl::ascii_isdigit(text[i])) ++i;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    size_t j = i + 1;
    if (j < text.size() && (text[j] == '+' || text[j] == '-')) ++j;
    if (j < text.size() && absl::ascii_isdigit(text[j])) {
      *is_float = true;
      i = j;
      while (i < text.size() && absl::ascii_isdigit(text[i])) ++i;
    }
  }
  return i;
}

}  // namespace

absl::StatusOr<std::vector<Token>> Tokenize(absl::string_view text) {
  if (text.size() > kMaxExpressionBytes) {
    return ExpressionError(text.substr(0, 40), 1,
                           absl::StrCat("expression longer than ", kMaxExpressionBytes, " bytes"));
  }
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    const int position = static_cast<int>(i) + 1;
    if (absl::ascii_isspace(c)) {
      ++i;
      continue;
    }
    Token token;
    token.position = position;
    if (absl::ascii_isdigit(c) ||
        (c == '.' && i + 1 < text.size() && absl::ascii_isdigit(text[i + 1]))) {
      const size_t end = NumberEnd(text, i, &token.is_float);
      if (end < text.size() && IsIdentifierChar(text[end])) {
        return ExpressionError(text, static_cast<int>(end) + 1, "malformed number");
      }
      token.kind = TokenKind::kNumber;
      token.text = std::string(text.substr(i, end - i));
      i = end;
    } else if (IsIdentifierStart(c)) {
      size_t end = i + 1;
      while (end < text.size() && IsIdentifierChar(text[end])) ++end;
      token.kind = TokenKind::kIdentifier;
      token.text = std::string(text.substr(i, end - i));
      i = end;
    } else if (c == '"') {
      token.kind = TokenKind::kString;
      ++i;
      bool closed = false;
      while (i < text.size()) {
        const char s = text[i];
        if (s == '"') {
          closed = true;
          ++i;
          break;
        }
        if (s == '\\') {
          if (i + 1 >= text.size()) break;
          const char e = text[i + 1];
          if (e == '"' || e == '\\') {
            token.text.push_back(e);
          } else if (e == 'n') {
            token.text.push_back('\n');
          } else if (e == 't') {
            token.text.push_back('\t');
          } else {
            return ExpressionError(text, static_cast<int>(i) + 1,
                                   "unknown escape in string (use \\\", \\\\, \\n or \\t)");
          }
          i += 2;
          continue;
        }
        token.text.push_back(s);
        ++i;
      }
      if (!closed) return ExpressionError(text, position, "unterminated string");
    } else {
      static constexpr absl::string_view kTwoChar[] = {"<=", ">=", "==", "!="};
      token.kind = TokenKind::kSymbol;
      for (absl::string_view two : kTwoChar) {
        if (text.substr(i, 2) == two) token.text = std::string(two);
      }
      if (token.text.empty()) {
        if (absl::string_view("+-*/%<>(),[]").find(c) == absl::string_view::npos) {
          std::string what = c == '='   ? "use == to compare"
                             : c == '!' ? "use not, or != to compare"
                                        : absl::StrCat("unexpected character '",
                                                       absl::CHexEscape(std::string(1, c)), "'");
          return ExpressionError(text, position, what);
        }
        token.text = std::string(1, c);
      }
      i += token.text.size();
    }
    tokens.push_back(std::move(token));
  }
  Token end;
  end.position = static_cast<int>(text.size()) + 1;
  tokens.push_back(std::move(end));
  return tokens;
}

}  // namespace fabrique::features::expr
