// fabrique.v1.ModelRegistry. A model carries owner_squad, and everything else (versions,
// aliases, policies, promotion requests) belongs to a model, so most calls are checked in the
// squad owning the model they name. Artifacts are content-addressed and shared, so their calls
// need the permission in some squad. Which roles may approve a given alias is the promotion
// policy's business (its approval gates); the table only requires models.approve.

#include "libs/auth/method_table.h"
#include "libs/auth/tables/rules.h"

namespace fabrique::auth {

const MethodTable& ModelRegistryMethods() {
  using namespace tables;  // NOLINT(build/namespaces): the table reads as a list.
  static const auto* const table = new MethodTable{
      {"CreateModel", InSquadOf("models.write", "model.owner_squad")},
      {"GetModel", OwnerOf("models.read", kModel, "name")},
      // Checked in the current owner's squad; moving a model to another squad is checked there
      // too by the registry.
      {"UpdateModel", OwnerOf("models.write", kModel, "model.name")},
      {"ListModels", InAnySquad("models.read")},
      // A version claiming a trainer run also needs models.register_for_run (the registry
      // checks it), so only the trainer can vouch for a run's lineage.
      {"RegisterVersion", OwnerOf("models.write", kModel, "version.model")},
      {"GetVersion", OwnerOf("models.read", kModel, "ref.model")},
      {"ListVersions", InAnySquad("models.read")},
      {"ArchiveVersion", OwnerOf("models.write", kModel, "version.model")},
      {"DeleteVersion", OwnerOf("models.admin", kModel, "version.model")},
      {"UploadArtifact", InAnySquad("models.write")},
      {"DownloadArtifact", InAnySquad("models.read")},
      {"CollectGarbage", Platform("models.admin")},
      {"SetAlias", OwnerOf("models.promote", kModel, "model")},
      {"GetAlias", OwnerOf("models.read", kModel, "model")},
      {"ListAliases", OwnerOf("models.read", kModel, "model")},
      {"DeleteAlias", OwnerOf("models.promote", kModel, "model")},
      {"SetPromotionPolicy", OwnerOf("models.policy.write", kModel, "policy.model")},
      {"GetPromotionPolicy", OwnerOf("models.read", kModel, "model")},
      {"ListPromotionPolicies", OwnerOf("models.read", kModel, "model")},
      {"RequestPromotion", OwnerOf("models.promote", kModel, "model")},
      {"GetPromotionRequest", OwnerOf("models.read", kPromotionRequest, "id")},
      {"ListPromotionRequests", InAnySquad("models.read")},
      {"ApprovePromotion", OwnerOf("models.approve", kPromotionRequest, "id")},
      {"RejectPromotion", OwnerOf("models.reject", kPromotionRequest, "id")},
      {"SetTrafficPolicy", OwnerOf("models.promote", kModel, "policy.model")},
      {"GetTrafficPolicy", OwnerOf("models.read", kModel, "model")},
      {"AppendEvaluation", OwnerOf("models.evaluate", kModel, "version.model")},
      // Standards govern models of every squad (factory-wide or by entity): changing one takes
      // standards.write in every squad; any reader of models may see them.
      {"SetStandard", Platform("standards.write")},
      {"DeleteStandard", Platform("standards.write")},
      {"GetStandard", InAnySquad("models.read")},
      {"ListStandards", InAnySquad("models.read")},
      // Entries are kept to models of the squads where audit.read is held.
      {"ListAuditEntries", InAnySquad("audit.read")},
      // The chain spans every model: verifying it is platform-wide.
      {"VerifyAuditChain", Platform("audit.read")},
      {"Watch", InAnySquad("models.read")},
  };
  return *table;
}

}  // namespace fabrique::auth
