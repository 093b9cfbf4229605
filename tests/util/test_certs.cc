#include "tests/util/test_certs.h"

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"

namespace fabrique::testing {
namespace {

// Runs `command` through the shell, its output into DIR/openssl.log; INTERNAL with the log when
// it fails.
absl::Status Shell(const std::string& dir, const std::string& command) {
  const std::string log = absl::StrCat(dir, "/openssl.log");
  const int code = std::system(absl::StrCat(command, " >", log, " 2>&1").c_str());
  if (code != 0) {
    return absl::InternalError(
        absl::StrCat("`", command, "` failed (", code, "): ", ReadTestFile(log)));
  }
  return absl::OkStatus();
}

}  // namespace

std::string ReadTestFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

absl::StatusOr<TestCertificate> MakeTestCa(const std::string& dir, const std::string& name) {
  TestCertificate ca{absl::StrCat(dir, "/", name, ".crt"), absl::StrCat(dir, "/", name, ".key")};
  const absl::Status made =
      Shell(dir, absl::StrCat("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                              "-nodes -days 2 -subj /CN=",
                              name, " -addext basicConstraints=critical,CA:TRUE",
                              " -addext keyUsage=critical,keyCertSign,cRLSign -keyout ",
                              ca.key_path, " -out ", ca.cert_path));
  if (!made.ok()) return made;
  return ca;
}

absl::StatusOr<TestCertificate> MakeTestLeaf(const std::string& dir, const std::string& name,
                                             const TestCertificate& ca, bool server) {
  TestCertificate leaf{absl::StrCat(dir, "/", name, ".crt"), absl::StrCat(dir, "/", name, ".key")};
  const std::string csr = absl::StrCat(dir, "/", name, ".csr");
  const std::string ext = absl::StrCat(dir, "/", name, ".ext");
  std::ofstream(ext) << (server ? "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                                  "extendedKeyUsage=serverAuth\n"
                                : absl::StrCat("subjectAltName=URI:spiffe://fabrique/service/",
                                               name, "\nextendedKeyUsage=clientAuth\n"));
  absl::Status made =
      Shell(dir, absl::StrCat("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                              "-nodes -subj /CN=",
                              name, " -keyout ", leaf.key_path, " -out ", csr));
  if (!made.ok()) return made;
  made = Shell(dir, absl::StrCat("openssl x509 -req -in ", csr, " -CA ", ca.cert_path, " -CAkey ",
                                 ca.key_path, " -CAcreateserial -days 2 -extfile ", ext, " -out ",
                                 leaf.cert_path));
  if (!made.ok()) return made;
  return leaf;
}

}  // namespace fabrique::testing
