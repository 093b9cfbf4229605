#ifndef FABRIQUE_LIBS_MONITORING_REPORTS_REPORT_STORE_H_
#define FABRIQUE_LIBS_MONITORING_REPORTS_REPORT_STORE_H_

// Where every drift and performance report the monitor computes is kept: fetchable by its id,
// listed newest first per model with filters and pages, and dropped once older than the
// retention period. One RocksDB database in its own directory (DATA_DIR/reports):
//
//   drift, performance          id -> the report
//   drift_index, ...            (model, compute time descending, id) -> "" : newest-first lists
//   drift_by_time, ...          (compute time, id) -> model : what retention drops first
//
// Page tokens are the last index key a page returned, base64: a token that does not decode to a
// key of the model listed is refused, so a token cannot be replayed against another model.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "fabrique/v1/monitor.pb.h"
#include "libs/core/clock.h"
#include "libs/kv/store.h"

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace fabrique::monitoring {

struct ReportStoreOptions {
  // Directory of the database, e.g. <data_dir>/reports; created when missing. Required.
  std::string dir;
  // Reports computed longer ago than this are dropped (as new ones are stored). Zero or
  // infinite keeps everything. Default: 90 days.
  absl::Duration retention = absl::Hours(24 * 90);
  // Clock retention reads. Not owned. Default: nullptr = the real clock.
  const core::Clock* clock = nullptr;
  // The rocksdb::Env files go through (kv's seam for in-memory tests). Not owned. Default:
  // nullptr = the real disk.
  rocksdb::Env* env = nullptr;
};

// Which reports a list returns. A report matches when it is of `model`, of `version` (0 = any),
// computed in [from, to), and at least `min_severity` severe (UNSPECIFIED = any).
struct ReportFilter {
  std::string model;
  int64_t version = 0;
  absl::Time from = absl::InfinitePast();
  absl::Time to = absl::InfiniteFuture();
  v1::Severity min_severity = v1::SEVERITY_UNSPECIFIED;
};

class ReportStore {
 public:
  // Pages hold this many reports unless asked for fewer, and never more than kMaxPageSize.
  static constexpr int32_t kDefaultPageSize = 50;
  static constexpr int32_t kMaxPageSize = 1000;

  // Opens (or creates) the database. INVALID_ARGUMENT for an empty dir or a negative retention;
  // otherwise the errors of kv::Store::Open.
  static absl::StatusOr<std::unique_ptr<ReportStore>> Open(ReportStoreOptions options);

  // A new report id: time-sortable, unique.
  std::string NewId();

  // Stores a report under its report_id (which must be set), and drops reports past the
  // retention. INVALID_ARGUMENT without a report_id or a compute_time.
  absl::Status PutDrift(const v1::DriftReport& report);
  absl::Status PutPerformance(const v1::PerformanceReport& report);

  // The report with this id; NOT_FOUND when there is none (or retention dropped it).
  absl::StatusOr<v1::DriftReport> GetDrift(absl::string_view id) const;
  absl::StatusOr<v1::PerformanceReport> GetPerformance(absl::string_view id) const;

  // The reports matching `filter`, newest first, `page_size` at most (0 = the default), from
  // `page_token` on. INVALID_ARGUMENT without a model, for a negative page size, or a page token
  // this list did not hand out.
  absl::StatusOr<v1::ListDriftReportsResponse> ListDrift(const ReportFilter& filter,
                                                         int32_t page_size,
                                                         absl::string_view page_token) const;
  absl::StatusOr<v1::ListPerformanceReportsResponse> ListPerformance(
      const ReportFilter& filter, int32_t page_size, absl::string_view page_token) const;

 private:
  // The three families of one kind of report.
  struct Families {
    kv::ColumnFamily reports;
    kv::ColumnFamily index;
    kv::ColumnFamily by_time;
  };

  ReportStore(ReportStoreOptions options, std::unique_ptr<kv::Store> store, Families drift,
              Families performance);

  absl::Status Put(const Families& families, const std::string& id, const std::string& model,
                   absl::Time compute_time, const std::string& bytes);
  absl::StatusOr<std::string> Get(const Families& families, absl::string_view id,
                                  absl::string_view what) const;
  // Calls `visit` with the stored bytes of each report of filter.model, newest first, from the
  // page token on, until it returns false; returns the index key of the last report visited.
  // `visit` returns whether to keep going.
  absl::Status Scan(
      const Families& families, const ReportFilter& filter, absl::string_view page_token,
      const std::function<bool(const std::string& key, absl::string_view bytes)>& visit) const;
  // Drops the reports computed before now - retention.
  absl::Status DropExpired(const Families& families);

  const ReportStoreOptions options_;
  const core::Clock* const clock_;
  std::unique_ptr<kv::Store> store_;
  const Families drift_;
  const Families performance_;
};

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_REPORTS_REPORT_STORE_H_
