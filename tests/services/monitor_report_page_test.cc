// The monitor's report page on its metrics port, through a real service host and HTTP: the
// page of a model's reports for those who may read them, and 400/401/403/404/405/503 with a
// plain reason otherwise; /metrics is served beside it as before.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "catch2/catch.hpp"
#include "services/monitor/report_page.h"
#include "tests/services/monitor_test_server.h"

namespace fabrique::services {
namespace {

using monitor_test::FakeRegistry;

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // Lower-case names.
  std::string body;

  std::string Header(const std::string& lower_case_name) const {
    auto it = headers.find(lower_case_name);
    return it == headers.end() ? "" : it->second;
  }
};

// One HTTP/1.0 request to 127.0.0.1:`port`.
Reply Fetch(int port, const std::string& path, const std::string& token = "",
            const std::string& method = "GET") {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  std::string request = absl::StrCat(method, " ", path, " HTTP/1.0\r\nHost: localhost\r\n");
  if (!token.empty()) absl::StrAppend(&request, "Authorization: Bearer ", token, "\r\n");
  absl::StrAppend(&request, "Connection: close\r\n\r\n");
  REQUIRE(write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size()));
  std::string raw;
  char buffer[8192];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) raw.append(buffer, n);
  close(fd);
  Reply reply;
  const size_t end = raw.find("\r\n\r\n");
  REQUIRE(end != std::string::npos);
  std::vector<std::string> lines = absl::StrSplit(raw.substr(0, end), "\r\n");
  std::vector<std::string> status_line = absl::StrSplit(lines[0], ' ');
  REQUIRE(status_line.size() >= 2);
  reply.status = std::stoi(status_line[1]);
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    if (colon == std::string::npos) continue;
    reply.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
        std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
  }
  reply.body = raw.substr(end + 4);
  return reply;
}

// Reports made by hand; remembers what it was asked.
class FakeReports : public monitoring::ReportSource {
 public:
  absl::StatusOr<v1::DriftReport> ComputeDriftReport(absl::string_view model, int64_t version,
                                                     absl::Time from, absl::Time to,
                                                     const v1::MonitoringPolicy&,
                                                     const v1::TimeRange*) override {
    asked_version = version;
    asked_from = from;
    asked_to = to;
    if (!fail.ok()) return fail;
    v1::DriftReport r;
    r.mutable_model_version()->set_model(std::string(model));
    r.mutable_model_version()->set_version(version);
    r.set_prediction_count(800);
    v1::FeatureDrift* f = r.add_features();
    f->set_name("amount");
    f->set_status(v1::DRIFT_STATUS_DRIFTED);
    f->set_column_type("numeric");
    v1::DriftScore* s = f->add_scores();
    s->set_metric(v1::DRIFT_METRIC_WASSERSTEIN);
    s->set_value(0.31);
    s->set_threshold(0.1);
    s->set_drift_when(v1::DRIFT_WHEN_STATISTIC_AT_LEAST);
    s->set_enough_data(true);
    s->set_drifted(true);
    return r;
  }
  absl::StatusOr<v1::PerformanceReport> ComputePerformanceReport(absl::string_view model,
                                                                 int64_t version, absl::Time,
                                                                 absl::Time,
                                                                 const v1::MonitoringPolicy&,
                                                                 absl::Duration bucket) override {
    asked_bucket = bucket;
    v1::PerformanceReport p;
    p.mutable_model_version()->set_model(std::string(model));
    p.mutable_model_version()->set_version(version);
    return p;
  }

  absl::Status fail;
  int64_t asked_version = 0;
  absl::Time asked_from;
  absl::Time asked_to;
  absl::Duration asked_bucket;
};

struct PageServer {
  fabrique::testing::TestIdentity identity;
  core::FakeClock clock{absl::FromUnixSeconds(1'780'000'000)};
  FakeRegistry registry;
  FakeReports reports;
  std::unique_ptr<ModelDirectory> directory;
  std::unique_ptr<server::ServiceHost> host;

  int drift_with_profiles_calls = 0;
  absl::StatusOr<int64_t> primary = absl::NotFoundError("no production alias");

  explicit PageServer(bool with_reports = true, bool with_profiles = false) {
    registry.Add("fraud", "fraud", v1::TASK_BINARY_CLASSIFICATION, 3);
    registry.Add("credit", "risk", v1::TASK_BINARY_CLASSIFICATION, 1);
    registry.Add("draft", "fraud", v1::TASK_BINARY_CLASSIFICATION, 0);
    ModelDirectoryOptions directory_options;
    directory_options.lookup = [this](const std::string& name) { return registry.Lookup(name); };
    directory_options.clock = &clock;
    directory = std::make_unique<ModelDirectory>(std::move(directory_options));
    server::ServiceHostOptions host_options;
    host_options.plaintext = true;
    host_options.service_name = "monitor";
    host_options.listen_host = "127.0.0.1";
    host = *server::ServiceHost::Create(host_options);
    ReportPageOptions page;
    page.reports = with_reports ? &reports : nullptr;
    page.directory = directory.get();
    page.access = identity.guard();
    page.owners = MonitoredModelOwners(directory.get());
    page.clock = &clock;
    page.primary_version = [this](const std::string&) { return primary; };
    page.firing_alerts = [](const std::string& model) {
      v1::Alert alert;
      alert.set_id("alert-7");
      alert.set_state(v1::ALERT_STATE_FIRING);
      alert.set_severity(v1::SEVERITY_CRITICAL);
      alert.set_summary(absl::StrCat("Wasserstein 0.31 on amount of ", model));
      return std::vector<v1::Alert>{alert};
    };
    if (with_profiles) {
      // The drift report as the report core fills it when asked for profiles.
      page.drift_with_profiles = [this](const std::string& model, int64_t version, absl::Time from,
                                        absl::Time to, const v1::MonitoringPolicy& policy) {
        ++drift_with_profiles_calls;
        absl::StatusOr<v1::DriftReport> r =
            reports.ComputeDriftReport(model, version, from, to, policy, nullptr);
        v1::NumericSummary* reference =
            r->mutable_features(0)->mutable_reference()->mutable_numeric();
        v1::NumericSummary* live = r->mutable_features(0)->mutable_live()->mutable_numeric();
        for (double edge : {0.0, 50.0, 100.0, 150.0}) {
          reference->add_bin_edges(edge);
          live->add_bin_edges(edge);
        }
        for (double share : {0.3, 0.4, 0.3}) reference->add_bin_fractions(share);
        for (double share : {0.1, 0.2, 0.7}) live->add_bin_fractions(share);
        return r;
      };
    }
    host->AddHttpPage(kReportPagePrefix, ReportPage(std::move(page)));
    REQUIRE(host->Start().ok());
  }
  ~PageServer() { host->Shutdown(); }

  Reply Get(const std::string& path, const std::string& user = "erin",
            const std::vector<std::string>& groups = monitor_test::kErin) {
    return Fetch(host->metrics_port(), path, identity.Token(user, groups));
  }
};

TEST_CASE("The report page of a model shows its reports to its squad") {
  PageServer server;
  const Reply reply = server.Get("/reports/fraud");
  INFO(reply.body);
  REQUIRE(reply.status == 200);
  CHECK(absl::StartsWith(reply.Header("content-type"), "text/html"));
  CHECK(absl::StrContains(reply.Header("content-security-policy"), "default-src 'none'"));
  CHECK(absl::StartsWith(absl::AsciiStrToLower(reply.body), "<!doctype html>"));
  CHECK(absl::StrContains(reply.body, "fraud"));
  CHECK(absl::StrContains(reply.body, "amount"));
  CHECK(absl::StrContains(reply.body, "alert-7"));
  CHECK_FALSE(absl::StrContains(reply.body, "<script"));
  // The latest version over the last 24 hours, in hourly buckets.
  CHECK(server.reports.asked_version == 3);
  CHECK(server.reports.asked_to == server.clock.Now());
  CHECK(server.reports.asked_from == server.clock.Now() - absl::Hours(24));
  CHECK(server.reports.asked_bucket == absl::Hours(1));
  // /metrics is still served on the same port.
  const Reply metrics = Fetch(server.host->metrics_port(), "/metrics");
  CHECK(metrics.status == 200);
  CHECK(absl::StrContains(metrics.body, "fabrique_monitor_"));
}

TEST_CASE("The report page draws the distributions of the drift report with profiles") {
  PageServer plain;
  PageServer drawn(/*with_reports=*/true, /*with_profiles=*/true);
  const Reply without = plain.Get("/reports/fraud");
  const Reply with = drawn.Get("/reports/fraud");
  REQUIRE(with.status == 200);
  CHECK(drawn.drift_with_profiles_calls == 1);
  // One more chart: the feature's two distributions.
  auto charts = [](const std::string& body) {
    int n = 0;
    for (size_t at = body.find("<svg "); at != std::string::npos; at = body.find("<svg ", at + 1)) {
      ++n;
    }
    return n;
  };
  CHECK(charts(with.body) == charts(without.body) + 1);
}

TEST_CASE("The report page takes its period and version from the query") {
  PageServer server;
  const Reply reply = server.Get(
      "/reports/fraud?from=2026-05-01T00:00:00Z&to=2026-05-08T00:00:00%2B00:00&version=2");
  INFO(reply.body);
  REQUIRE(reply.status == 200);
  CHECK(server.reports.asked_version == 2);
  CHECK(server.reports.asked_from ==
        absl::FromCivil(absl::CivilSecond(2026, 5, 1), absl::UTCTimeZone()));
  CHECK(server.reports.asked_to ==
        absl::FromCivil(absl::CivilSecond(2026, 5, 8), absl::UTCTimeZone()));
  CHECK(server.reports.asked_bucket == absl::Hours(6));
}

TEST_CASE("Without a version the page shows the primary alias's, else the latest") {
  PageServer server;
  REQUIRE(server.Get("/reports/fraud").status == 200);
  CHECK(server.reports.asked_version == 3);  // no alias: the latest
  server.primary = 2;
  REQUIRE(server.Get("/reports/fraud").status == 200);
  CHECK(server.reports.asked_version == 2);
  server.primary = absl::UnavailableError("registry down");
  CHECK(server.Get("/reports/fraud").status == 503);
}

TEST_CASE("The report page refuses bad queries with 400") {
  PageServer server;
  for (const char* path : {"/reports/fraud?from=yesterday", "/reports/fraud?to=2026-13-01",
                           "/reports/fraud?from=2026-05-02T00:00:00Z&to=2026-05-01T00:00:00Z",
                           "/reports/fraud?version=abc", "/reports/fraud?version=0"}) {
    INFO(path);
    const Reply reply = server.Get(path);
    CHECK(reply.status == 400);
    CHECK(absl::StartsWith(reply.Header("content-type"), "text/plain"));
  }
}

TEST_CASE("The report page asks for a token and for monitoring.read in the model's squad") {
  PageServer server;
  const Reply anonymous = Fetch(server.host->metrics_port(), "/reports/fraud");
  CHECK(anonymous.status == 401);
  CHECK(anonymous.Header("www-authenticate") == "Bearer");
  CHECK(absl::StrContains(anonymous.body, "bearer token"));
  const Reply forged = Fetch(server.host->metrics_port(), "/reports/fraud", "not-a-jwt");
  CHECK(forged.status == 401);
  // erin reads fraud's models, not risk's.
  const Reply other_squad = server.Get("/reports/credit");
  CHECK(other_squad.status == 403);
  CHECK(server.Get("/reports/credit", "dana", monitor_test::kDana).status == 200);
}

TEST_CASE("The report page answers 404 for an unknown model or path, 405 for other methods") {
  PageServer server;
  CHECK(server.Get("/reports/nope").status == 404);
  CHECK(server.Get("/reports/draft").status == 404);  // no version yet
  CHECK(server.Get("/reports/").status == 404);
  CHECK(server.Get("/reports/fraud/extra").status == 404);
  CHECK(Fetch(server.host->metrics_port(), "/reports/fraud",
              server.identity.Token("erin", monitor_test::kErin), "POST")
            .status == 405);
}

TEST_CASE("The report page answers 503 while it cannot make the page") {
  SECTION("reports not built into this monitor") {
    PageServer server(/*with_reports=*/false);
    const Reply reply = server.Get("/reports/fraud");
    CHECK(reply.status == 503);
    CHECK(absl::StrContains(reply.body, "not built"));
  }
  SECTION("the registry is down and no version is named") {
    PageServer server;
    server.registry.SetDown(true);
    // The owner lookup fails first: the squad cannot be known.
    CHECK(server.Get("/reports/fraud").status == 503);
  }
  SECTION("the reports fail") {
    PageServer server;
    server.reports.fail = absl::UnavailableError("windows are loading");
    CHECK(server.Get("/reports/fraud").status == 503);
    server.reports.fail = absl::InvalidArgumentError("window too long");
    CHECK(server.Get("/reports/fraud").status == 400);
  }
}

}  // namespace
}  // namespace fabrique::services
