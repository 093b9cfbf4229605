#include "libs/serving/canary_router.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"

namespace fabrique::serving {
namespace {

TEST_CASE("the canary bucket is the documented hash, as every client language computes it") {
  // Computed with /usr/bin/python3:
  //   import hashlib
  //   h = hashlib.sha256((model + "\n" + key).encode()).digest()
  //   int.from_bytes(h[:8], "big") % 10000
  // ("churn", "customer:42") -> 5020; ("fraud", "customer:42") -> 8677; ("churn", "a|b") -> 7459
  CHECK(CanaryRouter::Bucket("churn", "customer:42") == 5020);
  CHECK(CanaryRouter::Bucket("fraud", "customer:42") == 8677);
  CHECK(CanaryRouter::Bucket("churn", CanaryRouter::EntityKey({"a", "b"})) == 7459);
}

TEST_CASE("a row goes to the candidate when its bucket is under the share, in hundredths") {
  CHECK(CanaryRouter::Threshold(50.2) == 5020);
  CHECK(CanaryRouter::Threshold(0.006) == 1);  // Rounded, not truncated.
  CHECK(CanaryRouter::Threshold(-3) == 0);
  CHECK(CanaryRouter::Threshold(250) == CanaryRouter::kBuckets);
  // Bucket 5020: out at 50.20 %, in at 50.21 %.
  CHECK_FALSE(CanaryRouter::ByEntity("churn", "customer:42", 50.20));
  CHECK(CanaryRouter::ByEntity("churn", "customer:42", 50.21));
}

TEST_CASE("a share of 0 never sends a row to the candidate, 100 always does") {
  CanaryRouter router(7);
  for (int i = 0; i < 1000; ++i) {
    const std::string key = absl::StrCat("customer:", i);
    CHECK_FALSE(CanaryRouter::ByEntity("churn", key, 0));
    CHECK(CanaryRouter::ByEntity("churn", key, 100));
    CHECK_FALSE(router.AtRandom(0));
    CHECK(router.AtRandom(100));
  }
}

TEST_CASE("an entity always sees the same version; two models split entities independently") {
  int churn_in = 0;
  int both_in = 0;
  for (int i = 0; i < 10000; ++i) {
    const std::string key = absl::StrCat("customer:", i);
    const bool churn = CanaryRouter::ByEntity("churn", key, 30);
    REQUIRE(CanaryRouter::ByEntity("churn", key, 30) == churn);  // Sticky.
    churn_in += churn ? 1 : 0;
    both_in += churn && CanaryRouter::ByEntity("fraud", key, 30) ? 1 : 0;
  }
  CHECK(churn_in > 2800);
  CHECK(churn_in < 3200);
  // Independent splits: about 30 % of 30 % are in both canaries (the same split would give 30 %).
  CHECK(both_in > 700);
  CHECK(both_in < 1100);
}

TEST_CASE("random routing sends about the share to the candidate, reproducibly for a seed") {
  CanaryRouter router(42);
  CanaryRouter same(42);
  int in = 0;
  for (int i = 0; i < 10000; ++i) {
    const bool drawn = router.AtRandom(20);
    REQUIRE(same.AtRandom(20) == drawn);
    in += drawn ? 1 : 0;
  }
  CHECK(in > 1800);
  CHECK(in < 2200);
}

TEST_CASE("a row with several entities is keyed by their keys joined with |, in order") {
  CHECK(CanaryRouter::EntityKey({"customer:1", "merchant:9"}) == "customer:1|merchant:9");
  CHECK(CanaryRouter::EntityKey({"customer:1"}) == "customer:1");
}

}  // namespace
}  // namespace fabrique::serving
