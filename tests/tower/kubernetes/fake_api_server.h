#ifndef FABRIQUE_TESTS_TOWER_KUBERNETES_FAKE_API_SERVER_H_
#define FABRIQUE_TESTS_TOWER_KUBERNETES_FAKE_API_SERVER_H_

// Runs fake_kube_apiserver.py (beside this file) over HTTPS with a test CA on a free loopback
// port, for the life of the object, and drives it: Job status transitions, the trainer's
// termination message, the accepted token, injected failures, and the requests it recorded.

#include <sys/types.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/statusor.h"
#include "libs/tower/kubernetes/api_client.h"
#include "tests/util/test_util.h"

namespace fabrique::tower::testing {

class FakeApiServer {
 public:
  // Starts the server in `dir` accepting `token`; the server's URL and CA are then ready for
  // the executor's options.
  static absl::StatusOr<std::unique_ptr<FakeApiServer>> Start(const std::string& dir,
                                                              const std::string& token);
  ~FakeApiServer();

  const std::string& url() const { return url_; }
  const std::string& ca_file() const { return ca_file_; }
  // Where the objects it accepted are written, one JSON file each.
  std::string bodies_dir() const { return dir_ + "/bodies"; }

  absl::Status SetJobStatus(const std::string& ns, const std::string& name,
                            const nlohmann::json& status);
  absl::Status SetTerminationMessage(const std::string& ns, const std::string& job_name,
                                     const std::string& message);
  absl::Status SetToken(const std::string& token);
  // The next `times` requests of `method` whose path contains `path_part` answer `code`.
  absl::Status Fail(const std::string& method, const std::string& path_part, int code,
                    const std::string& reason, const std::string& message, int times = 1);
  absl::StatusOr<nlohmann::json> Requests();
  absl::StatusOr<nlohmann::json> Objects();

 private:
  FakeApiServer() = default;
  absl::StatusOr<nlohmann::json> Control(const std::string& method, const std::string& path,
                                         const std::string& body);

  std::string dir_;
  std::string url_;
  std::string ca_file_;
  pid_t pid_ = -1;
  std::unique_ptr<KubernetesApiClient> control_;
};

// Runs tests/k8s/validate_job.js on every object in `dir`; OK when all are valid, else the
// validator's complaint.
absl::Status ValidateWithKubernetesSchemas(const std::string& dir);

}  // namespace fabrique::tower::testing

#endif  // FABRIQUE_TESTS_TOWER_KUBERNETES_FAKE_API_SERVER_H_
