#include "libs/features/expressions/parser.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/features/expressions/lexer.h"

namespace fabrique::features::expr {
namespace {

using NodePtr = std::unique_ptr<Node>;

const absl::flat_hash_map<std::string, Op>& Functions() {
  static const auto* functions = new absl::flat_hash_map<std::string, Op>{
      {"log1p", Op::kLog1p}, {"abs", Op::kAbs},       {"min", Op::kMin},
      {"max", Op::kMax},     {"clip", Op::kClip},     {"bucketize", Op::kBucketize},
      {"lower", Op::kLower}, {"length", Op::kLength}, {"coalesce", Op::kCoalesce}};
  return *functions;
}

NodePtr MakeNode(Op op, int position) {
  auto node = std::make_unique<Node>();
  node->op = op;
  node->position = position;
  return node;
}

class Parser {
 public:
  Parser(absl::string_view text, std::vector<Token> tokens)
      : text_(text), tokens_(std::move(tokens)) {}

  absl::StatusOr<NodePtr> ParseAll() {
    ASSIGN_OR_RETURN(NodePtr root, ParseOr());
    if (Peek().kind != TokenKind::kEnd) return Error(Peek(), "unexpected " + Describe(Peek()));
    return root;
  }

 private:
  const Token& Peek() const { return tokens_[next_]; }
  const Token& Take() { return tokens_[next_ < tokens_.size() - 1 ? next_++ : next_]; }
  bool IsSymbol(absl::string_view symbol) const {
    return Peek().kind == TokenKind::kSymbol && Peek().text == symbol;
  }
  bool IsWord(absl::string_view word) const {
    return Peek().kind == TokenKind::kIdentifier && Peek().text == word;
  }
  absl::Status Error(const Token& at, absl::string_view what) const {
    return ExpressionError(text_, at.position, what);
  }
  static std::string Describe(const Token& token) {
    switch (token.kind) {
      case TokenKind::kEnd:
        return "end of expression";
      case TokenKind::kString:
        return "string";
      default:
        return absl::StrCat("\"", token.text, "\"");
    }
  }
  absl::Status Expect(absl::string_view symbol) {
    if (!IsSymbol(symbol)) {
      return Error(Peek(), absl::StrCat("expected \"", symbol, "\", got ", Describe(Peek())));
    }
    Take();
    return absl::OkStatus();
  }

  // Counts nesting on every recursive entry, so that "((((...", "----..." or "not not ..." are
  // refused before they can exhaust the stack.
  class Depth {
   public:
    explicit Depth(int* depth) : depth_(depth) { ++*depth_; }
    ~Depth() { --*depth_; }
    bool too_deep() const { return *depth_ > kMaxNesting; }

   private:
    int* depth_;
  };

  absl::StatusOr<NodePtr> Binary(NodePtr left, Op op, int position, NodePtr right) {
    NodePtr node = MakeNode(op, position);
    node->args.push_back(std::move(left));
    node->args.push_back(std::move(right));
    return node;
  }

  absl::StatusOr<NodePtr> ParseOr() {
    Depth depth(&depth_);
    if (depth.too_deep()) return Error(Peek(), "expression nested too deeply");
    ASSIGN_OR_RETURN(NodePtr left, ParseAnd());
    while (IsWord("or")) {
      const int position = Take().position;
      ASSIGN_OR_RETURN(NodePtr right, ParseAnd());
      ASSIGN_OR_RETURN(left, Binary(std::move(left), Op::kOr, position, std::move(right)));
    }
    return left;
  }

  absl::StatusOr<NodePtr> ParseAnd() {
    ASSIGN_OR_RETURN(NodePtr left, ParseNot());
    while (IsWord("and")) {
      const int position = Take().position;
      ASSIGN_OR_RETURN(NodePtr right, ParseNot());
      ASSIGN_OR_RETURN(left, Binary(std::move(left), Op::kAnd, position, std::move(right)));
    }
    return left;
  }

  absl::StatusOr<NodePtr> ParseNot() {
    if (!IsWord("not")) return ParseComparison();
    Depth depth(&depth_);
    if (depth.too_deep()) return Error(Peek(), "expression nested too deeply");
    NodePtr node = MakeNode(Op::kNot, Take().position);
    ASSIGN_OR_RETURN(NodePtr operand, ParseNot());
    node->args.push_back(std::move(operand));
    return node;
  }

  bool ComparisonAhead(Op* op) const {
    static constexpr std::pair<absl::string_view, Op> kComparisons[] = {
        {"<", Op::kLt},  {"<=", Op::kLe}, {">", Op::kGt},
        {">=", Op::kGe}, {"==", Op::kEq}, {"!=", Op::kNe}};
    for (const auto& [symbol, candidate] : kComparisons) {
      if (IsSymbol(symbol)) {
        *op = candidate;
        return true;
      }
    }
    return false;
  }

  absl::StatusOr<NodePtr> ParseComparison() {
    ASSIGN_OR_RETURN(NodePtr left, ParseAdditive());
    Op op;
    if (!ComparisonAhead(&op)) return left;
    const int position = Take().position;
    ASSIGN_OR_RETURN(NodePtr right, ParseAdditive());
    if (ComparisonAhead(&op)) {
      return Error(Peek(), "comparisons cannot be chained; combine them with and");
    }
    return Binary(std::move(left), op, position, std::move(right));
  }

  absl::StatusOr<NodePtr> ParseAdditive() {
    ASSIGN_OR_RETURN(NodePtr left, ParseMultiplicative());
    while (IsSymbol("+") || IsSymbol("-")) {
      const Op op = Peek().text == "+" ? Op::kAdd : Op::kSub;
      const int position = Take().position;
      ASSIGN_OR_RETURN(NodePtr right, ParseMultiplicative());
      ASSIGN_OR_RETURN(left, Binary(std::move(left), op, position, std::move(right)));
    }
    return left;
  }

  absl::StatusOr<NodePtr> ParseMultiplicative() {
    ASSIGN_OR_RETURN(NodePtr left, ParseUnary());
    while (IsSymbol("*") || IsSymbol("/") || IsSymbol("%")) {
      const Op op = Peek().text == "*" ? Op::kMul : Peek().text == "/" ? Op::kDiv : Op::kMod;
      const int position = Take().position;
      ASSIGN_OR_RETURN(NodePtr right, ParseUnary());
      ASSIGN_OR_RETURN(left, Binary(std::move(left), op, position, std::move(right)));
    }
    return left;
  }

  absl::StatusOr<NodePtr> ParseUnary() {
    if (!IsSymbol("-")) return ParsePrimary();
    Depth depth(&depth_);
    if (depth.too_deep()) return Error(Peek(), "expression nested too deeply");
    NodePtr node = MakeNode(Op::kNeg, Take().position);
    ASSIGN_OR_RETURN(NodePtr operand, ParseUnary());
    node->args.push_back(std::move(operand));
    return node;
  }

  absl::StatusOr<NodePtr> ParseNumber(const Token& token) {
    NodePtr node = MakeNode(Op::kLiteral, token.position);
    if (!token.is_float) {
      node->type = ValueType::kInt64;
      if (!absl::SimpleAtoi(token.text, &node->int_value)) {
        return Error(token, absl::StrCat("integer ", token.text, " out of range"));
      }
      return node;
    }
    node->type = ValueType::kDouble;
    if (!absl::SimpleAtod(token.text, &node->double_value) || !std::isfinite(node->double_value)) {
      return Error(token, absl::StrCat("number ", token.text, " out of range"));
    }
    return node;
  }

  // [n1, n2, ...]: number literals, each optionally negated.
  absl::StatusOr<NodePtr> ParseList() {
    NodePtr node = MakeNode(Op::kList, Take().position);
    while (true) {
      const bool negative = IsSymbol("-");
      if (negative) Take();
      if (Peek().kind != TokenKind::kNumber) {
        return Error(Peek(), "a list holds number literals only");
      }
      ASSIGN_OR_RETURN(NodePtr number, ParseNumber(Take()));
      double value = number->type == ValueType::kInt64 ? static_cast<double>(number->int_value)
                                                       : number->double_value;
      node->numbers.push_back(negative ? -value : value);
      if (IsSymbol("]")) break;
      RETURN_IF_ERROR(Expect(","));
    }
    Take();
    return node;
  }

  absl::StatusOr<NodePtr> ParseCall(const Token& name) {
    auto function = Functions().find(name.text);
    if (function == Functions().end()) {
      return Error(name, absl::StrCat("unknown function \"", name.text, "\""));
    }
    NodePtr node = MakeNode(function->second, name.position);
    Take();  // "("
    if (!IsSymbol(")")) {
      while (true) {
        if (IsSymbol("[")) {
          ASSIGN_OR_RETURN(NodePtr list, ParseList());
          node->args.push_back(std::move(list));
        } else {
          ASSIGN_OR_RETURN(NodePtr arg, ParseOr());
          node->args.push_back(std::move(arg));
        }
        if (IsSymbol(")")) break;
        RETURN_IF_ERROR(Expect(","));
      }
    }
    Take();  // ")"
    return node;
  }

  absl::StatusOr<NodePtr> ParsePrimary() {
    const Token& token = Peek();
    switch (token.kind) {
      case TokenKind::kNumber:
        return ParseNumber(Take());
      case TokenKind::kString: {
        NodePtr node = MakeNode(Op::kLiteral, token.position);
        node->type = ValueType::kString;
        node->string_value = Take().text;
        return node;
      }
      case TokenKind::kIdentifier: {
        const Token& word = Take();
        if (word.text == "true" || word.text == "false") {
          NodePtr node = MakeNode(Op::kLiteral, word.position);
          node->type = ValueType::kBool;
          node->bool_value = word.text == "true";
          return node;
        }
        if (word.text == "null") return MakeNode(Op::kLiteral, word.position);
        if (word.text == "and" || word.text == "or" || word.text == "not") {
          return Error(word, absl::StrCat("unexpected \"", word.text, "\""));
        }
        if (IsSymbol("(")) return ParseCall(word);
        NodePtr node = MakeNode(Op::kFeature, word.position);
        node->name = word.text;
        return node;
      }
      case TokenKind::kSymbol:
        if (token.text == "(") {
          Take();
          ASSIGN_OR_RETURN(NodePtr inner, ParseOr());
          RETURN_IF_ERROR(Expect(")"));
          return inner;
        }
        if (token.text == "[") {
          return Error(token, "a list is only allowed as bucketize()'s boundaries");
        }
        return Error(token, "unexpected " + Describe(token));
      case TokenKind::kEnd:
        return Error(token, "unexpected end of expression");
    }
    return Error(token, "unexpected " + Describe(token));
  }

  absl::string_view text_;
  std::vector<Token> tokens_;
  size_t next_ = 0;
  int depth_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Node>> Parse(absl::string_view text) {
  ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(text));
  Parser parser(text, std::move(tokens));
  return parser.ParseAll();
}

}  // namespace fabrique::features::expr
