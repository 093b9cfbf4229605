#ifndef FABRIQUE_LIBS_TOWER_KUBERNETES_API_CLIENT_H_
#define FABRIQUE_LIBS_TOWER_KUBERNETES_API_CLIENT_H_

// A small client of the Kubernetes API server over HTTPS (libcurl): each request carries the
// pod's service-account token as a Bearer token, and the server is verified with the cluster's CA.
// The token file is read again whenever it changes, because the kubelet rotates projected tokens
// (about hourly) by swapping the file. Answers other than 2xx become absl::Status through
// StatusFromApiAnswer (api_errors.h); transport failures and timeouts are UNAVAILABLE.

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace fabrique::tower {

struct ApiAnswer {
  long http_status = 0;  // NOLINT(runtime/int): libcurl's type.
  std::string body;
};

class KubernetesApiClient {
 public:
  struct Options {
    // The API server, https://HOST[:PORT]. http:// is accepted for tests against a local fake.
    std::string server = "https://kubernetes.default.svc";
    // The Bearer token, read again when its modification time or size changes; "" = none.
    std::string token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
    // PEM bundle that verifies the server; "" = the system's trust store.
    std::string ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
    // Whole-request limit, and the limit on connecting.
    absl::Duration timeout = absl::Seconds(10);
    absl::Duration connect_timeout = absl::Seconds(3);
  };

  // INVALID_ARGUMENT for a server that is not an http(s) URL.
  static absl::StatusOr<std::unique_ptr<KubernetesApiClient>> Create(Options options);

  // Sends METHOD SERVER+path (path holds any query) with `body` as JSON when not empty. Returns
  // the answer whatever its HTTP status; UNAVAILABLE when no answer came (connection refused,
  // TLS failure, timeout), FAILED_PRECONDITION when the token file cannot be read.
  absl::StatusOr<ApiAnswer> Send(absl::string_view method, absl::string_view path,
                                 absl::string_view body = "");

  // Like Send, then turns a non-2xx answer into its status (api_errors.h), `what` naming the
  // object for the message, e.g. "Job fabrique-risk/fabrique-j1-a0".
  absl::StatusOr<ApiAnswer> Call(absl::string_view method, absl::string_view path,
                                 absl::string_view what, absl::string_view body = "");

  const Options& options() const { return options_; }

 private:
  explicit KubernetesApiClient(Options options) : options_(std::move(options)) {}
  absl::StatusOr<std::string> Token();

  const Options options_;
  absl::Mutex token_mu_;
  std::string token_ ABSL_GUARDED_BY(token_mu_);
  int64_t token_mtime_ns_ ABSL_GUARDED_BY(token_mu_) = -1;
  int64_t token_size_ ABSL_GUARDED_BY(token_mu_) = -1;
};

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_KUBERNETES_API_CLIENT_H_
