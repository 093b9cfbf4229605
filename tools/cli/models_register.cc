// `fabrique models register`: brings a model built outside the trainer (a TorchScript file
// scripted or traced by a squad) into the registry as a new version, with the signature
// inference serves it by. Creates the model when it does not exist yet.

#include <unistd.h>

#include <iostream>

#include "absl/strings/str_cat.h"
#include "libs/core/ids.h"
#include "tools/cli/artifact_transfer.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/governance_commands.h"
#include "tools/cli/registry_args.h"
#include "tools/cli/registry_client.h"
#include "tools/cli/registry_print.h"
#include "tools/cli/signature_file.h"

namespace fabrique::cli {
namespace {

constexpr char kModuleName[] = "model.pt";

struct RegisterFlags {
  std::string torchscript;  // The module's file.
  std::string signature;    // Its signature, JSON.
  std::string squad;        // Owner when the model is created.
  std::string use_case;
  std::string entity;
  std::string task = "binary_classification";
  std::vector<std::string> metrics;
  std::vector<std::string> params;
  std::string description;
  std::string request_id;
};

// The version to register (without its artifact), or the usage error to print.
absl::StatusOr<v1::ModelVersion> VersionToRegister(const std::string& model,
                                                   const RegisterFlags& f) {
  v1::ModelVersion version;
  version.set_model(model);
  absl::StatusOr<v1::ModelSignature> signature = ReadSignatureFile(f.signature);
  if (!signature.ok()) return signature.status();
  *version.mutable_signature() = *std::move(signature);
  for (const std::string& text : f.metrics) {
    absl::StatusOr<v1::Metric> metric = ParseMetric(text);
    if (!metric.ok()) return metric.status();
    *version.add_metrics() = *metric;
  }
  if (absl::Status s = AddKeyValues(f.params, "param", version.mutable_params()); !s.ok()) return s;
  version.set_description(f.description);
  return version;
}

// Makes sure `name` exists: creates it, owned by --squad, when it does not.
absl::Status EnsureModel(const RegistryClient& client, const std::string& name,
                         const RegisterFlags& f) {
  v1::GetModelRequest get;
  get.set_name(name);
  absl::StatusOr<v1::Model> found = client.Call(&RegistryStub::GetModel, get, "GetModel " + name);
  if (!absl::IsNotFound(found.status())) return found.status();
  if (f.squad.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "model '", name, "' does not exist: give --squad (and --use_case) to create it"));
  }
  v1::CreateModelRequest create;
  create.mutable_model()->set_name(name);
  create.mutable_model()->set_owner_squad(f.squad);
  create.mutable_model()->set_use_case_id(f.use_case);
  create.mutable_model()->set_entity(f.entity);
  absl::StatusOr<v1::Task> task = ParseTask(f.task);
  if (!task.ok()) return task.status();
  create.mutable_model()->set_task(*task);
  absl::StatusOr<v1::Model> created =
      client.Call(&RegistryStub::CreateModel, create, "CreateModel " + name);
  if (!created.ok()) return created.status();
  std::cout << "created model " << name << " (squad " << f.squad << ")\n";
  return absl::OkStatus();
}

}  // namespace

int RunModelsRegister(const std::vector<std::string>& args) {
  RegistryFlags registry;
  RegisterFlags f;
  core::FlagSet flags(
      "fabrique models register",
      "Registers a TorchScript module as a new version of MODEL: checks the signature file, "
      "creates MODEL when it does not exist (owned by --squad), uploads the file (an artifact "
      "of kind torchscript_module named model.pt) and registers the version with the signature. "
      "The signature is JSON: {\"inputs\": [{\"name\", \"datatype\" (FP32, INT64, BYTES, ...), "
      "\"shape\" ([-1, 1]: -1 any size, the batch first), \"nan_allowed\"}], \"outputs\": "
      "[...], \"class_labels\": [...]}; the module's forward takes one argument per input, in "
      "order. Exit codes: 0 registered, 1 failure, 2 bad usage (a bad signature file included: "
      "the message names the field).");
  flags.set_usage_args("MODEL --torchscript FILE --signature SIG.json [flags]");
  AddRegistryFlags(&flags, &registry);
  flags.Add("torchscript", &f.torchscript, "The module's file (torch.jit.save)");
  flags.Add("signature", &f.signature, "SIG.json: its inputs, outputs and class labels");
  flags.Add("squad", &f.squad, "Squad that owns MODEL, when it must be created");
  flags.Add("use_case", &f.use_case, "Control-tower use case of MODEL, when it is created");
  flags.Add("entity", &f.entity, "Entity MODEL scores (standards scoped to it apply), on creation");
  flags.Add("task", &f.task, "binary_classification, multiclass or regression, on creation");
  flags.Add("metric", &f.metrics, "NAME=VALUE of the version (auc=0.91), repeatable");
  flags.Add("param", &f.params, "KEY=VALUE, repeatable");
  flags.Add("description", &f.description, "Free text");
  flags.Add("request_id", &f.request_id,
            "Idempotency key: a rerun with it gets the version the first run registered");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one MODEL", &parsed)) return *code;
  if (f.torchscript.empty()) return BadUsage(flags, "--torchscript FILE is required");
  if (f.signature.empty()) return BadUsage(flags, "--signature SIG.json is required");
  const std::string& model = parsed.positional[0];
  absl::StatusOr<v1::ModelVersion> version = VersionToRegister(model, f);
  if (!version.ok()) return BadInput(flags.program(), version.status());
  TransferOptions transfer;
  transfer.terminal = isatty(STDERR_FILENO) == 1;
  absl::StatusOr<FileDigest> digest = HashFile(f.torchscript, transfer);
  if (!digest.ok()) return BadInput(flags.program(), digest.status());
  absl::StatusOr<RegistryClient> client = RegistryClient::Connect(registry);
  if (!client.ok()) return Fail(flags.program(), client.status());
  if (absl::Status ensured = EnsureModel(*client, model, f); !ensured.ok()) {
    return Fail(flags.program(), ensured);
  }
  absl::StatusOr<UploadResult> uploaded =
      UploadFile(*client, f.torchscript, *digest, "application/x-torchscript", transfer);
  if (!uploaded.ok()) return Fail(flags.program(), uploaded.status());
  v1::VersionArtifact* artifact = version->add_artifacts();
  artifact->set_kind(v1::ARTIFACT_KIND_TORCHSCRIPT_MODULE);
  artifact->set_name(kModuleName);
  *artifact->mutable_artifact() = uploaded->artifact;
  v1::RegisterVersionRequest request;
  *request.mutable_version() = *std::move(version);
  request.set_request_id(f.request_id.empty() ? core::IdGenerator::Default().Next() : f.request_id);
  absl::StatusOr<v1::ModelVersion> registered =
      client->CallIdempotent(&RegistryStub::RegisterVersion, request, "RegisterVersion " + model);
  if (!registered.ok()) return Fail(flags.program(), registered.status());
  std::cout << "registered " << registered->model() << ":" << registered->version() << "\n";
  PrintVersion(*registered, std::cout);
  return 0;
}

}  // namespace fabrique::cli
