// The registry's adapter: the audit trail and the watch.

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "libs/core/grpc_status.h"
#include "services/access_checks.h"
#include "services/registry/model_owners.h"
#include "services/registry/model_registry_service.h"
#include "services/registry/registry_replies.h"

namespace fabrique::services {
namespace {

using core::ToGrpcStatus;
using registry_replies::Invalid;
using registry_replies::Permission;

constexpr int kDefaultAuditPage = 100;
constexpr int kMaxAuditPage = 1000;
// A watcher idle this long gets a BOOKMARK with the current revision (and the server learns
// whether the client is still there).
constexpr absl::Duration kBookmarkInterval = absl::Seconds(1);

}  // namespace

grpc::Status ModelRegistryService::ListAuditEntries(grpc::ServerContext* context,
                                                    const v1::ListAuditEntriesRequest* request,
                                                    v1::ListAuditEntriesResponse* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "ListAuditEntries", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  int64_t start = request->start_sequence();
  if (!request->page_token().empty() && !absl::SimpleAtoi(request->page_token(), &start)) {
    return Invalid("ListAuditEntriesRequest.page_token is not one this server gave");
  }
  const int page =
      request->page_size() <= 0 ? kDefaultAuditPage : std::min(request->page_size(), kMaxAuditPage);
  ModelOwnerCache owners(store_);
  if (!request->model().empty()) {
    const std::string& owner = owners.OwnerOf(request->model());
    if (!owner.empty() && !caller->Sees(owner)) {
      return ToGrpcStatus(NotVisible(*caller, absl::StrCat("model '", request->model(), "'"),
                                     Permission("ListAuditEntries"), owner));
    }
  }
  // An entry about no model is the platform's: shown to those who read audit everywhere.
  const auto visible = [&](const v1::AuditEntry& entry) {
    const std::string model(ModelOfTarget(entry.target()));
    return model.empty() ? caller->Sees(auth::kAllSquads) : caller->Sees(owners.OwnerOf(model));
  };
  const std::string target = absl::StrCat("models/", request->model());
  int64_t next = 0;
  const absl::Status listed = log_->AuditEntries(start, 0, [&](const v1::AuditEntry& entry) {
    if (response->entries_size() == page) {
      next = entry.sequence();
      return false;
    }
    const bool wanted = request->model().empty() || entry.target() == target ||
                        absl::StartsWith(entry.target(), target + "/");
    if (wanted && visible(entry)) *response->add_entries() = entry;
    return true;
  });
  if (!listed.ok()) return ToGrpcStatus(listed);
  if (next > 0) response->set_next_page_token(absl::StrCat(next));
  return grpc::Status::OK;
}

grpc::Status ModelRegistryService::VerifyAuditChain(grpc::ServerContext* context,
                                                    const v1::VerifyAuditChainRequest* request,
                                                    v1::VerifyAuditChainResponse* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "VerifyAuditChain", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::StatusOr<registry::AuditChainResult> result =
      log_->VerifyAudit(request->start_sequence(), request->end_sequence());
  if (!result.ok()) return ToGrpcStatus(result.status());
  response->set_valid(result->valid);
  response->set_entries_checked(result->entries_checked);
  response->set_first_bad_sequence(result->first_bad_sequence);
  response->set_detail(result->detail);
  response->set_head_hash(result->head_hash);
  return grpc::Status::OK;
}

grpc::Status ModelRegistryService::Watch(grpc::ServerContext* context,
                                         const v1::WatchRequest* request,
                                         grpc::ServerWriter<v1::WatchEvent>* writer) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "Watch", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->include_snapshot() && request->after_revision() > 0) {
    return Invalid(
        "WatchRequest: include_snapshot starts from the current state, after_revision resumes "
        "from a past one; set one of them");
  }
  const int64_t current = log_->revision();
  if (request->after_revision() > current) {
    return grpc::Status(grpc::StatusCode::OUT_OF_RANGE,
                        absl::StrCat("revision ", request->after_revision(),
                                     " is ahead of the registry's ", current));
  }
  const std::set<std::string> models(request->models().begin(), request->models().end());
  // Events about models of squads the caller cannot see are skipped. A model's owner is read at
  // each of its events: a model moved to another squad stops (or starts) showing at once.
  const auto visible = [&](const v1::WatchEvent& event) {
    absl::StatusOr<v1::Model> model = store_->GetModel(event.model());
    return model.ok() && caller->Sees(model->owner_squad());
  };
  int64_t after = request->after_revision() > 0 ? request->after_revision() : current;
  bool open = true;
  if (request->include_snapshot()) {
    absl::StatusOr<registry::RegistryStore::StateSnapshot> snapshot =
        store_->SnapshotState({models.begin(), models.end()});
    if (!snapshot.ok()) return ToGrpcStatus(snapshot.status());
    for (const v1::WatchEvent& event : snapshot->events) {
      if (!visible(event)) continue;
      if (!(open = writer->Write(event))) break;
    }
    v1::WatchEvent complete;
    complete.set_type(v1::WATCH_EVENT_TYPE_SNAPSHOT_COMPLETE);
    complete.set_revision(snapshot->revision);
    open = open && writer->Write(complete);
    after = snapshot->revision;
  }
  watchers_.Increment();
  while (open && !context->IsCancelled() && !log_->interrupted()) {
    // Only up to the advanced revision: an event already written but not yet advanced (its
    // commit in flight) would let a client resume from a revision the registry still calls
    // ahead of its own.
    const int64_t advanced = log_->revision();
    const absl::Status read = log_->EventsAfter(after, 0, [&](const v1::WatchEvent& event) {
      if (event.revision() > advanced) return false;
      after = event.revision();
      if ((!models.empty() && models.count(event.model()) == 0) || !visible(event)) return true;
      open = writer->Write(event);
      return open;
    });
    if (!read.ok()) {
      watchers_.Decrement();
      return ToGrpcStatus(read);
    }
    if (open && log_->WaitForRevisionAfter(after, kBookmarkInterval) <= after) {
      v1::WatchEvent bookmark;
      bookmark.set_type(v1::WATCH_EVENT_TYPE_BOOKMARK);
      bookmark.set_revision(after);
      open = writer->Write(bookmark);
    }
  }
  watchers_.Decrement();
  if (log_->interrupted()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        absl::StrCat("the registry is stopping: reconnect with after_revision=",
                                     after, " to miss nothing"));
  }
  return grpc::Status::OK;
}

}  // namespace fabrique::services
