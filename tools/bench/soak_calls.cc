#include "tools/bench/soak_calls.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace fabrique::bench {
namespace {

constexpr absl::Duration kDeadline = absl::Seconds(10);

std::string Failed(const char* call, const grpc::Status& status) {
  return absl::StrCat(call, ": code ", status.error_code(), ": ", status.error_message());
}

}  // namespace

SoakCalls::SoakCalls(const Security& security, const std::string& features_target,
                     const std::string& inference_target, const SoakData& data)
    : security_(security),
      data_(data),
      // A connection per kind, as separate clients would have.
      lookup_(v1::FeatureStore::NewStub(security.Channel(features_target, false))),
      ingest_(v1::FeatureStore::NewStub(security.Channel(features_target, false))),
      predict_(v1::EntityInference::NewStub(security.Channel(inference_target, false))) {
  for (int f = 0; f < data.width; ++f) {
    v1::FeatureRef* feature = lookup_template_.add_features();
    feature->set_group(data.group);
    feature->set_feature(absl::StrCat("f", f));
  }
}

size_t SoakCalls::Entity(uint64_t seq) const {
  // Spread over the entities without a shared generator (Knuth's multiplicative hash).
  return (seq * 2654435761u) % data_.keys.size();
}

std::string SoakCalls::Lookup(uint64_t seq) {
  const size_t e = Entity(seq);
  v1::LookupOnlineRequest request = lookup_template_;
  v1::EntityKeys* keys = request.add_entity_keys();
  keys->set_entity(data_.entity);
  keys->add_keys(data_.keys[e]);
  v1::LookupOnlineResponse response;
  const grpc::Status status =
      lookup_->LookupOnline(security_.Context(kDeadline).get(), request, &response);
  if (!status.ok()) return Failed("LookupOnline", status);
  if (response.columns_size() != data_.width) {
    return absl::StrCat("LookupOnline answered ", response.columns_size(), " columns, not ",
                        data_.width);
  }
  for (int f = 0; f < data_.width; ++f) {
    const auto& values = response.columns(f).values().float_values().values();
    if (values.size() != 1 || values[0] != data_.values[e * data_.width + f]) {
      return absl::StrCat("LookupOnline's f", f, " of ", data_.keys[e], " is not what was stored");
    }
  }
  return "";
}

std::string SoakCalls::Predict(uint64_t seq) {
  const size_t e = Entity(seq);
  v1::PredictRequest request;
  request.mutable_model()->set_model(data_.model);
  v1::EntityKeys* keys = request.add_entity_keys();
  keys->set_entity(data_.entity);
  keys->add_keys(data_.keys[e]);
  v1::PredictResponse response;
  const grpc::Status status =
      predict_->Predict(security_.Context(kDeadline).get(), request, &response);
  if (!status.ok()) return Failed("Predict", status);
  if (response.predictions_size() != 1) {
    return absl::StrCat("Predict answered ", response.predictions_size(), " rows for 1");
  }
  const v1::EntityPrediction& prediction = response.predictions(0);
  const int64_t version = prediction.served_by().version();
  const auto expected = data_.expected.find(version);
  if (expected == data_.expected.end()) {
    return absl::StrCat("Predict answered from version ", version, ", never registered");
  }
  if (prediction.outputs_size() != 1 || prediction.outputs(0).values_size() != 1 ||
      !(std::abs(prediction.outputs(0).values(0) - expected->second[e]) <= 1e-5)) {
    return absl::StrCat("Predict's answer for ", data_.keys[e], " is not version ", version, "'s ",
                        expected->second[e]);
  }
  predicted_.fetch_add(1);
  int64_t seen = latest_served_.load();
  while (version > seen && !latest_served_.compare_exchange_weak(seen, version)) {
  }
  return "";
}

std::string SoakCalls::Ingest(uint64_t seq) {
  v1::IngestRequest request;
  request.set_group(data_.group);
  request.set_all_or_nothing(true);
  request.set_batch_id(absl::StrCat("soak-", seq));
  v1::RowBatch* rows = request.mutable_rows();
  const int64_t now = absl::ToUnixMicros(absl::Now());
  for (int r = 0; r < data_.ingest_rows; ++r) {
    rows->add_entity_keys(absl::StrCat("w", (seq * data_.ingest_rows + r) % data_.ingest_keys));
    rows->add_event_time_unix_micros(now);
  }
  for (int f = 0; f < data_.width; ++f) {
    v1::FeatureColumn* column = rows->add_columns();
    column->mutable_feature()->set_feature(absl::StrCat("f", f));
    auto* values = column->mutable_values()->mutable_float_values()->mutable_values();
    for (int r = 0; r < data_.ingest_rows; ++r) values->Add(static_cast<float>(seq % 1000 + r));
  }
  auto context = security_.Context(kDeadline);
  v1::IngestResponse response;
  auto writer = ingest_->Ingest(context.get(), &response);
  writer->Write(request);
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  if (!status.ok()) return Failed("Ingest", status);
  if (response.rows_written() != data_.ingest_rows || response.rows_rejected() != 0) {
    return absl::StrCat("Ingest wrote ", response.rows_written(), " of ", data_.ingest_rows,
                        " rows (", response.rows_rejected(), " rejected)");
  }
  return "";
}

}  // namespace fabrique::bench
