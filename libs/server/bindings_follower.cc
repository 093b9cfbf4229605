#include "libs/server/bindings_follower.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fabrique/v1/tower.grpc.pb.h"
#include "libs/auth/policy_syntax.h"
#include "libs/core/file_io.h"
#include "libs/core/grpc_status.h"
#include "libs/core/log.h"

namespace fabrique::server {
std::vector<auth::Binding> ToPolicyBindings(const v1::RoleBindings& bindings) {
  std::vector<auth::Binding> out;
  out.reserve(bindings.bindings_size());
  for (const v1::RoleBinding& binding : bindings.bindings()) {
    absl::StatusOr<auth::Binding> made =
        auth::MakeBinding(binding.subject(), binding.squad(), binding.role());
    if (!made.ok()) {
      core::Log(core::LogLevel::kWarning, "tower_binding_skipped",
                {{"subject", binding.subject()},
                 {"squad", binding.squad()},
                 {"role", binding.role()},
                 {"error", std::string(made.status().message())}});
      continue;
    }
    made->where = absl::StrCat("tower revision ", bindings.revision());
    out.push_back(*std::move(made));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<BindingsFollower>> BindingsFollower::Start(
    BindingsFollowerOptions options, prometheus::Registry* metrics) {
  if (options.service_name.empty() || options.channel == nullptr || options.policy == nullptr) {
    return absl::InvalidArgumentError(
        "following the tower's bindings needs a service name, a channel and a policy");
  }
  auto follower = std::unique_ptr<BindingsFollower>(new BindingsFollower(std::move(options)));
  if (metrics != nullptr) follower->RegisterMetrics(metrics);
  const std::string& cache = follower->options_.cache_path;
  if (!cache.empty()) {
    absl::StatusOr<std::string> bytes = core::ReadSmallFile(cache);
    v1::RoleBindings cached;
    if (bytes.ok() && cached.ParseFromString(*bytes)) {
      follower->Apply(cached, true);
    } else if (bytes.ok() || !absl::IsNotFound(bytes.status())) {
      core::Log(core::LogLevel::kWarning, "tower_bindings_cache_unreadable",
                {{"path", cache},
                 {"error", bytes.ok() ? "not a RoleBindings message"
                                      : std::string(bytes.status().message())},
                 {"action", "waiting for the tower's set"}});
    }
  }
  follower->thread_ = std::thread([raw = follower.get()] { raw->Run(); });
  return follower;
}

BindingsFollower::BindingsFollower(BindingsFollowerOptions options)
    : options_(std::move(options)) {}

BindingsFollower::~BindingsFollower() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (call_ != nullptr) call_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

void BindingsFollower::RegisterMetrics(prometheus::Registry* registry) {
  revision_gauge_ =
      &prometheus::BuildGauge()
           .Name(absl::StrCat("fabrique_", options_.service_name, "_tower_bindings_revision"))
           .Help("Revision of the tower's role bindings in force (0 = none received yet).")
           .Register(*registry)
           .Add({});
  failures_counter_ =
      &prometheus::BuildCounter()
           .Name(absl::StrCat("fabrique_", options_.service_name,
                              "_tower_bindings_follow_failures_total"))
           .Help(
               "Streams of the tower's role bindings that failed or ended; the last set "
               "received stays in force.")
           .Register(*registry)
           .Add({});
}

int64_t BindingsFollower::revision() const {
  absl::MutexLock lock(&mu_);
  return revision_;
}

int64_t BindingsFollower::failures() const {
  absl::MutexLock lock(&mu_);
  return failures_;
}

void BindingsFollower::Apply(const v1::RoleBindings& bindings, bool from_cache) {
  const int dropped = options_.policy->SetFollowedBindings(ToPolicyBindings(bindings));
  if (dropped > 0) {
    core::Log(core::LogLevel::kWarning, "tower_bindings_privileged_dropped",
              {{"count", dropped},
               {"why",
                "a squad member is never bound to a service role or a role that reads "
                "across squads; bind those in the policy file"}});
  }
  {
    absl::MutexLock lock(&mu_);
    revision_ = bindings.revision();
  }
  if (revision_gauge_ != nullptr) revision_gauge_->Set(static_cast<double>(bindings.revision()));
  core::Log(core::LogLevel::kInfo, "tower_bindings_applied",
            {{"revision", bindings.revision()},
             {"bindings", bindings.bindings_size()},
             {"source", from_cache ? "cache" : "tower"}});
  if (from_cache || options_.cache_path.empty()) return;
  std::error_code ignored;
  std::filesystem::create_directories(std::filesystem::path(options_.cache_path).parent_path(),
                                      ignored);
  const absl::Status kept =
      core::WriteFileAtomically(options_.cache_path, bindings.SerializeAsString(), 0600);
  if (!kept.ok()) {
    core::Log(core::LogLevel::kError, "tower_bindings_cache_write_failed",
              {{"path", options_.cache_path}, {"error", std::string(kept.message())}});
  }
}

absl::Status BindingsFollower::FollowOnce() {
  auto stub = v1::Tower::NewStub(options_.channel);
  grpc::ClientContext context;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::CancelledError("stopping");
    call_ = &context;
  }
  // Always from 0: the whole set at once, so a tower whose store was replaced is followed too.
  v1::WatchRoleBindingsRequest request;
  auto reader = stub->WatchRoleBindings(&context, request);
  v1::RoleBindings bindings;
  bool received = false;
  while (reader->Read(&bindings)) {
    Apply(bindings, false);
    received = true;
  }
  const grpc::Status finished = reader->Finish();
  {
    absl::MutexLock lock(&mu_);
    call_ = nullptr;
  }
  absl::Status status = core::FromGrpcStatus(finished);
  if (status.ok()) status = absl::UnavailableError("the tower ended the stream");
  if (received) {
    // A stream that delivered is not a failure to back off from: reconnect at once.
    return absl::Status(absl::StatusCode::kAborted, status.message());
  }
  return status;
}

void BindingsFollower::Run() {
  absl::Duration backoff = options_.initial_backoff;
  while (true) {
    const absl::Status ended = FollowOnce();
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    ++failures_;
    if (failures_counter_ != nullptr) failures_counter_->Increment();
    if (absl::IsAborted(ended)) backoff = options_.initial_backoff;
    core::Log(core::LogLevel::kWarning, "tower_bindings_follow_failed",
              {{"error", std::string(ended.message())},
               {"revision_kept", revision_},
               {"retry_in", absl::FormatDuration(backoff)}});
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), backoff);
    if (stopping_) return;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

}  // namespace fabrique::server
