// The artifact writer: every size around its block and buffer boundaries written byte for byte,
// whatever the chunking, both direct and through the page cache (as where the filesystem refuses
// O_DIRECT), and errors that name the file.

#include "libs/registry/blob_writer.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "tests/util/test_util.h"

namespace fabrique::registry {
namespace {

std::string Bytes(size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  return bytes;
}

std::string ReadAll(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

// Writes `bytes` to `path` in chunks of `chunk` bytes; returns whether the writer went direct.
bool WriteInChunks(const std::string& path, const std::string& bytes, size_t chunk,
                   bool allow_direct = true) {
  absl::StatusOr<std::unique_ptr<BlobWriter>> writer = BlobWriter::Create(path, allow_direct);
  REQUIRE(writer.ok());
  for (size_t at = 0; at < bytes.size(); at += chunk) {
    REQUIRE((*writer)->Append(absl::string_view(bytes).substr(at, chunk)).ok());
  }
  REQUIRE((*writer)->Finish().ok());
  return (*writer)->direct();
}

TEST_CASE("Every size around block and buffer boundaries is written exactly", "[blobs]") {
  testing::TempDir tmp;
  constexpr size_t kBuffer = BlobWriter::kBufferBytes;
  const std::vector<size_t> sizes = {0,
                                     1,
                                     4095,
                                     4096,
                                     4097,
                                     kBuffer - 1,
                                     kBuffer,
                                     kBuffer + 1,
                                     2 * kBuffer,
                                     2 * kBuffer + 4096 + 17,
                                     9 * kBuffer + 12345};
  bool direct = false;
  for (bool allow_direct : {true, false}) {
    for (size_t size : sizes) {
      const std::string bytes = Bytes(size, static_cast<uint32_t>(size));
      for (size_t chunk : {size_t{7}, size_t{65536}, size_t{1} << 20, kBuffer + 3}) {
        if (chunk == 7 && size > 4097) continue;  // Slow, and covered by the small sizes.
        const std::string path = tmp.Sub(absl::StrCat("f-", size, "-", chunk, allow_direct));
        const bool went_direct = WriteInChunks(path, bytes, chunk, allow_direct);
        if (allow_direct) direct = went_direct;
        if (!allow_direct) CHECK_FALSE(went_direct);
        INFO("size " << size << ", chunks of " << chunk << ", direct allowed " << allow_direct);
        REQUIRE(std::filesystem::file_size(path) == size);
        CHECK(ReadAll(path) == bytes);
      }
    }
  }
  WARN("the temp dir's filesystem " << (direct ? "takes" : "refuses") << " O_DIRECT");
}

TEST_CASE("tmpfs, which may or may not take O_DIRECT, is written exactly", "[blobs]") {
  if (!std::filesystem::is_directory("/dev/shm") || ::access("/dev/shm", W_OK) != 0) {
    WARN("no writable /dev/shm (tmpfs) here: nothing to check");
    return;
  }
  const std::string path = absl::StrCat("/dev/shm/fabrique-blob-writer-", ::getpid());
  const std::string bytes = Bytes(3 * BlobWriter::kBufferBytes + 999, 5);
  const bool direct = WriteInChunks(path, bytes, 1 << 20);
  CHECK(ReadAll(path) == bytes);
  WARN("tmpfs " << (direct ? "takes" : "refuses") << " O_DIRECT on this kernel");
  std::filesystem::remove(path);
}

TEST_CASE("A writer that cannot create its file says which", "[blobs]") {
  const absl::Status status = BlobWriter::Create("/nonexistent-dir/blob.part").status();
  CHECK(status.code() == absl::StatusCode::kUnavailable);
  CHECK(absl::StrContains(status.message(), "/nonexistent-dir/blob.part"));
}

TEST_CASE("A writer destroyed before Finish stops its thread and leaves the file", "[blobs]") {
  testing::TempDir tmp;
  const std::string path = tmp.Sub("abandoned");
  {
    std::unique_ptr<BlobWriter> writer = *BlobWriter::Create(path);
    REQUIRE(writer->Append(Bytes(2 * BlobWriter::kBufferBytes + 5, 9)).ok());
  }
  CHECK(std::filesystem::exists(path));  // The caller (BlobStore) removes it.
}

}  // namespace
}  // namespace fabrique::registry
