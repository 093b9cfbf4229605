// fabrique.v1.Trainer. A run belongs to the squad it trains for (SubmitRunRequest.squad, which
// the trainer fills with the submitter's only squad when it is empty): submitting needs
// runs.submit there, and the other calls are checked in the squad owning the run they name. The
// run's data and model are checked again for the submitter where they are used, since the
// trainer builds the training set and registers the version on the submitter's behalf.

#include "libs/auth/method_table.h"
#include "libs/auth/tables/rules.h"

namespace fabrique::auth {

const MethodTable& TrainerMethods() {
  using namespace tables;  // NOLINT(build/namespaces): the table reads as a list.
  static const auto* const table = new MethodTable{
      {"SubmitRun", InSquadOf("runs.submit", "squad")},
      {"GetRun", OwnerOf("runs.read", kRun, "run_id")},
      // Runs are kept to the squads where runs.read is held.
      {"ListRuns", InAnySquad("runs.read")},
      {"CancelRun", OwnerOf("runs.cancel", kRun, "run_id")},
      {"WatchRun", OwnerOf("runs.read", kRun, "run_id")},
  };
  return *table;
}

}  // namespace fabrique::auth
