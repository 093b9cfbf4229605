// The policy store: a model's own policy, else the default, else the built-in; validation on
// set; pages; delete; and policies surviving a restart.

#include <string>

#include "alerts_test_util.h"
#include "catch2/catch.hpp"

namespace fabrique::monitoring {
namespace {

using alerts_test::AlertsHarness;

v1::MonitoringPolicy PolicyOf(const std::string& model, int64_t min_samples) {
  v1::MonitoringPolicy policy;
  policy.set_model(model);
  policy.set_min_samples(min_samples);
  return policy;
}

TEST_CASE("Get falls back from the model's policy to the default to the built-in",
          "[alerts][policy]") {
  AlertsHarness h;
  v1::Principal alice;
  alice.set_subject("alice");
  absl::StatusOr<v1::MonitoringPolicy> builtin = h.policies->Get("fraud");
  REQUIRE(builtin.ok());
  CHECK(builtin->model().empty());
  CHECK(FromProtoDuration(builtin->window()) == absl::Hours(1));
  CHECK(absl::IsNotFound(h.policies->GetOwn("fraud").status()));

  REQUIRE(h.policies->Set(PolicyOf("", 100), alice).ok());
  CHECK(h.policies->Get("fraud")->min_samples() == 100);

  h.clock.Advance(absl::Minutes(1));
  absl::StatusOr<v1::MonitoringPolicy> set = h.policies->Set(PolicyOf("fraud", 500), alice);
  REQUIRE(set.ok());
  CHECK(set->updated_by().subject() == "alice");
  CHECK(FromProtoTime(set->update_time()) == alerts_test::kStart + absl::Minutes(1));
  CHECK(h.policies->Get("fraud")->min_samples() == 500);
  CHECK(h.policies->Get("churn")->min_samples() == 100);

  REQUIRE(h.policies->Delete("fraud").ok());
  CHECK(h.policies->Get("fraud")->min_samples() == 100);
  CHECK(absl::IsNotFound(h.policies->Delete("fraud")));
}

TEST_CASE("An impossible policy is refused and nothing is stored", "[alerts][policy]") {
  AlertsHarness h;
  v1::MonitoringPolicy policy = PolicyOf("fraud", 10);
  v1::DriftThreshold* ks = policy.add_drift();
  ks->set_metric(v1::DRIFT_METRIC_KS);
  ks->set_warning_threshold(2);
  absl::StatusOr<v1::MonitoringPolicy> set = h.policies->Set(policy, v1::Principal());
  REQUIRE(absl::IsInvalidArgument(set.status()));
  CHECK(absl::IsNotFound(h.policies->GetOwn("fraud").status()));
}

TEST_CASE("Policies list in pages by model and survive a restart", "[alerts][policy]") {
  AlertsHarness h;
  for (const char* model : {"", "a", "b", "c", "d"}) {
    REQUIRE(h.policies->Set(PolicyOf(model, 1), v1::Principal()).ok());
  }
  h.Reopen();
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    absl::StatusOr<PolicyPage> page = h.policies->List(2, token);
    REQUIRE(page.ok());
    for (const auto& policy : page->policies) seen.push_back(policy.model());
    token = page->next_page_token;
    ++pages;
  } while (!token.empty());
  CHECK(seen == std::vector<std::string>{"", "a", "b", "c", "d"});
  CHECK(pages == 3);
  CHECK(absl::IsInvalidArgument(h.policies->List(-1, "").status()));
  CHECK(absl::IsInvalidArgument(h.policies->List(2, "garbage!").status()));
}

}  // namespace
}  // namespace fabrique::monitoring
