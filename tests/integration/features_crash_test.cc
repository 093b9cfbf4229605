// Black-box crash test of fabrique-features: the real binary is killed with SIGKILL in the middle
// of ingest, many times, on one data dir, and after every restart the stored history must hold
// every row of every acknowledged batch, each unacknowledged batch wholly or not at all, no row
// that was never sent, and an online view that agrees with the history.
//
// Every row is self-describing so the checker needs no copy of what was sent: row r of batch b
// has event time kBaseMicros + b * kRowsPerBatch + r (unique across the run), entity
// "c<r % kEntities>", and values seq = b * kRowsPerBatch + r, batch = b, value = r + 0.5.
//
// SIGKILL ends the process, not the machine: the kernel keeps what was written to the page
// cache, so this proves the server acknowledges only committed batches and recovers them, not
// that its fsyncs would survive a power loss (the storage tests' business).

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/features.grpc.pb.h"
#include "tests/integration/killable_service.h"
#include "tests/util/test_util.h"
#include "tools/cli/child_process.h"

namespace fabrique {
namespace {

constexpr char kGroup[] = "crash";
constexpr int64_t kRowsPerBatch = 200;
constexpr int kEntities = 50;  // Each batch touches every entity: writers contend on its locks.
constexpr int64_t kBaseMicros = 1'700'000'000'000'000;
constexpr int kWriters = 4;  // Concurrent batches share group-commit fsyncs.
constexpr int kMaxKills = 20;
// Stated minimums, so a run that proves little fails: kills that landed within the budget, and
// batches acknowledged in each round before its kill.
constexpr int kMinKills = 10;
constexpr size_t kMinAckedPerRound = 20;
constexpr absl::Duration kKillLoopBudget = absl::Seconds(60);

// A data engineer of the squad that owns the test's entity and group.
std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout = absl::Seconds(10)) {
  return testing::TokenContext(testing::LocalIdentity(), "crash-test", {"crash:data-engineer"},
                               timeout);
}

std::string EntityOfRow(int64_t row) { return absl::StrCat("c", row % kEntities); }

// The features binary, killable, with its stub.
class FeaturesProcess : public testing::KillableService {
 public:
  FeaturesProcess(const std::string& data_dir, const std::string& log_path)
      : KillableService("fabrique-features", data_dir, log_path),
        stub_(v1::FeatureStore::NewStub(channel())) {}
  v1::FeatureStore::Stub& stub() { return *stub_; }

 private:
  std::unique_ptr<v1::FeatureStore::Stub> stub_;
};

void Define(v1::FeatureStore::Stub& stub) {
  v1::ApplyEntityRequest entity;
  entity.mutable_entity()->set_name("customer");
  entity.mutable_entity()->set_join_key("customer_id");
  entity.mutable_entity()->set_owner_squad("crash");
  v1::Entity stored;
  const grpc::Status applied_entity = stub.ApplyEntity(Context().get(), entity, &stored);
  INFO(applied_entity.error_message());
  REQUIRE(applied_entity.ok());

  // No TTL, retention or expectations: nothing may reject or hide a row the test sent.
  v1::ApplyFeatureGroupRequest apply;
  v1::FeatureGroupSpec* spec = apply.mutable_spec();
  spec->set_name(kGroup);
  spec->set_entity("customer");
  spec->set_owner_squad("crash");
  for (const auto& [name, type] :
       std::vector<std::pair<std::string, v1::FeatureType>>{{"seq", v1::FEATURE_TYPE_INT64},
                                                            {"batch", v1::FEATURE_TYPE_INT64},
                                                            {"value", v1::FEATURE_TYPE_FLOAT}}) {
    v1::FeatureSpec* feature = spec->add_features();
    feature->set_name(name);
    feature->set_type(type);
  }
  v1::ApplyFeatureGroupResponse applied;
  const grpc::Status status = stub.ApplyFeatureGroup(Context().get(), apply, &applied);
  INFO(status.error_message());
  REQUIRE(status.ok());
}

v1::IngestRequest MakeBatch(int64_t batch) {
  v1::IngestRequest request;
  request.set_group(kGroup);
  request.set_batch_id(absl::StrCat("b", batch));
  v1::RowBatch* rows = request.mutable_rows();
  v1::FeatureColumn* seq = rows->add_columns();
  seq->mutable_feature()->set_feature("seq");
  v1::FeatureColumn* batch_column = rows->add_columns();
  batch_column->mutable_feature()->set_feature("batch");
  v1::FeatureColumn* value = rows->add_columns();
  value->mutable_feature()->set_feature("value");
  for (int64_t r = 0; r < kRowsPerBatch; ++r) {
    const int64_t row = batch * kRowsPerBatch + r;
    rows->add_entity_keys(EntityOfRow(r));
    rows->add_event_time_unix_micros(kBaseMicros + row);
    seq->mutable_values()->mutable_int64_values()->add_values(row);
    batch_column->mutable_values()->mutable_int64_values()->add_values(batch);
    value->mutable_values()->mutable_float_values()->add_values(static_cast<float>(r) + 0.5f);
  }
  return request;
}

// What the test knows of each batch: sent (maybe in flight when the server died) or
// acknowledged (its Ingest call returned OK: durable by contract).
class Ledger {
 public:
  int64_t NextBatch() {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t batch = next_batch_++;
    sent_.insert(batch);
    return batch;
  }
  void Acknowledge(int64_t batch) {
    std::lock_guard<std::mutex> lock(mu_);
    acked_.insert(batch);
  }
  std::set<int64_t> sent() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sent_;
  }
  std::set<int64_t> acked() const {
    std::lock_guard<std::mutex> lock(mu_);
    return acked_;
  }

 private:
  mutable std::mutex mu_;
  int64_t next_batch_ = 0;
  std::set<int64_t> sent_;
  std::set<int64_t> acked_;
};

// Sends one batch per Ingest call, so that an OK call acknowledges exactly that batch, until a
// call fails (the server died) or `stop` is set.
void WriteUntilFailure(v1::FeatureStore::Stub& stub, Ledger& ledger, std::atomic<bool>& stop) {
  while (!stop.load()) {
    const int64_t batch = ledger.NextBatch();
    const v1::IngestRequest request = MakeBatch(batch);
    auto context = Context();
    v1::IngestResponse response;
    auto writer = stub.Ingest(context.get(), &response);
    writer->Write(request);
    writer->WritesDone();
    const grpc::Status status = writer->Finish();
    if (!status.ok()) return;
    // The server's word that the batch is durable; a short rows_written count would show up in
    // the checker as a partly stored acknowledged batch.
    ledger.Acknowledge(batch);
  }
}

// Rows found in the history, by batch, plus every inconsistency seen.
struct HistoryScan {
  std::map<int64_t, int64_t> rows_per_batch;
  std::map<std::string, std::pair<int64_t, int64_t>> newest_per_entity;  // (time, seq).
  int64_t rows = 0;
  std::vector<std::string> problems;
};

const v1::FeatureColumn* FindColumn(const v1::RowBatch& rows, absl::string_view name) {
  for (const v1::FeatureColumn& column : rows.columns()) {
    if (column.feature().feature() == name) return &column;
  }
  return nullptr;
}

// Checks one history row against what its event time says it must be.
void CheckRow(const std::string& entity, int64_t time, const v1::RowBatch& rows, int i,
              const std::set<int64_t>& sent, std::set<int64_t>& seen, HistoryScan& scan) {
  const v1::FeatureColumn* seq = FindColumn(rows, "seq");
  const v1::FeatureColumn* batch = FindColumn(rows, "batch");
  const v1::FeatureColumn* value = FindColumn(rows, "value");
  const int64_t row = time - kBaseMicros;
  const int64_t b = row / kRowsPerBatch;
  const int64_t r = row % kRowsPerBatch;
  const std::string where = absl::StrCat("row at ", entity, "@", time);
  if (row < 0 || sent.count(b) == 0) {
    scan.problems.push_back(absl::StrCat(where, " belongs to no batch ever sent"));
    return;
  }
  if (!seen.insert(row).second) scan.problems.push_back(absl::StrCat(where, " read twice"));
  const bool values_ok = entity == EntityOfRow(r) &&
                         seq->values().int64_values().values(i) == row &&
                         batch->values().int64_values().values(i) == b &&
                         value->values().float_values().values(i) == static_cast<float>(r) + 0.5f &&
                         seq->values().is_null_size() == 0 && batch->values().is_null_size() == 0 &&
                         value->values().is_null_size() == 0;
  if (!values_ok) {
    scan.problems.push_back(absl::StrCat(where, " has wrong values: seq ",
                                         seq->values().int64_values().values(i), " batch ",
                                         batch->values().int64_values().values(i), " value ",
                                         value->values().float_values().values(i)));
  }
  ++scan.rows_per_batch[b];
  ++scan.rows;
  auto& newest = scan.newest_per_entity[entity];
  if (time > newest.first) newest = {time, row};
}

HistoryScan ScanHistory(v1::FeatureStore::Stub& stub, const std::set<int64_t>& sent) {
  HistoryScan scan;
  v1::ReadHistoryRequest request;
  request.set_group(kGroup);
  auto context = Context(absl::Seconds(60));
  auto reader = stub.ReadHistory(context.get(), request);
  v1::ReadHistoryResponse chunk;
  std::set<int64_t> seen;
  while (reader->Read(&chunk)) {
    const v1::RowBatch& rows = chunk.rows();
    if (FindColumn(rows, "seq") == nullptr || FindColumn(rows, "batch") == nullptr ||
        FindColumn(rows, "value") == nullptr) {
      scan.problems.push_back("a history chunk lacks a feature column");
      continue;
    }
    for (int i = 0; i < rows.entity_keys_size(); ++i) {
      CheckRow(rows.entity_keys(i), rows.event_time_unix_micros(i), rows, i, sent, seen, scan);
    }
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok()) scan.problems.push_back(absl::StrCat("ReadHistory: ", status.error_message()));
  return scan;
}

// Checks that the online view holds, for every entity, the newest row of the history.
void CheckOnline(v1::FeatureStore::Stub& stub, const HistoryScan& scan,
                 std::vector<std::string>& problems) {
  v1::LookupOnlineRequest request;
  v1::FeatureRef* ref = request.add_features();
  ref->set_group(kGroup);
  ref->set_feature("seq");
  v1::EntityKeys* keys = request.add_entity_keys();
  keys->set_entity("customer");
  for (int e = 0; e < kEntities; ++e) keys->add_keys(EntityOfRow(e));
  request.set_include_event_times(true);
  v1::LookupOnlineResponse response;
  const grpc::Status status = stub.LookupOnline(Context().get(), request, &response);
  if (!status.ok() || response.columns_size() != 1) {
    problems.push_back(absl::StrCat("LookupOnline: ", status.error_message()));
    return;
  }
  const v1::OnlineFeatureColumn& column = response.columns(0);
  for (int e = 0; e < kEntities; ++e) {
    const std::string entity = EntityOfRow(e);
    const auto newest = scan.newest_per_entity.find(entity);
    const bool present = column.statuses(e) == v1::VALUE_STATUS_PRESENT;
    if (newest == scan.newest_per_entity.end()) {
      if (present) problems.push_back(absl::StrCat("online ", entity, " present, history empty"));
      continue;
    }
    if (!present || column.event_time_unix_micros(e) != newest->second.first ||
        column.values().int64_values().values(e) != newest->second.second) {
      problems.push_back(absl::StrCat(
          "online ", entity, " is (status ", v1::ValueStatus_Name(column.statuses(e)), ", time ",
          present ? column.event_time_unix_micros(e) : 0, ", seq ",
          present ? column.values().int64_values().values(e) : 0, "), history's newest is (",
          newest->second.first, ", ", newest->second.second, ")"));
    }
  }
}

// Verifies the restarted server's state against the ledger. `settled` remembers, for each batch
// no longer in flight, whether it was found, so a batch can neither vanish nor appear later.
std::vector<std::string> Verify(v1::FeatureStore::Stub& stub, const Ledger& ledger,
                                std::map<int64_t, bool>& settled, int64_t* rows_found) {
  const std::set<int64_t> sent = ledger.sent();
  const std::set<int64_t> acked = ledger.acked();
  HistoryScan scan = ScanHistory(stub, sent);
  std::vector<std::string> problems = std::move(scan.problems);
  *rows_found = scan.rows;
  for (const int64_t batch : sent) {
    const auto found = scan.rows_per_batch.find(batch);
    const int64_t rows = found == scan.rows_per_batch.end() ? 0 : found->second;
    if (acked.count(batch) > 0 && rows != kRowsPerBatch) {
      problems.push_back(absl::StrCat("acknowledged batch ", batch, " has ", rows, " of ",
                                      kRowsPerBatch, " rows"));
    } else if (rows != 0 && rows != kRowsPerBatch) {
      problems.push_back(absl::StrCat("unacknowledged batch ", batch, " is partly visible: ", rows,
                                      " of ", kRowsPerBatch, " rows"));
    }
    const bool present = rows > 0;
    const auto [it, first_time] = settled.emplace(batch, present);
    if (!first_time && it->second != present) {
      problems.push_back(absl::StrCat("batch ", batch, " was ", it->second ? "present" : "absent",
                                      " after an earlier restart and is now ",
                                      present ? "present" : "absent"));
    }
  }
  CheckOnline(stub, scan, problems);
  return problems;
}

TEST_CASE("SIGKILL in the middle of ingest loses no acknowledged row and splits no batch") {
  testing::TempDir tmp;
  const std::string data_dir = absl::StrCat(tmp.path(), "/data");
  Ledger ledger;
  std::map<int64_t, bool> settled;
  std::mt19937 rng(20261124);  // Fixed seed: the same kill delays every run.
  std::uniform_int_distribution<int> delay_ms(50, 400);

  auto server = std::make_unique<FeaturesProcess>(data_dir, absl::StrCat(tmp.path(), "/log0"));
  Define(server->stub());

  const absl::Time loop_deadline = absl::Now() + kKillLoopBudget;
  int kills = 0;
  int64_t rows_found = 0;
  while (kills < kMaxKills && absl::Now() < loop_deadline) {
    const size_t acked_before = ledger.acked().size();
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&] { WriteUntilFailure(server->stub(), ledger, stop); });
    }
    // Waits for this round's acknowledgements, so every kill lands on a server that is ingesting
    // (the writers never pause), then lets it run a random while longer.
    const bool ingesting = testing::PollUntil(
        [&] { return ledger.acked().size() >= acked_before + kMinAckedPerRound; },
        absl::Seconds(30));
    absl::SleepFor(absl::Milliseconds(delay_ms(rng)));
    server->Kill();
    stop.store(true);
    for (std::thread& writer : writers) writer.join();
    INFO(cli::TailFile(server->log_path(), 20));
    REQUIRE(ingesting);
    ++kills;

    server = std::make_unique<FeaturesProcess>(data_dir, absl::StrCat(tmp.path(), "/log", kills));
    const std::vector<std::string> problems = Verify(server->stub(), ledger, settled, &rows_found);
    INFO("after kill " << kills << ": " << problems.size() << " problems, first ones:\n"
                       << absl::StrJoin(problems.begin(),
                                        problems.begin() + std::min<size_t>(problems.size(), 20),
                                        "\n"));
    REQUIRE(problems.empty());
  }
  const size_t sent = ledger.sent().size();
  const std::set<int64_t> acked_batches = ledger.acked();
  const size_t acked = acked_batches.size();
  // Unacknowledged batches the server had committed when it died: legal, and a sign that the
  // kills do land mid-commit.
  int64_t unacked_present = 0;
  for (const auto& [batch, present] : settled) {
    if (present && acked_batches.count(batch) == 0) ++unacked_present;
  }
  WARN("kills " << kills << ", batches sent " << sent << ", acknowledged " << acked
                << ", unacknowledged " << sent - acked << " (of which committed " << unacked_present
                << "), rows verified " << rows_found);
  CHECK(kills >= kMinKills);
  CHECK(acked >= static_cast<size_t>(kills) * kMinAckedPerRound);
  CHECK(sent > acked);  // Kills cut batches off in flight.
}

}  // namespace
}  // namespace fabrique
