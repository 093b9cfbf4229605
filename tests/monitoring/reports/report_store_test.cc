#include "libs/monitoring/reports/report_store.h"

#include <memory>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/core/clock.h"
#include "tests/util/test_util.h"

namespace fabrique::monitoring {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

google::protobuf::Timestamp At(absl::Time time) {
  google::protobuf::Timestamp timestamp;
  timestamp.set_seconds(absl::ToUnixSeconds(time));
  return timestamp;
}

struct Fixture {
  fabrique::testing::TempDir dir;
  core::FakeClock clock{kStart};
  std::unique_ptr<ReportStore> store;

  explicit Fixture(absl::Duration retention = absl::Hours(24)) {
    ReportStoreOptions options;
    options.dir = dir.Sub("reports");
    options.retention = retention;
    options.clock = &clock;
    absl::StatusOr<std::unique_ptr<ReportStore>> opened = ReportStore::Open(options);
    REQUIRE(opened.ok());
    store = *std::move(opened);
  }

  // Stores a drift report of `model` `version` computed now, and returns its id.
  std::string Drift(const std::string& model, int64_t version,
                    v1::Severity severity = v1::SEVERITY_OK) {
    v1::DriftReport report;
    report.set_report_id(store->NewId());
    report.mutable_model_version()->set_model(model);
    report.mutable_model_version()->set_version(version);
    report.set_severity(severity);
    *report.mutable_compute_time() = At(clock.Now());
    REQUIRE(store->PutDrift(report).ok());
    return report.report_id();
  }

  std::vector<std::string> Listed(const ReportFilter& filter, int32_t page_size = 0) {
    std::vector<std::string> ids;
    std::string token;
    do {
      absl::StatusOr<v1::ListDriftReportsResponse> page =
          store->ListDrift(filter, page_size, token);
      REQUIRE(page.ok());
      for (const v1::DriftReport& report : page->reports()) ids.push_back(report.report_id());
      token = page->next_page_token();
    } while (!token.empty());
    return ids;
  }
};

ReportFilter Of(const std::string& model) {
  ReportFilter filter;
  filter.model = model;
  return filter;
}

TEST_CASE("A stored report is fetched by its id; an unknown id is NOT_FOUND") {
  Fixture f;
  const std::string id = f.Drift("fraud", 3, v1::SEVERITY_WARNING);
  absl::StatusOr<v1::DriftReport> got = f.store->GetDrift(id);
  REQUIRE(got.ok());
  CHECK(got->severity() == v1::SEVERITY_WARNING);
  CHECK(absl::IsNotFound(f.store->GetDrift("01NOSUCHREPORT").status()));
  // Drift and performance reports are kept apart.
  CHECK(absl::IsNotFound(f.store->GetPerformance(id).status()));

  v1::PerformanceReport performance;
  performance.mutable_model_version()->set_model("fraud");
  CHECK(absl::IsInvalidArgument(f.store->PutPerformance(performance)));  // No compute_time.
  *performance.mutable_compute_time() = At(kStart);
  CHECK(absl::IsInvalidArgument(f.store->PutPerformance(performance)));  // No id.
  performance.set_report_id("p1");
  REQUIRE(f.store->PutPerformance(performance).ok());
  CHECK(f.store->GetPerformance("p1").ok());
}

TEST_CASE("Reports list newest first, per model, filtered and in pages") {
  Fixture f;
  std::vector<std::string> fraud;
  for (int i = 0; i < 7; ++i) {
    fraud.push_back(f.Drift("fraud", 1 + i % 2, i == 4 ? v1::SEVERITY_CRITICAL : v1::SEVERITY_OK));
    f.Drift("churn", 1);
    f.clock.Advance(absl::Minutes(1));
  }
  const std::vector<std::string> newest_first(fraud.rbegin(), fraud.rend());
  CHECK(f.Listed(Of("fraud")) == newest_first);
  CHECK(f.Listed(Of("fraud"), 2) == newest_first);
  CHECK(f.Listed(Of("fraud"), 7) == newest_first);

  ReportFilter version = Of("fraud");
  version.version = 2;
  CHECK(f.Listed(version) == std::vector<std::string>{fraud[5], fraud[3], fraud[1]});

  ReportFilter severe = Of("fraud");
  severe.min_severity = v1::SEVERITY_WARNING;
  CHECK(f.Listed(severe) == std::vector<std::string>{fraud[4]});

  ReportFilter range = Of("fraud");
  range.from = kStart + absl::Minutes(2);
  range.to = kStart + absl::Minutes(5);
  CHECK(f.Listed(range) == std::vector<std::string>{fraud[4], fraud[3], fraud[2]});
  CHECK(f.Listed(range, 1) == std::vector<std::string>{fraud[4], fraud[3], fraud[2]});
}

TEST_CASE("A list refuses a bad page token, a negative page size, and no model") {
  Fixture f;
  f.Drift("fraud", 1);
  f.Drift("fraud", 1);
  absl::StatusOr<v1::ListDriftReportsResponse> first = f.store->ListDrift(Of("fraud"), 1, "");
  REQUIRE(first.ok());
  REQUIRE_FALSE(first->next_page_token().empty());
  CHECK(absl::IsInvalidArgument(f.store->ListDrift(Of("fraud"), 1, "%%%").status()));
  CHECK(absl::IsInvalidArgument(f.store->ListDrift(Of("fraud"), 1, "AAAA").status()));
  // A token is bound to the model it listed.
  CHECK(absl::IsInvalidArgument(
      f.store->ListDrift(Of("churn"), 1, first->next_page_token()).status()));
  CHECK(absl::IsInvalidArgument(f.store->ListDrift(Of("fraud"), -1, "").status()));
  CHECK(absl::IsInvalidArgument(f.store->ListDrift(Of(""), 1, "").status()));
}

TEST_CASE("Reports older than the retention are dropped as new ones arrive") {
  Fixture f(absl::Hours(1));
  const std::string old_id = f.Drift("fraud", 1);
  f.clock.Advance(absl::Minutes(90));
  const std::string new_id = f.Drift("fraud", 1);
  CHECK(absl::IsNotFound(f.store->GetDrift(old_id).status()));
  CHECK(f.Listed(Of("fraud")) == std::vector<std::string>{new_id});
}

}  // namespace
}  // namespace fabrique::monitoring
