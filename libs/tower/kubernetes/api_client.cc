#include "libs/tower/kubernetes/api_client.h"

#include <curl/curl.h>
#include <sys/stat.h>

#include <fstream>
#include <mutex>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/tower/kubernetes/api_errors.h"

namespace fabrique::tower {
namespace {

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t AppendBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

// Frees the handle and header list whatever path Send leaves by.
struct CurlRequest {
  CURL* curl = curl_easy_init();
  curl_slist* headers = nullptr;
  ~CurlRequest() {
    curl_slist_free_all(headers);
    if (curl != nullptr) curl_easy_cleanup(curl);
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<KubernetesApiClient>> KubernetesApiClient::Create(Options options) {
  if (!absl::StartsWith(options.server, "https://") &&
      !absl::StartsWith(options.server, "http://")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the Kubernetes API server must be an https:// URL, got \"", options.server, "\""));
  }
  while (absl::EndsWith(options.server, "/")) options.server.pop_back();
  InitCurlOnce();
  return std::unique_ptr<KubernetesApiClient>(new KubernetesApiClient(std::move(options)));
}

absl::StatusOr<std::string> KubernetesApiClient::Token() {
  if (options_.token_file.empty()) return std::string();
  struct stat info {};
  if (stat(options_.token_file.c_str(), &info) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read the service-account token ", options_.token_file, ": mount it (",
                     kTowerRbacManifest, ") or set --kubernetes_token_file"));
  }
  const int64_t mtime_ns =
      static_cast<int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec;
  absl::MutexLock lock(&token_mu_);
  if (mtime_ns != token_mtime_ns_ || info.st_size != token_size_) {
    std::ifstream in(options_.token_file);
    std::stringstream text;
    text << in.rdbuf();
    token_ = std::string(absl::StripAsciiWhitespace(text.str()));
    token_mtime_ns_ = mtime_ns;
    token_size_ = info.st_size;
  }
  return token_;
}

absl::StatusOr<ApiAnswer> KubernetesApiClient::Send(absl::string_view method,
                                                    absl::string_view path,
                                                    absl::string_view body) {
  absl::StatusOr<std::string> token = Token();
  if (!token.ok()) return token.status();
  CurlRequest request;
  if (request.curl == nullptr) return absl::InternalError("curl_easy_init failed");
  CURL* curl = request.curl;
  const std::string url = absl::StrCat(options_.server, path);
  const std::string verb(method);
  ApiAnswer answer;
  request.headers = curl_slist_append(request.headers, "Accept: application/json");
  if (!body.empty()) {
    request.headers = curl_slist_append(request.headers, "Content-Type: application/json");
  }
  if (!token->empty()) {
    request.headers =
        curl_slist_append(request.headers, absl::StrCat("Authorization: Bearer ", *token).c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, verb.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, request.headers);
  if (!body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.timeout)));  // NOLINT
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(  // NOLINT(runtime/int)
                       absl::ToInt64Milliseconds(options_.connect_timeout)));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // Threads: no SIGALRM for DNS timeouts.
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer.body);
  const CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    return absl::UnavailableError(absl::StrCat(method, " ", url,
                                               ": no answer from the Kubernetes "
                                               "API server: ",
                                               curl_easy_strerror(code)));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.http_status);
  return answer;
}

absl::StatusOr<ApiAnswer> KubernetesApiClient::Call(absl::string_view method,
                                                    absl::string_view path, absl::string_view what,
                                                    absl::string_view body) {
  absl::StatusOr<ApiAnswer> answer = Send(method, path, body);
  if (!answer.ok()) return answer.status();
  absl::Status status = StatusFromApiAnswer(answer->http_status, answer->body, method, what);
  if (!status.ok()) return status;
  return answer;
}

}  // namespace fabrique::tower
