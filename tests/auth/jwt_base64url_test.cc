#include "libs/auth/jwt_base64url.h"

#include "catch2/catch.hpp"

namespace fabrique::auth {
namespace {

TEST_CASE("base64url round-trips any bytes without padding") {
  for (const std::string& bytes : {std::string(""), std::string("f"), std::string("fo"),
                                   std::string("foo"), std::string("\xfb\xff\x00\x3e", 4)}) {
    const std::string text = Base64UrlEncode(bytes);
    CHECK(text.find('=') == std::string::npos);
    CHECK(Base64UrlDecode(text) == bytes);
  }
  CHECK(Base64UrlEncode("\xfb\xff") == "-_8");
}

TEST_CASE("base64url decoding is strict") {
  CHECK(Base64UrlDecode("Zm9v") == std::optional<std::string>("foo"));
  CHECK_FALSE(Base64UrlDecode("Zg=="));   // Padding.
  CHECK_FALSE(Base64UrlDecode("+/8"));    // The other alphabet.
  CHECK_FALSE(Base64UrlDecode("Zm 9v"));  // Whitespace.
  CHECK_FALSE(Base64UrlDecode("Zm9vY"));  // A length no bytes encode to.
  CHECK_FALSE(Base64UrlDecode("Zh"));     // Unused bits set: "Zg" is the one spelling of "f".
  CHECK(Base64UrlDecode("Zg") == std::optional<std::string>("f"));
}

}  // namespace
}  // namespace fabrique::auth
