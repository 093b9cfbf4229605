#include "libs/monitoring/reports/report_store.h"

#include <algorithm>
#include <functional>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/core/ids.h"
#include "libs/core/status_macros.h"
#include "libs/core/stored_proto.h"
#include "libs/kv/key_codec.h"
#include "libs/kv/write_batch.h"
#include "libs/monitoring/reports/report_times.h"

namespace fabrique::monitoring {
namespace {

int64_t Micros(absl::Time time) { return absl::ToUnixMicros(time); }

std::string ModelPrefix(absl::string_view model) { return kv::KeyBuilder().AddString(model).key(); }

std::string IndexKey(absl::string_view model, absl::Time time, absl::string_view id) {
  return kv::KeyBuilder().AddString(model).AddDescendingInt64(Micros(time)).AddString(id).key();
}

std::string TimeKey(absl::Time time, absl::string_view id) {
  return kv::KeyBuilder().AddInt64(Micros(time)).AddString(id).key();
}

absl::Status BadToken() {
  return absl::InvalidArgumentError(
      "page_token is not one this list handed out (tokens are bound to the model listed)");
}

int32_t PageSize(int32_t asked) {
  if (asked == 0) return ReportStore::kDefaultPageSize;
  return std::min(asked, ReportStore::kMaxPageSize);
}

// The list call of one kind of report: decodes, filters and pages.
template <typename Report, typename Response>
absl::StatusOr<Response> ListReports(
    const ReportFilter& filter, int32_t page_size,
    const std::function<
        absl::Status(const std::function<bool(const std::string&, absl::string_view)>&)>& scan,
    const std::function<void(Response&, Report)>& add) {
  if (page_size < 0) return absl::InvalidArgumentError("page_size cannot be negative");
  const int32_t size = PageSize(page_size);
  Response response;
  int32_t taken = 0;
  std::string last_key;
  absl::Status decoded = absl::OkStatus();
  RETURN_IF_ERROR(scan([&](const std::string& key, absl::string_view bytes) {
    absl::StatusOr<Report> report = core::ParseStored<Report>(bytes, "report");
    if (!report.ok()) {
      decoded = report.status();
      return false;
    }
    if (filter.version != 0 && report->model_version().version() != filter.version) return true;
    if (filter.min_severity != v1::SEVERITY_UNSPECIFIED &&
        report->severity() < filter.min_severity) {
      return true;
    }
    if (taken == size) {
      // One more match exists: the page ends at the last key taken.
      response.set_next_page_token(absl::WebSafeBase64Escape(last_key));
      return false;
    }
    add(response, *std::move(report));
    last_key = key;
    ++taken;
    return true;
  }));
  RETURN_IF_ERROR(decoded);
  return response;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ReportStore>> ReportStore::Open(ReportStoreOptions options) {
  if (options.dir.empty()) return absl::InvalidArgumentError("the report store needs a directory");
  if (options.retention < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("report retention cannot be negative");
  }
  kv::StoreOptions store_options;
  store_options.path = options.dir;
  store_options.column_families = {"drift",       "drift_index",       "drift_by_time",
                                   "performance", "performance_index", "performance_by_time"};
  store_options.env = options.env;
  store_options.block_cache_bytes = size_t{16} << 20;
  store_options.write_buffer_bytes = size_t{8} << 20;
  ASSIGN_OR_RETURN(std::unique_ptr<kv::Store> store, kv::Store::Open(std::move(store_options)));
  Families drift;
  ASSIGN_OR_RETURN(drift.reports, store->Family("drift"));
  ASSIGN_OR_RETURN(drift.index, store->Family("drift_index"));
  ASSIGN_OR_RETURN(drift.by_time, store->Family("drift_by_time"));
  Families performance;
  ASSIGN_OR_RETURN(performance.reports, store->Family("performance"));
  ASSIGN_OR_RETURN(performance.index, store->Family("performance_index"));
  ASSIGN_OR_RETURN(performance.by_time, store->Family("performance_by_time"));
  return std::unique_ptr<ReportStore>(
      new ReportStore(std::move(options), std::move(store), drift, performance));
}

ReportStore::ReportStore(ReportStoreOptions options, std::unique_ptr<kv::Store> store,
                         Families drift, Families performance)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : core::Clock::Real()),
      store_(std::move(store)),
      drift_(drift),
      performance_(performance) {}

std::string ReportStore::NewId() { return core::IdGenerator::Default().Next(); }

absl::Status ReportStore::PutDrift(const v1::DriftReport& report) {
  if (!report.has_compute_time()) {
    return absl::InvalidArgumentError("a stored report needs its compute_time");
  }
  return Put(drift_, report.report_id(), report.model_version().model(),
             TimeOf(report.compute_time()), report.SerializeAsString());
}

absl::Status ReportStore::PutPerformance(const v1::PerformanceReport& report) {
  if (!report.has_compute_time()) {
    return absl::InvalidArgumentError("a stored report needs its compute_time");
  }
  return Put(performance_, report.report_id(), report.model_version().model(),
             TimeOf(report.compute_time()), report.SerializeAsString());
}

absl::Status ReportStore::Put(const Families& families, const std::string& id,
                              const std::string& model, absl::Time compute_time,
                              const std::string& bytes) {
  if (id.empty()) return absl::InvalidArgumentError("a stored report needs its report_id");
  RETURN_IF_ERROR(DropExpired(families));
  kv::WriteBatch batch;
  batch.Put(families.reports, id, bytes);
  batch.Put(families.index, IndexKey(model, compute_time, id), "");
  batch.Put(families.by_time, TimeKey(compute_time, id), model);
  return store_->Write(batch, kv::SyncMode::kSync);
}

absl::Status ReportStore::DropExpired(const Families& families) {
  const absl::Duration retention = options_.retention;
  if (retention == absl::ZeroDuration() || retention == absl::InfiniteDuration()) {
    return absl::OkStatus();
  }
  const absl::Time cutoff = clock_->Now() - retention;
  kv::WriteBatch batch;
  int64_t dropped = 0;
  absl::Status read = absl::OkStatus();
  RETURN_IF_ERROR(store_->Scan(
      families.by_time, kv::KeyRange::Between("", kv::KeyBuilder().AddInt64(Micros(cutoff)).key()),
      [&](absl::string_view key, absl::string_view model) {
        kv::KeyReader reader(key);
        absl::StatusOr<int64_t> micros = reader.ReadInt64();
        absl::StatusOr<std::string> id = reader.ReadString();
        if (!micros.ok() || !id.ok()) {
          read = absl::DataLossError("a report's time key is corrupt");
          return false;
        }
        batch.Delete(families.reports, *id);
        batch.Delete(families.index, IndexKey(model, absl::FromUnixMicros(*micros), *id));
        batch.Delete(families.by_time, key);
        ++dropped;
        return true;
      }));
  RETURN_IF_ERROR(read);
  if (dropped == 0) return absl::OkStatus();
  return store_->Write(batch);
}

absl::StatusOr<std::string> ReportStore::Get(const Families& families, absl::string_view id,
                                             absl::string_view what) const {
  absl::StatusOr<std::string> bytes = store_->Get(families.reports, id);
  if (absl::IsNotFound(bytes.status())) {
    return absl::NotFoundError(
        absl::StrCat("no ", what, " report has id '", id, "' (or it is older than the retention)"));
  }
  return bytes;
}

absl::StatusOr<v1::DriftReport> ReportStore::GetDrift(absl::string_view id) const {
  ASSIGN_OR_RETURN(std::string bytes, Get(drift_, id, "drift"));
  return core::ParseStored<v1::DriftReport>(bytes, "drift report");
}

absl::StatusOr<v1::PerformanceReport> ReportStore::GetPerformance(absl::string_view id) const {
  ASSIGN_OR_RETURN(std::string bytes, Get(performance_, id, "performance"));
  return core::ParseStored<v1::PerformanceReport>(bytes, "performance report");
}

absl::Status ReportStore::Scan(
    const Families& families, const ReportFilter& filter, absl::string_view page_token,
    const std::function<bool(const std::string& key, absl::string_view bytes)>& visit) const {
  if (filter.model.empty()) return absl::InvalidArgumentError("a report list needs a model");
  const std::string prefix = ModelPrefix(filter.model);
  kv::KeyRange range = kv::KeyRange::Prefix(prefix);
  if (!page_token.empty()) {
    std::string after;
    if (!absl::WebSafeBase64Unescape(page_token, &after) || !absl::StartsWith(after, prefix)) {
      return BadToken();
    }
    kv::KeyReader reader(after);
    if (!reader.ReadString().ok() || !reader.ReadDescendingInt64().ok() ||
        !reader.ReadString().ok() || !reader.done()) {
      return BadToken();
    }
    range.begin = after + std::string(1, '\0');  // Strictly after the last key handed out.
  } else if (filter.to != absl::InfiniteFuture()) {
    range.begin = kv::KeyBuilder(prefix).AddDescendingInt64(Micros(filter.to) - 1).key();
  }
  absl::Status status = absl::OkStatus();
  RETURN_IF_ERROR(
      store_->Scan(families.index, range, [&](absl::string_view key, absl::string_view) {
        kv::KeyReader reader(key);
        (void)reader.ReadString();
        absl::StatusOr<int64_t> micros = reader.ReadDescendingInt64();
        absl::StatusOr<std::string> id = reader.ReadString();
        if (!micros.ok() || !id.ok()) {
          status = absl::DataLossError("a report index key is corrupt");
          return false;
        }
        const absl::Time time = absl::FromUnixMicros(*micros);
        if (time < filter.from) return false;  // Newest first: the rest are older still.
        if (time >= filter.to) return true;
        absl::StatusOr<std::string> bytes = store_->Get(families.reports, *id);
        if (absl::IsNotFound(bytes.status())) return true;  // Dropped by retention meanwhile.
        if (!bytes.ok()) {
          status = bytes.status();
          return false;
        }
        return visit(std::string(key), *bytes);
      }));
  return status;
}

absl::StatusOr<v1::ListDriftReportsResponse> ReportStore::ListDrift(
    const ReportFilter& filter, int32_t page_size, absl::string_view page_token) const {
  return ListReports<v1::DriftReport, v1::ListDriftReportsResponse>(
      filter, page_size, [&](const auto& visit) { return Scan(drift_, filter, page_token, visit); },
      [](v1::ListDriftReportsResponse& response, v1::DriftReport report) {
        *response.add_reports() = std::move(report);
      });
}

absl::StatusOr<v1::ListPerformanceReportsResponse> ReportStore::ListPerformance(
    const ReportFilter& filter, int32_t page_size, absl::string_view page_token) const {
  return ListReports<v1::PerformanceReport, v1::ListPerformanceReportsResponse>(
      filter, page_size,
      [&](const auto& visit) { return Scan(performance_, filter, page_token, visit); },
      [](v1::ListPerformanceReportsResponse& response, v1::PerformanceReport report) {
        *response.add_reports() = std::move(report);
      });
}

}  // namespace fabrique::monitoring
