// `fabrique features ingest --group G FILE.csv`: streams a CSV file into a feature group in
// batches on one Ingest call, with a progress bar on stderr and a summary on stdout. The header is
// checked against the group before anything is sent; a row the CLI cannot read (bad number, bad
// time, wrong field count) is rejected here with its line, the others go to the server, whose
// rejects are mapped back to file lines.

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "libs/core/status_macros.h"
#include "libs/features/columns/value_column.h"
#include "libs/server/signals.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/csv_cells.h"
#include "tools/cli/csv_reader.h"
#include "tools/cli/features_client.h"
#include "tools/cli/input_file.h"
#include "tools/cli/progress_bar.h"
#include "tools/cli/rpc_call.h"

namespace fabrique::cli {
namespace {

constexpr char kCommand[] = "fabrique features ingest";
// Default rows per batch: small enough for a smooth progress bar on a stream, large enough on a
// backfill for each SST file to pay for its ingestion.
constexpr int kStreamBatchRows = 5000;
constexpr int kBulkBatchRows = 100000;

struct IngestFlags {
  FeaturesTarget target;
  std::string group;
  std::string key_column;  // Empty = the entity's join key.
  std::string time_column = "event_time";
  std::string batch_id_prefix;  // Empty = the file's name.
  int batch_rows = 0;           // 0 = kStreamBatchRows, or kBulkBatchRows with --bulk.
  bool bulk = false;
  bool all_or_nothing = false;
  bool fail_on_rejects = false;
  int show_rejects = 5;
  absl::Duration stream_timeout = absl::Hours(1);
};

// Where each CSV column goes.
struct ColumnPlan {
  int key = -1;
  int time = -1;
  std::vector<int> feature_of_column;  // Index into `features`, or -1 (key and time columns).
  std::vector<v1::FeatureSpec> features;
};

// A rejected row, as shown to the user.
struct Reject {
  int64_t line = 0;
  std::string reason;
  std::string feature;
  std::string message;
};

struct Tally {
  int64_t rows_read = 0;
  int64_t rejected_here = 0;
  std::map<std::string, int64_t> reasons;
  std::vector<Reject> details;
};

void RejectHere(Tally* tally, int64_t line, std::string reason, std::string feature,
                std::string message) {
  ++tally->rejected_here;
  ++tally->reasons[reason + " (client)"];
  if (tally->details.size() < 1000) {
    tally->details.push_back({line, std::move(reason), std::move(feature), std::move(message)});
  }
}

std::string ReasonName(v1::RejectReason reason) {
  const std::string name = v1::RejectReason_Name(reason);
  constexpr absl::string_view kPrefix = "REJECT_REASON_";
  return name.rfind(kPrefix.data(), 0) == 0 ? name.substr(kPrefix.size()) : name;
}

// Fetches the group and its entity, and maps the header onto them.
absl::StatusOr<ColumnPlan> PlanColumns(const FeatureStoreClient& client, const IngestFlags& flags,
                                       const std::vector<std::string>& header) {
  v1::GetFeatureGroupRequest get_group;
  get_group.set_name(flags.group);
  ASSIGN_OR_RETURN(v1::FeatureGroup group,
                   client.Call(&FeatureStoreStub::GetFeatureGroup, get_group,
                               absl::StrCat("GetFeatureGroup ", flags.group)));
  std::string key_column = flags.key_column;
  if (key_column.empty()) {
    v1::GetEntityRequest get_entity;
    get_entity.set_name(group.spec().entity());
    ASSIGN_OR_RETURN(v1::Entity entity,
                     client.Call(&FeatureStoreStub::GetEntity, get_entity,
                                 absl::StrCat("GetEntity ", group.spec().entity())));
    key_column = entity.join_key();
  }

  ColumnPlan plan;
  std::vector<std::string> names;
  for (const v1::FeatureSpec& f : group.spec().features()) names.push_back(f.name());
  for (size_t i = 0; i < header.size(); ++i) {
    const std::string& name = header[i];
    plan.feature_of_column.push_back(-1);
    if (name == key_column) {
      plan.key = static_cast<int>(i);
    } else if (name == flags.time_column) {
      plan.time = static_cast<int>(i);
    } else {
      const auto it = std::find(names.begin(), names.end(), name);
      if (it == names.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat("column '", name, "' is not a feature of group '", flags.group,
                         "' (features: ", absl::StrJoin(names, ", "), "; key column '", key_column,
                         "', time column '", flags.time_column, "')"));
      }
      plan.feature_of_column.back() = static_cast<int>(plan.features.size());
      plan.features.push_back(group.spec().features(static_cast<int>(it - names.begin())));
    }
  }
  if (plan.key < 0) {
    return absl::InvalidArgumentError(absl::StrCat("the header has no key column '", key_column,
                                                   "' (set another with --key_column)"));
  }
  if (plan.time < 0) {
    return absl::InvalidArgumentError(absl::StrCat("the header has no time column '",
                                                   flags.time_column,
                                                   "' (set another with --time_column)"));
  }
  return plan;
}

// Builds batches row by row and sends each one when full.
class BatchSender {
 public:
  BatchSender(const IngestFlags& flags, const ColumnPlan& plan, std::string file_name,
              grpc::ClientWriter<v1::IngestRequest>* writer)
      : flags_(flags), plan_(plan), file_name_(std::move(file_name)), writer_(writer) {
    empty_.set_group(flags.group);
    empty_.set_all_or_nothing(flags.all_or_nothing);
    empty_.set_bulk(flags.bulk);
    for (const v1::FeatureSpec& f : plan.features) {
      v1::FeatureColumn* column = empty_.mutable_rows()->add_columns();
      column->mutable_feature()->set_feature(f.name());
      features::SetColumnType(f.type(), column->mutable_values());
    }
    batch_ = empty_;
  }

  // Adds one parsed row; sends the batch when it reaches --batch_rows. False if the stream broke.
  bool Add(const std::string& key, int64_t micros, const std::vector<Cell>& cells, int64_t line) {
    v1::RowBatch* rows = batch_.mutable_rows();
    rows->add_entity_keys(key);
    rows->add_event_time_unix_micros(micros);
    for (size_t f = 0; f < plan_.features.size(); ++f) {
      AppendCell(cells[f], plan_.features[f].type(), rows->mutable_columns(f)->mutable_values());
    }
    lines_.push_back(line);
    return static_cast<int>(lines_.size()) < flags_.batch_rows || Flush();
  }

  // Marks the batch being built as refused: with --all_or_nothing a row this CLI could not read
  // refuses its batch, as a row the server rejects would.
  void Refuse() { refused_ = true; }

  // Sends the rows gathered so far, if any. False if the stream broke.
  bool Flush() {
    const int64_t ordinal = file_batches_++;
    if (refused_) {
      refused_ = false;
      refused_rows_ += static_cast<int64_t>(lines_.size());
      lines_.clear();
      batch_ = empty_;
      return true;
    }
    if (lines_.empty()) return true;
    for (v1::FeatureColumn& column : *batch_.mutable_rows()->mutable_columns()) {
      const auto& nulls = column.values().is_null();
      // A column without nulls goes without flags: the server's fast path reads none.
      if (std::none_of(nulls.begin(), nulls.end(), [](bool b) { return b; })) {
        column.mutable_values()->clear_is_null();
      }
    }
    // Ids count batches of the file, sent or refused, so they stay stable across re-runs.
    batch_.set_batch_id(absl::StrCat(file_name_, "#", ordinal));
    rows_sent_ += static_cast<int64_t>(lines_.size());
    batch_lines_.push_back(std::move(lines_));
    lines_.clear();
    const bool ok = writer_->Write(batch_);
    batch_ = empty_;
    return ok;
  }

  int64_t rows_sent() const { return rows_sent_; }
  // Readable rows not sent because their batch was refused here (--all_or_nothing).
  int64_t refused_rows() const { return refused_rows_; }
  size_t batches_sent() const { return batch_lines_.size(); }
  // The file line of row `row` of batch `batch`, or -1 if the server named an unknown one.
  int64_t LineOf(int64_t batch, int64_t row) const {
    if (batch < 0 || batch >= static_cast<int64_t>(batch_lines_.size())) return -1;
    const auto& lines = batch_lines_[batch];
    return row >= 0 && row < static_cast<int64_t>(lines.size()) ? lines[row] : -1;
  }

 private:
  const IngestFlags& flags_;
  const ColumnPlan& plan_;
  const std::string file_name_;
  grpc::ClientWriter<v1::IngestRequest>* writer_;
  v1::IngestRequest empty_;  // A batch with typed, empty columns, copied for each new batch.
  v1::IngestRequest batch_;
  std::vector<int64_t> lines_;                     // File line of each row of `batch_`.
  std::vector<std::vector<int64_t>> batch_lines_;  // The same for every batch sent.
  int64_t rows_sent_ = 0;
  int64_t file_batches_ = 0;
  bool refused_ = false;
  int64_t refused_rows_ = 0;
};

// Parses one record into its key, event time and `cells`; a record it cannot read goes to
// `tally` with its line, and false is returned.
bool ParseRow(const absl::StatusOr<bool>& read, const std::vector<std::string>& fields,
              const ColumnPlan& plan, int64_t line, int64_t* micros, std::vector<Cell>* cells,
              Tally* tally) {
  if (!read.ok()) {
    RejectHere(tally, line, "MALFORMED_CSV", "", std::string(read.status().message()));
    return false;
  }
  if (fields.size() != plan.feature_of_column.size()) {
    RejectHere(
        tally, line, "WRONG_FIELD_COUNT", "",
        absl::StrCat(fields.size(), " fields, the header has ", plan.feature_of_column.size()));
    return false;
  }
  absl::StatusOr<int64_t> time = ParseEventTimeMicros(fields[plan.time]);
  if (!time.ok()) {
    RejectHere(tally, line, "BAD_EVENT_TIME", "", std::string(time.status().message()));
    return false;
  }
  *micros = *time;
  for (size_t c = 0; c < fields.size(); ++c) {
    const int f = plan.feature_of_column[c];
    if (f < 0) continue;
    const absl::Status parsed = ParseCell(fields[c], plan.features[f].type(), &(*cells)[f]);
    if (!parsed.ok()) {
      RejectHere(tally, line, "BAD_VALUE", plan.features[f].name(), std::string(parsed.message()));
      return false;
    }
  }
  return true;
}

// Reads the rows after the header and hands them to `sender`; rows it cannot read go to `tally`.
// Returns false if interrupted by SIGINT/SIGTERM or the stream broke.
bool SendRows(CsvReader* reader, const ColumnPlan& plan, bool all_or_nothing, BatchSender* sender,
              ProgressBar* bar, Tally* tally, bool* interrupted) {
  std::vector<std::string> fields;
  std::vector<Cell> cells(plan.features.size());
  while (true) {
    absl::StatusOr<bool> read = reader->Next(&fields);
    if (read.ok() && !*read) break;
    ++tally->rows_read;
    const int64_t line = reader->record_line();
    int64_t micros = 0;
    if (ParseRow(read, fields, plan, line, &micros, &cells, tally)) {
      if (!sender->Add(fields[plan.key], micros, cells, line)) return false;
    } else if (all_or_nothing) {
      sender->Refuse();
    }
    // Every 1024 rows: a system call per row would cost more than the row itself.
    if (tally->rows_read % 1024 != 0) continue;
    bar->Update(sender->rows_sent(), reader->bytes_read());
    // Signals are blocked in the CLI (see main.cc); poll for Ctrl-C without waiting.
    if (server::WaitForTerminationSignalFor(absl::ZeroDuration()) != 0) {
      *interrupted = true;
      return false;
    }
  }
  return sender->Flush();
}

void PrintSummary(const IngestFlags& flags, const v1::IngestResponse& response,
                  const BatchSender& sender, Tally tally, absl::Duration elapsed) {
  for (const v1::RejectCount& count : response.reject_counts()) {
    tally.reasons[ReasonName(count.reason())] += count.count();
  }
  for (const v1::IngestBatchResult& batch : response.batches()) {
    for (const v1::RowReject& r : batch.rejects()) {
      tally.details.push_back({sender.LineOf(batch.batch_index(), r.row_index()),
                               ReasonName(r.reason()), r.feature(), r.message()});
    }
  }
  std::stable_sort(tally.details.begin(), tally.details.end(),
                   [](const Reject& a, const Reject& b) { return a.line < b.line; });
  const double seconds = std::max(absl::ToDoubleSeconds(elapsed), 1e-6);
  std::cout << absl::StrFormat("rows read:     %d\n", tally.rows_read);
  std::cout << absl::StrFormat("rows written:  %d\n", response.rows_written());
  if (sender.refused_rows() > 0) tally.reasons["BATCH_REFUSED (client)"] += sender.refused_rows();
  std::cout << absl::StrFormat(
      "rows rejected: %d\n",
      response.rows_rejected() + tally.rejected_here + sender.refused_rows());
  for (const auto& [reason, count] : tally.reasons) {
    std::cout << absl::StrFormat("  %-28s %d\n", reason, count);
  }
  const size_t shown = std::min(tally.details.size(), static_cast<size_t>(flags.show_rejects));
  if (shown > 0) std::cout << "first rejects:\n";
  for (size_t i = 0; i < shown; ++i) {
    const Reject& r = tally.details[i];
    std::cout << "  line " << r.line << ": " << (r.feature.empty() ? "" : r.feature + ": ")
              << r.message << " (" << r.reason << ")\n";
  }
  std::cout << absl::StrFormat("batches:       %d\n", sender.batches_sent());
  const int64_t duplicates =
      std::count_if(response.batches().begin(), response.batches().end(),
                    [](const v1::IngestBatchResult& b) { return b.duplicate(); });
  if (duplicates > 0) {
    // Batch ids make a re-run of the same file idempotent; say so, or a re-run of an edited file
    // would look like it wrote something.
    std::cout << absl::StrFormat(
        "  %d already ingested under the same batch ids; the server returned their first result "
        "(use --batch_id_prefix to send them again)\n",
        duplicates);
  }
  std::cout << absl::StrFormat("elapsed:       %.2f s (%.0f rows/s)\n", seconds,
                               static_cast<double>(tally.rows_read) / seconds);
}

// Reads the header row; INVALID_ARGUMENT (a usage error) when there is none or it is malformed.
absl::StatusOr<std::vector<std::string>> ReadHeader(CsvReader* reader, const std::string& path) {
  std::vector<std::string> header;
  absl::StatusOr<bool> has_header = reader->Next(&header);
  if (!has_header.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", has_header.status().message()));
  }
  if (!*has_header) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is empty; expected a header row"));
  }
  return header;
}

int Ingest(const IngestFlags& flags, const std::string& path) {
  std::ifstream file;
  if (absl::Status opened = OpenInputFile(path, &file); !opened.ok()) {
    return BadInput(kCommand, opened);
  }
  CsvReader reader(&file);
  absl::StatusOr<std::vector<std::string>> header = ReadHeader(&reader, path);
  if (!header.ok()) return BadInput(kCommand, header.status());
  absl::StatusOr<FeatureStoreClient> store = ConnectFeatureStore(flags.target);
  if (!store.ok()) return Fail(kCommand, store.status());
  absl::StatusOr<ColumnPlan> plan = PlanColumns(*store, flags, *header);
  if (!plan.ok()) {
    std::cerr << ErrorLine(kCommand, plan.status()) << kCommand << ": nothing was sent\n"
              << AccessHint(plan.status());
    return kExitFailure;
  }

  const absl::Time start = absl::Now();
  std::error_code size_error;
  const auto size = std::filesystem::file_size(path, size_error);
  ProgressBar bar({size_error ? 0 : static_cast<int64_t>(size), isatty(STDERR_FILENO) == 1},
                  &std::cerr);
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context =
      store->NewContext(flags.stream_timeout);
  if (!context.ok()) return Fail(kCommand, context.status());
  v1::IngestResponse response;
  std::unique_ptr<grpc::ClientWriter<v1::IngestRequest>> writer =
      store->stub()->Ingest(context->get(), &response);
  const std::string prefix = flags.batch_id_prefix.empty()
                                 ? std::filesystem::path(path).filename().string()
                                 : flags.batch_id_prefix;
  BatchSender sender(flags, *plan, prefix, writer.get());
  Tally tally;
  bool interrupted = false;
  if (SendRows(&reader, *plan, flags.all_or_nothing, &sender, &bar, &tally, &interrupted)) {
    writer->WritesDone();
  }
  if (interrupted) (*context)->TryCancel();
  const grpc::Status status = writer->Finish();
  bar.Finish(sender.rows_sent(), reader.bytes_read());
  if (interrupted || !status.ok()) {
    const absl::Status error = store->Error(status, "Ingest");
    std::cerr << kCommand << ": " << (interrupted ? "interrupted" : std::string(error.message()))
              << "\n"
              << (interrupted ? "" : AccessHint(error)) << kCommand << ": " << sender.batches_sent()
              << " batches sent; they commit in order, so some first ones may be stored and none "
                 "after them. Running the same command again finishes the load: batches already "
                 "stored are recognised by their ids and written once.\n";
    return kExitFailure;
  }
  const int64_t rejected = response.rows_rejected() + tally.rejected_here + sender.refused_rows();
  PrintSummary(flags, response, sender, std::move(tally), absl::Now() - start);
  return flags.fail_on_rejects && rejected > 0 ? kExitFailure : 0;
}

}  // namespace

int RunFeaturesIngest(const std::vector<std::string>& args) {
  IngestFlags flags;
  core::FlagSet flag_set(kCommand,
                         "Loads a CSV file (header row first) into a feature group. Columns: the "
                         "entity key, the event time, and features of the group; an empty cell "
                         "is null, a float vector is written 1;2;3.");
  flag_set.set_usage_args("--group G [flags] FILE.csv");
  AddTargetFlags(&flag_set, &flags.target);
  flag_set.Add("group", &flags.group, "Feature group to load (required)");
  flag_set.Add("key_column", &flags.key_column,
               "Column holding the entity key; empty = the entity's join key");
  flag_set.Add("time_column", &flags.time_column,
               "Column holding the event time: RFC 3339 or Unix microseconds");
  flag_set.Add("batch_rows", &flags.batch_rows,
               "Rows per batch on the stream; 0 = 5000, or 100000 with --bulk");
  flag_set.Add("bulk", &flags.bulk,
               "Backfill: each batch's history goes in by RocksDB's SST file ingestion, several "
               "times faster than streaming for large historical loads");
  flag_set.Add("batch_id_prefix", &flags.batch_id_prefix,
               "Batch ids are PREFIX#INDEX, so re-running the same file writes nothing twice; "
               "empty = the file's name");
  flag_set.Add("all_or_nothing", &flags.all_or_nothing,
               "Refuse a whole batch if any of its rows is rejected");
  flag_set.Add("fail_on_rejects", &flags.fail_on_rejects, "Exit 1 if any row was rejected");
  flag_set.Add("show_rejects", &flags.show_rejects, "Rejected rows to detail in the summary");
  flag_set.Add("stream_timeout", &flags.stream_timeout,
               "Deadline of the whole ingest stream (Ctrl-C cancels it sooner)");
  flag_set.set_epilog(
      "Progress goes to stderr (a bar on a terminal), the summary to stdout.\n"
      "Exit codes: 0 ingested (rejects allowed unless --fail_on_rejects), 1 failure (the\n"
      "feature store refused the file's columns, failed or could not be reached; rejects with\n"
      "--fail_on_rejects), 2 bad usage (a FILE that cannot be read or has no header included:\n"
      "nothing is sent).");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flag_set, args, 1, 1, "one FILE.csv", &parsed)) return *code;
  if (flags.group.empty()) return BadUsage(flag_set, "--group is required");
  if (flags.batch_rows < 0) return BadUsage(flag_set, "--batch_rows must be >= 0");
  if (flags.batch_rows == 0) flags.batch_rows = flags.bulk ? kBulkBatchRows : kStreamBatchRows;
  return Ingest(flags, parsed.positional[0]);
}

}  // namespace fabrique::cli
