#include "tools/bench/bench_support.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/auth/default_policy.h"
#include "libs/auth/local_authority.h"
#include "libs/client/health_client.h"

namespace fabrique::bench {

absl::StatusOr<Security> Security::Local(const std::string& dir) {
  auth::LocalAuthorityOptions options;
  options.dir = dir;
  absl::StatusOr<std::unique_ptr<auth::LocalAuthority>> authority =
      auth::LocalAuthority::Open(options);
  if (!authority.ok()) return authority.status();
  constexpr char kAdmin[] = "bench";
  std::ofstream(dir + "/policy.csv") << auth::DefaultPolicyText(kAdmin);
  absl::StatusOr<std::string> token = (*authority)->MintToken(kAdmin, {}, absl::Hours(24));
  if (!token.ok()) return token.status();
  Security security;
  security.insecure_ = false;
  security.dir_ = dir;
  security.token_ = absl::StrCat("Bearer ", *token);
  return security;
}

const char* Security::Name() const { return insecure_ ? "plaintext (--insecure)" : "TLS + token"; }

std::vector<std::string> Security::ServerFlags(const std::string& service) const {
  if (insecure_) return {"--insecure"};
  return {absl::StrCat("--tls_cert=", dir_, "/", service, ".crt"),
          absl::StrCat("--tls_key=", dir_, "/", service, ".key"),
          absl::StrCat("--tls_client_ca=", dir_, "/ca.crt"),
          absl::StrCat("--jwks=", dir_, "/jwks.json"),
          "--token_issuer=fabrique-local",
          absl::StrCat("--policy=", dir_, "/policy.csv")};
}

std::shared_ptr<grpc::Channel> Security::Channel(const std::string& target,
                                                 bool share_connections) const {
  client::ChannelOptions options;
  options.target = target;
  options.plaintext = insecure_;
  if (!insecure_) options.tls.ca_path = dir_ + "/ca.crt";
  options.share_connections = share_connections;
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = client::MakeChannel(options);
  CheckOk(channel.status(), "making a channel");
  return *std::move(channel);
}

std::unique_ptr<grpc::ClientContext> Security::Context(absl::Duration timeout) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  if (!token_.empty()) context->AddMetadata("authorization", token_);
  return context;
}

std::string BinaryDir() {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::string(".") : self.parent_path().string();
}

absl::StatusOr<std::unique_ptr<SpawnedService>> SpawnedService::Start(
    const std::string& binary, const std::string& data_dir, const Security& security,
    const std::vector<std::string>& extra_flags, absl::Duration timeout) {
  std::error_code error;
  std::filesystem::remove_all(data_dir, error);
  std::filesystem::create_directories(std::filesystem::path(data_dir).parent_path(), error);
  const std::string log = data_dir + ".log";
  std::filesystem::remove(log, error);
  std::vector<std::string> argv = {absl::StrCat(BinaryDir(), "/", binary),
                                   absl::StrCat("--data_dir=", data_dir), "--listen_host=127.0.0.1",
                                   "--port=0", "--metrics_port=0"};
  const std::vector<std::string> security_flags =
      security.ServerFlags(binary.substr(binary.find('-') + 1));
  argv.insert(argv.end(), security_flags.begin(), security_flags.end());
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  absl::StatusOr<std::unique_ptr<cli::ChildProcess>> process = cli::ChildProcess::Spawn(argv, log);
  if (!process.ok()) return process.status();
  const absl::Time deadline = absl::Now() + timeout;
  int grpc_port = 0, metrics_port = 0;
  while (!cli::ReadServerStartedPorts(log, 0, &grpc_port, &metrics_port)) {
    if ((*process)->Poll().has_value() || absl::Now() > deadline) {
      return absl::UnavailableError(
          absl::StrCat(binary, " did not start; its log ends:\n", cli::TailFile(log, 20)));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  const std::string target = absl::StrCat("127.0.0.1:", grpc_port);
  absl::Status healthy =
      client::WaitUntilServing(security.Channel(target), "", deadline - absl::Now());
  if (!healthy.ok()) return healthy;
  return std::unique_ptr<SpawnedService>(
      new SpawnedService(*std::move(process), target, metrics_port));
}

SpawnedService::~SpawnedService() { Stop(); }

long SpawnedService::PeakRssMib() const { return bench::PeakRssMib(process_->pid()); }

int SpawnedService::Stop() {
  process_->Signal(SIGTERM);
  return process_->Wait(absl::Seconds(30)).value_or(-1);
}

absl::StatusOr<int> FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    close(fd);
    return absl::InternalError("cannot bind a loopback port");
  }
  close(fd);
  return ntohs(address.sin_port);
}

absl::StatusOr<std::string> RunAndCapture(const std::vector<std::string>& argv) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return absl::InternalError("pipe() failed");
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork() failed");
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    std::vector<char*> c_argv;
    for (const std::string& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
    c_argv.push_back(nullptr);
    execvp(c_argv[0], c_argv.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  std::string out;
  char buffer[4096];
  ssize_t n;
  while ((n = read(pipe_fds[0], buffer, sizeof(buffer))) > 0) out.append(buffer, n);
  close(pipe_fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("'", absl::StrJoin(argv, " "), "' failed (status ",
                                            status, "); its output:\n", out));
  }
  return out;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = std::ceil(p / 100.0 * values.size());
  const size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return values[std::min(index, values.size() - 1)];
}

double Median(std::vector<double> values) { return Percentile(std::move(values), 50); }

long PeakRssMib(pid_t pid) {
  std::ifstream status(pid == 0 ? std::string("/proc/self/status")
                                : absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "VmHWM:")) return std::stol(line.substr(6)) / 1024;
  }
  return -1;
}

void ResetPeakRss() { std::ofstream("/proc/self/clear_refs") << "5"; }

void CheckOk(const absl::Status& status, const char* what) {
  if (status.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
  std::exit(1);
}

}  // namespace fabrique::bench
