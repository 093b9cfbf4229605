#ifndef FABRIQUE_TESTS_UTIL_TEST_CERTS_H_
#define FABRIQUE_TESTS_UTIL_TEST_CERTS_H_

// Certificates for TLS tests, made with the `openssl` command line in a test's temp dir: a CA,
// and leaf certificates it signs for servers (SANs localhost, 127.0.0.1) and clients (a SPIFFE
// URI). EC P-256 keys, so making one takes milliseconds.

#include <string>

#include "absl/status/statusor.h"

namespace fabrique::testing {

struct TestCertificate {
  std::string cert_path;  // PEM certificate.
  std::string key_path;   // PEM private key.
};

// A self-signed CA named `name`, as DIR/<name>.crt and DIR/<name>.key.
absl::StatusOr<TestCertificate> MakeTestCa(const std::string& dir, const std::string& name);

// A certificate for `name` signed by `ca`, as DIR/<name>.crt and DIR/<name>.key. A server's
// names localhost and 127.0.0.1; a client's carries spiffe://fabrique/service/<name>.
absl::StatusOr<TestCertificate> MakeTestLeaf(const std::string& dir, const std::string& name,
                                             const TestCertificate& ca, bool server);

// The whole of `path`, or "" when it cannot be read.
std::string ReadTestFile(const std::string& path);

}  // namespace fabrique::testing

#endif  // FABRIQUE_TESTS_UTIL_TEST_CERTS_H_
