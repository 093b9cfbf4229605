#include "services/monitor/report_page.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "fabrique/v1/monitor.grpc.pb.h"
#include "libs/core/status_macros.h"
#include "libs/monitoring/report/html_report.h"
#include "libs/monitoring/report/report_from_protos.h"

namespace fabrique::services {
namespace {

// The query's period and version.
struct PageQuery {
  std::string model;
  absl::Time from;
  absl::Time to;
  int64_t version = 0;  // 0 = the model's latest.
};

absl::StatusOr<absl::Time> ParseTimeParam(const server::HttpRequest& request,
                                          absl::string_view name, absl::Time fallback) {
  if (!request.HasParam(name)) return fallback;
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, request.Param(name), &time, &error)) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, "=", request.Param(name), " is not an RFC 3339 time, e.g. 2026-05-01T00:00:00Z"));
  }
  return time;
}

absl::StatusOr<PageQuery> ParseQuery(const server::HttpRequest& request, absl::Time now,
                                     absl::Duration default_period) {
  PageQuery query;
  query.model = request.path.substr(std::string(kReportPagePrefix).size());
  if (query.model.empty() || absl::StrContains(query.model, '/')) {
    return absl::NotFoundError(
        absl::StrCat("no page at ", request.path, ": the report of a model is at /reports/MODEL"));
  }
  ASSIGN_OR_RETURN(query.to, ParseTimeParam(request, "to", now));
  ASSIGN_OR_RETURN(query.from, ParseTimeParam(request, "from", query.to - default_period));
  if (query.from >= query.to) {
    return absl::InvalidArgumentError("from must be before to");
  }
  if (request.HasParam("version") &&
      (!absl::SimpleAtoi(request.Param("version"), &query.version) || query.version < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("version=", request.Param("version"), " is not a version number (1, 2, ...)"));
  }
  return query;
}

// The version shown: the one asked for, else the primary alias's, else the model's latest;
// NOT_FOUND for an unknown model.
absl::StatusOr<int64_t> VersionOf(const ReportPageOptions& options, const PageQuery& query) {
  ModelDirectory* const directory = options.directory;
  directory->Refresh(query.model, query.version);
  const ModelDirectory::Facts facts = directory->Get(query.model);
  switch (facts.state) {
    case ModelDirectory::State::kMissing:
      return absl::NotFoundError(absl::StrCat("model '", query.model, "' not found"));
    case ModelDirectory::State::kUnreachable:
      if (query.version > 0) return query.version;
      return absl::UnavailableError(
          "the registry cannot be asked which version to show now: retry, or name ?version=N");
    case ModelDirectory::State::kFound:
      break;
  }
  int64_t version = query.version;
  if (version == 0 && options.primary_version) {
    absl::StatusOr<int64_t> primary = options.primary_version(query.model);
    if (primary.ok()) {
      version = *primary;
    } else if (!absl::IsNotFound(primary.status())) {
      return primary.status();
    }
  }
  if (version == 0) version = facts.latest_version;
  if (version == 0) {
    return absl::NotFoundError(absl::StrCat("model '", query.model, "' has no version yet"));
  }
  return version;
}

class Page {
 public:
  explicit Page(ReportPageOptions options)
      : options_(std::move(options)),
        clock_(options_.clock != nullptr ? options_.clock : core::Clock::Real()) {}

  server::HttpResponse operator()(const server::HttpRequest& request) const {
    absl::StatusOr<std::string> html = Render(request);
    if (html.ok()) return {200, "text/html; charset=utf-8", *std::move(html), SecurityHeaders()};
    server::HttpResponse response{HttpStatusOf(html.status()), "text/plain; charset=utf-8",
                                  absl::StrCat(html.status().message(), "\n")};
    if (response.status == 401) response.headers.emplace_back("WWW-Authenticate", "Bearer");
    return response;
  }

 private:
  // The page has no script and loads nothing; the browser is told to hold it to that.
  static std::vector<std::pair<std::string, std::string>> SecurityHeaders() {
    return {{"Content-Security-Policy",
             "default-src 'none'; style-src 'unsafe-inline'; img-src data:"}};
  }

  absl::StatusOr<std::string> Render(const server::HttpRequest& request) const {
    const absl::Time now = clock_->Now();
    ASSIGN_OR_RETURN(PageQuery query, ParseQuery(request, now, options_.default_period));
    // Who may see it: GetDriftReport's rule on the model.
    ASSIGN_OR_RETURN(server::Authentication who,
                     options_.access->AuthenticateBearer(request.authorization));
    v1::GetDriftReportRequest asked;
    asked.mutable_model()->set_model(query.model);
    RETURN_IF_ERROR(options_.access
                        ->Authorize(who, v1::Monitor::service_full_name(), "GetDriftReport", asked,
                                    options_.owners)
                        .status());
    ASSIGN_OR_RETURN(const int64_t version, VersionOf(options_, query));
    if (options_.reports == nullptr) {
      return absl::UnavailableError(
          "drift and performance reports are not built into this monitor, so there is no page "
          "to show");
    }
    v1::MonitoringPolicy policy;
    if (options_.policy_of) {
      ASSIGN_OR_RETURN(policy, options_.policy_of(query.model));
    }
    monitoring::report::ReportProtos protos;
    protos.model = query.model;
    protos.from = query.from;
    protos.to = query.to;
    protos.generated_at = now;
    ASSIGN_OR_RETURN(protos.drift, options_.drift_with_profiles
                                       ? options_.drift_with_profiles(query.model, version,
                                                                      query.from, query.to, policy)
                                       : options_.reports->ComputeDriftReport(
                                             query.model, version, query.from, query.to, policy));
    ASSIGN_OR_RETURN(protos.performance,
                     options_.reports->ComputePerformanceReport(
                         query.model, version, query.from, query.to, policy,
                         monitoring::report::PerformanceBucketFor(query.from, query.to)));
    if (options_.firing_alerts) {
      ASSIGN_OR_RETURN(protos.alerts, options_.firing_alerts(query.model));
    }
    return monitoring::report::RenderHtmlReport(monitoring::report::ReportFromProtos(protos));
  }

  const ReportPageOptions options_;
  const core::Clock* const clock_;
};

}  // namespace

int HttpStatusOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kResourceExhausted:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

server::HttpHandler ReportPage(ReportPageOptions options) {
  auto page = std::make_shared<const Page>(std::move(options));
  return [page](const server::HttpRequest& request) { return (*page)(request); };
}

}  // namespace fabrique::services
