// The registry's port on the monitor against a fake Monitor served on loopback: what a monitor
// comparison gate asks (the gate's fields, its window ending now), what the answer becomes, a
// refusal and an unreachable monitor with their codes, and a promotion decided by it end to end.

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/monitor.grpc.pb.h"
#include "libs/client/channel.h"
#include "libs/core/clock.h"
#include "libs/kv/store.h"
#include "libs/registry/registry_store.h"
#include "libs/server/service_host.h"
#include "services/registry/monitor_client_port.h"
#include "services/registry/monitor_gate_recheck.h"

namespace fabrique::services {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

// CompareCanary answering what the test sets, and keeping the last request.
class FakeMonitor final : public v1::Monitor::Service {
 public:
  grpc::Status CompareCanary(grpc::ServerContext*, const v1::CompareCanaryRequest* request,
                             v1::CanaryComparison* response) override {
    absl::MutexLock lock(&mu_);
    last_ = *request;
    ++calls_;
    if (!status_.ok()) return status_;
    *response = answer_;
    return grpc::Status::OK;
  }
  void Answer(v1::CanaryComparison answer, grpc::Status status = grpc::Status::OK) {
    absl::MutexLock lock(&mu_);
    answer_ = std::move(answer);
    status_ = std::move(status);
  }
  v1::CompareCanaryRequest last() {
    absl::MutexLock lock(&mu_);
    return last_;
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

 private:
  absl::Mutex mu_;
  v1::CanaryComparison answer_ ABSL_GUARDED_BY(mu_);
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
  v1::CompareCanaryRequest last_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
};

struct MonitorServer {
  FakeMonitor monitor;
  std::unique_ptr<server::ServiceHost> host;

  MonitorServer() {
    server::ServiceHostOptions options;
    options.plaintext = true;
    options.service_name = "monitor";
    options.listen_host = "127.0.0.1";
    options.metrics_port = -1;
    host = *server::ServiceHost::Create(options);
    host->AddService(&monitor, v1::Monitor::service_full_name(), "the monitor");
    REQUIRE(host->Start().ok());
  }
  ~MonitorServer() { host->Shutdown(); }
  std::string address() const { return absl::StrCat("127.0.0.1:", host->port()); }
};

MonitorClientPort PortTo(const std::string& address, const core::Clock* clock) {
  client::CallContext call;
  call.timeout = absl::Seconds(5);
  return MonitorClientPort(
      client::MonitorClient(client::MakePlaintextChannel(address), {"monitor", address}, call),
      clock);
}

v1::CanaryComparison Comparison(bool enough, bool not_worse, const std::string& verdict) {
  v1::CanaryComparison comparison;
  comparison.set_report_id("cmp-1");
  comparison.set_enough_data(enough);
  comparison.set_candidate_not_worse(not_worse);
  comparison.set_verdict(verdict);
  return comparison;
}

registry::MonitorComparisonQuery Query() {
  registry::MonitorComparisonQuery query;
  query.model = "fraud";
  query.candidate_version = 2;
  query.primary_version = 1;
  query.gate.set_metric("auc");
  query.gate.set_max_degradation(0.02);
  query.gate.set_min_labelled(200);
  query.gate.mutable_window()->set_seconds(7200);
  return query;
}

TEST_CASE("The monitor port asks CompareCanary as the gate says and reads its answer") {
  MonitorServer server;
  core::FakeClock clock(kNow);
  const MonitorClientPort port = PortTo(server.address(), &clock);
  server.monitor.Answer(Comparison(true, true, "NOT_WORSE: candidate auc 0.85 vs primary 0.84"));
  absl::StatusOr<registry::MonitorComparisonAnswer> answer = port.Compare(Query());
  REQUIRE(answer.ok());
  CHECK(answer->enough_data);
  CHECK(answer->candidate_not_worse);
  CHECK(answer->verdict == "NOT_WORSE: candidate auc 0.85 vs primary 0.84");
  CHECK(answer->report_id == "cmp-1");
  const v1::CompareCanaryRequest asked = server.monitor.last();
  CHECK(asked.model() == "fraud");
  CHECK(asked.candidate_version() == 2);
  CHECK(asked.primary_version() == 1);
  CHECK(asked.metric() == "auc");
  CHECK(asked.max_degradation() == 0.02);
  CHECK(asked.min_labelled() == 200);
  CHECK(asked.window().end_time().seconds() == absl::ToUnixSeconds(kNow));
  CHECK(asked.window().start_time().seconds() == absl::ToUnixSeconds(kNow) - 7200);

  // No window in the gate: none asked for, the monitor's default applies.
  registry::MonitorComparisonQuery unwindowed = Query();
  unwindowed.gate.clear_window();
  REQUIRE(port.Compare(unwindowed).ok());
  CHECK(!server.monitor.last().has_window());

  // "Not worse" without enough data is not taken as not worse.
  server.monitor.Answer(Comparison(false, true, "NOT_ENOUGH_DATA: 3 and 400"));
  answer = port.Compare(Query());
  REQUIRE(answer.ok());
  CHECK(!answer->enough_data);
  CHECK(!answer->candidate_not_worse);
}

TEST_CASE("The monitor port passes the monitor's refusal and an unreachable monitor on") {
  MonitorServer server;
  core::FakeClock clock(kNow);
  server.monitor.Answer({}, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                         "a regression model does not report auc"));
  const absl::Status refused = PortTo(server.address(), &clock).Compare(Query()).status();
  CHECK(absl::IsInvalidArgument(refused));
  CHECK(absl::StrContains(refused.message(), "does not report auc"));

  // Nothing listens on port 1.
  const absl::Status unreachable = PortTo("127.0.0.1:1", &clock).Compare(Query()).status();
  INFO(unreachable.ToString());
  CHECK((absl::IsUnavailable(unreachable) || absl::IsDeadlineExceeded(unreachable)));
}

// An in-memory registry asking `monitor`: "fraud" with versions 1 and 2, production on 1, and a
// monitor comparison gate on production.
struct GatedRegistry {
  std::unique_ptr<kv::Store> kv;
  std::unique_ptr<registry::RegistryLog> log;
  std::unique_ptr<registry::RegistryStore> store;

  explicit GatedRegistry(const registry::MonitorPort* monitor) {
    kv::StoreOptions kv_options;
    kv_options.path = "/registry";
    kv_options.in_memory = true;
    kv = *kv::Store::Open(kv_options);
    log = *registry::RegistryLog::Create({kv.get()});
    registry::RegistryStoreOptions options;
    options.store = kv.get();
    options.log = log.get();
    options.monitor = monitor;
    store = *registry::RegistryStore::Create(options);
    v1::Principal dana;
    dana.set_subject("dana");
    v1::Model model;
    model.set_name("fraud");
    model.set_owner_squad("risk");
    REQUIRE(store->CreateModel(model, dana).ok());
    v1::ModelVersion version;
    version.set_model("fraud");
    REQUIRE(store->RegisterVersion(version, dana).ok());
    REQUIRE(store->RegisterVersion(version, dana).ok());
    REQUIRE(store->SetAlias("fraud", "production", 1, dana).ok());
    v1::PromotionPolicy policy;
    policy.set_model("fraud");
    policy.set_alias("production");
    *policy.add_monitor_comparison_gates() = Query().gate;
    REQUIRE(store->SetPromotionPolicy(policy, dana).ok());
  }
  absl::StatusOr<v1::PromotionRequest> Promote() {
    v1::Principal dana;
    dana.set_subject("dana");
    return store->RequestPromotion("fraud", "production", 2, "", dana);
  }
};

TEST_CASE("A promotion is decided by the monitor over gRPC, and waits while it is down") {
  MonitorServer server;
  core::FakeClock clock(kNow);
  const MonitorClientPort port = PortTo(server.address(), &clock);
  GatedRegistry registry(&port);
  server.monitor.Answer(Comparison(true, false, "WORSE: candidate auc 0.80 vs primary 0.84"));
  const absl::Status refused = registry.Promote().status();
  CHECK(absl::IsFailedPrecondition(refused));
  CHECK(absl::StrContains(refused.message(), "WORSE: candidate auc 0.80 vs primary 0.84"));
  server.monitor.Answer(Comparison(true, true, "NOT_WORSE: candidate auc 0.85 vs primary 0.84"));
  absl::StatusOr<v1::PromotionRequest> promoted = registry.Promote();
  REQUIRE(promoted.ok());
  CHECK(promoted->state() == v1::PROMOTION_STATE_COMPLETED);
  CHECK(server.monitor.calls() == 2);

  const MonitorClientPort down = PortTo("127.0.0.1:1", &clock);
  GatedRegistry unreachable(&down);
  absl::StatusOr<v1::PromotionRequest> waiting = unreachable.Promote();
  REQUIRE(waiting.ok());
  CHECK(waiting->state() == v1::PROMOTION_STATE_PENDING);
  bool said = false;
  for (const v1::GateEvaluation& gate : waiting->gates()) {
    said = said || (gate.kind() == v1::GATE_KIND_MONITOR_COMPARISON &&
                    gate.state() == v1::GATE_STATE_PENDING &&
                    absl::StrContains(gate.explanation(), "the monitor is unreachable"));
  }
  CHECK(said);
  CHECK(unreachable.store->GetAlias("fraud", "production")->version() == 1);
}

TEST_CASE("A request waiting on the monitor completes on a later recheck, without a new request") {
  MonitorServer server;
  core::FakeClock clock(kNow);
  const MonitorClientPort port = PortTo(server.address(), &clock);
  GatedRegistry registry(&port);
  server.monitor.Answer(Comparison(false, false, "NOT_ENOUGH_DATA: 3 and 400"));
  absl::StatusOr<v1::PromotionRequest> waiting = registry.Promote();
  REQUIRE(waiting.ok());
  REQUIRE(waiting->state() == v1::PROMOTION_STATE_PENDING);

  MonitorGateRecheck recheck(registry.store.get(), absl::Minutes(1), &clock);
  REQUIRE(clock.AwaitSleeps(1, absl::Seconds(10)));
  server.monitor.Answer(Comparison(true, true, "NOT_WORSE: candidate auc 0.85 vs primary 0.84"));
  clock.Advance(absl::Minutes(1));
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (registry.store->GetAlias("fraud", "production")->version() != 2 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  CHECK(registry.store->GetAlias("fraud", "production")->version() == 2);
  const v1::PromotionRequest completed = *registry.store->GetPromotionRequest(waiting->id());
  CHECK(completed.state() == v1::PROMOTION_STATE_COMPLETED);
}

}  // namespace
}  // namespace fabrique::services
