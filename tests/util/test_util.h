#ifndef FABRIQUE_TESTS_UTIL_TEST_UTIL_H_
#define FABRIQUE_TESTS_UTIL_TEST_UTIL_H_

// Helpers shared by Fabrique's tests: temp dirs, a tiny HTTP GET for /metrics, a generic gRPC
// call, server reflection without its generated code, promtool, and the paths CTest passes.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"

namespace fabrique::testing {

// A fresh folder under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // A path inside the directory; nothing is created.
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// GETs http://host:port/path and returns the body; errors for a non-200 status.
absl::StatusOr<std::string> HttpGet(const std::string& host, int port, const std::string& path);

// Calls `method` ("/pkg.Service/Method") with `request` serialized bytes as one message; works
// for any method shape, since gRPC frames a unary call like a one-message stream.
grpc::Status GenericCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                         const std::string& request, std::string* response,
                         absl::Duration timeout = absl::Seconds(5));

// Lists the services a server offers through grpc.reflection.v1alpha, as grpcurl's `list` does.
// Encodes and decodes the few fields it needs by hand so tests need no reflection stubs.
absl::StatusOr<std::vector<std::string>> ListServicesByReflection(
    const std::shared_ptr<grpc::Channel>& channel);

// Runs `promtool check metrics` on `exposition`; returns promtool's output, or an error with it
// when promtool finds problems (or is missing: tools/test installs it).
absl::StatusOr<std::string> PromtoolCheckMetrics(const std::string& exposition);

// Polls `condition` until it is true or `timeout` passes; returns whether it became true.
bool PollUntil(const std::function<bool()>& condition, absl::Duration timeout);

// Folder of the built binaries (FABRIQUE_BIN_DIR, set by CTest).
std::string BinDir();

}  // namespace fabrique::testing

#endif  // FABRIQUE_TESTS_UTIL_TEST_UTIL_H_
