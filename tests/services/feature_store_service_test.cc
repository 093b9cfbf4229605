// The feature store through its real gRPC adapter, in-process on a loopback port: what a data
// engineer's and an inference server's clients see.

#include "services/features/feature_store_service.h"

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "catch2/catch.hpp"
#include "libs/client/health_client.h"
#include "libs/server/service_host.h"
#include "tests/services/feature_store_test_server.h"
#include "tests/util/test_util.h"

namespace fabrique::services {
namespace {

using feature_test::Batch;
using feature_test::Context;
using feature_test::Define;
using feature_test::Ingest;
using feature_test::kHour;
using feature_test::Lookup;
using feature_test::MetricValue;
using feature_test::Server;

TEST_CASE("definitions apply at once and record who applied them") {
  Server s;
  Define(s);
  v1::GetFeatureGroupRequest get;
  get.set_name("tx");
  v1::FeatureGroup group;
  REQUIRE(s.stub->GetFeatureGroup(Context().get(), get, &group).ok());
  CHECK(group.schema_version() == 1);
  CHECK(group.updated_by().subject() == "dana");
  // The verified roles dana holds in the group's squad.
  CHECK(group.updated_by().squad() == "risk");
  CHECK(group.updated_by().roles_size() == 3);
  get.set_name("nope");
  const grpc::Status missing = s.stub->GetFeatureGroup(Context().get(), get, &group);
  CHECK(missing.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(absl::StrContains(missing.error_message(), "nope"));
}

TEST_CASE("ingest stores good rows, reports bad ones by index and reason, and counts them") {
  Server s;
  Define(s);
  v1::IngestResponse response;
  REQUIRE(Ingest(s,
                 {Batch(s, {{"c1", 1, 10.f, "FR"}, {"c2", 1, -5.f, "DE"}, {"c3", 2, 7.f, "IT"}})},
                 &response)
              .ok());
  CHECK(response.rows_written() == 2);
  CHECK(response.rows_rejected() == 1);
  REQUIRE(response.batches(0).rejects_size() == 1);
  CHECK(response.batches(0).rejects(0).row_index() == 1);
  CHECK(response.batches(0).rejects(0).feature() == "amount");
  CHECK(response.batches(0).rejects(0).reason() == v1::REJECT_REASON_BELOW_MIN);

  const v1::LookupOnlineResponse values = Lookup(s, {"c1", "c2", "c3"});
  CHECK(values.columns(0).statuses(0) == v1::VALUE_STATUS_PRESENT);
  CHECK(values.columns(0).values().float_values().values(0) == 10.f);
  CHECK(values.columns(0).statuses(1) == v1::VALUE_STATUS_MISSING);
  CHECK(values.columns(1).values().string_values().values(2) == "IT");

  const std::string metrics = *testing::HttpGet("127.0.0.1", s.host->metrics_port(), "/metrics");
  CHECK(absl::StrContains(metrics, "fabrique_features_ingest_rows_total 2"));
  CHECK(absl::StrContains(
      metrics, "fabrique_features_ingest_rejects_total{reason=\"REJECT_REASON_BELOW_MIN\"} 1"));
}

TEST_CASE("all-or-nothing refuses the whole batch when one row is bad") {
  Server s;
  Define(s);
  v1::IngestRequest batch = Batch(s, {{"c1", 1, 10.f, "FR"}, {"c2", 1, -5.f, "DE"}});
  batch.set_all_or_nothing(true);
  v1::IngestResponse response;
  REQUIRE(Ingest(s, {batch}, &response).ok());
  CHECK(response.rows_written() == 0);
  CHECK(response.rows_rejected() == 2);
  CHECK(Lookup(s, {"c1"}).columns(0).statuses(0) == v1::VALUE_STATUS_MISSING);
}

TEST_CASE("a stream's batches, streamed and bulk, are written one after another in order") {
  Server s;
  Define(s);
  // 24 batches of 2,000 rows, every third one bulk, so that each is read while the one before
  // it is written. Batches 10 and 11 carry one id: the later is a duplicate only if batch 10
  // was written before it.
  std::vector<v1::IngestRequest> batches;
  for (int b = 0; b < 24; ++b) {
    std::vector<std::tuple<std::string, int, float, std::string>> rows;
    for (int r = 0; r < 2000; ++r) {
      rows.emplace_back(absl::StrCat("b", b, "r", r), 1, static_cast<float>(b), "FR");
    }
    rows.emplace_back("c1", b % 20, static_cast<float>(b), "FR");
    batches.push_back(Batch(s, rows, b == 11 ? "b10" : absl::StrCat("b", b)));
    batches.back().set_bulk(b % 3 == 2);
  }
  v1::IngestResponse response;
  REQUIRE(Ingest(s, batches, &response).ok());
  REQUIRE(response.batches_size() == 24);
  for (int b = 0; b < 24; ++b) {
    CHECK(response.batches(b).batch_index() == b);
    CHECK(response.batches(b).duplicate() == (b == 11));
  }
  // A duplicate answers with the counts of the batch it repeats.
  CHECK(response.batches(11).rows_written() == 2001);
  CHECK(response.rows_written() == 24 * 2001);
  // c1's newest row (hour 19) came in batch 19; batches 20 to 23 wrote older hours.
  CHECK(Lookup(s, {"c1"}).columns(0).values().float_values().values(0) == 19.f);
  CHECK(Lookup(s, {"b23r1999"}).columns(0).statuses(0) == v1::VALUE_STATUS_PRESENT);
}

TEST_CASE(
    "a refused batch names itself; the batches before it stay committed, those after it are not "
    "written") {
  Server s;
  Define(s);
  v1::IngestRequest bad = Batch(s, {{"c2", 1, 1.f, "DE"}}, "second");
  bad.mutable_rows()->mutable_columns(0)->mutable_feature()->set_feature("no_such_feature");
  v1::IngestResponse response;
  const grpc::Status status = Ingest(
      s,
      {Batch(s, {{"c1", 1, 10.f, "FR"}}, "first"), bad, Batch(s, {{"c3", 1, 3.f, "IT"}}, "third"),
       Batch(s, {{"c4", 1, 4.f, "ES"}}, "fourth")},
      &response);
  CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(absl::StrContains(status.error_message(), "batch 1 (second)"));
  CHECK(absl::StrContains(status.error_message(), "no_such_feature"));
  // The third batch was read while the second was refused: it is dropped, not written.
  const v1::LookupOnlineResponse values = Lookup(s, {"c1", "c3", "c4"});
  CHECK(values.columns(0).statuses(0) == v1::VALUE_STATUS_PRESENT);
  CHECK(values.columns(0).statuses(1) == v1::VALUE_STATUS_MISSING);
  CHECK(values.columns(0).statuses(2) == v1::VALUE_STATUS_MISSING);
}

TEST_CASE("a refused batch ends the call while the client still holds its side open") {
  Server s;
  Define(s);
  v1::IngestRequest bad = Batch(s, {{"c2", 1, 1.f, "DE"}}, "bad");
  bad.set_group("");
  auto context = Context();
  v1::IngestResponse response;
  auto writer = s.stub->Ingest(context.get(), &response);
  REQUIRE(writer->Write(bad));
  // The client neither closes nor sends more: the error must not wait for it. Once the call
  // ended, a write fails.
  bool ended = false;
  for (int attempt = 0; attempt < 500 && !ended; ++attempt) {
    absl::SleepFor(absl::Milliseconds(10));
    ended = !writer->Write(Batch(s, {{"c5", 1, 5.f, "FR"}}, absl::StrCat("late", attempt)));
  }
  CHECK(ended);
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StrContains(status.error_message(), "batch 0 (bad)"));
  CHECK(absl::StrContains(status.error_message(), "IngestRequest.group is required"));
  CHECK(Lookup(s, {"c5"}).columns(0).statuses(0) == v1::VALUE_STATUS_MISSING);
}

TEST_CASE("a client that cancels its ingest leaves the server serving") {
  Server s;
  Define(s);
  for (int round = 0; round < 5; ++round) {
    auto context = Context();
    v1::IngestResponse response;
    auto writer = s.stub->Ingest(context.get(), &response);
    for (int b = 0; b < 3; ++b) {
      std::vector<std::tuple<std::string, int, float, std::string>> rows;
      for (int r = 0; r < 1000; ++r) rows.emplace_back(absl::StrCat("k", r), 1, 1.f, "FR");
      if (!writer->Write(Batch(s, rows, absl::StrCat("round", round, "-", b)))) break;
    }
    context->TryCancel();
    CHECK(writer->Finish().error_code() == grpc::StatusCode::CANCELLED);
  }
  v1::IngestResponse response;
  REQUIRE(Ingest(s, {Batch(s, {{"c1", 1, 10.f, "FR"}})}, &response).ok());
  CHECK(response.rows_written() == 1);
}

TEST_CASE("a late row never overwrites a newer online value; a re-sent batch is a duplicate") {
  Server s;
  Define(s);
  v1::IngestResponse response;
  REQUIRE(Ingest(s, {Batch(s, {{"c1", 10, 2.f, "new"}}, "b1")}, &response).ok());
  REQUIRE(Ingest(s, {Batch(s, {{"c1", 5, 1.f, "old"}}, "b2")}, &response).ok());
  CHECK(Lookup(s, {"c1"}).columns(1).values().string_values().values(0) == "new");

  REQUIRE(Ingest(s, {Batch(s, {{"c1", 10, 2.f, "new"}}, "b1")}, &response).ok());
  CHECK(response.batches(0).duplicate());
}

TEST_CASE("TTL is enforced at read time") {
  Server s;
  Define(s);
  v1::IngestResponse response;
  REQUIRE(Ingest(s, {Batch(s, {{"c1", 2, 3.f, "FR"}})}, &response).ok());  // 18 h old.
  CHECK(Lookup(s, {"c1"}).columns(0).statuses(0) == v1::VALUE_STATUS_PRESENT);
  s.clock.Advance(absl::Hours(7));  // 25 h old: past the 24 h TTL.
  const v1::LookupOnlineResponse expired = Lookup(s, {"c1"});
  CHECK(expired.columns(0).statuses(0) == v1::VALUE_STATUS_EXPIRED);
  CHECK(expired.columns(0).values().float_values().values(0) == 0.f);  // Not returned.
}

TEST_CASE("lookups of unknown groups or features are NOT_FOUND naming them") {
  Server s;
  Define(s);
  v1::LookupOnlineRequest request;
  v1::FeatureRef* ref = request.add_features();
  ref->set_group("ghost");
  ref->set_feature("x");
  request.add_entity_keys()->add_keys("c1");
  v1::LookupOnlineResponse response;
  grpc::Status status = s.stub->LookupOnline(Context().get(), request, &response);
  CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(absl::StrContains(status.error_message(), "ghost"));
  ref->set_group("tx");
  ref->set_feature("ghost_feature");
  status = s.stub->LookupOnline(Context().get(), request, &response);
  CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(absl::StrContains(status.error_message(), "ghost_feature"));
  request.clear_features();
  CHECK(s.stub->LookupOnline(Context().get(), request, &response).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("lookup_keys_total counts the entity keys answered, found or not") {
  Server s;
  Define(s);
  v1::IngestResponse response;
  REQUIRE(Ingest(s, {Batch(s, {{"c1", 1, 10.f, "FR"}})}, &response).ok());
  CHECK(MetricValue(s, "fabrique_features_lookup_keys_total") == 0);
  Lookup(s, {"c1", "c2", "c3"});  // One present, two missing: three keys answered.
  CHECK(MetricValue(s, "fabrique_features_lookup_keys_total") == 3);
  Lookup(s, {"c1", "c1"});
  CHECK(MetricValue(s, "fabrique_features_lookup_keys_total") == 5);
  // A refused lookup answers no key.
  v1::LookupOnlineRequest request;
  v1::FeatureRef* ref = request.add_features();
  ref->set_group("ghost");
  ref->set_feature("x");
  request.add_entity_keys()->add_keys("c1");
  v1::LookupOnlineResponse refused;
  REQUIRE(s.stub->LookupOnline(Context().get(), request, &refused).error_code() ==
          grpc::StatusCode::NOT_FOUND);
  CHECK(MetricValue(s, "fabrique_features_lookup_keys_total") == 5);
}

TEST_CASE("history streams every stored row") {
  Server s;
  Define(s);
  v1::IngestResponse response;
  REQUIRE(Ingest(s, {Batch(s, {{"c1", 1, 1.f, "a"}, {"c1", 2, 2.f, "b"}, {"c2", 3, 3.f, "c"}})},
                 &response)
              .ok());
  v1::ReadHistoryRequest request;
  request.set_group("tx");
  request.set_chunk_rows(2);
  auto context = Context();
  auto reader = s.stub->ReadHistory(context.get(), request);
  v1::ReadHistoryResponse chunk;
  int rows = 0;
  int chunks = 0;
  while (reader->Read(&chunk)) {
    rows += chunk.rows().entity_keys_size();
    ++chunks;
  }
  REQUIRE(reader->Finish().ok());
  CHECK(rows == 3);
  CHECK(chunks == 2);
}

TEST_CASE("lineage answers through the service") {
  Server s;
  Define(s);
  v1::Dataset dataset;
  v1::VersionedFeatureRef* feature = dataset.add_features();
  feature->mutable_ref()->set_group("tx");
  feature->mutable_ref()->set_feature("amount");
  feature->set_schema_version(1);
  auto recorded = s.store->lineage().RecordDataset(dataset);
  REQUIRE(recorded.ok());

  v1::RecordDatasetUsageRequest usage;
  usage.set_dataset_id(recorded->dataset_id());
  usage.mutable_model_version()->set_model("churn");
  usage.mutable_model_version()->set_version(1);
  v1::RecordDatasetUsageResponse ignored;
  // Recording usage is the trainer's (and an admin's) business.
  REQUIRE(s.stub->RecordDatasetUsage(feature_test::AdminContext().get(), usage, &ignored).ok());

  v1::GetFeatureGroupLineageRequest lineage_request;
  lineage_request.set_group("tx");
  v1::FeatureGroupLineage lineage;
  REQUIRE(s.stub->GetFeatureGroupLineage(Context().get(), lineage_request, &lineage).ok());
  REQUIRE(lineage.models_size() == 1);
  CHECK(lineage.models(0).model_version().model() == "churn");

  v1::ListFeaturesRequest list;
  v1::ListFeaturesResponse features;
  REQUIRE(s.stub->ListFeatures(Context().get(), list, &features).ok());
  for (const auto& entry : features.entries()) {
    CHECK((entry.ref().feature() == "amount") == (entry.used_by_models_size() == 1));
  }

  lineage_request.set_group("ghost");
  CHECK(s.stub->GetFeatureGroupLineage(Context().get(), lineage_request, &lineage).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  v1::GetDatasetRequest get;
  get.set_dataset_id("01NOPE");
  v1::Dataset missing;
  CHECK(s.stub->GetDataset(Context().get(), get, &missing).error_code() ==
        grpc::StatusCode::NOT_FOUND);
}

// Sends a spec with inline label events and collects every response message.
grpc::Status BuildTrainingSet(Server& s, const v1::TrainingSetSpec& spec,
                              std::vector<v1::BuildTrainingSetResponse>* out) {
  auto context = Context();
  auto stream = s.stub->BuildTrainingSet(context.get());
  v1::BuildTrainingSetRequest first;
  *first.mutable_spec() = spec;
  stream->Write(first);
  stream->WritesDone();
  v1::BuildTrainingSetResponse response;
  while (stream->Read(&response)) out->push_back(response);
  return stream->Finish();
}

TEST_CASE("a point-in-time training set streams header, rows and its dataset record") {
  Server s;
  Define(s);
  v1::IngestResponse ingested;
  // c1: amount 1 at hour 1, 2 at hour 5. c2: 7 at hour 3.
  REQUIRE(Ingest(s, {Batch(s, {{"c1", 1, 1.f, "a"}, {"c1", 5, 2.f, "b"}, {"c2", 3, 7.f, "c"}})},
                 &ingested)
              .ok());
  const int64_t start = absl::ToUnixMicros(s.clock.Now()) - 20 * kHour;
  v1::TrainingSetSpec spec;
  v1::FeatureRef* amount = spec.add_features();
  amount->set_group("tx");
  amount->set_feature("amount");
  spec.set_dataset_name("churn-labels");
  v1::LabelEventBatch* events = spec.mutable_label()->mutable_events();
  events->add_entity_keys()->set_entity("customer");
  // c1 at hour 0 (before any row), hour 2 (sees 1), hour 6 (sees 2); c2 at hour 4 (sees 7).
  for (auto [key, hour] :
       std::vector<std::pair<std::string, int>>{{"c1", 0}, {"c1", 2}, {"c1", 6}, {"c2", 4}}) {
    events->mutable_entity_keys(0)->add_keys(key);
    events->add_event_time_unix_micros(start + hour * kHour);
    events->mutable_labels()->mutable_bool_values()->add_values(hour % 2 == 0);
  }
  std::vector<v1::BuildTrainingSetResponse> out;
  const grpc::Status status = BuildTrainingSet(s, spec, &out);
  INFO(status.error_message());
  REQUIRE(status.ok());
  REQUIRE(out.size() >= 3);
  REQUIRE(out.front().has_header());
  CHECK(out.front().header().features(0).schema_version() == 1);
  REQUIRE(out.back().has_summary());
  const v1::Dataset& dataset = out.back().summary();
  CHECK(dataset.dataset_id() == out.front().header().dataset_id());
  CHECK(dataset.row_count() == 4);
  CHECK(dataset.content_sha256().size() == 64);
  CHECK(dataset.created_by().subject() == "dana");

  std::map<int64_t, std::pair<bool, float>> by_event;  // event index -> (null, value)
  for (size_t i = 1; i + 1 < out.size(); ++i) {
    const v1::TrainingSetRows& rows = out[i].rows();
    const v1::ValueColumn& values = rows.features(0).values();
    for (int r = 0; r < rows.label_event_index_size(); ++r) {
      const bool null = values.is_null_size() > 0 && values.is_null(r);
      by_event[rows.label_event_index(r)] = {null, values.float_values().values(r)};
    }
  }
  REQUIRE(by_event.size() == 4);
  CHECK(by_event[0].first);  // Nothing before hour 1.
  CHECK(by_event[1].second == 1.f);
  CHECK(by_event[2].second == 2.f);
  CHECK(by_event[3].second == 7.f);

  // The dataset is in the lineage, and a rebuild yields the same content hash.
  v1::GetDatasetRequest get;
  get.set_dataset_id(dataset.dataset_id());
  v1::Dataset stored;
  REQUIRE(s.stub->GetDataset(Context().get(), get, &stored).ok());
  std::vector<v1::BuildTrainingSetResponse> again;
  REQUIRE(BuildTrainingSet(s, spec, &again).ok());
  CHECK(again.back().summary().content_sha256() == dataset.content_sha256());
  CHECK(again.back().summary().dataset_id() != dataset.dataset_id());
  // With a request id, the rebuild (a retry) is the same dataset, announced in the header too.
  spec.set_request_id("run-42");
  std::vector<v1::BuildTrainingSetResponse> first, retried;
  REQUIRE(BuildTrainingSet(s, spec, &first).ok());
  REQUIRE(BuildTrainingSet(s, spec, &retried).ok());
  CHECK(retried.front().header().dataset_id() == first.back().summary().dataset_id());
  CHECK(retried.back().summary().dataset_id() == first.back().summary().dataset_id());
  // The same key for another training set is refused.
  spec.set_dataset_name("another");
  std::vector<v1::BuildTrainingSetResponse> other;
  CHECK(BuildTrainingSet(s, spec, &other).error_code() == grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_CASE("training set errors: no features, unknown group, empty result") {
  Server s;
  Define(s);
  v1::TrainingSetSpec spec;
  spec.mutable_label()->mutable_events();
  std::vector<v1::BuildTrainingSetResponse> out;
  CHECK(BuildTrainingSet(s, spec, &out).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  v1::FeatureRef* ref = spec.add_features();
  ref->set_group("ghost");
  ref->set_feature("x");
  grpc::Status status = BuildTrainingSet(s, spec, &out);
  CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(absl::StrContains(status.error_message(), "ghost"));
  ref->set_group("tx");
  ref->set_feature("amount");
  status = BuildTrainingSet(s, spec, &out);
  CHECK(status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(status.error_message(), "empty"));
}

TEST_CASE("definitions and values survive a restart") {
  testing::TempDir tmp;
  {
    Server s(tmp.path() + "/kv");
    Define(s);
    v1::IngestResponse response;
    REQUIRE(Ingest(s, {Batch(s, {{"c1", 4, 4.f, "FR"}})}, &response).ok());
  }
  Server s(tmp.path() + "/kv");
  const v1::LookupOnlineResponse values = Lookup(s, {"c1"});
  CHECK(values.columns(0).statuses(0) == v1::VALUE_STATUS_PRESENT);
  CHECK(values.columns(0).values().float_values().values(0) == 4.f);
}

}  // namespace
}  // namespace fabrique::services
