#ifndef FABRIQUE_TOOLS_CLI_REGISTRY_PRINT_H_
#define FABRIQUE_TOOLS_CLI_REGISTRY_PRINT_H_

// How `fabrique models` shows the registry's records to a person: one "label: value" line per
// field that is set (empty sections are left out), times in UTC, sizes in MiB, gates one per line
// with whether they hold and why.

#include <ostream>
#include <string>
#include <vector>

#include "fabrique/v1/registry.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace fabrique::cli {

// "2024-05-01 12:00:00Z", or "-" when unset.
std::string FormatTimestamp(const google::protobuf::Timestamp& time);
// "512 B", "3.5 KiB", "12.0 MiB", "1.2 GiB".
std::string FormatBytes(int64_t bytes);
// "alice", with " (risk)" when a squad is recorded; "-" for nobody.
std::string FormatPrincipal(const v1::Principal& who);
// "auc=0.91 log_loss=0.2".
std::string MetricsSummary(const v1::ModelVersion& version);
// "production=3, staging=4" (sorted), or "-".
std::string AliasesSummary(const v1::Model& model);

// The model's fields and, one per line, its aliases with who moved them last.
void PrintModel(const v1::Model& model, const std::vector<v1::Alias>& aliases, std::ostream& out);
// One version: state, artifacts, signature, metrics, params, lineage.
void PrintVersion(const v1::ModelVersion& version, std::ostream& out);
// A promotion request: its state, then each gate with passed/FAILED/pending and why.
void PrintPromotion(const v1::PromotionRequest& request, std::ostream& out);
// A promotion policy's gates, or that it has none.
void PrintPolicy(const v1::PromotionPolicy& policy, std::ostream& out);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_REGISTRY_PRINT_H_
