// RegistryStore's appended evaluations: results about a version learnt after it was registered
// (a capacity test's latency, a fairness review), kept with the version, each with its author and
// date, so promotion gates and standards can read them while the version stays as registered.

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/registry/registry_records.h"
#include "libs/registry/registry_store.h"

namespace fabrique::registry {
namespace {

// Enough for years of nightly capacity tests; beyond, a version record would grow without bound.
constexpr int kMaxEvaluations = 1000;

absl::Status CheckEvaluation(const v1::VersionEvaluation& evaluation) {
  RETURN_IF_ERROR(records::CheckName(evaluation.kind(), "evaluation kind"));
  for (const v1::Metric& metric : evaluation.metrics()) {
    if (metric.name().empty()) {
      return absl::InvalidArgumentError(absl::StrCat("a metric of the '", evaluation.kind(),
                                                     "' evaluation has no name: name each metric"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::ModelVersion> RegistryStore::AppendEvaluation(const std::string& model,
                                                                 int64_t number,
                                                                 v1::VersionEvaluation evaluation,
                                                                 const v1::Principal& caller) {
  RETURN_IF_ERROR(CheckEvaluation(evaluation));
  absl::MutexLock lock(&writer_);
  ASSIGN_OR_RETURN(v1::ModelVersion version, ReadVersion(model, number));
  if (version.evaluations_size() >= kMaxEvaluations) {
    return absl::ResourceExhaustedError(
        absl::StrCat(records::VersionWhat(model, number), " already has ", kMaxEvaluations,
                     " evaluations: register a new version to evaluate further"));
  }
  *evaluation.mutable_evaluated_by() = caller;
  *evaluation.mutable_create_time() = Now();
  *version.add_evaluations() = evaluation;
  kv::WriteBatch batch;
  batch.Put(family_, records::VersionKey(model, number), version.SerializeAsString());
  Mutation mutation{caller, "version.evaluate",
                    absl::StrCat("models/", model, "/versions/", number, "/evaluations"), "",
                    records::Json(evaluation)};
  ASSIGN_OR_RETURN(const v1::Model found, GetModel(model));
  records::FillAliases(found, &version);
  *mutation.events.emplace_back(records::Event(v1::WATCH_EVENT_TYPE_VERSION_EVALUATED, model))
       .mutable_version() = version;
  RETURN_IF_ERROR(Commit(std::move(batch), std::move(mutation)));
  return version;
}

}  // namespace fabrique::registry
