#ifndef FABRIQUE_SERVICES_TRAINER_TRAINER_SERVICE_H_
#define FABRIQUE_SERVICES_TRAINER_TRAINER_SERVICE_H_

// The gRPC adapter of fabrique.v1.Trainer over the trainer's core (libs/training/run_queue.h):
// each call is first checked by the access guard (libs/server/access.h: who calls, and whether
// the policy lets them in the run's squad), then validates what only the wire can get wrong,
// calls the core with the verified caller, and maps the status. A run belongs to the squad it
// trains for (Run.squad); a submission naming none trains for the submitter's only squad
// (submit_squad.h). Metrics are kept by TrainerMetrics, which the core reports to.

#include "fabrique/v1/trainer.grpc.pb.h"
#include "libs/server/access.h"
#include "libs/training/run_queue.h"
#include "libs/training/run_store.h"

namespace fabrique::services {

class TrainerService final : public v1::Trainer::Service {
 public:
  // None is owned; all must outlive the service.
  TrainerService(training::RunQueue* queue, const training::RunStore* runs,
                 const server::Access* guard);

  grpc::Status SubmitRun(grpc::ServerContext* context, const v1::SubmitRunRequest* request,
                         v1::Run* response) override;
  grpc::Status GetRun(grpc::ServerContext* context, const v1::GetRunRequest* request,
                      v1::Run* response) override;
  grpc::Status ListRuns(grpc::ServerContext* context, const v1::ListRunsRequest* request,
                        v1::ListRunsResponse* response) override;
  grpc::Status CancelRun(grpc::ServerContext* context, const v1::CancelRunRequest* request,
                         v1::Run* response) override;
  grpc::Status WatchRun(grpc::ServerContext* context, const v1::WatchRunRequest* request,
                        grpc::ServerWriter<v1::RunEvent>* writer) override;

 private:
  training::RunQueue* const queue_;
  const training::RunStore* const runs_;
  const server::Access* const guard_;
  // The guard's view of fabrique.v1.Trainer: a run's owner is its squad, read from the store.
  const server::ServiceAccess access_;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_TRAINER_TRAINER_SERVICE_H_
