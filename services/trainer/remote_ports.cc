#include "services/trainer/remote_ports.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "libs/client/call_context.h"
#include "libs/client/retry.h"
#include "libs/core/grpc_status.h"
#include "libs/core/status_macros.h"

namespace fabrique::services {
namespace {

constexpr absl::Duration kCallTimeout = absl::Seconds(30);
constexpr size_t kChunkBytes = (4 << 20) - (4 << 10);

// A call's context: its timeout (gRPC deadlines are real time), and whom it is made for. The
// channel presents the trainer's own certificate; for a run's submitter, the call also names
// them as on-behalf-of (user and token groups), so the peer checks what the user may do as
// well as what the trainer may. A service that submitted on its own behalf ("service:tower")
// is no user: the trainer then acts as itself. Fails only for a subject or group that cannot
// travel as metadata.
absl::StatusOr<std::unique_ptr<grpc::ClientContext>> Context(const v1::Principal& submitter,
                                                             absl::Duration timeout) {
  client::CallContext call;
  call.timeout = timeout;
  if (!submitter.subject().empty() && !absl::StartsWith(submitter.subject(), "service:")) {
    call.credentials.on_behalf_of_user = submitter.subject();
    call.credentials.on_behalf_of_groups.assign(submitter.groups().begin(),
                                                submitter.groups().end());
  }
  return call.NewClientContext();
}

// One attempt's timeout: at most `cap`, and never past the context's deadline. The deadline is
// on the options' clock and gRPC's are real time, so what is left of it is carried over.
absl::Duration Within(const RemotePortOptions& options, const training::RunContext& context,
                      absl::Duration cap) {
  return std::min(cap, context.deadline - options.clock->Now());
}

// Runs `call` until it succeeds, fails for good, or `retry_for` has passed or the context's
// deadline comes (backoff 0.2 s, doubling, at most 5 s); the last error names what was tried.
// The waits are on the options' clock, and a cancel of the run ends them at once.
template <typename Call>
auto WithRetries(const RemotePortOptions& options, const training::RunContext& context,
                 const std::string& what, Call call) -> decltype(call()) {
  client::RetryPolicy policy;
  policy.max_attempts = 0;  // The time bounds them.
  policy.initial_backoff = absl::Milliseconds(200);
  policy.max_backoff = absl::Seconds(5);
  policy.overall_timeout = options.retry_for;
  const training::CancelToken* cancel = context.cancel;
  client::Retrier retrier(policy, options.clock, context.deadline,
                          [cancel] { return cancel != nullptr && cancel->cancelled(); });
  auto result = client::WithRetries(retrier, call);
  if (!retrier.exhausted()) return result;
  const absl::Status& status = client::StatusOf(result);
  return absl::Status(
      status.code(),
      absl::StrCat(what, " failed ", retrier.attempts(), " times (retried for up to ",
                   absl::FormatDuration(options.retry_for), ", or until the ",
                   context.run_id.empty() ? "call's" : "run's",
                   " deadline); last: ", status.message()));
}

absl::Status CheckChannel(const RemotePortOptions& options) {
  if (options.channel == nullptr)
    return absl::InvalidArgumentError("a remote port needs a channel");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<RemoteDatasets>> RemoteDatasets::Create(RemotePortOptions options) {
  if (absl::Status ok = CheckChannel(options); !ok.ok()) return ok;
  if (options.clock == nullptr) options.clock = core::Clock::Real();
  return std::unique_ptr<RemoteDatasets>(new RemoteDatasets(std::move(options)));
}

absl::Status RemoteDatasets::CheckFeatures(const training::RunContext& context,
                                           const v1::RunSpec& spec) {
  std::map<std::string, std::set<std::string>> groups;  // Group -> its features, as asked.
  for (const v1::FeatureRef& ref : spec.features()) groups[ref.group()].insert(ref.feature());
  if (spec.label().has_feature()) {
    groups[spec.label().feature().group()].insert(spec.label().feature().feature());
  }
  std::vector<std::string> unknown;
  for (const auto& [group, features] : groups) {
    v1::GetFeatureGroupRequest request;
    request.set_name(group);
    v1::FeatureGroup found;
    const absl::Status status = WithRetries(options_, context, "GetFeatureGroup " + group, [&] {
      ASSIGN_OR_RETURN(auto call, Context(context.caller, Within(options_, context, kCallTimeout)));
      return core::FromGrpcStatus(stub_->GetFeatureGroup(call.get(), request, &found));
    });
    if (absl::IsNotFound(status)) {
      for (const std::string& f : features) unknown.push_back(absl::StrCat(group, ":", f));
      continue;
    }
    if (!status.ok()) return status;
    std::set<std::string> defined;
    for (const v1::FeatureSpec& f : found.spec().features()) defined.insert(f.name());
    for (const std::string& f : features) {
      if (defined.count(f) == 0) unknown.push_back(absl::StrCat(group, ":", f));
    }
  }
  if (!unknown.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the feature store knows no feature ", absl::StrJoin(unknown, ", "),
                     ": check the names with `fabrique features list`"));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Dataset> RemoteDatasets::Build(
    const training::RunContext& run, const v1::RunSpec& spec,
    const std::function<absl::Status(const v1::TrainingSetHeader&)>& header,
    const std::function<absl::Status(const v1::TrainingSetRows&)>& rows) {
  // Only the opening of the stream is retried: once rows flowed into the table, a broken stream
  // fails the run (its caller cannot take the rows back).
  bool started = false;
  return WithRetries(options_, run, "BuildTrainingSet", [&]() -> absl::StatusOr<v1::Dataset> {
    if (started) return absl::AbortedError("the training-set stream broke after rows arrived");
    v1::TrainingSetSpec set;
    *set.mutable_features() = spec.features();
    *set.mutable_label() = spec.label();
    *set.mutable_time_range() = spec.time_range();
    set.set_dataset_name(absl::StrCat(spec.model_name(), " run ", run.run_id));
    set.set_request_id(run.run_id);  // A rebuild for the same run is the same dataset.
    set.set_trainer_run_id(run.run_id);
    // The stream ends at the run's deadline, and at once when the run is cancelled: the
    // feature store may work a long time before its first answer.
    ASSIGN_OR_RETURN(std::unique_ptr<grpc::ClientContext> context,
                     Context(run.caller, Within(options_, run, absl::Hours(6))));
    if (run.cancel != nullptr) run.cancel->SetInterrupt([&context] { context->TryCancel(); });
    const absl::Cleanup clear = [&run] {
      if (run.cancel != nullptr) run.cancel->SetInterrupt(nullptr);
    };
    auto stream = stub_->BuildTrainingSet(context.get());
    v1::BuildTrainingSetRequest first;
    *first.mutable_spec() = set;  // Inline label events travel inside the spec.
    stream->Write(first);
    stream->WritesDone();
    v1::BuildTrainingSetResponse part;
    v1::Dataset dataset;
    absl::Status consumed;
    while (consumed.ok() && stream->Read(&part)) {
      if (part.has_header()) {
        started = true;
        consumed = header(part.header());
      } else if (part.has_rows()) {
        consumed = rows(part.rows());
      } else if (part.has_summary()) {
        dataset = part.summary();
      }
    }
    if (!consumed.ok()) {
      context->TryCancel();
      stream->Finish();
      return consumed;
    }
    if (absl::Status status = core::FromGrpcStatus(stream->Finish()); !status.ok()) {
      if (started) {
        // Not retried (ABORTED): the rows already taken cannot be taken back.
        return absl::AbortedError(
            absl::StrCat("the training-set stream broke after rows arrived: ", status.message()));
      }
      return status;
    }
    return dataset;
  });
}

absl::Status RemoteDatasets::RecordUsage(const training::RunContext& context,
                                         const std::string& dataset_id,
                                         const v1::ModelVersionRef& version) {
  v1::RecordDatasetUsageRequest request;
  request.set_dataset_id(dataset_id);
  *request.mutable_model_version() = version;
  return WithRetries(options_, context, "RecordDatasetUsage", [&] {
    v1::RecordDatasetUsageResponse response;
    // The trainer's own word: lineage is what it vouches for (datasets.record_usage is its
    // role's alone), once the version it registered for the user exists.
    ASSIGN_OR_RETURN(auto call, Context(/*submitter=*/{}, Within(options_, context, kCallTimeout)));
    return core::FromGrpcStatus(stub_->RecordDatasetUsage(call.get(), request, &response));
  });
}

absl::StatusOr<std::unique_ptr<RemoteModels>> RemoteModels::Create(RemotePortOptions options) {
  if (absl::Status ok = CheckChannel(options); !ok.ok()) return ok;
  if (options.clock == nullptr) options.clock = core::Clock::Real();
  return std::unique_ptr<RemoteModels>(new RemoteModels(std::move(options)));
}

absl::StatusOr<v1::Artifact> RemoteModels::Upload(const training::RunContext& context,
                                                  const training::ArtifactToUpload& artifact) {
  return WithRetries(
      options_, context, "UploadArtifact " + artifact.name, [&]() -> absl::StatusOr<v1::Artifact> {
        ASSIGN_OR_RETURN(std::unique_ptr<grpc::ClientContext> call,
                         Context(context.caller, Within(options_, context, absl::Minutes(30))));
        v1::Artifact stored;
        auto writer = stub_->UploadArtifact(call.get(), &stored);
        v1::UploadArtifactRequest message;
        message.mutable_header()->set_size_bytes(static_cast<int64_t>(artifact.bytes.size()));
        message.mutable_header()->set_media_type(artifact.media_type);
        bool open = writer->Write(message);
        for (size_t at = 0; open && at < artifact.bytes.size(); at += kChunkBytes) {
          message.Clear();
          message.set_chunk(artifact.bytes.substr(at, kChunkBytes));
          open = writer->Write(message);
        }
        writer->WritesDone();
        if (absl::Status s = core::FromGrpcStatus(writer->Finish()); !s.ok()) return s;
        return stored;
      });
}

absl::StatusOr<v1::ModelVersion> RemoteModels::Register(
    const training::RunContext& context, const v1::RunSpec& spec,
    const std::vector<training::ArtifactToUpload>& artifacts, v1::ModelVersion version,
    const std::string& request_id) {
  // The model is created on first use, owned by the squad the run trains for.
  v1::CreateModelRequest create;
  create.mutable_model()->set_name(spec.model_name());
  create.mutable_model()->set_use_case_id(spec.use_case_id());
  create.mutable_model()->set_owner_squad(context.squad);
  create.mutable_model()->set_task(spec.task());
  const absl::Status created = WithRetries(options_, context, "CreateModel", [&] {
    v1::Model model;
    ASSIGN_OR_RETURN(auto call, Context(context.caller, Within(options_, context, kCallTimeout)));
    return core::FromGrpcStatus(stub_->CreateModel(call.get(), create, &model));
  });
  if (!created.ok() && !absl::IsAlreadyExists(created)) return created;
  for (const training::ArtifactToUpload& artifact : artifacts) {
    absl::StatusOr<v1::Artifact> stored = Upload(context, artifact);
    if (!stored.ok()) return stored.status();
    v1::VersionArtifact* entry = version.add_artifacts();
    entry->set_name(artifact.name);
    entry->set_kind(artifact.kind);
    *entry->mutable_artifact() = *stored;
  }
  v1::RegisterVersionRequest request;
  *request.mutable_version() = std::move(version);
  request.set_request_id(request_id);  // A retry after a lost answer finds the same version.
  return WithRetries(
      options_, context, "RegisterVersion", [&]() -> absl::StatusOr<v1::ModelVersion> {
        v1::ModelVersion registered;
        ASSIGN_OR_RETURN(auto call,
                         Context(context.caller, Within(options_, context, kCallTimeout)));
        RETURN_IF_ERROR(
            core::FromGrpcStatus(stub_->RegisterVersion(call.get(), request, &registered)));
        return registered;
      });
}

}  // namespace fabrique::services
