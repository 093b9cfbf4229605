#include "tools/bench/lookup_clients.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "fabrique/v1/features.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "tools/bench/bench_support.h"
#include "tools/bench/redis_baseline.h"

namespace fabrique::bench {
namespace {

constexpr char kEntity[] = "customer";

absl::Status FromGrpc(const grpc::Status& status, absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(what, ": ", status.error_message()));
}

// A channel of its own: channels to one target that share connections share one TCP
// connection, and concurrent clients would then measure one connection, not several.
std::unique_ptr<v1::FeatureStore::Stub> NewStub(const std::string& target,
                                                const Security& security) {
  return v1::FeatureStore::NewStub(security.Channel(target, /*share_connections=*/false));
}

absl::Status Define(v1::FeatureStore::Stub& stub, const Security& security, const BenchData& data) {
  v1::ApplyEntityRequest entity;
  entity.mutable_entity()->set_name(kEntity);
  entity.mutable_entity()->set_join_key("customer_id");
  entity.mutable_entity()->set_owner_squad("bench");
  v1::Entity stored;
  absl::Status s = FromGrpc(
      stub.ApplyEntity(security.Context(absl::Seconds(10)).get(), entity, &stored), "ApplyEntity");
  if (!s.ok()) return s;
  v1::ApplyFeatureGroupRequest apply;
  v1::FeatureGroupSpec* spec = apply.mutable_spec();
  spec->set_name(data.group);
  spec->set_entity(kEntity);
  spec->set_owner_squad("bench");
  spec->mutable_ttl()->set_seconds(7 * 24 * 3600);  // A TTL, so every lookup checks it.
  for (const std::string& name : data.feature_names) {
    v1::FeatureSpec* feature = spec->add_features();
    feature->set_name(name);
    feature->set_type(v1::FEATURE_TYPE_FLOAT);
  }
  v1::ApplyFeatureGroupResponse applied;
  return FromGrpc(
      stub.ApplyFeatureGroup(security.Context(absl::Seconds(10)).get(), apply, &applied),
      "ApplyFeatureGroup");
}

class FabriqueClient : public LookupClient {
 public:
  FabriqueClient(const std::string& target, const Security& security, const BenchData& data)
      : data_(data), security_(security), stub_(NewStub(target, security)) {
    for (const std::string& name : data.feature_names) {
      v1::FeatureRef* ref = request_.add_features();
      ref->set_group(data.group);
      ref->set_feature(name);
    }
    request_.add_entity_keys()->set_entity(kEntity);
  }

  absl::Status Lookup(absl::Span<const int32_t> entities) override {
    SetKeys(entities);
    return FromGrpc(
        stub_->LookupOnline(security_.Context(absl::Seconds(5)).get(), request_, &response_),
        "LookupOnline");
  }

  absl::Status Verify(absl::Span<const int32_t> entities) const override {
    const int n = static_cast<int>(entities.size());
    if (response_.row_count() != n || response_.columns_size() != data_.features) {
      return absl::InternalError(absl::StrCat("LookupOnline answered ", response_.row_count(),
                                              " rows x ", response_.columns_size(), " columns"));
    }
    for (int f = 0; f < data_.features; ++f) {
      const v1::OnlineFeatureColumn& column = response_.columns(f);
      const auto& values = column.values().float_values().values();
      if (values.size() != n || column.statuses_size() != n) {
        return absl::InternalError(absl::StrCat("column ", f, " has ", values.size(), " values"));
      }
      for (int r = 0; r < n; ++r) {
        if (column.statuses(r) != v1::VALUE_STATUS_PRESENT ||
            values[r] != BenchData::ValueOf(entities[r], f)) {
          return absl::InternalError(
              absl::StrCat("entity ", data_.keys[entities[r]], " feature ", f, ": status ",
                           v1::ValueStatus_Name(column.statuses(r)), ", value ", values[r],
                           " (stored ", BenchData::ValueOf(entities[r], f), ")"));
        }
      }
    }
    return absl::OkStatus();
  }

 protected:
  void SetKeys(absl::Span<const int32_t> entities) {
    auto* keys = request_.mutable_entity_keys(0)->mutable_keys();
    keys->Clear();
    for (int32_t e : entities) keys->Add()->assign(data_.keys[e]);
  }

  const BenchData& data_;
  const Security security_;
  std::unique_ptr<v1::FeatureStore::Stub> stub_;
  // Reused across calls, as a serving client would: their buffers keep their capacity.
  v1::LookupOnlineRequest request_;
  v1::LookupOnlineResponse response_;
};

// The same lookups on one LookupOnlineStream per client, opened with the client: one request
// written, its answer read, then the next. The call's token and deadline are set once.
class FabriqueStreamClient : public FabriqueClient {
 public:
  FabriqueStreamClient(const std::string& target, const Security& security, const BenchData& data)
      : FabriqueClient(target, security, data),
        context_(security_.Context(absl::Hours(24))),
        stream_(stub_->LookupOnlineStream(context_.get())) {}

  ~FabriqueStreamClient() override {
    stream_->WritesDone();
    CheckOk(FromGrpc(stream_->Finish(), "LookupOnlineStream"), "closing a lookup stream");
  }

  absl::Status Lookup(absl::Span<const int32_t> entities) override {
    SetKeys(entities);
    if (stream_->Write(request_) && stream_->Read(&response_)) return absl::OkStatus();
    return FromGrpc(stream_->Finish(), "LookupOnlineStream");
  }

 private:
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::LookupOnlineRequest, v1::LookupOnlineResponse>>
      stream_;
};

class RedisClient : public LookupClient {
 public:
  RedisClient(std::unique_ptr<RedisFeatureClient> client, const BenchData& data)
      : client_(std::move(client)), data_(data) {}

  absl::Status Lookup(absl::Span<const int32_t> entities) override {
    keys_.clear();
    for (int32_t e : entities) keys_.push_back(&data_.keys[e]);
    return client_->Lookup(keys_, &values_, &times_);
  }

  absl::Status Verify(absl::Span<const int32_t> entities) const override {
    for (size_t r = 0; r < entities.size(); ++r) {
      if (times_[r] != data_.event_time_micros) {
        return absl::InternalError(absl::StrCat("entity ", data_.keys[entities[r]], ": _ts"));
      }
      for (int f = 0; f < data_.features; ++f) {
        const float value = values_[r * data_.features + f];
        if (value != BenchData::ValueOf(entities[r], f)) {
          return absl::InternalError(absl::StrCat("entity ", data_.keys[entities[r]], " feature ",
                                                  f, ": redis holds ", value));
        }
      }
    }
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<RedisFeatureClient> client_;
  const BenchData& data_;
  std::vector<const std::string*> keys_;
  std::vector<float> values_;
  std::vector<int64_t> times_;
};

}  // namespace

BenchData BenchData::Make(std::string group, int features, int64_t entities,
                          int64_t event_time_micros) {
  BenchData data;
  data.group = std::move(group);
  data.features = features;
  data.entities = entities;
  data.event_time_micros = event_time_micros;
  data.keys.reserve(entities);
  for (int64_t e = 0; e < entities; ++e) data.keys.push_back(absl::StrCat("c", e));
  for (int f = 0; f < features; ++f) data.feature_names.push_back(absl::StrCat("f", f));
  return data;
}

absl::Status LoadFabrique(const std::string& target, const Security& security,
                          const BenchData& data, int batch_rows) {
  std::unique_ptr<v1::FeatureStore::Stub> stub = NewStub(target, security);
  if (absl::Status s = Define(*stub, security, data); !s.ok()) return s;
  auto context = security.Context(absl::Minutes(30));
  v1::IngestResponse response;
  std::unique_ptr<grpc::ClientWriter<v1::IngestRequest>> writer =
      stub->Ingest(context.get(), &response);
  for (int64_t first = 0; first < data.entities; first += batch_rows) {
    const int64_t end = std::min<int64_t>(first + batch_rows, data.entities);
    v1::IngestRequest request;
    request.set_group(data.group);
    request.set_batch_id(absl::StrCat("lookup-bench-", first));
    v1::RowBatch* rows = request.mutable_rows();
    for (int64_t e = first; e < end; ++e) {
      rows->add_entity_keys(data.keys[e]);
      rows->add_event_time_unix_micros(data.event_time_micros);
    }
    for (int f = 0; f < data.features; ++f) {
      v1::FeatureColumn* column = rows->add_columns();
      column->mutable_feature()->set_feature(data.feature_names[f]);
      auto* values = column->mutable_values()->mutable_float_values()->mutable_values();
      values->Reserve(static_cast<int>(end - first));
      for (int64_t e = first; e < end; ++e) values->Add(BenchData::ValueOf(e, f));
    }
    if (!writer->Write(request)) break;  // The server ended the call: Finish says why.
  }
  writer->WritesDone();
  if (absl::Status s = FromGrpc(writer->Finish(), "Ingest"); !s.ok()) return s;
  if (response.rows_written() != data.entities || response.rows_rejected() != 0) {
    return absl::InternalError(absl::StrCat("Ingest wrote ", response.rows_written(),
                                            " rows, rejected ", response.rows_rejected()));
  }
  return absl::OkStatus();
}

absl::Status LoadRedis(int port, const BenchData& data, int batch_rows) {
  auto client = RedisFeatureClient::Connect(port, data.group, data.feature_names);
  if (!client.ok()) return client.status();
  std::vector<float> values;
  for (int64_t first = 0; first < data.entities; first += batch_rows) {
    const int64_t end = std::min<int64_t>(first + batch_rows, data.entities);
    values.clear();
    for (int64_t e = first; e < end; ++e) {
      for (int f = 0; f < data.features; ++f) values.push_back(BenchData::ValueOf(e, f));
    }
    const absl::Span<const std::string> keys(&data.keys[first], end - first);
    if (absl::Status s = (*client)->Store(keys, values, data.event_time_micros); !s.ok()) return s;
  }
  absl::StatusOr<int64_t> stored = (*client)->KeyCount();
  if (!stored.ok()) return stored.status();
  if (*stored != data.entities) {
    return absl::InternalError(absl::StrCat("redis holds ", *stored, " keys"));
  }
  return absl::OkStatus();
}

std::unique_ptr<LookupClient> ConnectFabrique(const std::string& target, const Security& security,
                                              const BenchData& data) {
  return std::make_unique<FabriqueClient>(target, security, data);
}

std::unique_ptr<LookupClient> ConnectFabriqueStream(const std::string& target,
                                                    const Security& security,
                                                    const BenchData& data) {
  return std::make_unique<FabriqueStreamClient>(target, security, data);
}

std::unique_ptr<LookupClient> ConnectRedis(int port, const BenchData& data) {
  auto client = RedisFeatureClient::Connect(port, data.group, data.feature_names);
  CheckOk(client.status(), "connecting to redis");
  return std::make_unique<RedisClient>(*std::move(client), data);
}

}  // namespace fabrique::bench
