// The window journal's entries: the compact form round-trips, and entries in the earlier form
// (each key whole) are still read.

#include "libs/monitoring/windows/window_keys.h"

#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/kv/key_codec.h"
#include "libs/monitoring/intake/intake_keys.h"

namespace fabrique::monitoring {
namespace {

std::vector<std::string> SomeKeys() {
  return {PredictionKey("churn", 3, 1'700'000'000'000'000, "p-0001"),
          PredictionKey("churn", 3, 1'700'000'000'000'250, "p-0002"),
          PredictionKey("churn", 3, 1'699'000'000'000'000, "p-00"),  // Out of order.
          PredictionKey("fraud", 1, 5, std::string("id\0zero", 7)),
          PredictionKey("", 0, 0, ""),
          PredictionKey("", 0, 0, "")};
}

std::vector<absl::string_view> Views(const std::vector<std::string>& keys) {
  return {keys.begin(), keys.end()};
}

TEST_CASE("Journal keys round-trip in the compact form", "[windows][journal]") {
  const std::vector<std::string> keys = SomeKeys();
  const std::string body = EncodeJournalKeys(Views(keys));
  absl::StatusOr<std::vector<std::string>> decoded = DecodeJournalKeys(body);
  REQUIRE(decoded.ok());
  CHECK(*decoded == keys);
  // Shared prefixes are written once: far less than the keys themselves.
  size_t whole = 0;
  for (const std::string& key : keys) whole += key.size();
  CHECK(body.size() < whole);
}

TEST_CASE("Journal entries of escaped whole keys are still read", "[windows][journal]") {
  const std::vector<std::string> keys = SomeKeys();
  std::string earlier;
  for (const std::string& key : keys) kv::AppendString(&earlier, key);
  absl::StatusOr<std::vector<std::string>> decoded = DecodeJournalKeys(earlier);
  REQUIRE(decoded.ok());
  CHECK(*decoded == keys);
}

TEST_CASE("A cut or corrupt journal entry is data loss", "[windows][journal]") {
  const std::vector<std::string> keys = SomeKeys();
  const std::string body = EncodeJournalKeys(Views(keys));
  absl::StatusOr<std::vector<std::string>> cut = DecodeJournalKeys(body.substr(0, body.size() - 1));
  CHECK(cut.status().code() == absl::StatusCode::kDataLoss);
  // Sharing more than the key before it holds.
  const std::string shares_too_much("\x00\x02\x05\x01x", 5);
  CHECK(DecodeJournalKeys(shares_too_much).status().code() == absl::StatusCode::kDataLoss);
  const std::string earlier_cut("abc", 3);
  CHECK(DecodeJournalKeys(earlier_cut).status().code() == absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace fabrique::monitoring
