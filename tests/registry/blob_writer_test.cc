// The artifact writer: every size around its block and buffer boundaries written byte for byte,
// whatever the chunking, on each of its three paths: direct (O_DIRECT, on a filesystem found to
// take it), through the page cache by choice, and through the page cache because the filesystem
// refused O_DIRECT (played by an injected open). Direct writes are checked to bypass the page
// cache, and errors to name the file.

#include "libs/registry/blob_writer.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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

// Whether a file in `dir` can be opened with O_DIRECT and written a block through it.
bool TakesDirect(const std::string& dir) {
  const std::string probe = absl::StrCat(dir, "/.fabrique-direct-probe-", ::getpid());
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT, 0644);
  if (fd < 0) return false;
  void* block = nullptr;
  bool written = false;
  if (posix_memalign(&block, 4096, 4096) == 0) {
    std::memset(block, 0, 4096);
    written = ::pwrite(fd, block, 4096, 0) == 4096;
    std::free(block);
  }
  ::close(fd);
  ::unlink(probe.c_str());
  return written;
}

// The first of the usual writable places whose filesystem takes O_DIRECT, if any; `tried` lists
// every place looked at.
std::optional<std::string> DirectDir(const std::string& temp_dir, std::vector<std::string>* tried) {
  std::vector<std::string> candidates = {temp_dir, "/var/tmp"};
  if (const char* bin = std::getenv("FABRIQUE_BIN_DIR"); bin != nullptr) candidates.push_back(bin);
  for (const std::string& dir : candidates) {
    tried->push_back(dir);
    if (std::filesystem::is_directory(dir) && ::access(dir.c_str(), W_OK) == 0 &&
        TakesDirect(dir)) {
      return dir;
    }
  }
  return std::nullopt;
}

bool IsTmpfs(const std::string& path) {
  struct statfs info;
  return ::statfs(path.c_str(), &info) == 0 && info.f_type == TMPFS_MAGIC;
}

// Pages of `path` in the page cache now.
size_t ResidentPages(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  const size_t size = std::filesystem::file_size(path);
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  REQUIRE(map != MAP_FAILED);
  std::vector<unsigned char> resident((size + page - 1) / page);
  REQUIRE(::mincore(map, size, resident.data()) == 0);
  ::munmap(map, size);
  size_t count = 0;
  for (unsigned char flags : resident) count += flags & 1;
  return count;
}

// How a test asks the writer to write.
enum class Path {
  kDirect,     // O_DIRECT allowed, on a filesystem that takes it.
  kPageCache,  // O_DIRECT not allowed.
  kRefused,    // O_DIRECT allowed, and refused by the (injected) filesystem with EINVAL.
};

// An open(2) for a filesystem that refuses O_DIRECT, as tmpfs before Linux 6.6 and some FUSE ones
// do; records the flags of each call.
BlobWriterOptions RefusingDirect(const std::string& path, std::vector<int>* calls) {
  BlobWriterOptions options;
  options.path = path;
  options.open = [calls](const char* name, int flags, mode_t mode) {
    calls->push_back(flags);
    if ((flags & O_DIRECT) != 0) {
      errno = EINVAL;
      return -1;
    }
    return ::open(name, flags, mode);
  };
  return options;
}

// Writes `bytes` to `path` in chunks of `chunk` bytes along `path_kind`; returns whether the
// writer opened the file direct. (After Finish, direct() is false whenever the file ends in a
// partial block, which goes through the page cache.)
bool WriteInChunks(const std::string& path, const std::string& bytes, size_t chunk,
                   Path path_kind) {
  std::vector<int> opens;
  BlobWriterOptions options;
  options.path = path;
  options.allow_direct = path_kind != Path::kPageCache;
  if (path_kind == Path::kRefused) options = RefusingDirect(path, &opens);
  absl::StatusOr<std::unique_ptr<BlobWriter>> writer = BlobWriter::Create(options);
  REQUIRE(writer.ok());
  const bool opened_direct = (*writer)->direct();
  for (size_t at = 0; at < bytes.size(); at += chunk) {
    REQUIRE((*writer)->Append(absl::string_view(bytes).substr(at, chunk)).ok());
  }
  REQUIRE((*writer)->Finish().ok());
  CHECK((*writer)->direct() == (opened_direct && bytes.size() % 4096 == 0));
  if (path_kind == Path::kRefused) {
    // Tried direct first, then fell back to the page cache.
    REQUIRE(opens.size() == 2);
    CHECK((opens[0] & O_DIRECT) != 0);
    CHECK((opens[1] & O_DIRECT) == 0);
  }
  return opened_direct;
}

TEST_CASE("Every size around block and buffer boundaries is written exactly, on every path",
          "[blobs]") {
  testing::TempDir tmp;
  std::vector<std::string> tried;
  const std::optional<std::string> direct_dir = DirectDir(tmp.path(), &tried);
  std::vector<Path> paths = {Path::kPageCache, Path::kRefused};
  if (direct_dir.has_value()) {
    paths.push_back(Path::kDirect);
    WARN("direct path checked in " << *direct_dir);
  } else {
    WARN("direct path NOT checked: no filesystem here takes O_DIRECT (tried "
         << absl::StrJoin(tried, ", ") << ")");
  }
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
  for (Path path_kind : paths) {
    const std::string dir = path_kind == Path::kDirect
                                ? absl::StrCat(*direct_dir, "/fabrique-blob-writer-", ::getpid())
                                : tmp.path();
    std::filesystem::create_directories(dir);
    for (size_t size : sizes) {
      const std::string bytes = Bytes(size, static_cast<uint32_t>(size));
      for (size_t chunk : {size_t{7}, size_t{65536}, size_t{1} << 20, kBuffer + 3}) {
        if (chunk == 7 && size > 4097) continue;  // Slow, and covered by the small sizes.
        const std::string path =
            absl::StrCat(dir, "/f-", size, "-", chunk, "-", static_cast<int>(path_kind));
        INFO("size " << size << ", chunks of " << chunk << ", path "
                     << static_cast<int>(path_kind));
        const bool went_direct = WriteInChunks(path, bytes, chunk, path_kind);
        CHECK(went_direct == (path_kind == Path::kDirect));
        REQUIRE(std::filesystem::file_size(path) == size);
        CHECK(ReadAll(path) == bytes);
        std::filesystem::remove(path);
      }
    }
    if (path_kind == Path::kDirect) std::filesystem::remove_all(dir);
  }
}

TEST_CASE("Direct writes bypass the page cache; the fallbacks go through it", "[blobs]") {
  testing::TempDir tmp;
  std::vector<std::string> tried;
  const std::optional<std::string> direct_dir = DirectDir(tmp.path(), &tried);
  const std::string bytes = Bytes(3 * BlobWriter::kBufferBytes + 999, 11);
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t pages = (bytes.size() + page - 1) / page;

  // Refused by the filesystem: through the page cache, with every byte in place.
  {
    const std::string path = tmp.Sub("refused");
    std::vector<int> opens;
    std::unique_ptr<BlobWriter> writer = *BlobWriter::Create(RefusingDirect(path, &opens));
    CHECK_FALSE(writer->direct());
    REQUIRE(writer->Append(bytes).ok());
    REQUIRE(writer->Finish().ok());
    CHECK(opens.size() == 2);
    // Written through the cache, so (before anything reads it) it is there: the control for the
    // direct check below.
    if (!IsTmpfs(path)) CHECK(ResidentPages(path) > pages / 2);
    CHECK(ReadAll(path) == bytes);
  }

  if (!direct_dir.has_value()) {
    WARN("direct path NOT checked: no filesystem here takes O_DIRECT (tried "
         << absl::StrJoin(tried, ", ") << ")");
    return;
  }
  const std::string path = absl::StrCat(*direct_dir, "/fabrique-direct-", ::getpid());
  std::unique_ptr<BlobWriter> writer = *BlobWriter::Create({path});
  REQUIRE(writer->direct());
  REQUIRE(writer->Append(bytes).ok());
  REQUIRE(writer->Finish().ok());
  if (IsTmpfs(path)) {
    WARN("direct path checked in " << *direct_dir << " (tmpfs: its pages are its storage, so the "
                                   << "page cache is not checked)");
  } else {
    // Whole blocks went straight to the disk; only the last partial block (999 bytes) went
    // through the cache.
    const size_t resident = ResidentPages(path);
    INFO(resident << " of " << pages << " pages resident");
    CHECK(resident <= 1);
    WARN("direct path checked in " << *direct_dir << ": " << resident << " of " << pages
                                   << " pages in the page cache after writing");
  }
  CHECK(ReadAll(path) == bytes);
  std::filesystem::remove(path);
}

TEST_CASE("tmpfs, which may or may not take O_DIRECT, is written exactly", "[blobs]") {
  if (!std::filesystem::is_directory("/dev/shm") || ::access("/dev/shm", W_OK) != 0) {
    WARN("no writable /dev/shm (tmpfs) here: nothing to check");
    return;
  }
  const std::string path = absl::StrCat("/dev/shm/fabrique-blob-writer-", ::getpid());
  const std::string bytes = Bytes(3 * BlobWriter::kBufferBytes + 999, 5);
  const bool direct = WriteInChunks(path, bytes, 1 << 20, Path::kDirect);
  CHECK(direct == TakesDirect("/dev/shm"));
  CHECK(ReadAll(path) == bytes);
  WARN("tmpfs " << (direct ? "takes" : "refuses") << " O_DIRECT on this kernel");
  std::filesystem::remove(path);
}

TEST_CASE("A writer that cannot create its file says which", "[blobs]") {
  BlobWriterOptions options;
  options.path = "/nonexistent-dir/blob.part";
  const absl::Status status = BlobWriter::Create(options).status();
  CHECK(status.code() == absl::StatusCode::kUnavailable);
  CHECK(absl::StrContains(status.message(), "/nonexistent-dir/blob.part"));
  CHECK(BlobWriter::Create(BlobWriterOptions()).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("A writer destroyed before Finish stops its thread and leaves the file", "[blobs]") {
  testing::TempDir tmp;
  const std::string path = tmp.Sub("abandoned");
  {
    std::unique_ptr<BlobWriter> writer = *BlobWriter::Create({path});
    REQUIRE(writer->Append(Bytes(2 * BlobWriter::kBufferBytes + 5, 9)).ok());
  }
  CHECK(std::filesystem::exists(path));  // The caller (BlobStore) removes it.
}

}  // namespace
}  // namespace fabrique::registry
