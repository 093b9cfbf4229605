#include "tests/tower/kubernetes/fake_api_server.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/util/test_certs.h"

extern char** environ;

namespace fabrique::tower::testing {
namespace {

std::string SourceDir() {
  const char* dir = std::getenv("FABRIQUE_SOURCE_DIR");
  return dir != nullptr ? dir : ".";
}

}  // namespace

absl::StatusOr<std::unique_ptr<FakeApiServer>> FakeApiServer::Start(const std::string& dir,
                                                                    const std::string& token) {
  std::unique_ptr<FakeApiServer> server(new FakeApiServer());
  server->dir_ = dir;
  auto ca = fabrique::testing::MakeTestCa(dir, "kube-ca");
  if (!ca.ok()) return ca.status();
  auto leaf = fabrique::testing::MakeTestLeaf(dir, "kube-apiserver", *ca, /*server=*/true);
  if (!leaf.ok()) return leaf.status();
  server->ca_file_ = ca->cert_path;

  const std::string script = SourceDir() + "/tests/tower/kubernetes/fake_kube_apiserver.py";
  std::vector<std::string> args = {
      "/usr/bin/python3", script,          "--dir", dir,           "--token", token,
      "--cert",           leaf->cert_path, "--key", leaf->key_path};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  if (posix_spawn(&server->pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0) {
    return absl::InternalError("cannot start python3 for the fake API server");
  }
  const std::string port_file = dir + "/port";
  if (!fabrique::testing::PollUntil(
          [&] { return !fabrique::testing::ReadTestFile(port_file).empty(); }, absl::Seconds(20))) {
    return absl::DeadlineExceededError("the fake API server did not start within 20s");
  }
  server->url_ = absl::StrCat("https://127.0.0.1:", fabrique::testing::ReadTestFile(port_file));
  KubernetesApiClient::Options control;
  control.server = server->url_;
  control.token_file = "";  // The control calls need none.
  control.ca_file = server->ca_file_;
  auto client = KubernetesApiClient::Create(control);
  if (!client.ok()) return client.status();
  server->control_ = *std::move(client);
  return server;
}

FakeApiServer::~FakeApiServer() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
}

absl::StatusOr<nlohmann::json> FakeApiServer::Control(const std::string& method,
                                                      const std::string& path,
                                                      const std::string& body) {
  auto answer = control_->Call(method, path, path, body);
  if (!answer.ok()) return answer.status();
  return nlohmann::json::parse(answer->body);
}

absl::Status FakeApiServer::SetJobStatus(const std::string& ns, const std::string& name,
                                         const nlohmann::json& status) {
  return Control("PUT", absl::StrCat("/fake/status/", ns, "/", name), status.dump()).status();
}

absl::Status FakeApiServer::SetTerminationMessage(const std::string& ns,
                                                  const std::string& job_name,
                                                  const std::string& message) {
  return Control("PUT", absl::StrCat("/fake/termination/", ns, "/", job_name), message).status();
}

absl::Status FakeApiServer::SetToken(const std::string& token) {
  return Control("PUT", "/fake/token", token).status();
}

absl::Status FakeApiServer::Fail(const std::string& method, const std::string& path_part, int code,
                                 const std::string& reason, const std::string& message, int times) {
  nlohmann::json failure = {{"method", method}, {"path_contains", path_part}, {"code", code},
                            {"reason", reason}, {"message", message},         {"times", times}};
  return Control("PUT", "/fake/fail", failure.dump()).status();
}

absl::StatusOr<nlohmann::json> FakeApiServer::Requests() {
  return Control("GET", "/fake/requests", "");
}

absl::StatusOr<nlohmann::json> FakeApiServer::Objects() {
  return Control("GET", "/fake/objects", "");
}

absl::Status ValidateWithKubernetesSchemas(const std::string& dir) {
  const std::string command =
      absl::StrCat("node ", SourceDir(), "/tests/k8s/validate_job.js ", dir, " 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return absl::InternalError("cannot run node");
  std::string output;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) output.append(buffer.data(), n);
  const int rc = pclose(pipe);
  if (rc != 0) {
    return absl::FailedPreconditionError(absl::StrCat("validate_job.js refused the objects (exit ",
                                                      WEXITSTATUS(rc), "):\n", output));
  }
  return absl::OkStatus();
}

}  // namespace fabrique::tower::testing
