// LookupOnlineStream through the real adapter, in-process on a loopback port: each answer equals
// LookupOnline's for the same request, answers come in the order of the requests, the first error
// ends the stream with its code, and a client that closes its side ends the call cleanly.

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "google/protobuf/util/message_differencer.h"
#include "tests/services/feature_store_test_server.h"

namespace fabrique::services {
namespace {

using feature_test::As;
using feature_test::Batch;
using feature_test::Context;
using feature_test::Define;
using feature_test::Ingest;
using feature_test::IngestCustomers;
using feature_test::LookupOfKeys;
using feature_test::MetricValue;
using feature_test::Server;

using Stream = grpc::ClientReaderWriter<v1::LookupOnlineRequest, v1::LookupOnlineResponse>;

// Writes `requests` on a thread of its own, then closes the client's side; reads every answer
// here; returns the call's status.
grpc::Status RunStream(Stream& stream, const std::vector<v1::LookupOnlineRequest>& requests,
                       std::vector<v1::LookupOnlineResponse>* answers) {
  std::thread writer([&] {
    for (const v1::LookupOnlineRequest& request : requests) {
      if (!stream.Write(request)) break;  // The server ended the call.
    }
    stream.WritesDone();
  });
  v1::LookupOnlineResponse answer;
  while (stream.Read(&answer)) answers->push_back(answer);
  writer.join();
  return stream.Finish();
}

TEST_CASE("lookup stream: every answer equals LookupOnline's, in the order of the requests") {
  Server s;
  Define(s);
  IngestCustomers(s, 50);
  // 500 requests of 1 to 7 keys each, some never written, so that neighbours differ.
  std::vector<v1::LookupOnlineRequest> requests;
  int64_t keys = 0;
  for (int i = 0; i < 500; ++i) {
    std::vector<std::string> entities;
    for (int k = 0; k <= i % 7; ++k) entities.push_back(absl::StrCat("c", (i * 7 + k * 13) % 60));
    keys += static_cast<int64_t>(entities.size());
    requests.push_back(LookupOfKeys(entities));
  }
  const double counted_before = MetricValue(s, "fabrique_features_lookup_keys_total");
  auto context = Context();
  std::unique_ptr<Stream> stream = s.stub->LookupOnlineStream(context.get());
  std::vector<v1::LookupOnlineResponse> answers;
  const grpc::Status status = RunStream(*stream, requests, &answers);
  INFO(status.error_message());
  REQUIRE(status.ok());
  REQUIRE(answers.size() == requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    v1::LookupOnlineResponse unary;
    REQUIRE(s.stub->LookupOnline(Context().get(), requests[i], &unary).ok());
    INFO("request " << i);
    CHECK(google::protobuf::util::MessageDifferencer::Equals(answers[i], unary));
  }
  // Present and missing values both came through.
  CHECK(answers[0].columns(0).statuses(0) == v1::VALUE_STATUS_PRESENT);
  CHECK(answers[0].columns(0).values().float_values().values(0) == 0.f);
  CHECK(answers[1].columns(1).values().string_values().values(0) == "k7");
  CHECK(answers[8].columns(0).statuses(0) == v1::VALUE_STATUS_MISSING);  // c56.
  // Each request's keys are counted, as LookupOnline counts them (the checks above added as
  // many again).
  CHECK(MetricValue(s, "fabrique_features_lookup_keys_total") - counted_before == 2 * keys);
}

TEST_CASE("lookup stream: TTL is judged per request, at the time it is answered") {
  Server s;
  Define(s);
  IngestCustomers(s, 3);  // c2 is 18 h old.
  auto context = Context();
  std::unique_ptr<Stream> stream = s.stub->LookupOnlineStream(context.get());
  v1::LookupOnlineResponse answer;
  REQUIRE(stream->Write(LookupOfKeys({"c2"})));
  REQUIRE(stream->Read(&answer));
  CHECK(answer.columns(0).statuses(0) == v1::VALUE_STATUS_PRESENT);
  s.clock.Advance(absl::Hours(7));  // 25 h old: past the 24 h TTL.
  REQUIRE(stream->Write(LookupOfKeys({"c2"})));
  REQUIRE(stream->Read(&answer));
  CHECK(answer.columns(0).statuses(0) == v1::VALUE_STATUS_EXPIRED);
  // New rows are seen by the next request of the same stream.
  v1::IngestResponse ingested;
  REQUIRE(Ingest(s, {Batch(s, {{"c2", 19, 42.f, "new"}})}, &ingested).ok());
  REQUIRE(stream->Write(LookupOfKeys({"c2"})));
  REQUIRE(stream->Read(&answer));
  CHECK(answer.columns(0).statuses(0) == v1::VALUE_STATUS_PRESENT);
  CHECK(answer.columns(0).values().float_values().values(0) == 42.f);
  stream->WritesDone();
  CHECK(!stream->Read(&answer));
  CHECK(stream->Finish().ok());
}

TEST_CASE("lookup stream: the first refused request ends the stream with its code") {
  Server s;
  Define(s);
  IngestCustomers(s, 5);
  v1::LookupOnlineRequest ghost_group = LookupOfKeys({"c1"});
  ghost_group.mutable_features(0)->set_group("ghost");
  v1::LookupOnlineRequest ghost_feature = LookupOfKeys({"c1"});
  ghost_feature.mutable_features(1)->set_feature("ghost_feature");
  v1::LookupOnlineRequest no_features = LookupOfKeys({"c1"});
  no_features.clear_features();
  v1::LookupOnlineRequest no_entity = LookupOfKeys({"c1"});
  no_entity.clear_entity_keys();
  const struct {
    v1::LookupOnlineRequest request;
    grpc::StatusCode code;
    const char* named;
  } cases[] = {
      {ghost_group, grpc::StatusCode::NOT_FOUND, "ghost"},
      {ghost_feature, grpc::StatusCode::NOT_FOUND, "ghost_feature"},
      {no_features, grpc::StatusCode::INVALID_ARGUMENT, "features is empty"},
      {no_entity, grpc::StatusCode::INVALID_ARGUMENT, "customer"},
  };
  for (const auto& c : cases) {
    INFO(c.named);
    // Two good requests, the bad one, then a good one that is never answered.
    const std::vector<v1::LookupOnlineRequest> requests = {
        LookupOfKeys({"c1"}), LookupOfKeys({"c2"}), c.request, LookupOfKeys({"c3"})};
    auto context = Context();
    std::unique_ptr<Stream> stream = s.stub->LookupOnlineStream(context.get());
    std::vector<v1::LookupOnlineResponse> answers;
    const grpc::Status status = RunStream(*stream, requests, &answers);
    CHECK(status.error_code() == c.code);
    CHECK(absl::StrContains(status.error_message(), c.named));
    CHECK(absl::StrContains(status.error_message(), "after 2 answered requests"));
    REQUIRE(answers.size() == 2);
    CHECK(answers[1].columns(0).values().float_values().values(0) == 2.f);
  }
}

TEST_CASE("lookup stream: a caller without the read permission is refused on the first request") {
  Server s;
  Define(s);
  IngestCustomers(s, 2);
  auto context = As("nils", {"risk:product-owner"});
  std::unique_ptr<Stream> stream = s.stub->LookupOnlineStream(context.get());
  std::vector<v1::LookupOnlineResponse> answers;
  const grpc::Status status = RunStream(*stream, {LookupOfKeys({"c1"})}, &answers);
  CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(absl::StrContains(status.error_message(), "features.data.read"));
  CHECK(answers.empty());
  // A group of a squad the caller does not read in is refused, even after allowed requests.
  auto fraud = As("fred", {"fraud:data-scientist"});
  stream = s.stub->LookupOnlineStream(fraud.get());
  answers.clear();
  const grpc::Status other_squad = RunStream(*stream, {LookupOfKeys({"c1"})}, &answers);
  CHECK(other_squad.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(absl::StrContains(other_squad.error_message(), "feature group 'tx'"));
}

TEST_CASE(
    "lookup stream: closing the client's side ends the call cleanly, with or without "
    "requests") {
  Server s;
  Define(s);
  IngestCustomers(s, 2);
  {
    auto context = Context();
    std::unique_ptr<Stream> stream = s.stub->LookupOnlineStream(context.get());
    stream->WritesDone();
    v1::LookupOnlineResponse answer;
    CHECK(!stream->Read(&answer));
    CHECK(stream->Finish().ok());
  }
  {
    auto context = Context();
    std::unique_ptr<Stream> stream = s.stub->LookupOnlineStream(context.get());
    std::vector<v1::LookupOnlineResponse> answers;
    const grpc::Status status =
        RunStream(*stream, {LookupOfKeys({"c0"}), LookupOfKeys({"c1", "c0"})}, &answers);
    CHECK(status.ok());
    REQUIRE(answers.size() == 2);
    CHECK(answers[1].row_count() == 2);
  }
  // A client that goes away mid-stream leaves the server serving others.
  {
    auto context = Context();
    std::unique_ptr<Stream> stream = s.stub->LookupOnlineStream(context.get());
    REQUIRE(stream->Write(LookupOfKeys({"c1"})));
    context->TryCancel();
    CHECK(stream->Finish().error_code() == grpc::StatusCode::CANCELLED);
  }
  CHECK(feature_test::Lookup(s, {"c1"}).columns(0).statuses(0) == v1::VALUE_STATUS_PRESENT);
}

}  // namespace
}  // namespace fabrique::services
