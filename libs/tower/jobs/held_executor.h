#ifndef FABRIQUE_LIBS_TOWER_JOBS_HELD_EXECUTOR_H_
#define FABRIQUE_LIBS_TOWER_JOBS_HELD_EXECUTOR_H_

// An executor that runs nothing: admitted jobs stay ADMITTED, holding their quota, until they are
// cancelled. For a tower that only schedules (`--executor=none`), e.g. to try quotas and
// priorities, and for restart tests that must see admissions without side effects.

#include "absl/status/status.h"
#include "libs/tower/ports.h"

namespace fabrique::tower {

class HeldExecutor : public JobExecutor {
 public:
  absl::Status Start(const v1::Job&, ExecutionSink*) override { return absl::OkStatus(); }
  absl::Status Follow(const v1::Job&, ExecutionSink*) override { return absl::OkStatus(); }
  absl::Status Stop(const v1::Job&, absl::string_view) override { return absl::OkStatus(); }
};

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_JOBS_HELD_EXECUTOR_H_
