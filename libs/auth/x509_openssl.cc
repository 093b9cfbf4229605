#include "libs/auth/x509_openssl.h"

#include <openssl/err.h>

#include "absl/strings/str_cat.h"

namespace fabrique::auth {

absl::Status OpenSslError(absl::StatusCode code, absl::string_view what) {
  std::string reasons;
  while (const unsigned long error = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(error, buffer, sizeof(buffer));
    absl::StrAppend(&reasons, reasons.empty() ? "" : "; ", buffer);
  }
  if (reasons.empty()) reasons = "no detail from OpenSSL";
  return absl::Status(code, absl::StrCat(what, ": ", reasons));
}

void ClearOpenSslErrors() { ERR_clear_error(); }

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<size_t>(size)) : std::string();
}

}  // namespace fabrique::auth
