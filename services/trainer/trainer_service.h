#ifndef FABRIQUE_SERVICES_TRAINER_TRAINER_SERVICE_H_
#define FABRIQUE_SERVICES_TRAINER_TRAINER_SERVICE_H_

// The gRPC adapter of fabrique.v1.Trainer over the trainer's core (libs/training/run_queue.h):
// each call validates what only the wire can get wrong, calls the core, and maps the status.
// Metrics are kept by TrainerMetrics, which the core reports to.

#include "fabrique/v1/trainer.grpc.pb.h"
#include "libs/training/run_queue.h"
#include "libs/training/run_store.h"

namespace fabrique::services {

class TrainerService final : public v1::Trainer::Service {
 public:
  // Neither is owned; both must outlive the service.
  TrainerService(training::RunQueue* queue, const training::RunStore* runs)
      : queue_(queue), runs_(runs) {}

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
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_TRAINER_TRAINER_SERVICE_H_
