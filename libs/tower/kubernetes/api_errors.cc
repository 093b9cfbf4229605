#include "libs/tower/kubernetes/api_errors.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace fabrique::tower {

std::string ApiMessage(absl::string_view body) {
  nlohmann::json status = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (status.is_object() && status.contains("message") && status["message"].is_string()) {
    return status["message"].get<std::string>();
  }
  constexpr size_t kMax = 300;
  if (body.size() > kMax) return absl::StrCat(body.substr(0, kMax), "...");
  return std::string(body);
}

absl::Status StatusFromApiAnswer(long http_status, absl::string_view body,  // NOLINT
                                 absl::string_view method, absl::string_view what) {
  if (http_status >= 200 && http_status < 300) return absl::OkStatus();
  const std::string said = absl::StrCat(method, " ", what, ": the Kubernetes API answered ",
                                        http_status, ": ", ApiMessage(body));
  switch (http_status) {
    case 401:
      return absl::PermissionDeniedError(absl::StrCat(
          said,
          "; the tower's service-account token was refused: check that the pod mounts a "
          "current token (",
          kTowerRbacManifest, " declares the ServiceAccount)"));
    case 403:
      return absl::PermissionDeniedError(
          absl::StrCat(said,
                       "; grant the tower's ServiceAccount this verb in the squad's "
                       "namespace with ",
                       kTowerRbacManifest));
    case 404:
      return absl::NotFoundError(said);
    case 409:
      return absl::AlreadyExistsError(said);
    case 400:
    case 422:
      return absl::InvalidArgumentError(said);
    case 410:
      return absl::AbortedError(said);
    case 429:
      return absl::UnavailableError(said);
    default:
      if (http_status >= 500) return absl::UnavailableError(said);
      return absl::UnknownError(said);
  }
}

}  // namespace fabrique::tower
