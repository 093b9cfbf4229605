// Sha256Hex and Sha256Stream: the published digests of "" and "abc", and a stream's digest
// independent of how its bytes were split.

#include "libs/core/sha256.h"

#include <cstddef>
#include <string>

#include "catch2/catch.hpp"

namespace fabrique::core {
namespace {

constexpr char kEmpty[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kAbc[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST_CASE("Sha256Hex gives the published digests in lowercase hex") {
  CHECK(Sha256Hex("") == kEmpty);
  CHECK(Sha256Hex("abc") == kAbc);
}

TEST_CASE("Sha256Stream gives the published digests") {
  Sha256Stream nothing;
  CHECK(nothing.HexDigest() == kEmpty);
  Sha256Stream empty_pieces;
  empty_pieces.Update("");
  empty_pieces.Update("");
  CHECK(empty_pieces.HexDigest() == kEmpty);
  Sha256Stream abc;
  abc.Update("abc");
  CHECK(abc.HexDigest() == kAbc);
}

TEST_CASE("Sha256Stream's digest does not depend on how the bytes are split") {
  // Longer than SHA-256's 64-byte block, with NUL bytes, so pieces straddle block boundaries.
  std::string bytes;
  for (int i = 0; i < 1000; ++i) bytes.push_back(static_cast<char>(i * 7 % 256));
  const std::string whole = Sha256Hex(bytes);
  for (size_t piece : {size_t{1}, size_t{3}, size_t{63}, size_t{64}, size_t{65}, size_t{999}}) {
    Sha256Stream stream;
    for (size_t at = 0; at < bytes.size(); at += piece) {
      stream.Update(absl::string_view(bytes).substr(at, piece));
    }
    INFO("pieces of " << piece << " bytes");
    CHECK(stream.HexDigest() == whole);
  }
  Sha256Stream abc;
  abc.Update("a");
  abc.Update("");
  abc.Update("bc");
  CHECK(abc.HexDigest() == kAbc);
}

TEST_CASE("Two Sha256Streams fed at once keep apart") {
  Sha256Stream first;
  Sha256Stream second;
  first.Update("ab");
  second.Update("x");
  first.Update("c");
  CHECK(first.HexDigest() == kAbc);
  CHECK(second.HexDigest() == Sha256Hex("x"));
}

}  // namespace
}  // namespace fabrique::core
