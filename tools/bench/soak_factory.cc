#include "tools/bench/soak_factory.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/util/test_util.h"

namespace fabrique::bench {

std::unique_ptr<SoakFactory> SoakFactory::StartStores(const std::string& dir, bool insecure) {
  std::unique_ptr<SoakFactory> factory(new SoakFactory(dir));
  factory->stack_ = InferenceStack::StartStores(dir, insecure);
  return factory;
}

void SoakFactory::StartServing(const std::string& model,
                               const std::vector<std::string>& inference_flags) {
  const Security& security = stack_->security();
  // No tower or trainer runs and no policy asks for a retrain; the tower's address is one where
  // nothing listens (not its default port, which another factory on the machine may hold).
  auto monitor =
      SpawnedService::Start("fabrique-monitor", dir_ + "/monitor", security,
                            {absl::StrCat("--registry_target=", stack_->registry().target()),
                             "--tower_target=127.0.0.1:1", "--trainer_target="});
  CheckOk(monitor.status(), "starting fabrique-monitor");
  monitor_ = *std::move(monitor);
  std::vector<std::string> flags = {absl::StrCat("--registry_target=", stack_->registry().target()),
                                    absl::StrCat("--features_target=", stack_->features().target()),
                                    absl::StrCat("--monitor_target=", monitor_->target()),
                                    "--device=cpu", absl::StrCat("--models=", model)};
  flags.insert(flags.end(), inference_flags.begin(), inference_flags.end());
  auto inference = SpawnedService::Start("fabrique-inference", dir_ + "/inference", security, flags,
                                         absl::Minutes(3));
  CheckOk(inference.status(), "starting fabrique-inference");
  inference_ = *std::move(inference);
}

std::vector<std::pair<std::string, SpawnedService*>> SoakFactory::Services() const {
  std::vector<std::pair<std::string, SpawnedService*>> services = {
      {"registry", &stack_->registry()}, {"features", &stack_->features()}};
  if (monitor_) services.emplace_back("monitor", monitor_.get());
  if (inference_) services.emplace_back("inference", inference_.get());
  return services;
}

std::string ScrapeMetrics(const SpawnedService& service) {
  // Read in process, not with curl: forking this process (hundreds of MiB, dozens of threads)
  // stalled its callers for some 20 ms at each scrape, which showed as the load's p99.
  absl::StatusOr<std::string> text =
      testing::HttpGet("127.0.0.1", service.metrics_port(), "/metrics");
  return text.ok() ? *std::move(text) : "";
}

double SeriesValue(const std::string& metrics, const std::string& name) {
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (!absl::StartsWith(line, name) || line.size() <= name.size()) continue;
    const char after = line[name.size()];
    if (after != ' ' && after != '{') continue;
    double value = 0;
    if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &value)) return value;
  }
  return -1;
}

double CappedBytes(const std::string& metrics) {
  double sum = 0;
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (!absl::StartsWith(line, "fabrique_")) continue;
    const absl::string_view name = line.substr(0, line.find_first_of("{ "));
    if (!absl::EndsWith(name, "_memtable_bytes") && !absl::EndsWith(name, "_cache_bytes")) {
      continue;
    }
    double value = 0;
    if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &value)) sum += value;
  }
  return sum;
}

void FoldSample(const ProcessFigures& sample, ProcessFigures* minute) {
  minute->peak_rss_mib = std::max(minute->peak_rss_mib, sample.rss_mib);
  if (sample.rss_mib < 0) return;
  const double uncapped = sample.rss_mib - sample.capped_mib;
  if (minute->floor_uncapped_mib < 0 || uncapped < minute->floor_uncapped_mib) {
    minute->floor_uncapped_mib = uncapped;
  }
}

ProcessFigures ReadProcessFigures(const SpawnedService& service) {
  ProcessFigures figures;
  const std::string metrics = ScrapeMetrics(service);
  const double rss = SeriesValue(metrics, "process_resident_memory_bytes");
  const double fds = SeriesValue(metrics, "process_open_fds");
  if (rss >= 0 && fds >= 0) {
    figures.rss_mib = rss / (1 << 20);
    figures.open_fds = fds;
    figures.capped_mib = CappedBytes(metrics) / (1 << 20);
    return figures;
  }
  // A build whose services do not export the process collector's figures: the same, from /proc.
  figures.from_metrics = false;
  std::ifstream status(absl::StrCat("/proc/", service.pid(), "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "VmRSS:")) figures.rss_mib = std::stod(line.substr(6)) / 1024;
  }
  std::error_code error;
  int open = 0;
  for (std::filesystem::directory_iterator it(absl::StrCat("/proc/", service.pid(), "/fd"), error),
       end;
       !error && it != end; it.increment(error)) {
    ++open;
  }
  if (!error) figures.open_fds = open;
  return figures;
}

}  // namespace fabrique::bench
