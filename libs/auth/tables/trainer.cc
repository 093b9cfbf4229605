// fabrique.v1.Trainer. A run belongs to the squad owning its model. A RunSpec names no squad and
// its model may not exist yet, so submitting needs runs.submit in some squad; the run's data and
// model are then checked for the submitter where they are used, since the trainer reads features
// and registers the version on the submitter's behalf.

#include "libs/auth/method_table.h"
#include "libs/auth/tables/rules.h"

namespace fabrique::auth {

const MethodTable& TrainerMethods() {
  using namespace tables;  // NOLINT(build/namespaces): the table reads as a list.
  static const auto* const table = new MethodTable{
      {"SubmitRun", InAnySquad("runs.submit")},
      {"GetRun", OwnerOf("runs.read", kRun, "run_id")},
      {"ListRuns", InAnySquad("runs.read")},
      {"CancelRun", OwnerOf("runs.cancel", kRun, "run_id")},
      {"WatchRun", OwnerOf("runs.read", kRun, "run_id")},
  };
  return *table;
}

}  // namespace fabrique::auth
