// The registry's content-addressed artifact store: streamed uploads verified against their
// digest (a mismatch keeps nothing), identical bytes stored once, chunked reads, crash leftovers
// invisible and removed, and garbage collection of unreferenced blobs.

#include "libs/registry/blob_store.h"

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "tests/util/test_util.h"

namespace fabrique::registry {
namespace {

namespace fs = std::filesystem;

// SHA-256 of "abc" and of the empty string (FIPS 180-2 test vectors).
constexpr char kAbc[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr char kEmpty[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::unique_ptr<BlobStore> Open(const std::string& root) {
  absl::StatusOr<std::unique_ptr<BlobStore>> store = BlobStore::Create({root});
  REQUIRE(store.ok());
  return *std::move(store);
}

absl::StatusOr<BlobInfo> Put(BlobStore& store, const std::string& bytes,
                             const std::string& expected = "", size_t chunk = 7) {
  auto upload = store.StartUpload();
  REQUIRE(upload.ok());
  for (size_t i = 0; i < bytes.size(); i += chunk) {
    REQUIRE((*upload)->Append(absl::string_view(bytes).substr(i, chunk)).ok());
  }
  return (*upload)->Commit(expected);
}

std::string ReadAll(BlobStore& store, const std::string& digest, size_t chunk = 5) {
  auto reader = store.Open(digest);
  REQUIRE(reader.ok());
  std::string all, part;
  do {
    REQUIRE((*reader)->Read(chunk, &part).ok());
    all += part;
  } while (!part.empty());
  REQUIRE(static_cast<int64_t>(all.size()) == (*reader)->size_bytes());
  return all;
}

int FilesUnder(const fs::path& dir) {
  int n = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) n += entry.is_regular_file();
  return n;
}

TEST_CASE("An upload is stored under its SHA-256 and read back in chunks", "[blob_store]") {
  testing::TempDir tmp;
  auto store = Open(tmp.path() + "/blobs");
  absl::StatusOr<BlobInfo> info = Put(*store, "abc", kAbc);
  REQUIRE(info.ok());
  CHECK(info->sha256 == kAbc);
  CHECK(info->size_bytes == 3);
  CHECK_FALSE(info->deduplicated);
  CHECK(ReadAll(*store, kAbc) == "abc");
  CHECK(*store->Size(kAbc) == 3);
  CHECK(fs::exists(tmp.path() + "/blobs/sha256/ba/" + kAbc));

  // Without an announced digest the bytes are trusted; upper-case digests are accepted.
  REQUIRE(Put(*store, "")->sha256 == kEmpty);
  std::string upper = kAbc;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  CHECK(ReadAll(*store, upper) == "abc");
}

TEST_CASE("A digest mismatch is DATA_LOSS and keeps nothing", "[blob_store]") {
  testing::TempDir tmp;
  auto store = Open(tmp.path());
  absl::StatusOr<BlobInfo> wrong = Put(*store, "abd", kAbc);
  REQUIRE(wrong.status().code() == absl::StatusCode::kDataLoss);
  CHECK(absl::StrContains(wrong.status().message(), kAbc));
  CHECK(store->Size(kAbc).status().code() == absl::StatusCode::kNotFound);
  CHECK(FilesUnder(tmp.path()) == 0);

  CHECK(Put(*store, "abc", "xyz").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(store->Open("not-a-digest").status().code() == absl::StatusCode::kInvalidArgument);
  const absl::Status missing = store->Open(kEmpty).status();
  CHECK(missing.code() == absl::StatusCode::kNotFound);
  CHECK(absl::StrContains(missing.message(), kEmpty));
  CHECK(FilesUnder(tmp.path()) == 0);
}

TEST_CASE("Identical bytes are stored once", "[blob_store]") {
  testing::TempDir tmp;
  auto store = Open(tmp.path());
  std::string big(1 << 20, '\0');
  std::mt19937 random(3);
  for (char& c : big) c = static_cast<char>(random());
  const absl::StatusOr<BlobInfo> first = Put(*store, big, "", 64 << 10);
  const absl::StatusOr<BlobInfo> second = Put(*store, big, first->sha256, 1000);
  REQUIRE(second.ok());
  CHECK(second->deduplicated);
  CHECK(second->sha256 == first->sha256);
  CHECK(FilesUnder(tmp.path()) == 1);
  CHECK(ReadAll(*store, first->sha256, 100000) == big);
}

TEST_CASE("An upload never committed leaves nothing, even after a crash", "[blob_store]") {
  testing::TempDir tmp;
  {
    auto store = Open(tmp.path());
    auto dropped = store->StartUpload();
    REQUIRE((*dropped)->Append("half of it").ok());
  }  // Destroyed uncommitted: discarded.
  CHECK(FilesUnder(tmp.path()) == 0);

  // A process that died mid-upload leaves a .part file: invisible, removed at the next start.
  std::ofstream(tmp.path() + "/incoming/4242-0.part") << "partial";
  auto store = Open(tmp.path());
  CHECK(FilesUnder(tmp.path()) == 0);

  // And by a collection, while a live upload's file is kept.
  std::ofstream(tmp.path() + "/incoming/4242-1.part") << "partial";
  auto live = store->StartUpload();
  REQUIRE((*live)->Append("abc").ok());
  absl::StatusOr<GarbageCollection> gc = store->CollectGarbage({}, absl::ZeroDuration());
  REQUIRE(gc.ok());
  CHECK(gc->uploads_abandoned == 1);
  REQUIRE((*live)->Commit(kAbc).ok());
  CHECK(ReadAll(*store, kAbc) == "abc");
}

TEST_CASE("Garbage collection removes unreferenced blobs older than the grace", "[blob_store]") {
  testing::TempDir tmp;
  auto store = Open(tmp.path());
  const std::string kept = Put(*store, "abc")->sha256;
  const std::string orphan = Put(*store, "orphan")->sha256;

  // Young blobs are spared: their version may not be registered yet.
  absl::StatusOr<GarbageCollection> gc = store->CollectGarbage({kept}, absl::Hours(1));
  REQUIRE(gc.ok());
  CHECK(gc->blobs_removed == 0);
  CHECK(store->Size(orphan).ok());

  gc = store->CollectGarbage({kept}, absl::ZeroDuration());
  REQUIRE(gc.ok());
  CHECK(gc->blobs_removed == 1);
  CHECK(gc->bytes_removed == 6);
  CHECK(store->Size(orphan).status().code() == absl::StatusCode::kNotFound);
  CHECK(ReadAll(*store, kept) == "abc");
}

}  // namespace
}  // namespace fabrique::registry
