// fabrique.v1.FeatureStore. Entities and groups carry owner_squad; calls that name a group or
// a dataset are checked in its owner's squad. Calls whose features span groups (LookupOnline,
// BuildTrainingSet) need the permission in some squad, and the store keeps them to groups of
// the squads where it is held. Features classified PERSONAL_DATA need features.personal.read
// in their group's squad on top (LookupOnline, ReadHistory, BuildTrainingSet), which the adapter
// checks per group, from the definitions the read resolves.

#include "libs/auth/method_table.h"
#include "libs/auth/tables/rules.h"

namespace fabrique::auth {

const MethodTable& FeatureStoreMethods() {
  using namespace tables;  // NOLINT(build/namespaces): the table reads as a list.
  static const auto* const table = new MethodTable{
      // Creating names the owner; moving an existing entity or group to another squad needs the
      // permission in the squad it leaves too (the adapter checks it).
      {"ApplyEntity", InSquadOf("features.schema.write", "entity.owner_squad")},
      {"GetEntity", OwnerOf("features.schema.read", kEntity, "name")},
      {"ListEntities", InAnySquad("features.schema.read")},
      {"ApplyFeatureGroup", InSquadOf("features.schema.write", "spec.owner_squad")},
      {"ApplyFeatureGroupWithProgress", InSquadOf("features.schema.write", "spec.owner_squad")},
      {"GetFeatureGroup", OwnerOf("features.schema.read", kFeatureGroup, "name")},
      {"ListFeatureGroups", InAnySquad("features.schema.read")},
      {"ListFeatures", InAnySquad("features.schema.read")},
      // Checked on the stream's first batch; a later batch naming another group is checked again.
      {"Ingest", OwnerOf("features.data.write", kFeatureGroup, "group")},
      {"LookupOnline", InAnySquad("features.data.read")},
      {"ReadHistory", OwnerOf("features.data.read", kFeatureGroup, "group")},
      {"BuildTrainingSet", InAnySquad("datasets.build")},
      {"GetDataset", OwnerOf("datasets.read", kDataset, "dataset_id")},
      {"ListDatasets", InAnySquad("datasets.read")},
      {"RecordDatasetUsage", OwnerOf("datasets.record_usage", kDataset, "dataset_id")},
      {"GetFeatureGroupLineage", OwnerOf("features.schema.read", kFeatureGroup, "group")},
      // Data classification is the data steward's; who used and who read personal data are
      // audit questions, answered per squad (or per group), the chain's proof platform-wide.
      {"ClassifyFeatures", OwnerOf("features.classify", kFeatureGroup, "group")},
      {"GetPersonalDataLineage", InSquadOf("audit.read", "owner_squad")},
      {"ListPersonalDataReads", OwnerOf("audit.read", kFeatureGroup, "group")},
      {"VerifyPersonalDataReads", Platform("audit.read")},
  };
  return *table;
}

}  // namespace fabrique::auth
