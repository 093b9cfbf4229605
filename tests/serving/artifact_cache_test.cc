#include "libs/serving/artifact_cache.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/core/hash_chain.h"
#include "tests/serving/fake_registry_port.h"
#include "tests/util/test_util.h"

namespace fabrique::serving {
namespace {

using testing::FakeRegistryPort;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  return names;
}

v1::Artifact ArtifactOf(const std::string& bytes) {
  v1::Artifact artifact;
  artifact.set_sha256(core::Sha256Hex(bytes));
  artifact.set_size_bytes(static_cast<int64_t>(bytes.size()));
  return artifact;
}

v1::ModelVersion VersionWithModule(const v1::Artifact& module) {
  v1::ModelVersion version;
  version.set_model("churn");
  version.set_version(3);
  v1::VersionArtifact* card = version.add_artifacts();
  card->set_kind(v1::ARTIFACT_KIND_MODEL_CARD);
  card->mutable_artifact()->set_sha256(std::string(64, 'c'));
  v1::VersionArtifact* artifact = version.add_artifacts();
  artifact->set_kind(v1::ARTIFACT_KIND_TORCHSCRIPT_MODULE);
  artifact->set_name("model.pt");
  *artifact->mutable_artifact() = module;
  return version;
}

struct Fixture {
  Fixture() {
    registry.PutArtifact(artifact.sha256(), bytes);
    cache = Make();
  }
  std::unique_ptr<ArtifactCache> Make() {
    auto made = ArtifactCache::Create({.dir = dir.Sub("cache"), .registry = &registry});
    REQUIRE(made.ok());
    return *std::move(made);
  }

  fabrique::testing::TempDir dir;
  FakeRegistryPort registry;
  const std::string bytes = "torchscript module bytes, 39 of them...";
  const v1::Artifact artifact = ArtifactOf(bytes);
  std::unique_ptr<ArtifactCache> cache;
};

TEST_CASE("ArtifactCache downloads a module once, then answers from its directory") {
  Fixture f;
  absl::StatusOr<std::string> path = f.cache->FetchModule(VersionWithModule(f.artifact));
  REQUIRE(path.ok());
  CHECK(*path == f.dir.Sub("cache") + "/" + f.artifact.sha256());
  CHECK(ReadFile(*path) == f.bytes);
  CHECK(f.registry.download_calls() == 1);

  absl::StatusOr<std::string> again = f.cache->FetchModule(VersionWithModule(f.artifact));
  REQUIRE(again.ok());
  CHECK(*again == *path);
  CHECK(f.registry.download_calls() == 1);
  CHECK(FilesIn(f.dir.Sub("cache")) == std::vector<std::string>{f.artifact.sha256()});
}

TEST_CASE("ArtifactCache trusts a file a restart finds once its hash is checked") {
  Fixture f;
  REQUIRE(f.cache->Fetch(f.artifact).ok());
  std::unique_ptr<ArtifactCache> restarted = f.Make();
  absl::StatusOr<std::string> path = restarted->Fetch(f.artifact);
  REQUIRE(path.ok());
  CHECK(ReadFile(*path) == f.bytes);
  CHECK(f.registry.download_calls() == 1);
}

TEST_CASE("ArtifactCache removes a corrupt cached file and downloads it again") {
  Fixture f;
  REQUIRE(f.cache->Fetch(f.artifact).ok());
  WriteFile(f.cache->PathOf(f.artifact.sha256()), "flipped bits");
  std::unique_ptr<ArtifactCache> restarted = f.Make();
  absl::StatusOr<std::string> path = restarted->Fetch(f.artifact);
  REQUIRE(path.ok());
  CHECK(ReadFile(*path) == f.bytes);
  CHECK(f.registry.download_calls() == 2);
}

TEST_CASE("ArtifactCache resumes a broken download from the bytes it has") {
  Fixture f;
  f.registry.BreakDownloads({10, 7});
  absl::StatusOr<std::string> path = f.cache->Fetch(f.artifact);
  REQUIRE(path.ok());
  CHECK(ReadFile(*path) == f.bytes);
  CHECK(f.registry.download_offsets() == std::vector<int64_t>{0, 10, 17});
}

TEST_CASE("ArtifactCache gives up after its resumes, leaving no partial file") {
  Fixture f;
  auto cache =
      ArtifactCache::Create({.dir = f.dir.Sub("small"), .registry = &f.registry, .max_resumes = 2});
  REQUIRE(cache.ok());
  f.registry.BreakDownloads({1, 1, 1, 1});
  absl::StatusOr<std::string> path = (*cache)->Fetch(f.artifact);
  CHECK(path.status().code() == absl::StatusCode::kUnavailable);
  CHECK_THAT(std::string(path.status().message()), Catch::Contains(f.artifact.sha256()));
  CHECK(f.registry.download_calls() == 3);
  CHECK(FilesIn(f.dir.Sub("small")).empty());
}

TEST_CASE("ArtifactCache refuses bytes that do not hash to the artifact: DATA_LOSS") {
  Fixture f;
  const std::string wrong = "not the module the registry recorded!!";
  v1::Artifact artifact = f.artifact;
  artifact.set_size_bytes(static_cast<int64_t>(wrong.size()));
  f.registry.PutArtifact(artifact.sha256(), wrong);
  absl::StatusOr<std::string> path = f.cache->Fetch(artifact);
  CHECK(path.status().code() == absl::StatusCode::kDataLoss);
  CHECK_THAT(std::string(path.status().message()), Catch::Contains(artifact.sha256()));
  CHECK(FilesIn(f.dir.Sub("cache")).empty());
}

TEST_CASE("ArtifactCache refuses a download of the wrong size: DATA_LOSS") {
  Fixture f;
  SECTION("shorter") {
    v1::Artifact artifact = f.artifact;
    artifact.set_size_bytes(artifact.size_bytes() + 5);
    absl::StatusOr<std::string> path = f.cache->Fetch(artifact);
    CHECK(path.status().code() == absl::StatusCode::kDataLoss);
    CHECK_THAT(std::string(path.status().message()), Catch::Contains("ended early"));
  }
  SECTION("longer") {
    v1::Artifact artifact = f.artifact;
    artifact.set_size_bytes(artifact.size_bytes() - 5);
    absl::StatusOr<std::string> path = f.cache->Fetch(artifact);
    CHECK(path.status().code() == absl::StatusCode::kDataLoss);
    CHECK_THAT(std::string(path.status().message()), Catch::Contains("more bytes"));
  }
  CHECK(FilesIn(f.dir.Sub("cache")).empty());
}

TEST_CASE("ArtifactCache names the version that has no TorchScript module") {
  Fixture f;
  v1::ModelVersion version = VersionWithModule(f.artifact);
  version.mutable_artifacts()->RemoveLast();
  absl::StatusOr<std::string> path = f.cache->FetchModule(version);
  CHECK(path.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(path.status().message()), Catch::Contains("model churn version 3"));
  CHECK(f.registry.download_calls() == 0);
}

TEST_CASE("ArtifactCache refuses a hash that could name any file") {
  Fixture f;
  v1::Artifact artifact = f.artifact;
  artifact.set_sha256("../../etc/passwd");
  absl::StatusOr<std::string> path = f.cache->Fetch(artifact);
  CHECK(path.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(path.status().message()), Catch::Contains("../../etc/passwd"));
}

TEST_CASE("ArtifactCache passes the registry's NOT_FOUND on, naming the module") {
  Fixture f;
  const v1::Artifact missing = ArtifactOf("never uploaded");
  absl::StatusOr<std::string> path = f.cache->FetchModule(VersionWithModule(missing));
  CHECK(path.status().code() == absl::StatusCode::kNotFound);
  CHECK_THAT(std::string(path.status().message()), Catch::Contains("model churn version 3"));
}

TEST_CASE("ArtifactCache downloads an artifact once for threads fetching it together") {
  Fixture f;
  f.registry.HoldDownloads();
  constexpr int kThreads = 6;
  std::vector<absl::StatusOr<std::string>> paths(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { paths[i] = f.cache->Fetch(f.artifact); });
  }
  REQUIRE(fabrique::testing::PollUntil([&] { return f.registry.download_calls() == 1; },
                                       absl::Seconds(10)));
  f.registry.ReleaseDownloads();
  for (std::thread& thread : threads) thread.join();
  for (const auto& path : paths) {
    REQUIRE(path.ok());
    CHECK(ReadFile(*path) == f.bytes);
  }
  CHECK(f.registry.download_calls() == 1);
}

TEST_CASE("ArtifactCache::Create checks its options and clears a crashed download") {
  FakeRegistryPort registry;
  fabrique::testing::TempDir dir;
  CHECK(ArtifactCache::Create({.dir = "", .registry = &registry}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  absl::Status no_registry = ArtifactCache::Create({.dir = dir.path()}).status();
  CHECK(no_registry.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(no_registry.message()), Catch::Contains("registry"));

  WriteFile(dir.Sub("abc.1.0.partial"), "half");
  WriteFile(dir.Sub("keep"), "other");
  REQUIRE(ArtifactCache::Create({.dir = dir.path(), .registry = &registry}).ok());
  CHECK(FilesIn(dir.path()) == std::vector<std::string>{"keep"});
}

}  // namespace
}  // namespace fabrique::serving
