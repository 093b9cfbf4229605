// The key codecs must sort exactly like the values they encode, for every input: these tests
// encode thousands of random values and tuples (fixed seeds, so failures reproduce), sort the
// encodings as RocksDB would (bytewise), and compare with sorting the values themselves.

#include "libs/kv/key_codec.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "catch2/catch.hpp"
#include "kv_test_util.h"
#include "libs/kv/key_range.h"

namespace fabrique::kv {
namespace {

constexpr int kRandomValues = 5000;

// Sorts (encoding, value) pairs by encoding and checks that this also sorts the values, and that
// two encodings are equal exactly when their values are: the encoding is an order isomorphism.
template <typename T>
void RequireOrderPreserved(std::vector<std::pair<std::string, T>> encoded) {
  std::sort(encoded.begin(), encoded.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 1; i < encoded.size(); ++i) {
    const auto& [prev_key, prev] = encoded[i - 1];
    const auto& [key, value] = encoded[i];
    REQUIRE(!(value < prev));
    REQUIRE((prev_key == key) == (prev == value));
  }
}

// Mostly values near interesting points, so that equal and adjacent values are common, plus
// uniformly random ones and the extremes.
std::vector<int64_t> RandomInt64s(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int64_t> values = {0,
                                 1,
                                 -1,
                                 std::numeric_limits<int64_t>::min(),
                                 std::numeric_limits<int64_t>::min() + 1,
                                 std::numeric_limits<int64_t>::max(),
                                 std::numeric_limits<int64_t>::max() - 1};
  std::uniform_int_distribution<int64_t> small(-300, 300);
  for (int i = 0; i < kRandomValues; ++i) {
    values.push_back(i % 2 == 0 ? small(rng) : static_cast<int64_t>(rng()));
  }
  return values;
}

// Strings over an alphabet full of the bytes the escaping treats specially, with lengths 0-6, so
// that embedded 0x00 and 0xFF, empty strings and prefix pairs are all common.
std::string RandomString(std::mt19937_64& rng) {
  static constexpr char kAlphabet[] = {'\x00', '\x01', '\x02', '\x7f', '\x80', '\xfe', '\xff', 'a'};
  std::string s(rng() % 7, '\0');
  for (char& c : s) c = kAlphabet[rng() % sizeof(kAlphabet)];
  return s;
}

TEST_CASE("Unsigned integer encodings sort like the integers", "[key_codec]") {
  std::mt19937_64 rng(1);
  std::vector<std::pair<std::string, uint64_t>> u64;
  std::vector<std::pair<std::string, uint32_t>> u32;
  std::vector<std::pair<std::string, uint8_t>> u8;
  for (int i = 0; i < kRandomValues; ++i) {
    const uint64_t value = i % 3 == 0 ? rng() % 500 : rng() >> (rng() % 64);
    std::string a, b, c;
    AppendUint64(&a, value);
    AppendUint32(&b, static_cast<uint32_t>(value));
    AppendUint8(&c, static_cast<uint8_t>(value));
    REQUIRE(a.size() == 8);
    REQUIRE(b.size() == 4);
    REQUIRE(c.size() == 1);
    u64.emplace_back(a, value);
    u32.emplace_back(b, static_cast<uint32_t>(value));
    u8.emplace_back(c, static_cast<uint8_t>(value));
  }
  for (uint64_t edge : {uint64_t{0}, uint64_t{1}, std::numeric_limits<uint64_t>::max()}) {
    std::string a;
    AppendUint64(&a, edge);
    u64.emplace_back(a, edge);
  }
  RequireOrderPreserved(u64);
  RequireOrderPreserved(u32);
  RequireOrderPreserved(u8);
}

TEST_CASE("Signed integer encodings put negatives first", "[key_codec]") {
  std::vector<std::pair<std::string, int64_t>> encoded;
  for (int64_t value : RandomInt64s(2)) {
    std::string key;
    AppendInt64(&key, value);
    encoded.emplace_back(key, value);
  }
  RequireOrderPreserved(encoded);

  std::string minus_one, zero;
  AppendInt64(&minus_one, -1);
  AppendInt64(&zero, 0);
  REQUIRE(minus_one < zero);
}

TEST_CASE("Descending encodings reverse the order", "[key_codec]") {
  // Encoding -v descending must sort like v ascending... except that -INT64_MIN overflows, so
  // compare with the reversed order directly.
  std::vector<std::pair<std::string, int64_t>> encoded;
  for (int64_t value : RandomInt64s(3)) {
    std::string key;
    AppendDescendingInt64(&key, value);
    encoded.emplace_back(key, value);
  }
  std::sort(encoded.begin(), encoded.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 1; i < encoded.size(); ++i) {
    REQUIRE(encoded[i - 1].second >= encoded[i].second);
    REQUIRE((encoded[i - 1].first == encoded[i].first) ==
            (encoded[i - 1].second == encoded[i].second));
  }

  std::string newer, older;
  AppendDescendingUint64(&newer, 2000);
  AppendDescendingUint64(&older, 1000);
  REQUIRE(newer < older);
}

TEST_CASE("Escaped string encodings sort like the strings and are prefix-free", "[key_codec]") {
  std::mt19937_64 rng(4);
  std::vector<std::pair<std::string, std::string>> encoded;
  for (int i = 0; i < kRandomValues; ++i) {
    std::string value = RandomString(rng);
    std::string key;
    AppendString(&key, value);
    encoded.emplace_back(key, value);
  }
  RequireOrderPreserved(encoded);

  // No encoding is a proper prefix of another, so a component never runs into the next one.
  std::sort(encoded.begin(), encoded.end());
  for (size_t i = 1; i < encoded.size(); ++i) {
    const std::string& a = encoded[i - 1].first;
    const std::string& b = encoded[i].first;
    if (a != b) REQUIRE(b.compare(0, a.size(), a) != 0);
  }
}

TEST_CASE("Composite keys sort like tuples", "[key_codec]") {
  using Tuple = std::tuple<std::string, int64_t, std::string, uint32_t>;
  std::mt19937_64 rng(5);
  std::vector<int64_t> ints = RandomInt64s(6);
  std::vector<std::pair<std::string, Tuple>> encoded;
  for (int i = 0; i < kRandomValues; ++i) {
    Tuple value(RandomString(rng), ints[rng() % 40], RandomString(rng),
                static_cast<uint32_t>(rng() % 3));
    std::string key = KeyBuilder()
                          .AddString(std::get<0>(value))
                          .AddInt64(std::get<1>(value))
                          .AddString(std::get<2>(value))
                          .AddUint32(std::get<3>(value))
                          .key();
    encoded.emplace_back(std::move(key), std::move(value));
  }
  RequireOrderPreserved(encoded);

  SECTION("and decode back to the same tuple") {
    for (const auto& [key, value] : encoded) {
      KeyReader reader(key);
      absl::StatusOr<std::string> first = reader.ReadString();
      absl::StatusOr<int64_t> second = reader.ReadInt64();
      absl::StatusOr<std::string> third = reader.ReadString();
      absl::StatusOr<uint32_t> fourth = reader.ReadUint32();
      KV_REQUIRE_OK(first);
      KV_REQUIRE_OK(second);
      KV_REQUIRE_OK(third);
      KV_REQUIRE_OK(fourth);
      REQUIRE(Tuple(*first, *second, *third, *fourth) == value);
      REQUIRE(reader.done());
    }
  }
}

TEST_CASE("Composite keys order strings before the next component", "[key_codec]") {
  // As tuples: ("", 99) < ("a", 9) < ("a\0", 1) < ("ab", 0) < ("a\xff", 0); a raw concatenation
  // would get these wrong.
  const std::string a9 = KeyBuilder().AddString("a").AddUint64(9).key();
  const std::string a0_1 = KeyBuilder().AddString(std::string("a\0", 2)).AddUint64(1).key();
  const std::string aff_0 = KeyBuilder().AddString("a\xff").AddUint64(0).key();
  const std::string ab0 = KeyBuilder().AddString("ab").AddUint64(0).key();
  const std::string empty = KeyBuilder().AddString("").AddUint64(99).key();
  REQUIRE(empty < a9);
  REQUIRE(a9 < a0_1);
  REQUIRE(a0_1 < ab0);
  REQUIRE(ab0 < aff_0);

  // A prefix made of whole components selects exactly the keys with those components.
  const KeyRange entity_a = KeyRange::Prefix(KeyBuilder().AddString("a").key());
  REQUIRE(entity_a.Contains(a9));
  REQUIRE_FALSE(entity_a.Contains(a0_1));
  REQUIRE_FALSE(entity_a.Contains(ab0));
}

TEST_CASE("Descending timestamps list the latest first", "[key_codec]") {
  std::vector<std::string> keys;
  for (int64_t event_time : std::vector<int64_t>{-5, 100, 7, 0, 1'700'000'000'000'000}) {
    keys.push_back(KeyBuilder().AddString("user-1").AddDescendingInt64(event_time).key());
  }
  std::sort(keys.begin(), keys.end());
  std::vector<int64_t> order;
  for (const std::string& key : keys) {
    KeyReader reader(key);
    KV_REQUIRE_OK(reader.ReadString());
    absl::StatusOr<int64_t> event_time = reader.ReadDescendingInt64();
    KV_REQUIRE_OK(event_time);
    order.push_back(*event_time);
  }
  REQUIRE(order == std::vector<int64_t>{1'700'000'000'000'000, 100, 7, 0, -5});
}

TEST_CASE("KeyReader round-trips every encoding", "[key_codec]") {
  const std::string key = KeyBuilder()
                              .AddUint8(7)
                              .AddUint32(0xdeadbeef)
                              .AddUint64(std::numeric_limits<uint64_t>::max())
                              .AddInt64(std::numeric_limits<int64_t>::min())
                              .AddDescendingUint64(12)
                              .AddDescendingInt64(-12)
                              .AddString(std::string("\0\xff\0\x01", 4))
                              .AddString("")
                              .key();
  KeyReader reader(key);
  REQUIRE(*reader.ReadUint8() == 7);
  REQUIRE(*reader.ReadUint32() == 0xdeadbeef);
  REQUIRE(*reader.ReadUint64() == std::numeric_limits<uint64_t>::max());
  REQUIRE(*reader.ReadInt64() == std::numeric_limits<int64_t>::min());
  REQUIRE(*reader.ReadDescendingUint64() == 12);
  REQUIRE(*reader.ReadDescendingInt64() == -12);
  REQUIRE(*reader.ReadString() == std::string("\0\xff\0\x01", 4));
  REQUIRE(*reader.ReadString() == "");
  REQUIRE(reader.done());
}

TEST_CASE("KeyReader rejects malformed keys with INVALID_ARGUMENT", "[key_codec]") {
  SECTION("a truncated integer, leaving the reader in place") {
    const std::string key(7, '\x01');
    KeyReader reader(key);
    KV_REQUIRE_CODE(reader.ReadUint64(), absl::StatusCode::kInvalidArgument);
    REQUIRE(reader.remaining().size() == 7);
    KV_REQUIRE_OK(reader.ReadUint32());
  }
  SECTION("a string without its terminator") {
    KeyReader reader("abc");
    KV_REQUIRE_CODE(reader.ReadString(), absl::StatusCode::kInvalidArgument);
    REQUIRE(reader.remaining() == "abc");
  }
  SECTION("a string cut inside its terminator") {
    const std::string key("ab\0", 3);
    KV_REQUIRE_CODE(KeyReader(key).ReadString(), absl::StatusCode::kInvalidArgument);
  }
  SECTION("a bad escape") {
    const std::string key("a\0\x02\0\x01", 5);
    KV_REQUIRE_CODE(KeyReader(key).ReadString(), absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("PrefixSuccessor bounds exactly the keys with the prefix", "[key_codec]") {
  REQUIRE(PrefixSuccessor("abc") == "abd");
  REQUIRE(PrefixSuccessor("ab\xff") == "ac");
  REQUIRE(PrefixSuccessor("a\xff\xff") == "b");
  REQUIRE(PrefixSuccessor("\xff\xff").empty());
  REQUIRE(PrefixSuccessor("").empty());

  std::mt19937_64 rng(7);
  for (int i = 0; i < kRandomValues; ++i) {
    const std::string key = RandomString(rng);
    const std::string other = RandomString(rng);
    const std::string prefix = key.substr(0, rng() % (key.size() + 1));
    const KeyRange range = KeyRange::Prefix(prefix);
    REQUIRE(range.Contains(key));
    const bool has_prefix = other.compare(0, prefix.size(), prefix) == 0;
    REQUIRE(range.Contains(other) == has_prefix);
  }
}

}  // namespace
}  // namespace fabrique::kv
