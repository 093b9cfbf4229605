// The intake's index values: the compact layout written now and the full one written by earlier
// versions both give back the prediction's key, and the sole-entity mark is read apart from the
// bytes before it.

#include "libs/monitoring/intake/intake_values.h"

#include <string>

#include "catch2/catch.hpp"
#include "libs/monitoring/intake/intake_keys.h"

namespace fabrique::monitoring {
namespace {

const std::string kModel("m\0x", 3);  // Embedded zero bytes survive the escaping.

TEST_CASE("A compact entity index value gives back its prediction's key", "[intake_values]") {
  // Version 83 encodes with 'S' as its last byte, the sole-entity mark's byte.
  for (const int64_t version : {int64_t{1}, int64_t{83}}) {
    for (const bool sole : {false, true}) {
      const std::string key = EntityIndexKey(kModel, "customer", "c1", 1'000, "p1");
      std::string value;
      AppendEntityIndexValue(&value, 1'000, version, sole);
      absl::StatusOr<EntityIndexValue> decoded = DecodeEntityIndexValue(key, value);
      REQUIRE(decoded.ok());
      CHECK(decoded->time_micros == 1'000);
      CHECK(decoded->prediction_key == PredictionKey(kModel, version, 1'000, "p1"));
      CHECK(decoded->sole_entity == sole);
    }
  }
}

TEST_CASE("A full entity index value is read as before", "[intake_values]") {
  const std::string key = EntityIndexKey(kModel, "customer", "c1", 1'000, "p1");
  const std::string prediction_key = PredictionKey(kModel, 83, 1'000, "p1");
  for (const bool sole : {false, true}) {
    const std::string value = WithTime(1'000, prediction_key + (sole ? "S" : ""));
    absl::StatusOr<EntityIndexValue> decoded = DecodeEntityIndexValue(key, value);
    REQUIRE(decoded.ok());
    CHECK(decoded->prediction_key == prediction_key);
    CHECK(decoded->sole_entity == sole);
  }
}

TEST_CASE("A malformed entity index value or key is data loss", "[intake_values]") {
  const std::string key = EntityIndexKey(kModel, "customer", "c1", 1'000, "p1");
  std::string value;
  AppendEntityIndexValue(&value, 1'000, 3, false);
  CHECK(DecodeEntityIndexValue(key, "short").status().code() == absl::StatusCode::kDataLoss);
  CHECK(DecodeEntityIndexValue(key, value + "xy").status().code() == absl::StatusCode::kDataLoss);
  CHECK(DecodeEntityIndexValue("junk", value).status().code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("A prediction ids value gives back its prediction's key in both layouts",
          "[intake_values]") {
  const std::string prediction_key = PredictionKey(kModel, 7, 2'000, "p1");
  std::string compact;
  AppendPredictionIdValue(&compact, 2'000, kModel, 7);
  CHECK(compact.size() < WithTime(2'000, prediction_key).size());
  absl::StatusOr<std::string> decoded = DecodePredictionIdValue("p1", compact);
  REQUIRE(decoded.ok());
  CHECK(*decoded == prediction_key);

  absl::StatusOr<std::string> full = DecodePredictionIdValue("p1", WithTime(2'000, prediction_key));
  REQUIRE(full.ok());
  CHECK(*full == prediction_key);

  CHECK(DecodePredictionIdValue("p1", compact + "x").status().code() ==
        absl::StatusCode::kDataLoss);
  CHECK(DecodePredictionIdValue("p1", "short").status().code() == absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace fabrique::monitoring
