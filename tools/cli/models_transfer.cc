// `fabrique models upload` and `fabrique models download`: artifact files to and from the
// registry (artifact_transfer.h streams them), and registering uploads as a new version.

#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/core/ids.h"
#include "tools/cli/artifact_transfer.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/input_file.h"
#include "tools/cli/json_file.h"
#include "tools/cli/registry_args.h"
#include "tools/cli/registry_print.h"

namespace fabrique::cli {
namespace {

// What `upload` registers besides the artifacts, from its flags.
struct VersionFlags {
  std::string model;  // --register; empty = upload only.
  std::string name = "model";
  std::string kind = "torchscript_module";
  std::vector<std::string> metrics;
  std::vector<std::string> params;
  std::vector<std::string> tags;
  std::string description;
  std::string signature_json;
  std::string version_json;
  std::string request_id;  // Empty = a new one for this run.
};

// One file to upload and the artifact name it gets in the version.
struct UploadItem {
  std::string name;
  std::string path;
};

// "NAME=PATH" names the artifact; a bare PATH is named --name when it is the only file, and by
// its file name otherwise.
absl::StatusOr<std::vector<UploadItem>> UploadItems(const std::vector<std::string>& args,
                                                    const std::string& default_name) {
  std::vector<UploadItem> items;
  std::set<std::string> names;
  for (const std::string& arg : args) {
    UploadItem item{"", arg};
    const size_t eq = arg.find('=');
    if (eq != std::string::npos && eq > 0 && arg.substr(0, eq).find('/') == std::string::npos) {
      item = {arg.substr(0, eq), arg.substr(eq + 1)};
    } else {
      item.name = args.size() == 1 ? default_name : std::filesystem::path(arg).filename().string();
    }
    if (!names.insert(item.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("two files are named '", item.name, "': name them NAME=PATH"));
    }
    items.push_back(std::move(item));
  }
  return items;
}

// The version to register, before its uploaded artifacts are added. INVALID_ARGUMENT for a
// malformed flag or a JSON file that cannot be read or parsed: a usage error either way.
absl::StatusOr<v1::ModelVersion> VersionFromFlags(const VersionFlags& flags) {
  if (flags.model.empty() &&
      (!flags.metrics.empty() || !flags.params.empty() || !flags.tags.empty() ||
       !flags.signature_json.empty() || !flags.version_json.empty())) {
    return absl::InvalidArgumentError(
        "--metric, --param, --tag, --signature and --version_json need --register MODEL");
  }
  v1::ModelVersion version;
  if (!flags.version_json.empty()) {
    if (absl::Status read = ReadJsonFile(flags.version_json, &version); !read.ok()) return read;
  }
  if (!flags.signature_json.empty()) {
    absl::Status read = ReadJsonFile(flags.signature_json, version.mutable_signature());
    if (!read.ok()) return read;
  }
  version.set_model(flags.model);
  for (const std::string& text : flags.metrics) {
    absl::StatusOr<v1::Metric> metric = ParseMetric(text);
    if (!metric.ok()) return metric.status();
    *version.add_metrics() = *metric;
  }
  if (absl::Status s = AddKeyValues(flags.params, "param", version.mutable_params()); !s.ok()) {
    return s;
  }
  if (absl::Status s = AddKeyValues(flags.tags, "tag", version.mutable_tags()); !s.ok()) return s;
  if (!flags.description.empty()) version.set_description(flags.description);
  return version;
}

// Declares --progress (on by default; redrawn in place when stderr is a terminal) and
// --stream_timeout, bound to `options`; `what` names the stream in the help.
void AddTransferFlags(core::FlagSet* flags, TransferOptions* options, const std::string& what) {
  options->progress = true;
  options->terminal = isatty(STDERR_FILENO) == 1;
  flags->Add("progress", &options->progress, "Show progress on stderr (--noprogress to hide it)");
  flags->Add("stream_timeout", &options->timeout, "Deadline of " + what);
}

// Hashes and uploads each item, printing its digest, and adds it to `version`'s artifacts: the
// one named `main_name` as `main_kind`, the others as OTHER.
absl::Status UploadAll(const RegistryClient& client, const std::vector<UploadItem>& items,
                       const std::string& media_type, const TransferOptions& options,
                       const std::string& main_name, v1::ArtifactKind main_kind,
                       v1::ModelVersion* version) {
  for (const UploadItem& item : items) {
    absl::StatusOr<FileDigest> digest = HashFile(item.path, options);
    if (!digest.ok()) return digest.status();
    const std::string type = media_type.empty() ? MediaTypeForPath(item.path) : media_type;
    absl::StatusOr<UploadResult> uploaded = UploadFile(client, item.path, *digest, type, options);
    if (!uploaded.ok()) return uploaded.status();
    std::cout << uploaded->artifact.sha256() << "  " << item.path << "  ("
              << FormatBytes(uploaded->artifact.size_bytes()) << ", "
              << (uploaded->already_held ? "already held" : "uploaded") << ")\n";
    v1::VersionArtifact* artifact = version->add_artifacts();
    artifact->set_name(item.name);
    artifact->set_kind(item.name == main_name ? main_kind : v1::ARTIFACT_KIND_OTHER);
    *artifact->mutable_artifact() = uploaded->artifact;
  }
  return absl::OkStatus();
}

}  // namespace

int RunModelsUpload(const std::vector<std::string>& args) {
  RegistryFlags registry;
  VersionFlags version_flags;
  std::string media_type;
  TransferOptions transfer;
  core::FlagSet flags(
      "fabrique models upload",
      "Uploads files as content-addressed artifacts: each is hashed first (SHA-256, streaming), "
      "then sent in 4 MiB chunks with a progress bar on stderr; its digest is printed. A file the "
      "registry already holds is stored once: it answers as soon as it sees the digest, and "
      "sending stops there. With --register MODEL the uploads become the "
      "artifacts of a new version of MODEL.");
  flags.set_usage_args("[flags] FILE|NAME=FILE...");
  AddRegistryFlags(&flags, &registry);
  flags.Add("media_type", &media_type,
            "MIME type of the files; empty = from the extension (.pt: application/x-torchscript)");
  AddTransferFlags(&flags, &transfer, "each file's upload");
  flags.Add("register", &version_flags.model, "Register a new version of this model");
  flags.Add("name", &version_flags.name, "Artifact name of a single FILE given without NAME=");
  flags.Add("kind", &version_flags.kind,
            "Kind of the artifact named --name: torchscript_module, reference_profile, "
            "model_card or other (the others are 'other')");
  flags.Add("metric", &version_flags.metrics,
            "NAME=VALUE evaluation metric (validation split), repeatable");
  flags.Add("param", &version_flags.params, "KEY=VALUE training parameter, repeatable");
  flags.Add("tag", &version_flags.tags, "KEY=VALUE version tag, repeatable");
  flags.Add("description", &version_flags.description, "Version description");
  flags.Add("request_id", &version_flags.request_id,
            "Idempotency key of the registration: run again with the same key (e.g. the training "
            "run's id) and you get the version the first run registered, not a second one. "
            "Default: a new key each run (the command's own retries reuse it)");
  flags.Add("signature", &version_flags.signature_json,
            "FILE.json: the version's ModelSignature in protobuf JSON");
  flags.Add("version_json", &version_flags.version_json,
            "FILE.json: the whole ModelVersion in protobuf JSON (lineage...); the other flags "
            "and the uploads are added to it");
  flags.set_epilog(
      "Exit codes: 0 uploaded (and registered), 1 failure (nothing is registered unless every\n"
      "file was uploaded), 2 bad usage (a file that cannot be read included: nothing is sent).");
  core::ParsedArgs parsed;
  if (auto code =
          ParseCommandArgs(flags, args, 1, 1000, "FILE or NAME=FILE, one or more", &parsed)) {
    return *code;
  }
  absl::StatusOr<std::vector<UploadItem>> items =
      UploadItems(parsed.positional, version_flags.name);
  if (!items.ok()) return BadUsage(flags, items.status().message());
  absl::StatusOr<v1::ArtifactKind> kind = ParseArtifactKind(version_flags.kind);
  if (!kind.ok()) return BadUsage(flags, kind.status().message());
  absl::StatusOr<v1::ModelVersion> version = VersionFromFlags(version_flags);
  if (!version.ok()) return BadUsage(flags, version.status().message());
  // Every file is checked before the first is sent, so a typo in the last one uploads nothing.
  for (const UploadItem& item : *items) {
    if (absl::Status usable = CheckInputFile(item.path); !usable.ok()) {
      return BadInput(flags.program(), usable);
    }
  }

  absl::StatusOr<RegistryClient> client = RegistryClient::Connect(registry);
  if (!client.ok()) return Fail(flags.program(), client.status());
  const absl::Status uploaded =
      UploadAll(*client, *items, media_type, transfer, version_flags.name, *kind, &*version);
  if (!uploaded.ok()) return Fail(flags.program(), uploaded);
  if (version_flags.model.empty()) return 0;
  v1::RegisterVersionRequest request;
  *request.mutable_version() = *std::move(version);
  request.set_request_id(version_flags.request_id.empty() ? core::IdGenerator::Default().Next()
                                                          : version_flags.request_id);
  absl::StatusOr<v1::ModelVersion> registered = client->CallIdempotent(
      &RegistryStub::RegisterVersion, request, "RegisterVersion " + version_flags.model);
  if (!registered.ok()) return Fail(flags.program(), registered.status());
  std::cout << "registered " << registered->model() << ":" << registered->version() << "\n";
  return 0;
}

namespace {

// The digest `text` names: itself, or the artifact of the version it names (by its /ARTIFACT,
// else the only one, else the one called "model").
absl::StatusOr<std::string> ResolveArtifact(const RegistryClient& client, const std::string& text,
                                            const VersionSpec& spec) {
  v1::GetVersionRequest request;
  *request.mutable_ref() = spec.ref;
  absl::StatusOr<v1::ModelVersion> version =
      client.Call(&RegistryStub::GetVersion, request, "GetVersion " + text);
  if (!version.ok()) return version.status();
  std::vector<std::string> names;
  const v1::VersionArtifact* chosen = nullptr;
  for (const v1::VersionArtifact& a : version->artifacts()) {
    names.push_back(a.name());
    if (a.name() == spec.artifact || (spec.artifact.empty() && a.name() == "model")) chosen = &a;
  }
  if (spec.artifact.empty() && version->artifacts_size() == 1) chosen = &version->artifacts(0);
  if (chosen != nullptr) return chosen->artifact().sha256();
  const std::string where = absl::StrCat(version->model(), ":", version->version());
  if (names.empty()) return absl::NotFoundError(absl::StrCat(where, " has no artifacts"));
  return absl::NotFoundError(absl::StrCat(
      spec.artifact.empty() ? absl::StrCat("say which artifact of ", where, " with /NAME")
                            : absl::StrCat(where, " has no artifact '", spec.artifact, "'"),
      ": it has ", absl::StrJoin(names, ", ")));
}

}  // namespace

int RunModelsDownload(const std::vector<std::string>& args) {
  RegistryFlags registry;
  std::string output;
  bool resume = false;
  TransferOptions transfer;
  core::FlagSet flags(
      "fabrique models download",
      "Downloads an artifact, by SHA-256 or as NAME:VERSION[/ARTIFACT] or NAME@ALIAS[/ARTIFACT] "
      "(the artifact may be left out when the version has one, or one called 'model'), to "
      "PATH.partial, verifies its SHA-256, then renames it to PATH. A failed download keeps "
      "PATH.partial; --resume continues from its size.");
  flags.set_usage_args("[flags] SHA256|NAME:VERSION[/ARTIFACT]|NAME@ALIAS[/ARTIFACT] -o PATH");
  AddRegistryFlags(&flags, &registry);
  flags.Add("output", &output, "PATH to write (required)");
  flags.Add("o", &output, "Same as --output");
  flags.Add("resume", &resume, "Continue from PATH.partial, if there is one");
  AddTransferFlags(&flags, &transfer, "the download");
  flags.set_epilog("Exit codes: 0 downloaded and verified, 1 failure, 2 bad usage.");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one SHA256 or version reference", &parsed)) {
    return *code;
  }
  if (output.empty()) return BadUsage(flags, "-o PATH is required");
  const std::string& ref = parsed.positional[0];
  absl::StatusOr<VersionSpec> spec = ParseVersionSpec(ref, /*allow_artifact=*/true);
  if (!IsSha256(ref) && !spec.ok()) return BadUsage(flags, spec.status().message());
  absl::StatusOr<RegistryClient> client = RegistryClient::Connect(registry);
  if (!client.ok()) return Fail(flags.program(), client.status());
  absl::StatusOr<std::string> sha256 = IsSha256(ref) ? ref : ResolveArtifact(*client, ref, *spec);
  if (!sha256.ok()) return Fail(flags.program(), sha256.status());
  absl::StatusOr<DownloadResult> downloaded =
      DownloadFile(*client, *sha256, output, resume, transfer);
  if (!downloaded.ok()) return Fail(flags.program(), downloaded.status());
  std::cout << *sha256 << "  " << output << "  (" << FormatBytes(downloaded->size_bytes)
            << ", verified"
            << (downloaded->resumed_from > 0
                    ? absl::StrCat(", resumed after ", downloaded->resumed_from, " bytes")
                    : "")
            << ")\n";
  return 0;
}

}  // namespace fabrique::cli
