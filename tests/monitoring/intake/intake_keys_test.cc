// The intake's key codec: prediction keys come apart again, and the entity index's seek key lands
// on the latest prediction at or before a time.

#include "libs/monitoring/intake/intake_keys.h"

#include <string>

#include "catch2/catch.hpp"
#include "intake_test_util.h"

namespace fabrique::monitoring {
namespace {

TEST_CASE("A prediction key comes apart into what built it", "[intake_keys]") {
  const std::string model("m\0x", 3);  // Embedded zero bytes survive the escaping.
  absl::StatusOr<PredictionKeyParts> parts =
      DecodePredictionKey(PredictionKey(model, 3, -42, "id"));
  INTAKE_REQUIRE_OK(parts);
  CHECK(parts->model == model);
  CHECK(parts->version == 3);
  CHECK(parts->time_micros == -42);
  CHECK(parts->prediction_id == "id");
  CHECK(DecodePredictionKey("junk").status().code() == absl::StatusCode::kDataLoss);
  CHECK(DecodePredictionKey(PredictionKey("m", 1, 2, "id") + "x").status().code() ==
        absl::StatusCode::kDataLoss);
}

TEST_CASE("A prediction key's time is read after its version prefix alone", "[intake_keys]") {
  const std::string model("m\0x", 3);
  const size_t prefix = PredictionVersionPrefix(model, 3).size();
  absl::StatusOr<int64_t> time = PredictionTimeAfter(PredictionKey(model, 3, -42, "id"), prefix);
  INTAKE_REQUIRE_OK(time);
  CHECK(*time == -42);
  CHECK(PredictionTimeAfter(PredictionVersionPrefix(model, 3), prefix).status().code() ==
        absl::StatusCode::kDataLoss);
  CHECK(PredictionTimeAfter("junk", prefix).status().code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("The entity seek key sorts after newer predictions and before the rest",
          "[intake_keys]") {
  const std::string seek = EntityIndexSeekKey("m", "customer", "c1", 100);
  CHECK(EntityIndexKey("m", "customer", "c1", 101, "a") < seek);
  CHECK(seek < EntityIndexKey("m", "customer", "c1", 100, ""));
  CHECK(seek < EntityIndexKey("m", "customer", "c1", 99, "z"));
  // Another entity key never falls inside the prefix.
  const kv::KeyRange prefix = kv::KeyRange::Prefix(EntityIndexPrefix("m", "customer", "c1"));
  CHECK(EntityIndexKey("m", "customer", "c10", 1, "a") >= prefix.end);
}

TEST_CASE("A prediction range holds one version's keys in [from, to)", "[intake_keys]") {
  const kv::KeyRange range = PredictionRange("m", 2, 10, 20);
  const auto inside = [&](const std::string& key) { return range.begin <= key && key < range.end; };
  CHECK(inside(PredictionKey("m", 2, 10, "a")));
  CHECK(inside(PredictionKey("m", 2, 19, "z")));
  CHECK_FALSE(inside(PredictionKey("m", 2, 20, "")));
  CHECK_FALSE(inside(PredictionKey("m", 2, 9, "z")));
  CHECK_FALSE(inside(PredictionKey("m", 3, 15, "a")));
  CHECK_FALSE(inside(PredictionKey("m2", 2, 15, "a")));
}

}  // namespace
}  // namespace fabrique::monitoring
