// The model registry's figures, each beside its baseline from the same run, through
// the real fabrique-registry binary over loopback gRPC, served and called as a deployment does
// (TLS from a local authority, a bearer token on every call):
//
//   transfer  a --transfer_mib artifact (random bytes) uploaded and downloaded in --chunk_kib
//             chunks, against `cp` of the same file on the same disk, and `cp` then fsync (the
//             durability an upload gives: it is fsynced before it is acknowledged). The upload's
//             digest is known beforehand (a trainer hashes while it writes); the server hashes
//             every byte again to verify it. The download is written to a file without fsync,
//             as cp does, and checked afterwards. The source file is in the page cache for all.
//   metadata  RegisterVersion then GetVersion of it, one client, --metadata_ops times, against
//             the floor the disk sets: an fsynced RocksDB write then a read of it, in-process.
//   listing   --listing_versions versions listed page by page with ListVersions (pages of 100
//             and 1000), against GetVersion called once per version.
//   watch     an alias moved --watch_moves times (each after every watcher saw the previous
//             one), with 1 and --watchers watchers: from the SetAlias call to the watcher
//             receiving the change, against SetAlias's own round trip (an fsynced commit).
//
// Each figure is the median of --repeats runs (latencies: percentiles over all operations of
// the median run). Every dirty page is flushed before each timed transfer and each phase, so no
// figure pays for the writeback of the one before. Client and server share this machine's cores.
//
//   registry_bench [--phases=transfer,metadata,listing,watch] [--transfer_mib=1024]
//                  [--chunk_kib=4092] [--metadata_ops=2000] [--listing_versions=10000]
//                  [--watch_moves=300] [--watchers=16] [--repeats=3] [--dir=/tmp/x] [--small]
//
// Each phase checks what it measured and exits 1 when it is wrong: the upload stored under the
// artifact's digest and size, the download's bytes hash to it, each version read back is the
// one registered, every version listed, every watcher sees every alias move.
// --small: a 16 MiB artifact, 100 versions registered, 300 listed, 20 moves to 1 and 4
// watchers, one repeat: the checks alone, in seconds (tools/bench/run_small).

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "fabrique/v1/registry.grpc.pb.h"
#include "libs/client/channel.h"
#include "libs/client/health_client.h"
#include "libs/core/flags.h"
#include "libs/core/sha256.h"
#include "libs/kv/store.h"
#include "libs/kv/write_batch.h"
#include "tools/bench/bench_support.h"
#include "tools/cli/command_flags.h"

namespace fabrique::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  std::string phases = "transfer,metadata,listing,watch";
  int transfer_mib = 1024;
  int chunk_kib = 4092;  // 4 MiB less 4 KiB: the largest chunk the registry sends.
  int metadata_ops = 2000;
  int listing_versions = 10000;
  int watch_moves = 300;
  int watchers = 16;
  int repeats = 3;
  std::string dir = "/tmp/fabrique_registry_bench";
  bool small = false;
};

// The --small sizes: every check, few figures.
void MakeSmall(Flags* flags) {
  flags->transfer_mib = 16;
  flags->metadata_ops = 100;
  flags->listing_versions = 300;
  flags->watch_moves = 20;
  flags->watchers = 4;
  flags->repeats = 1;
}

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}
double Millis(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// How every registry here is served and called (TLS + token); Main makes it before any starts.
std::optional<Security> security;

std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout = absl::Seconds(60)) {
  return security->Context(timeout);
}

void CheckGrpc(const grpc::Status& status, const char* what) {
  if (status.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, status.error_message().c_str());
  std::exit(1);
}

// Digests a file (OpenSSL: SHA-NI where the CPU has it), 4 MiB at a time.
std::string FileSha256(const std::string& path) {
  core::Sha256Stream hash;
  const int fd = ::open(path.c_str(), O_RDONLY);
  std::string buffer(4 << 20, '\0');
  ssize_t n;
  while ((n = ::read(fd, buffer.data(), buffer.size())) > 0) {
    hash.Update(absl::string_view(buffer.data(), static_cast<size_t>(n)));
  }
  ::close(fd);
  return hash.HexDigest();
}

void WriteRandomFile(const std::string& path, int64_t bytes) {
  std::mt19937_64 rng(42);
  std::vector<uint64_t> block((1 << 20) / 8);
  FILE* file = std::fopen(path.c_str(), "wb");
  for (int64_t done = 0; done < bytes; done += 1 << 20) {
    for (uint64_t& word : block) word = rng();
    std::fwrite(block.data(), 1, std::min<int64_t>(1 << 20, bytes - done), file);
  }
  std::fclose(file);
}

std::unique_ptr<SpawnedService> StartRegistry(const Flags& flags, const std::string& name) {
  absl::StatusOr<std::unique_ptr<SpawnedService>> service =
      SpawnedService::Start("fabrique-registry", absl::StrCat(flags.dir, "/", name), *security);
  CheckOk(service.status(), "starting fabrique-registry");
  return *std::move(service);
}

void CreateModel(v1::ModelRegistry::Stub& stub, const std::string& name) {
  v1::CreateModelRequest request;
  request.mutable_model()->set_name(name);
  request.mutable_model()->set_owner_squad("bench");
  v1::Model model;
  CheckGrpc(stub.CreateModel(Context().get(), request, &model), "CreateModel");
}

// Uploads `bytes` (a small artifact) and returns its digest.
std::string UploadSmall(v1::ModelRegistry::Stub& stub, const std::string& bytes) {
  v1::Artifact artifact;
  auto context = Context();
  auto writer = stub.UploadArtifact(context.get(), &artifact);
  v1::UploadArtifactRequest message;
  message.mutable_header()->set_size_bytes(static_cast<int64_t>(bytes.size()));
  writer->Write(message);
  message.set_chunk(bytes);
  writer->Write(message);
  writer->WritesDone();
  CheckGrpc(writer->Finish(), "UploadArtifact");
  return artifact.sha256();
}

v1::RegisterVersionRequest VersionRequest(const std::string& model, const std::string& sha256,
                                          int i) {
  v1::RegisterVersionRequest request;
  v1::ModelVersion* version = request.mutable_version();
  version->set_model(model);
  v1::VersionArtifact* artifact = version->add_artifacts();
  artifact->set_name("model");
  artifact->mutable_artifact()->set_sha256(sha256);
  artifact->mutable_artifact()->set_size_bytes(3);
  v1::Metric* auc = version->add_metrics();
  auc->set_name("auc");
  auc->set_value(0.8 + (i % 100) / 1000.0);
  (*version->mutable_params())["learning_rate"] = "0.01";
  (*version->mutable_tags())["run"] = absl::StrCat("run-", i);
  version->mutable_lineage()->add_dataset_ids("ds-01");
  // No trainer_run_id: the bench registers as a person, and only the trainer's certificate may
  // claim a run.
  return request;
}

// ---- transfer ----

struct TransferRun {
  double cp = 0, cp_fsync = 0, upload = 0, download = 0;
};

// Flushes every dirty page first, so that no measurement pays for the writeback of the one
// before it (1 GiB of it, after a transfer).
void Settle() {
  ::sync();
  absl::SleepFor(absl::Milliseconds(200));
}

double TimeCp(const std::string& from, const std::string& to, bool fsync) {
  std::filesystem::remove(to);
  Settle();
  const Clock::time_point start = Clock::now();
  CheckOk(RunAndCapture({"cp", from, to}).status(), "cp");
  if (fsync) {
    const int fd = ::open(to.c_str(), O_RDONLY);
    ::fsync(fd);
    ::close(fd);
  }
  const double seconds = Seconds(start);
  std::filesystem::remove(to);
  return seconds;
}

double TimeUpload(v1::ModelRegistry::Stub& stub, const std::string& path, const std::string& sha256,
                  int64_t size, size_t chunk) {
  Settle();
  const Clock::time_point start = Clock::now();
  v1::Artifact artifact;
  auto context = Context(absl::Minutes(10));
  auto writer = stub.UploadArtifact(context.get(), &artifact);
  v1::UploadArtifactRequest message;
  message.mutable_header()->set_sha256(sha256);
  message.mutable_header()->set_size_bytes(size);
  writer->Write(message);
  message.Clear();
  const int fd = ::open(path.c_str(), O_RDONLY);
  std::string* buffer = message.mutable_chunk();
  while (true) {
    buffer->resize(chunk);
    const ssize_t n = ::read(fd, buffer->data(), chunk);
    if (n <= 0) break;
    buffer->resize(static_cast<size_t>(n));
    if (!writer->Write(message)) break;
  }
  ::close(fd);
  writer->WritesDone();
  CheckGrpc(writer->Finish(), "UploadArtifact (large)");
  const double seconds = Seconds(start);
  if (artifact.sha256() != sha256 || artifact.size_bytes() != size) {
    std::fprintf(stderr, "upload stored %s (%lld bytes), not %s\n", artifact.sha256().c_str(),
                 static_cast<long long>(artifact.size_bytes()), sha256.c_str());
    std::exit(1);
  }
  return seconds;
}

double TimeDownload(v1::ModelRegistry::Stub& stub, const std::string& sha256, const std::string& to,
                    int64_t size, int chunk) {
  Settle();
  const Clock::time_point start = Clock::now();
  v1::DownloadArtifactRequest request;
  request.set_sha256(sha256);
  request.set_chunk_size(chunk);
  auto context = Context(absl::Minutes(10));
  auto reader = stub.DownloadArtifact(context.get(), request);
  const int fd = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  v1::DownloadArtifactResponse part;
  int64_t received = 0;
  while (reader->Read(&part)) {
    if (::write(fd, part.chunk().data(), part.chunk().size()) < 0) std::exit(1);
    received += static_cast<int64_t>(part.chunk().size());
  }
  ::close(fd);
  CheckGrpc(reader->Finish(), "DownloadArtifact");
  const double seconds = Seconds(start);
  if (received != size || FileSha256(to) != sha256) {
    std::fprintf(stderr, "the download differs from the artifact\n");
    std::exit(1);
  }
  std::filesystem::remove(to);
  return seconds;
}

void Transfer(const Flags& flags) {
  const int64_t size = static_cast<int64_t>(flags.transfer_mib) << 20;
  const std::string source = flags.dir + "/artifact.bin";
  WriteRandomFile(source, size);
  Clock::time_point start = Clock::now();
  const std::string sha256 = FileSha256(source);
  const double hash_seconds = Seconds(start);
  const size_t chunk = static_cast<size_t>(flags.chunk_kib) << 10;
  std::printf(
      "\nTransfer: one %d MiB artifact, chunks of %d KiB; client-side SHA-256 of it "
      "takes %.2f s (%.0f MiB/s), not counted below\n",
      flags.transfer_mib, flags.chunk_kib, hash_seconds, flags.transfer_mib / hash_seconds);
  std::vector<TransferRun> runs;
  for (int r = 0; r < flags.repeats; ++r) {
    TransferRun run;
    run.cp = TimeCp(source, flags.dir + "/copy.bin", false);
    run.cp_fsync = TimeCp(source, flags.dir + "/copy.bin", true);
    // A fresh registry each time: the same bytes uploaded twice would be deduplicated.
    std::unique_ptr<SpawnedService> service = StartRegistry(flags, "transfer");
    auto stub = v1::ModelRegistry::NewStub(security->Channel(service->target()));
    run.upload = TimeUpload(*stub, source, sha256, size, chunk);
    run.download = TimeDownload(*stub, sha256, flags.dir + "/download.bin", size,
                                static_cast<int>(std::min<size_t>(chunk, (4 << 20) - (4 << 10))));
    // Streaming holds a few chunks, never the artifact: the server's peak memory shows it.
    std::printf(
        "  run %d: cp %.2f s, cp+fsync %.2f s, upload %.2f s, download %.2f s; server peak RSS "
        "%ld MiB for a %d MiB artifact\n",
        r + 1, run.cp, run.cp_fsync, run.upload, run.download, service->PeakRssMib(),
        flags.transfer_mib);
    runs.push_back(run);
  }
  std::filesystem::remove(source);
  const auto median = [&runs](double TransferRun::*field) {
    std::vector<double> values;
    for (const TransferRun& run : runs) values.push_back(run.*field);
    return Median(values);
  };
  const double cp = median(&TransferRun::cp), cp_fsync = median(&TransferRun::cp_fsync);
  const double mib = flags.transfer_mib;
  std::printf("\n%-34s %9s %9s %10s %14s %6s\n", "transfer (median)", "seconds", "MiB/s", "vs cp",
              "vs cp+fsync", "goal");
  const auto row = [&](const char* label, double seconds, bool goal) {
    std::printf("%-34s %9.2f %9.0f %9.2fx %13.2fx %6s\n", label, seconds, mib / seconds,
                cp / seconds, cp_fsync / seconds,
                goal ? (cp / seconds >= 0.7 ? ">=0.7 yes" : ">=0.7 NO") : "");
  };
  row("cp", cp, false);
  row("cp, then fsync", cp_fsync, false);
  row("upload (verified, fsynced)", median(&TransferRun::upload), true);
  row("download (to a file)", median(&TransferRun::download), true);
}

// ---- metadata ----

struct Latencies {
  std::vector<double> first, second, both;  // Milliseconds.
};

Latencies MetadataRun(const Flags& flags) {
  std::unique_ptr<SpawnedService> service = StartRegistry(flags, "metadata");
  auto stub = v1::ModelRegistry::NewStub(security->Channel(service->target()));
  CreateModel(*stub, "bench");
  const std::string sha256 = UploadSmall(*stub, "abc");
  Latencies latencies;
  for (int i = 0; i < flags.metadata_ops; ++i) {
    const v1::RegisterVersionRequest request = VersionRequest("bench", sha256, i);
    const Clock::time_point start = Clock::now();
    v1::ModelVersion registered;
    CheckGrpc(stub->RegisterVersion(Context().get(), request, &registered), "RegisterVersion");
    const Clock::time_point middle = Clock::now();
    v1::GetVersionRequest get;
    get.mutable_ref()->set_model("bench");
    get.mutable_ref()->set_version(registered.version());
    v1::ModelVersion read;
    CheckGrpc(stub->GetVersion(Context().get(), get, &read), "GetVersion");
    const Clock::time_point end = Clock::now();
    if (read.version() != i + 1 || read.tags().at("run") != absl::StrCat("run-", i)) {
      std::fprintf(stderr, "GetVersion read back another version\n");
      std::exit(1);
    }
    latencies.first.push_back(Millis(start, middle));
    latencies.second.push_back(Millis(middle, end));
    latencies.both.push_back(Millis(start, end));
  }
  return latencies;
}

// The floor: an fsynced RocksDB write of the same record, then a read of it, in-process.
Latencies FloorRun(const Flags& flags) {
  const std::string path = flags.dir + "/floor";
  std::filesystem::remove_all(path);
  kv::StoreOptions options;
  options.path = path;
  std::unique_ptr<kv::Store> store = *kv::Store::Open(options);
  kv::ColumnFamily family = store->DefaultFamily();
  Latencies latencies;
  for (int i = 0; i < flags.metadata_ops; ++i) {
    const std::string value = VersionRequest("bench", std::string(64, 'a'), i).SerializeAsString();
    const std::string key = absl::StrCat("v", i);
    const Clock::time_point start = Clock::now();
    kv::WriteBatch batch;
    batch.Put(family, key, value);
    CheckOk(store->Write(batch, kv::SyncMode::kSync), "floor write");
    const Clock::time_point middle = Clock::now();
    CheckOk(store->Get(family, key).status(), "floor read");
    const Clock::time_point end = Clock::now();
    latencies.first.push_back(Millis(start, middle));
    latencies.second.push_back(Millis(middle, end));
    latencies.both.push_back(Millis(start, end));
  }
  store.reset();
  std::filesystem::remove_all(path);
  return latencies;
}

// The run whose median pair latency is the median of the runs.
Latencies MedianRun(std::vector<Latencies> runs) {
  std::sort(runs.begin(), runs.end(),
            [](const Latencies& a, const Latencies& b) { return Median(a.both) < Median(b.both); });
  return runs[runs.size() / 2];
}

void Metadata(const Flags& flags) {
  std::vector<Latencies> service_runs, floor_runs;
  for (int r = 0; r < flags.repeats; ++r) {
    service_runs.push_back(MetadataRun(flags));
    floor_runs.push_back(FloorRun(flags));
  }
  const Latencies service = MedianRun(service_runs), floor = MedianRun(floor_runs);
  std::printf(
      "\nMetadata: %d versions registered then read back, one client, sequential; "
      "median run of %d\n",
      flags.metadata_ops, flags.repeats);
  std::printf("%-40s %9s %9s %9s\n", "", "p50 ms", "p99 ms", "goal");
  const auto row = [](const char* label, const std::vector<double>& values, const char* goal) {
    std::printf("%-40s %9.3f %9.3f %9s\n", label, Percentile(values, 50), Percentile(values, 99),
                goal);
  };
  row("RegisterVersion (gRPC, fsynced)", service.first, "");
  row("GetVersion (gRPC)", service.second, "");
  const bool met = Percentile(service.both, 99) < 2.0;
  row("register + read back", service.both, met ? "<2 yes" : "<2 NO");
  row("floor: RocksDB fsynced Put", floor.first, "");
  row("floor: RocksDB Get", floor.second, "");
  row("floor: Put + Get", floor.both, "");
  std::printf("%-40s %9.2fx %9.2fx\n", "register + read / floor",
              Percentile(service.both, 50) / Percentile(floor.both, 50),
              Percentile(service.both, 99) / Percentile(floor.both, 99));
}

// ---- listing ----

void Listing(const Flags& flags) {
  std::unique_ptr<SpawnedService> service = StartRegistry(flags, "listing");
  auto stub = v1::ModelRegistry::NewStub(security->Channel(service->target()));
  CreateModel(*stub, "bench");
  const std::string sha256 = UploadSmall(*stub, "abc");
  // Four concurrent clients, so the setup's fsyncs are shared (group commit).
  Clock::time_point start = Clock::now();
  std::atomic<int> next{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      for (int i; (i = next.fetch_add(1)) < flags.listing_versions;) {
        v1::ModelVersion version;
        CheckGrpc(
            stub->RegisterVersion(Context().get(), VersionRequest("bench", sha256, i), &version),
            "RegisterVersion");
      }
    });
  }
  for (std::thread& client : clients) client.join();
  const double setup = Seconds(start);
  std::printf(
      "\nListing: %d versions of one model (registered in %.1f s by 4 clients, "
      "%.0f/s); median of %d listings\n",
      flags.listing_versions, setup, flags.listing_versions / setup, flags.repeats);
  std::printf("%-34s %10s %8s %12s %12s %10s\n", "", "total s", "pages", "page p50 ms",
              "page p99 ms", "versions/s");
  double one_by_one = 0;
  {
    std::vector<double> totals;
    std::vector<double> calls;
    for (int r = 0; r < flags.repeats; ++r) {
      start = Clock::now();
      for (int v = 1; v <= flags.listing_versions; ++v) {
        v1::GetVersionRequest get;
        get.mutable_ref()->set_model("bench");
        get.mutable_ref()->set_version(v);
        v1::ModelVersion version;
        const Clock::time_point call = Clock::now();
        CheckGrpc(stub->GetVersion(Context().get(), get, &version), "GetVersion");
        if (r == 0) calls.push_back(Millis(call, Clock::now()));
      }
      totals.push_back(Seconds(start));
    }
    one_by_one = Median(totals);
    std::printf("%-34s %10.2f %8d %12.3f %12.3f %10.0f\n", "baseline: GetVersion one by one",
                one_by_one, flags.listing_versions, Percentile(calls, 50), Percentile(calls, 99),
                flags.listing_versions / one_by_one);
  }
  for (int page_size : {100, 1000}) {
    std::vector<double> totals, pages;
    int count = 0;
    for (int r = 0; r < flags.repeats; ++r) {
      v1::ListVersionsRequest request;
      request.add_models("bench");
      request.set_page_size(page_size);
      int listed = 0;
      count = 0;
      start = Clock::now();
      do {
        v1::ListVersionsResponse page;
        const Clock::time_point call = Clock::now();
        CheckGrpc(stub->ListVersions(Context().get(), request, &page), "ListVersions");
        if (r == 0) pages.push_back(Millis(call, Clock::now()));
        listed += page.versions_size();
        ++count;
        request.set_page_token(page.next_page_token());
      } while (!request.page_token().empty());
      totals.push_back(Seconds(start));
      if (listed != flags.listing_versions) {
        std::fprintf(stderr, "listed %d versions of %d\n", listed, flags.listing_versions);
        std::exit(1);
      }
    }
    const double total = Median(totals);
    std::printf("%-34s %10.2f %8d %12.3f %12.3f %10.0f  (%.1fx the baseline)\n",
                absl::StrCat("ListVersions, pages of ", page_size).c_str(), total, count,
                Percentile(pages, 50), Percentile(pages, 99), flags.listing_versions / total,
                one_by_one / total);
  }
}

// ---- watch ----

struct WatchRun {
  std::vector<double> delivered;  // From the SetAlias call to each watcher's receipt, ms.
  std::vector<double> set_alias;  // SetAlias round trips, ms.
};

WatchRun WatchOnce(const Flags& flags, int watchers) {
  std::unique_ptr<SpawnedService> service = StartRegistry(flags, "watch");
  auto channel = security->Channel(service->target());
  auto stub = v1::ModelRegistry::NewStub(channel);
  CreateModel(*stub, "bench");
  const std::string sha256 = UploadSmall(*stub, "abc");
  for (int i = 0; i < 2; ++i) {
    v1::ModelVersion version;
    CheckGrpc(stub->RegisterVersion(Context().get(), VersionRequest("bench", sha256, i), &version),
              "RegisterVersion");
  }
  absl::Mutex mu;
  std::vector<std::vector<Clock::time_point>> received(watchers);
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::thread> threads;
  std::atomic<int> ready{0};
  for (int w = 0; w < watchers; ++w) {
    contexts.push_back(Context(absl::Minutes(10)));
    threads.emplace_back([&, w] {
      // Each watcher has its own channel (its own connection), as inference servers would.
      auto own = v1::ModelRegistry::NewStub(security->Channel(service->target(), false));
      v1::WatchRequest request;
      request.add_models("bench");
      auto reader = own->Watch(contexts[w].get(), request);
      v1::WatchEvent event;
      bool first = true;
      while (reader->Read(&event)) {
        if (first) ready.fetch_add(1);  // The first bookmark: the stream is open.
        first = false;
        if (event.type() != v1::WATCH_EVENT_TYPE_ALIAS_SET) continue;
        const Clock::time_point now = Clock::now();
        absl::MutexLock lock(&mu);
        received[w].push_back(now);
      }
    });
  }
  // Every stream is open once it has had its first bookmark (within a second or so).
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (ready.load() < watchers) {
    if (absl::Now() > deadline) {
      std::fprintf(stderr, "only %d of %d watch streams opened\n", ready.load(), watchers);
      std::exit(1);
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  WatchRun run;
  for (int k = 0; k < flags.watch_moves; ++k) {
    v1::SetAliasRequest request;
    request.set_model("bench");
    request.set_alias("production");
    request.set_version(1 + k % 2);
    v1::Alias alias;
    const Clock::time_point sent = Clock::now();
    CheckGrpc(stub->SetAlias(Context().get(), request, &alias), "SetAlias");
    run.set_alias.push_back(Millis(sent, Clock::now()));
    const auto all_saw = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      for (const auto& times : received) {
        if (static_cast<int>(times.size()) <= k) return false;
      }
      return true;
    };
    absl::MutexLock lock(&mu);
    if (!mu.AwaitWithTimeout(absl::Condition(&all_saw), absl::Seconds(10))) {
      std::fprintf(stderr, "a watcher missed alias move %d\n", k);
      std::exit(1);
    }
    for (const auto& times : received) run.delivered.push_back(Millis(sent, times[k]));
  }
  for (auto& context : contexts) context->TryCancel();
  for (std::thread& thread : threads) thread.join();
  return run;
}

void Watch(const Flags& flags) {
  std::printf(
      "\nWatch: an alias moved %d times, each after every watcher saw the last; "
      "median run of %d\n",
      flags.watch_moves, flags.repeats);
  std::printf("%-44s %9s %9s %9s\n", "", "p50 ms", "p99 ms", "goal");
  for (int watchers : {1, flags.watchers}) {
    std::vector<WatchRun> runs;
    for (int r = 0; r < flags.repeats; ++r) runs.push_back(WatchOnce(flags, watchers));
    std::sort(runs.begin(), runs.end(), [](const WatchRun& a, const WatchRun& b) {
      return Percentile(a.delivered, 99) < Percentile(b.delivered, 99);
    });
    const WatchRun& run = runs[runs.size() / 2];
    const double p99 = Percentile(run.delivered, 99);
    std::printf(
        "%-44s %9.3f %9.3f %9s\n",
        absl::StrCat("alias move -> watcher, ", watchers, " watcher", watchers > 1 ? "s" : "")
            .c_str(),
        Percentile(run.delivered, 50), p99, p99 < 10 ? "<10 yes" : "<10 NO");
    std::printf("%-44s %9.3f %9.3f\n", "  baseline: SetAlias round trip (fsynced)",
                Percentile(run.set_alias, 50), Percentile(run.set_alias, 99));
  }
}

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  core::FlagSet set("registry_bench",
                    "The model registry's transfer, metadata, listing and watch figures, each "
                    "beside its baseline (cp; an fsynced RocksDB write; GetVersion one by one; "
                    "SetAlias's round trip).");
  set.Add("phases", &flags.phases, "Which measurements to run: transfer,metadata,listing,watch");
  set.Add("transfer_mib", &flags.transfer_mib, "Size of the transferred artifact, MiB");
  set.Add("chunk_kib", &flags.chunk_kib, "Transfer chunk, KiB (at most 4092)");
  set.Add("metadata_ops", &flags.metadata_ops, "Versions registered and read back");
  set.Add("listing_versions", &flags.listing_versions, "Versions listed");
  set.Add("watch_moves", &flags.watch_moves, "Alias moves watched");
  set.Add("watchers", &flags.watchers, "Watchers of the second watch figure");
  set.Add("repeats", &flags.repeats, "Runs of each figure; the median is reported");
  set.Add("dir", &flags.dir, "Scratch directory (removed at the end)");
  set.Add("small", &flags.small,
          "16 MiB, 100 versions, 300 listed, 20 moves, 4 watchers, one repeat (overrides sizes)");
  core::ParsedArgs parsed;
  if (std::optional<int> code =
          cli::ParseCommandFlags(set, std::vector<std::string>(argv + 1, argv + argc), &parsed)) {
    std::exit(*code);
  }
  if (flags.small) MakeSmall(&flags);
  if (flags.transfer_mib < 1 || flags.chunk_kib < 1 || flags.chunk_kib > 4092 ||
      flags.metadata_ops < 1 || flags.listing_versions < 1 || flags.watch_moves < 1 ||
      flags.watchers < 1 || flags.repeats < 1) {
    std::fprintf(stderr, "every count must be at least 1, and --chunk_kib at most 4092\n");
    std::exit(2);
  }
  return flags;
}

int Main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  std::filesystem::create_directories(flags.dir);
  absl::StatusOr<Security> local = Security::Local(flags.dir + "/auth");
  CheckOk(local.status(), "making a local authority");
  security = *std::move(local);
  const auto wanted = [&flags](absl::string_view phase) {
    return absl::StrContains(flags.phases, phase);
  };
  if (wanted("transfer")) Transfer(flags);
  Settle();
  if (wanted("metadata")) Metadata(flags);
  Settle();
  if (wanted("listing")) Listing(flags);
  Settle();
  if (wanted("watch")) Watch(flags);
  std::filesystem::remove_all(flags.dir);
  return 0;
}

}  // namespace
}  // namespace fabrique::bench

int main(int argc, char** argv) { return fabrique::bench::Main(argc, argv); }
