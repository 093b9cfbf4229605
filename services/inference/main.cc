// fabrique-inference: the inference server binary (see --help). Serves registry models over the
// Open Inference Protocol and by entity key; its only state is a cache of modules and of the
// last serving plan, so a restart while the registry is down serves what it served before.
// Wired in one function, in order: flags -> storage -> ports -> cores -> services -> server.

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "libs/client/channel.h"
#include "libs/core/cpus.h"
#include "libs/core/status_macros.h"
#include "libs/core/version.h"
#include "libs/server/access_wiring.h"
#include "libs/server/service_flags.h"
#include "libs/server/service_host.h"
#include "libs/serving/artifact_cache.h"
#include "libs/serving/feature_lookup_batcher.h"
#include "libs/serving/model_set.h"
#include "libs/serving/plan_store.h"
#include "libs/serving/prediction_logger.h"
#include "libs/serving/registry_follower.h"
#include "libs/serving/torchscript_loader.h"
#include "services/inference/batching_config.h"
#include "services/inference/capacity_validation.h"
#include "services/inference/entity_inference_service.h"
#include "services/inference/feature_client_port.h"
#include "services/inference/inference_metrics.h"
#include "services/inference/monitor_client_port.h"
#include "services/inference/open_inference_service.h"
#include "services/inference/readiness.h"
#include "services/inference/registry_client_port.h"
#include "services/inference/serving_view.h"

namespace fabrique::services {
namespace {

// Set by the flags below.
struct InferenceFlags {
  std::string data_dir = "fabrique-data/inference";
  std::string cache_dir;
  std::string registry_target = "127.0.0.1:7102";
  std::string features_target = "127.0.0.1:7101";
  std::string monitor_target = "127.0.0.1:7105";
  std::string models;
  std::string squad;
  std::string device = "auto";
  int max_batch_size = 32;
  int max_queue_delay_us = 200;
  std::string preferred_batch_sizes;
  int instances = 1;
  int intra_op_threads = 0;
  int max_queue_rows = 4096;
  std::string batching_file;
  int loader_threads = 1;
};
InferenceFlags inference_flags;

absl::StatusOr<serving::BatcherOptions> Batching(const InferenceFlags& f) {
  serving::BatcherOptions batching;
  batching.max_batch_size = f.max_batch_size;
  batching.max_queue_delay = absl::Microseconds(f.max_queue_delay_us);
  ASSIGN_OR_RETURN(batching.preferred_batch_sizes,
                   ParseBatchSizes(f.preferred_batch_sizes, "--preferred_batch_sizes"));
  batching.instances = f.instances;
  batching.max_queue_rows = f.max_queue_rows;
  return batching;
}

serving::ModelSelector Selector(const InferenceFlags& f) {
  serving::ModelSelector selector;
  for (absl::string_view model : absl::StrSplit(f.models, ',', absl::SkipWhitespace())) {
    selector.models.emplace_back(absl::StripAsciiWhitespace(model));
  }
  selector.squad = f.squad;
  return selector;
}

absl::Status Run(const server::ServiceFlags& flags) {
  const InferenceFlags& f = inference_flags;
  if (f.device != "auto" && f.device != "cpu" && f.device != "cuda") {
    return absl::InvalidArgumentError(
        absl::StrCat("--device=", f.device, " is not one of auto, cpu, cuda"));
  }
  // Storage: modules and the last plan under DATA_DIR/model_cache.
  const std::string cache_dir =
      f.cache_dir.empty() ? absl::StrCat(f.data_dir, "/model_cache") : f.cache_dir;
  // Ports: the registry (plans, modules) and the monitor (the prediction log), as this server.
  ASSIGN_OR_RETURN(auto registry_channel,
                   client::MakeChannel(flags.PeerChannel(f.registry_target)));
  ASSIGN_OR_RETURN(auto registry,
                   RegistryClientPort::Create({registry_channel, f.registry_target}));
  std::unique_ptr<MonitorClientPort> monitor;
  if (!f.monitor_target.empty()) {
    ASSIGN_OR_RETURN(auto monitor_channel,
                     client::MakeChannel(flags.PeerChannel(f.monitor_target)));
    monitor = std::make_unique<MonitorClientPort>(monitor_channel, f.monitor_target);
  }
  // The feature store, read online for entity requests by unary calls on gRPC's callback API;
  // concurrent lookups batched together.
  ASSIGN_OR_RETURN(auto features_channel,
                   client::MakeChannel(flags.PeerChannel(f.features_target)));
  FeatureClientPort features(features_channel, f.features_target);
  ASSIGN_OR_RETURN(auto feature_lookups, serving::FeatureLookupBatcher::Create({&features}));
  ASSIGN_OR_RETURN(auto cache, serving::ArtifactCache::Create({cache_dir, registry.get()}));
  ASSIGN_OR_RETURN(auto plans, serving::PlanStore::Create({cache_dir}));
  // The host first, for its metrics registry: the cores report to InferenceMetrics from the start.
  ASSIGN_OR_RETURN(auto host, server::ServiceHost::Create(flags.host));
  InferenceMetrics metrics(host->metrics());
  // Cores: the loader, the model set (warm-up at the preferred sizes and the largest batch), the
  // prediction log, the follower that feeds the set its plans.
  ASSIGN_OR_RETURN(serving::BatcherOptions batching, Batching(f));
  std::map<std::string, serving::BatcherOptions> by_model;
  if (!f.batching_file.empty()) {
    ASSIGN_OR_RETURN(by_model, ReadBatchingFile(f.batching_file, batching));
  }
  serving::TorchScriptLoaderOptions loader_options;
  // By default the cores are shared among the instances, so that they do not all run on every
  // core at once.
  loader_options.intra_op_threads =
      f.intra_op_threads > 0 ? f.intra_op_threads
                             : std::max(1, core::UsableCpus() / std::max(1, f.instances));
  ASSIGN_OR_RETURN(auto loader, serving::TorchScriptLoader::Create(loader_options));
  serving::ModelSetOptions set_options;
  set_options.loader = loader.get();
  set_options.fetch_module = [cache = cache.get()](const v1::ModelVersion& version) {
    return cache->FetchModule(version);
  };
  set_options.load.device = f.device;
  set_options.batching = batching;
  set_options.batching_by_model = by_model;
  set_options.loader_threads = f.loader_threads;
  set_options.observer = &metrics;
  ASSIGN_OR_RETURN(auto models, serving::ModelSet::Create(std::move(set_options)));
  ASSIGN_OR_RETURN(auto logger, serving::PredictionLogger::Create(
                                    {.monitor = monitor.get(), .observer = &metrics}));
  ServingView view({models.get(), batching, by_model});
  serving::RegistryFollowerOptions follower_options;
  follower_options.registry = registry.get();
  follower_options.selector = Selector(f);
  follower_options.cache = cache.get();
  follower_options.plan_store = plans.get();
  follower_options.on_plan = [&view](const serving::ServingPlan& plan) { view.OnPlan(plan); };
  ASSIGN_OR_RETURN(auto follower, serving::RegistryFollower::Create(std::move(follower_options)));
  view.SetFollower(follower.get());
  // Identity: the guard every call is checked by, and fabrique.v1.Access (whoami, can-i).
  ASSIGN_OR_RETURN(auto access, server::ServeAccess(flags, host.get()));
  // Capacity validation: a version loaded beside the served ones, measured, recorded.
  CapacityValidationOptions capacity_options;
  capacity_options.registry = registry.get();
  capacity_options.models = models.get();
  capacity_options.batching = batching;
  capacity_options.batching_by_model = by_model;
  CapacityValidation capacity(std::move(capacity_options));
  // Services.
  OpenInferenceService open_inference(
      {core::kVersion, access->guard(), &view, logger.get(), &metrics});
  EntityPredictOptions predict;
  predict.features = feature_lookups.get();
  predict.logger = logger.get();
  predict.metrics = &metrics;
  predict.capacity = &capacity;
  EntityInferenceService entity_inference(access->guard(), &view, predict);
  const std::vector<std::string> served = {inference::GRPCInferenceService::service_full_name(),
                                           fabrique::v1::EntityInference::service_full_name(), ""};
  host->AddService(&open_inference, served[0], std::string(flags.info->area));
  host->AddService(&entity_inference, served[1], std::string(flags.info->area));
  // Server: binds, then reports NOT_SERVING until a plan is applied and every primary is READY.
  RETURN_IF_ERROR(host->Start());
  std::unique_ptr<ReadinessWatch> readiness;
  host->OnShutdown([&readiness] {
    if (readiness != nullptr) readiness->Stop();  // Health goes NOT_SERVING with the host.
  });
  readiness =
      std::make_unique<ReadinessWatch>(ReadinessOptions{&view,
                                                        [&host, &served](bool ready) {
                                                          for (const std::string& name : served)
                                                            host->SetServing(name, ready);
                                                        },
                                                        &metrics});
  follower->Start();
  // Serves until SIGTERM/SIGINT: health NOT_SERVING, calls in flight answered, then the cores
  // stop in turn; the follower last, since its Stop shuts the registry port downloads use.
  const absl::Status served_status = host->Run();
  readiness->Stop();
  feature_lookups->Stop();
  models->Stop();
  logger->Stop(absl::Now() + absl::Seconds(5));
  follower->Stop();
  return served_status;
}

void AddFlags(core::FlagSet& flags) {
  InferenceFlags& f = inference_flags;
  flags.Add("data_dir", &f.data_dir, "Folder of this server's cache; created if missing");
  flags.Add("cache_dir", &f.cache_dir,
            "Folder of the module cache and the last serving plan; \"\" = DATA_DIR/model_cache");
  flags.Add("registry_target", &f.registry_target,
            "host:port of the model registry the served models come from");
  flags.Add("features_target", &f.features_target,
            "host:port of the feature store entity requests read features from");
  flags.Add("monitor_target", &f.monitor_target,
            "host:port of the monitor predictions are logged to; \"\" = no prediction log");
  flags.Add("models", &f.models, "Comma list of the models to serve; \"\" = see --squad");
  flags.Add("squad", &f.squad,
            "Serve every model this squad owns (without --models); \"\" and no --models = every "
            "model with a production version");
  flags.Add("device", &f.device, "Where modules run: auto (CUDA when present), cpu or cuda");
  flags.Add("max_batch_size", &f.max_batch_size,
            "Rows per model call, at most (also the most rows one request may carry)");
  flags.Add("max_queue_delay_us", &f.max_queue_delay_us,
            "Microseconds a request waits for others to join its batch, at most");
  flags.Add("preferred_batch_sizes", &f.preferred_batch_sizes,
            "Comma list of batch sizes (rows) dispatched at once when reached; \"\" = none");
  flags.Add("instances", &f.instances, "Model calls running at once per version (threads)");
  flags.Add("intra_op_threads", &f.intra_op_threads,
            "Threads one model call uses for its operators; 0 = the usable cores divided by "
            "--instances (at least 1)");
  flags.Add("max_queue_rows", &f.max_queue_rows,
            "Rows waiting per version, at most; beyond, requests get RESOURCE_EXHAUSTED");
  flags.Add("batching_file", &f.batching_file,
            "CSV of per-model batching overrides: "
            "model,max_batch_size,max_queue_delay_us,preferred(;-separated),instances");
  flags.Add("loader_threads", &f.loader_threads, "Versions loading at once (threads)");
}

}  // namespace
}  // namespace fabrique::services

int main(int argc, char** argv) {
  return fabrique::server::ServiceMain(argc, argv, "inference", fabrique::services::AddFlags,
                                       fabrique::services::Run);
}
