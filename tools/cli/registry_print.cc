#include "tools/cli/registry_print.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "tools/cli/registry_args.h"

namespace fabrique::cli {
namespace {

constexpr int kLabelWidth = 14;

// "label:        value\n", or nothing when `value` is empty.
void Field(std::ostream& out, absl::string_view label, absl::string_view value) {
  if (value.empty()) return;
  out << absl::StrFormat("%-*s %s\n", kLabelWidth, absl::StrCat(label, ":"), value);
}

std::string JoinMap(const google::protobuf::Map<std::string, std::string>& map) {
  const std::map<std::string, std::string> sorted(map.begin(), map.end());
  return absl::StrJoin(sorted, ", ", absl::PairFormatter("="));
}

std::string FeatureText(const v1::VersionedFeatureRef& feature) {
  return absl::StrCat(feature.ref().group(), ":", feature.ref().feature(), " (schema v",
                      feature.schema_version(), ")");
}

void PrintTensors(const char* label,
                  const google::protobuf::RepeatedPtrField<v1::TensorSpec>& tensors,
                  std::ostream& out) {
  for (const v1::TensorSpec& t : tensors) {
    std::string line = absl::StrFormat("  %-7s %-20s %-6s [%s]", label, t.name(), t.datatype(),
                                       absl::StrJoin(t.shape(), ","));
    if (t.has_feature()) absl::StrAppend(&line, "  feature ", FeatureText(t.feature()));
    if (!t.description().empty()) absl::StrAppend(&line, "  ", t.description());
    out << line << "\n";
  }
}

void PrintSignature(const v1::ModelSignature& signature, std::ostream& out) {
  if (signature.inputs().empty() && signature.outputs().empty()) return;
  out << "signature:\n";
  PrintTensors("input", signature.inputs(), out);
  PrintTensors("output", signature.outputs(), out);
  if (!signature.class_labels().empty()) {
    out << "  classes " << absl::StrJoin(signature.class_labels(), ", ") << "\n";
  }
}

void PrintLineage(const v1::VersionLineage& lineage, std::ostream& out) {
  std::vector<std::string> features;
  for (const v1::VersionedFeatureRef& f : lineage.features()) features.push_back(FeatureText(f));
  const std::string parent =
      lineage.parent_version() > 0 ? absl::StrCat("version ", lineage.parent_version()) : "";
  if (lineage.dataset_ids().empty() && features.empty() && lineage.trainer_run_id().empty() &&
      lineage.code_version().empty() && parent.empty()) {
    return;
  }
  out << "lineage:\n";
  auto line = [&](absl::string_view label, absl::string_view value) {
    if (!value.empty()) out << absl::StrFormat("  %-13s %s\n", label, value);
  };
  line("datasets", absl::StrJoin(lineage.dataset_ids(), ", "));
  line("features", absl::StrJoin(features, ", "));
  line("trainer run", lineage.trainer_run_id());
  line("code version", lineage.code_version());
  line("parent", parent);
}

}  // namespace

std::string FormatTimestamp(const google::protobuf::Timestamp& time) {
  if (time.seconds() == 0 && time.nanos() == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%SZ", absl::FromUnixSeconds(time.seconds()),
                          absl::UTCTimeZone());
}

std::string FormatBytes(int64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  return absl::StrFormat("%.1f %s", value, kUnits[unit]);
}

std::string FormatPrincipal(const v1::Principal& who) {
  if (who.subject().empty()) return "-";
  return who.squad().empty() ? who.subject() : absl::StrCat(who.subject(), " (", who.squad(), ")");
}

std::string MetricsSummary(const v1::ModelVersion& version) {
  std::vector<std::string> parts;
  for (const v1::Metric& m : version.metrics()) {
    parts.push_back(absl::StrCat(m.name(), "=", m.value()));
  }
  return absl::StrJoin(parts, " ");
}

std::string AliasesSummary(const v1::Model& model) {
  if (model.aliases().empty()) return "-";
  const std::map<std::string, int64_t> sorted(model.aliases().begin(), model.aliases().end());
  return absl::StrJoin(sorted, ", ", absl::PairFormatter("="));
}

void PrintModel(const v1::Model& model, const std::vector<v1::Alias>& aliases, std::ostream& out) {
  Field(out, "model", model.name());
  Field(out, "squad", model.owner_squad());
  Field(out, "use case", model.use_case_id());
  Field(out, "task", TaskName(model.task()));
  Field(out, "description", model.description());
  Field(out, "tags", JoinMap(model.tags()));
  Field(out, "created",
        absl::StrCat(FormatTimestamp(model.create_time()), " by ",
                     FormatPrincipal(model.created_by())));
  Field(out, "versions",
        model.latest_version() == 0 ? "none yet" : absl::StrCat(model.latest_version()));
  if (aliases.empty()) return;
  out << "aliases:\n";
  for (const v1::Alias& alias : aliases) {
    std::string line =
        absl::StrFormat("  %-16s -> %-4d set %s by %s", alias.name(), alias.version(),
                        FormatTimestamp(alias.update_time()), FormatPrincipal(alias.updated_by()));
    if (!alias.promotion_request_id().empty()) {
      absl::StrAppend(&line, " (promotion ", alias.promotion_request_id(), ")");
    }
    out << line << "\n";
  }
}

void PrintVersion(const v1::ModelVersion& version, std::ostream& out) {
  Field(out, "version", absl::StrCat(version.model(), ":", version.version()));
  Field(out, "state", ShortEnumName(v1::VersionState_Name(version.state()), "VERSION_STATE_"));
  Field(out, "registered",
        absl::StrCat(FormatTimestamp(version.register_time()), " by ",
                     FormatPrincipal(version.registered_by())));
  if (version.state() == v1::VERSION_STATE_ARCHIVED) {
    Field(out, "archived", FormatTimestamp(version.archive_time()));
  }
  Field(out, "aliases", absl::StrJoin(version.aliases(), ", "));
  Field(out, "description", version.description());
  Field(out, "tags", JoinMap(version.tags()));
  if (!version.artifacts().empty()) out << "artifacts:\n";
  for (const v1::VersionArtifact& a : version.artifacts()) {
    out << absl::StrFormat("  %-16s %-18s %10s  %s  %s\n", a.name(),
                           ShortEnumName(v1::ArtifactKind_Name(a.kind()), "ARTIFACT_KIND_"),
                           FormatBytes(a.artifact().size_bytes()), a.artifact().sha256(),
                           a.artifact().media_type());
  }
  PrintSignature(version.signature(), out);
  if (!version.metrics().empty()) out << "metrics:\n";
  for (const v1::Metric& m : version.metrics()) {
    std::string line =
        absl::StrFormat("  %-16s %-10g %s", m.name(), m.value(),
                        m.higher_is_better() ? "higher is better" : "lower is better");
    if (m.has_baseline()) absl::StrAppend(&line, ", baseline ", m.baseline().value());
    if (!m.split().empty()) absl::StrAppend(&line, ", on ", m.split());
    out << line << "\n";
  }
  if (!version.params().empty()) out << "params:\n";
  const std::map<std::string, std::string> params(version.params().begin(), version.params().end());
  for (const auto& [key, value] : params) out << "  " << key << " = " << value << "\n";
  PrintLineage(version.lineage(), out);
}

void PrintPromotion(const v1::PromotionRequest& request, std::ostream& out) {
  Field(out, "request", request.id().empty() ? "none (dry run: nothing stored)" : request.id());
  Field(out, "state", ShortEnumName(v1::PromotionState_Name(request.state()), "PROMOTION_STATE_"));
  Field(out, "alias",
        absl::StrCat(request.model(), "@", request.alias(), " -> version ", request.version(),
                     request.previous_version() > 0
                         ? absl::StrCat(" (from version ", request.previous_version(), ")")
                         : " (from none)"));
  Field(out, "requested",
        absl::StrCat(FormatTimestamp(request.create_time()), " by ",
                     FormatPrincipal(request.requested_by())));
  Field(out, "comment", request.comment());
  if (!request.gates().empty()) out << "gates:\n";
  for (const v1::GateEvaluation& gate : request.gates()) {
    const std::string state = ShortEnumName(v1::GateState_Name(gate.state()), "GATE_STATE_");
    out << absl::StrFormat("  %-8s %s: %s\n", absl::AsciiStrToUpper(state), gate.description(),
                           gate.explanation());
  }
  if (!request.decisions().empty()) out << "decisions:\n";
  for (const v1::PromotionDecision& d : request.decisions()) {
    std::string line =
        absl::StrFormat("  %-8s by %s at %s", d.approved() ? "approved" : "rejected",
                        FormatPrincipal(d.decided_by()), FormatTimestamp(d.decide_time()));
    if (!d.comment().empty()) absl::StrAppend(&line, ": ", d.comment());
    out << line << "\n";
  }
}

void PrintPolicy(const v1::PromotionPolicy& policy, std::ostream& out) {
  Field(out, "policy", absl::StrCat(policy.model(), "@", policy.alias()));
  const bool gated = !policy.metric_gates().empty() || !policy.no_regression_gates().empty() ||
                     policy.require_compatible_signature() || !policy.approval_gates().empty() ||
                     !policy.monitor_comparison_gates().empty();
  if (!gated && policy.allowed_roles().empty()) {
    out << "no gates: SetAlias moves it directly ('fabrique models alias')\n";
    return;
  }
  Field(out, "updated",
        absl::StrCat(FormatTimestamp(policy.update_time()), " by ",
                     FormatPrincipal(policy.updated_by())));
  Field(out, "moved by", absl::StrJoin(policy.allowed_roles(), ", "));
  out << "gates:\n";
  for (const v1::MetricThreshold& t : policy.metric_gates()) {
    out << "  metric        " << t.metric() << " " << ComparisonText(t.op()) << " " << t.value()
        << "\n";
  }
  for (const v1::NoRegressionGate& g : policy.no_regression_gates()) {
    out << "  no regression " << g.metric() << " (" << (g.higher_is_better() ? "higher" : "lower")
        << " is better), tolerance " << g.tolerance() << "\n";
  }
  if (policy.require_compatible_signature()) {
    out << "  signature     compatible with the current holder's\n";
  }
  for (const v1::MonitorComparisonGate& g : policy.monitor_comparison_gates()) {
    out << "  monitor       " << (g.metric().empty() ? "primary metric" : g.metric())
        << " on live traffic no worse than the holder's by more than " << g.max_degradation()
        << ", " << (g.min_labelled() > 0 ? absl::StrCat(g.min_labelled()) : "default")
        << " labelled each, over "
        << (g.has_window() ? absl::FormatDuration(absl::Seconds(g.window().seconds()))
                           : "the monitor's window")
        << "\n";
  }
  for (const v1::ApprovalGate& g : policy.approval_gates()) {
    out << "  approval      " << g.required_approvals() << " from " << g.role()
        << (g.allow_self_approval() ? " (the requester's own counts)" : "") << "\n";
  }
  if (!gated) out << "  (none: only the roles above may move it, directly)\n";
}

}  // namespace fabrique::cli
