// Black-box crash test of fabrique-registry: the real binary is killed with SIGKILL while
// writers upload artifacts and register versions, many times, on one data dir. After every
// restart:
//   - versions are numbered 1..latest with no gap, each whole (its artifact, tags and metric)
//     and each artifact stored whole (its file hashes to its name; no upload left in incoming/);
//   - every acknowledged registration is there under the number it was given, and a version
//     seen once never changes or vanishes;
//   - the audit chain verifies;
//   - a registration that was in flight, retried with its request_id, is either found (the same
//     number, no duplicate) or made anew.
// At the end, garbage collection leaves exactly the blobs versions reference: no orphan from an
// upload that was never registered, or whose registration died with the server.
//
// Every kill lands on work in flight, by construction: an upload of several MiB is held open
// mid-stream (part of it sent, and on the server's disk, no answer yet) until the kill, and the
// kill waits until a registration is in flight too. Each round also waits for a stated minimum
// of acknowledged uploads and registrations first, so every restart has real work to check.
//
// Every artifact is self-describing: op N uploads bytes drawn from a generator seeded by its
// content id (N, or an earlier op's id for the ops that re-upload identical bytes), and its
// version carries the tag op=N.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/registry.grpc.pb.h"
#include "libs/core/sha256.h"
#include "libs/registry/blob_writer.h"
#include "tests/integration/killable_service.h"
#include "tests/util/test_util.h"

namespace fabrique {
namespace {

namespace fs = std::filesystem;

constexpr char kModel[] = "crash";
constexpr int kWriters = 3;
// Every run kills the server this many times; fewer (the loop's time budget ran out) fails.
constexpr int kKills = 12;
constexpr absl::Duration kKillLoopBudget = absl::Seconds(180);
// Before each kill, at least this many uploads and registrations are acknowledged in the round.
constexpr int kMinUploadsPerRound = 60;
constexpr int kMinRegistrationsPerRound = 45;
constexpr size_t kChunkBytes = 64 << 10;
// The upload held open at each kill: this many bytes announced, the first kHeldSentBytes sent.
// More than one of the server's 4 MiB write buffers is sent, so part of it is on disk.
constexpr size_t kHeldBytes = 8 << 20;
constexpr size_t kHeldSentBytes = 6 << 20;
static_assert(kHeldSentBytes > registry::BlobWriter::kBufferBytes);

// The platform admin: the test also collects garbage, which is platform-wide.
std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout = absl::Seconds(10)) {
  return testing::TokenContext(testing::LocalIdentity(), "root", {}, timeout);
}

// The bytes op `op` uploads: every seventh op re-uploads the bytes of the op seven before it,
// so deduplicated uploads are killed too.
std::string Content(int64_t op) {
  const int64_t id = op >= 7 && op % 7 == 3 ? op - 7 : op;
  std::mt19937_64 rng(static_cast<uint64_t>(id) * 0x9E3779B97F4A7C15ull + 1);
  const size_t size = (8 << 10) + rng() % (248 << 10);
  std::string bytes(size, '\0');
  for (size_t i = 0; i + 8 <= size; i += 8) {
    const uint64_t word = rng();
    std::memcpy(&bytes[i], &word, 8);
  }
  return bytes;
}

// Ops registered with a version: the others upload an artifact that nothing will reference.
bool Registers(int64_t op) { return op % 5 != 4; }

// What the test knows of each op.
struct Op {
  std::string sha256;          // Set once its upload was acknowledged.
  bool register_sent = false;  // RegisterVersion was called (maybe in flight at the kill).
  int64_t acked_version = 0;   // The number RegisterVersion answered with; 0 = none yet.
};

class Ledger {
 public:
  int64_t Next() {
    std::lock_guard<std::mutex> lock(mu_);
    ops_[next_];
    return next_++;
  }
  void Uploaded(int64_t op, const std::string& sha256) {
    std::lock_guard<std::mutex> lock(mu_);
    ops_[op].sha256 = sha256;
  }
  void RegisterSent(int64_t op) {
    std::lock_guard<std::mutex> lock(mu_);
    ops_[op].register_sent = true;
  }
  void Acknowledge(int64_t op, int64_t version) {
    std::lock_guard<std::mutex> lock(mu_);
    ops_[op].acked_version = version;
  }
  std::map<int64_t, Op> ops() const {
    std::lock_guard<std::mutex> lock(mu_);
    return ops_;
  }

 private:
  mutable std::mutex mu_;
  int64_t next_ = 0;
  std::map<int64_t, Op> ops_;
};

// Uploads `bytes`, or only their first `send` bytes (then calls `sent` and waits for `release`
// before closing the stream: an upload held open mid-stream).
grpc::Status Upload(v1::ModelRegistry::Stub& stub, const std::string& bytes,
                    const std::string& sha256, size_t send = std::string::npos,
                    const std::function<void()>& sent = nullptr,
                    absl::Notification* release = nullptr) {
  auto context = Context(absl::Seconds(120));
  v1::Artifact artifact;
  auto writer = stub.UploadArtifact(context.get(), &artifact);
  v1::UploadArtifactRequest message;
  message.mutable_header()->set_sha256(sha256);
  message.mutable_header()->set_size_bytes(static_cast<int64_t>(bytes.size()));
  message.mutable_header()->set_media_type("application/octet-stream");
  bool open = writer->Write(message);
  const size_t end = std::min(send, bytes.size());
  for (size_t offset = 0; open && offset < end; offset += kChunkBytes) {
    message.Clear();
    message.set_chunk(bytes.substr(offset, std::min(kChunkBytes, end - offset)));
    open = writer->Write(message);
  }
  if (sent != nullptr) {
    if (open) sent();
    release->WaitForNotificationWithTimeout(absl::Seconds(120));
  }
  writer->WritesDone();
  return writer->Finish();
}

// The size of the largest upload in progress on the server's disk (its incoming/ folder).
uintmax_t LargestIncoming(const std::string& blobs_dir) {
  uintmax_t largest = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(fs::path(blobs_dir) / "incoming", error)) {
    const uintmax_t size = entry.file_size(error);
    if (!error) largest = std::max(largest, size);
  }
  return largest;
}

grpc::Status Register(v1::ModelRegistry::Stub& stub, int64_t op, const std::string& sha256,
                      v1::ModelVersion* out) {
  v1::RegisterVersionRequest request;
  request.set_request_id(absl::StrCat("op-", op));
  v1::ModelVersion* version = request.mutable_version();
  version->set_model(kModel);
  v1::VersionArtifact* artifact = version->add_artifacts();
  artifact->set_name("model");
  artifact->mutable_artifact()->set_sha256(sha256);
  (*version->mutable_tags())["op"] = absl::StrCat(op);
  v1::Metric* metric = version->add_metrics();
  metric->set_name("auc");
  metric->set_value(0.5 + static_cast<double>(op % 50) / 100);
  return stub.RegisterVersion(Context().get(), request, out);
}

// Uploads and registers ops until a call fails (the server died) or `stop` is set; `registering`
// counts the registrations in flight (sent, not answered).
void WriteUntilFailure(v1::ModelRegistry::Stub& stub, Ledger& ledger, std::atomic<bool>& stop,
                       std::atomic<int>& registering) {
  while (!stop.load()) {
    const int64_t op = ledger.Next();
    const std::string bytes = Content(op);
    const std::string sha256 = core::Sha256Hex(bytes);
    if (!Upload(stub, bytes, sha256).ok()) return;
    ledger.Uploaded(op, sha256);
    if (!Registers(op)) continue;
    ledger.RegisterSent(op);
    v1::ModelVersion version;
    ++registering;
    const grpc::Status registered = Register(stub, op, sha256, &version);
    --registering;
    if (!registered.ok()) return;
    ledger.Acknowledge(op, version.version());
  }
}

// Acknowledged uploads and registrations in the ledger.
std::pair<int64_t, int64_t> Acknowledged(const Ledger& ledger) {
  int64_t uploads = 0, registrations = 0;
  for (const auto& [op, state] : ledger.ops()) {
    uploads += !state.sha256.empty();
    registrations += state.acked_version > 0;
  }
  return {uploads, registrations};
}

// Every version of the model, by number.
std::map<int64_t, v1::ModelVersion> ListAll(v1::ModelRegistry::Stub& stub,
                                            std::vector<std::string>& problems) {
  std::map<int64_t, v1::ModelVersion> versions;
  v1::ListVersionsRequest request;
  request.add_models(kModel);
  request.set_include_archived(true);
  request.set_page_size(200);
  do {
    v1::ListVersionsResponse page;
    const grpc::Status status = stub.ListVersions(Context().get(), request, &page);
    if (!status.ok()) {
      problems.push_back(absl::StrCat("ListVersions: ", status.error_message()));
      break;
    }
    for (const v1::ModelVersion& version : page.versions()) {
      if (!versions.emplace(version.version(), version).second) {
        problems.push_back(absl::StrCat("version ", version.version(), " listed twice"));
      }
    }
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  return versions;
}

// The blobs on disk: name -> whether the file's bytes hash to its name. Also reports uploads
// left in incoming/.
std::map<std::string, bool> BlobsOnDisk(const std::string& blobs_dir,
                                        std::vector<std::string>& problems) {
  std::map<std::string, bool> blobs;
  for (const auto& entry : fs::recursive_directory_iterator(fs::path(blobs_dir) / "sha256")) {
    if (!entry.is_regular_file()) continue;
    std::ifstream file(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(file)),
                            std::istreambuf_iterator<char>());
    blobs[entry.path().filename().string()] =
        core::Sha256Hex(bytes) == entry.path().filename().string();
  }
  for (const auto& entry : fs::directory_iterator(fs::path(blobs_dir) / "incoming")) {
    problems.push_back(absl::StrCat("an upload is left in incoming/ after restart: ",
                                    entry.path().filename().string()));
  }
  return blobs;
}

// Checks the restarted server against the ledger and the disk. `settled` remembers which op
// each version number holds, so that no version changes or vanishes across restarts.
std::vector<std::string> Verify(v1::ModelRegistry::Stub& stub, const std::string& blobs_dir,
                                const Ledger& ledger, std::map<int64_t, int64_t>& settled,
                                std::map<int64_t, int64_t>& op_versions) {
  std::vector<std::string> problems;
  const std::map<int64_t, Op> ops = ledger.ops();
  v1::GetModelRequest get_model;
  get_model.set_name(kModel);
  v1::Model model;
  const grpc::Status got = stub.GetModel(Context().get(), get_model, &model);
  if (!got.ok()) return {absl::StrCat("GetModel: ", got.error_message())};
  const std::map<int64_t, v1::ModelVersion> versions = ListAll(stub, problems);
  const std::map<std::string, bool> blobs = BlobsOnDisk(blobs_dir, problems);
  for (const auto& [name, whole] : blobs) {
    if (!whole) problems.push_back(absl::StrCat("blob ", name, " does not hash to its name"));
  }
  if (static_cast<int64_t>(versions.size()) != model.latest_version() ||
      (!versions.empty() && versions.rbegin()->first != model.latest_version())) {
    problems.push_back(absl::StrCat("latest_version is ", model.latest_version(), " but ",
                                    versions.size(), " versions are listed"));
  }
  op_versions.clear();
  for (const auto& [number, version] : versions) {
    const std::string where = absl::StrCat("version ", number);
    int64_t op = -1;
    const auto tag = version.tags().find("op");
    if (tag == version.tags().end() || !absl::SimpleAtoi(tag->second, &op) || ops.count(op) == 0 ||
        !ops.at(op).register_sent) {
      problems.push_back(absl::StrCat(where, " belongs to no registration ever sent"));
      continue;
    }
    if (!op_versions.emplace(op, number).second) {
      problems.push_back(absl::StrCat(where, " registers op ", op, " a second time"));
    }
    if (version.artifacts_size() != 1 || version.metrics_size() != 1 ||
        version.artifacts(0).artifact().sha256() != ops.at(op).sha256) {
      problems.push_back(absl::StrCat(where, " (op ", op, ") is not whole"));
    } else if (blobs.count(ops.at(op).sha256) == 0) {
      problems.push_back(
          absl::StrCat(where, " references blob ", ops.at(op).sha256, ", which is not stored"));
    }
    const auto [it, first_time] = settled.emplace(number, op);
    if (!first_time && it->second != op) {
      problems.push_back(absl::StrCat(where, " held op ", it->second, " and now holds op ", op));
    }
  }
  for (const auto& [number, op] : settled) {
    if (versions.count(number) == 0) {
      problems.push_back(absl::StrCat("version ", number, " (op ", op, ") vanished"));
    }
  }
  for (const auto& [op, state] : ops) {
    if (state.acked_version == 0) continue;
    const auto found = op_versions.find(op);
    if (found == op_versions.end() || found->second != state.acked_version) {
      problems.push_back(
          absl::StrCat("acknowledged op ", op, " (version ", state.acked_version, ") is lost"));
    }
  }
  v1::VerifyAuditChainResponse chain;
  const grpc::Status verified =
      stub.VerifyAuditChain(Context().get(), v1::VerifyAuditChainRequest(), &chain);
  if (!verified.ok() || !chain.valid()) {
    problems.push_back(absl::StrCat("audit chain: ", verified.error_message(), chain.detail()));
  }
  return problems;
}

// Retries, with its request_id, every registration the last kill left unanswered: one already
// committed must come back with its number, not a second version.
std::vector<std::string> RetryInFlight(v1::ModelRegistry::Stub& stub, Ledger& ledger,
                                       const std::map<int64_t, int64_t>& op_versions,
                                       int* found_committed, int* retried) {
  std::vector<std::string> problems;
  for (const auto& [op, state] : ledger.ops()) {
    if (!state.register_sent || state.acked_version != 0) continue;
    ++*retried;
    v1::ModelVersion version;
    const grpc::Status status = Register(stub, op, state.sha256, &version);
    if (!status.ok()) {
      problems.push_back(absl::StrCat("retrying op ", op, ": ", status.error_message()));
      continue;
    }
    const auto committed = op_versions.find(op);
    if (committed != op_versions.end()) {
      ++*found_committed;
      if (committed->second != version.version()) {
        problems.push_back(absl::StrCat("op ", op, " was committed as version ", committed->second,
                                        " but its retry made version ", version.version()));
      }
    }
    ledger.Acknowledge(op, version.version());
  }
  return problems;
}

std::string FirstProblems(const std::vector<std::string>& problems) {
  return absl::StrJoin(problems.begin(), problems.begin() + std::min<size_t>(problems.size(), 20),
                       "\n");
}

TEST_CASE("SIGKILL during uploads and registrations: no partial version, none lost, no orphan") {
  testing::TempDir tmp;
  const std::string data_dir = tmp.Sub("data");
  const std::string blobs_dir = data_dir + "/blobs";
  // No grace: the final collection may remove every unreferenced blob.
  const std::vector<std::string> flags = {"--gc_grace=0s"};
  Ledger ledger;
  std::map<int64_t, int64_t> settled;
  std::map<int64_t, int64_t> op_versions;
  std::mt19937 rng(20261201);  // Fixed seed: the same kill points every run.
  // After the round's minimums, the kill waits for this many more ops to start.
  std::uniform_int_distribution<int> extra_ops(0, 60);

  auto server = std::make_unique<testing::KillableService>("fabrique-registry", data_dir,
                                                           tmp.Sub("log0"), flags);
  auto stub = v1::ModelRegistry::NewStub(server->channel());
  v1::CreateModelRequest create;
  create.mutable_model()->set_name(kModel);
  create.mutable_model()->set_owner_squad("sre");
  v1::Model model;
  REQUIRE(stub->CreateModel(Context().get(), create, &model).ok());

  const absl::Time loop_deadline = absl::Now() + kKillLoopBudget;
  int kills = 0;
  int registrations_cut_off = 0;
  int retried_committed = 0;
  while (kills < kKills && absl::Now() < loop_deadline) {
    const size_t ops_before = ledger.ops().size();
    const auto [uploads_before, registrations_before] = Acknowledged(ledger);
    std::atomic<bool> stop{false};
    std::atomic<int> registering{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&] { WriteUntilFailure(*stub, ledger, stop, registering); });
    }
    // The held upload: sends part of its bytes, then waits, unanswered, for the kill.
    const std::string held_bytes = Content(1'000'000 + kills) + std::string(kHeldBytes, 'h');
    const std::string held_sha256 = core::Sha256Hex(held_bytes);
    std::atomic<bool> held_sent{false};
    absl::Notification killed;
    grpc::Status held_status;
    std::thread held([&] {
      held_status = Upload(
          *stub, held_bytes, held_sha256, kHeldSentBytes, [&] { held_sent = true; }, &killed);
    });

    // The kill point: the held upload is on the server's disk (more than one 4 MiB buffer of it
    // written), the round's minimums are acknowledged, a few more ops have started, and a
    // registration is in flight.
    const size_t extra = static_cast<size_t>(extra_ops(rng));
    const bool ready = testing::PollUntil(
        [&] {
          const auto [uploads, registrations] = Acknowledged(ledger);
          return held_sent.load() &&
                 LargestIncoming(blobs_dir) >= registry::BlobWriter::kBufferBytes &&
                 uploads - uploads_before >= kMinUploadsPerRound &&
                 registrations - registrations_before >= kMinRegistrationsPerRound &&
                 ledger.ops().size() >= ops_before + kMinUploadsPerRound + extra;
        },
        absl::Seconds(60));
    const bool registration_in_flight =
        ready && testing::PollUntil([&] { return registering.load() > 0; }, absl::Seconds(10));
    server->Kill();
    stop.store(true);
    killed.Notify();
    for (std::thread& writer : writers) writer.join();
    held.join();
    INFO("kill " << kills + 1 << ": server log:\n" << cli::TailFile(server->log_path(), 20));
    REQUIRE(ready);
    REQUIRE(registration_in_flight);
    REQUIRE_FALSE(held_status.ok());  // The server never answered a partial upload.
    ++kills;

    server = std::make_unique<testing::KillableService>("fabrique-registry", data_dir,
                                                        tmp.Sub(absl::StrCat("log", kills)), flags);
    stub = v1::ModelRegistry::NewStub(server->channel());
    std::vector<std::string> problems = Verify(*stub, blobs_dir, ledger, settled, op_versions);
    INFO("after kill " << kills << ": " << problems.size() << " problems, first ones:\n"
                       << FirstProblems(problems));
    REQUIRE(problems.empty());
    int cut_off = 0;
    problems = RetryInFlight(*stub, ledger, op_versions, &retried_committed, &cut_off);
    registrations_cut_off += cut_off;
    INFO("retries after kill " << kills << ":\n" << FirstProblems(problems));
    REQUIRE(problems.empty());
  }
  INFO("the loop's " << absl::FormatDuration(kKillLoopBudget) << " ran out after " << kills
                     << " kills");
  REQUIRE(kills == kKills);

  // The retries are versions too: verify once more, then collect.
  std::vector<std::string> problems = Verify(*stub, blobs_dir, ledger, settled, op_versions);
  INFO(FirstProblems(problems));
  REQUIRE(problems.empty());
  v1::CollectGarbageResponse collected;
  REQUIRE(stub->CollectGarbage(Context(absl::Seconds(60)).get(), v1::CollectGarbageRequest(),
                               &collected)
              .ok());
  std::set<std::string> referenced;
  for (const auto& [number, version] : ListAll(*stub, problems)) {
    referenced.insert(version.artifacts(0).artifact().sha256());
  }
  std::set<std::string> stored;
  for (const auto& [name, whole] : BlobsOnDisk(blobs_dir, problems)) stored.insert(name);
  CHECK(problems.empty());
  CHECK(stored == referenced);  // No orphan, and nothing referenced was removed.

  // A few artifacts read back through the service, byte for byte.
  for (const auto& [op, number] : op_versions) {
    if (op % 10 != 0) continue;
    v1::DownloadArtifactRequest request;
    request.set_sha256(ledger.ops().at(op).sha256);
    auto context = Context();
    auto reader = stub->DownloadArtifact(context.get(), request);
    std::string bytes;
    v1::DownloadArtifactResponse part;
    while (reader->Read(&part)) bytes += part.chunk();
    REQUIRE(reader->Finish().ok());
    CHECK(bytes == Content(op));
  }

  const std::map<int64_t, Op> ops = ledger.ops();
  int64_t acked = 0, uploaded = 0;
  for (const auto& [op, state] : ops) {
    acked += state.acked_version > 0;
    uploaded += !state.sha256.empty();
  }
  WARN("kills " << kills << " (each with an upload held mid-stream and a registration in "
                << "flight), ops " << ops.size() << ", uploads acknowledged " << uploaded
                << ", versions " << op_versions.size() << " (acknowledged " << acked
                << "), registrations cut off by a kill " << registrations_cut_off
                << " (found committed on retry " << retried_committed << "), blobs collected "
                << collected.blobs_removed() << ", blobs kept " << stored.size());
  CHECK(uploaded >= kKills * kMinUploadsPerRound);
  CHECK(acked >= kKills * kMinRegistrationsPerRound);
  // Cut-off registrations are what the request_id retries prove. Each kill waits for one in
  // flight, but it may still be answered in the moment before the signal lands: half is the floor.
  CHECK(registrations_cut_off >= kKills / 2);
  CHECK(collected.blobs_removed() > 0);  // The never-registered uploads were orphans.
}

}  // namespace
}  // namespace fabrique
