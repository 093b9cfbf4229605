// RegistryStore's side of the monitor comparison gates: asking the monitor (outside the writer
// lock, since each answer is a remote call) and evaluating again the requests that wait on it.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/registry/registry_records.h"
#include "libs/registry/registry_store.h"

namespace fabrique::registry {
namespace {

// Whether `request` waits on the monitor: PENDING with a monitor comparison gate PENDING.
bool WaitsOnMonitor(const v1::PromotionRequest& request) {
  if (request.state() != v1::PROMOTION_STATE_PENDING) return false;
  for (const v1::GateEvaluation& gate : request.gates()) {
    if (gate.kind() == v1::GATE_KIND_MONITOR_COMPARISON && gate.state() == v1::GATE_STATE_PENDING) {
      return true;
    }
  }
  return false;
}

// Whether the evaluation changed anything worth a record: the request's state or a gate's.
bool Changed(const v1::PromotionRequest& before, const v1::PromotionRequest& after) {
  if (before.state() != after.state() || before.gates_size() != after.gates_size()) return true;
  for (int i = 0; i < before.gates_size(); ++i) {
    if (before.gates(i).state() != after.gates(i).state()) return true;
  }
  return false;
}

}  // namespace

RegistryStore::MonitorAnswers RegistryStore::AskMonitor(const std::string& model,
                                                        const std::string& alias,
                                                        int64_t number) const {
  MonitorAnswers monitor;
  absl::StatusOr<v1::Model> found = GetModel(model);
  if (!found.ok()) return monitor;  // The evaluation reports it.
  const auto held = found->aliases().find(alias);
  monitor.holder = held == found->aliases().end() ? 0 : held->second;
  if (options_.monitor == nullptr || monitor.holder == 0 || monitor.holder == number) {
    return monitor;
  }
  absl::StatusOr<v1::PromotionPolicy> policy = GetPromotionPolicy(model, alias);
  if (!policy.ok()) return monitor;
  for (const v1::MonitorComparisonGate& gate : policy->monitor_comparison_gates()) {
    monitor.answers.push_back(options_.monitor->Compare({model, number, monitor.holder, gate}));
  }
  return monitor;
}

absl::StatusOr<int> RegistryStore::ReevaluateMonitorGates(const v1::Principal& actor) {
  std::vector<std::string> waiting;
  RETURN_IF_ERROR(records::ScanMessages<v1::PromotionRequest>(
      *options_.store, family_, kv::KeyRange::Prefix(kv::KeyBuilder().AddString("r").key()),
      "promotion request", [&](const v1::PromotionRequest& request) {
        if (WaitsOnMonitor(request)) waiting.push_back(request.id());
        return true;
      }));
  int changed = 0;
  for (const std::string& id : waiting) {
    ASSIGN_OR_RETURN(const v1::PromotionRequest asked, GetPromotionRequest(id));
    const MonitorAnswers monitor = AskMonitor(asked.model(), asked.alias(), asked.version());
    absl::MutexLock lock(&writer_);
    ASSIGN_OR_RETURN(v1::PromotionRequest request, GetPromotionRequest(id));
    if (!WaitsOnMonitor(request)) continue;  // Decided meanwhile.
    const v1::PromotionRequest before = request;
    kv::WriteBatch batch;
    Mutation mutation{actor, "promotion.reevaluate",
                      absl::StrCat("models/", request.model(), "/promotions/", id),
                      records::Json(before)};
    RETURN_IF_ERROR(StageEvaluation(&request, monitor, &batch, &mutation));
    // A request still waiting as it was is not written again: the audit trail records changes,
    // not every look at the monitor.
    if (!Changed(before, request)) continue;
    RETURN_IF_ERROR(Commit(std::move(batch), std::move(mutation)));
    ++changed;
  }
  return changed;
}

}  // namespace fabrique::registry
