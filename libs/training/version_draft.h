#ifndef FABRIQUE_LIBS_TRAINING_VERSION_DRAFT_H_
#define FABRIQUE_LIBS_TRAINING_VERSION_DRAFT_H_

// What a run registers, drafted from its state once evaluated: the model card's contents, the
// version (signature, metrics, parameters, lineage) and the three artifacts (the TorchScript
// module, the reference profile, the model card).

#include <string>
#include <vector>

#include "fabrique/v1/common.pb.h"
#include "fabrique/v1/registry.pb.h"
#include "libs/training/model_card.h"
#include "libs/training/ports.h"
#include "libs/training/run_state.h"

namespace fabrique::training {

// "linear", or "MLP 32-16, ACTIVATION_RELU, dropout 0.2".
std::string FamilyText(const v1::ModelFamily& family);

// "[2024-01-01T00:00:00Z, now)": the label events a run considered.
std::string RangeText(const v1::TimeRange& range);

// The card of the best trial's model. Needs the dataset, the split and the best trial.
ModelCardInput DraftCard(const RunState& state);

// The version to register, artifacts not yet attached. Needs the card (state.card).
v1::ModelVersion DraftVersion(const RunState& state);

// model.pt, reference_profile.pb and model_card.md.
std::vector<ArtifactToUpload> DraftArtifacts(const RunState& state);

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_VERSION_DRAFT_H_
