#ifndef FABRIQUE_LIBS_CORE_SHA256_H_
#define FABRIQUE_LIBS_CORE_SHA256_H_

// SHA-256 as the platform names content: lowercase hex of the digest. Artifacts are stored and
// fetched under it, training sets record it, hash chains link entries with it.
//
//   Sha256Hex(bytes)                     // bytes already in memory
//
//   Sha256Stream hash;                   // bytes that arrive in pieces (a download, a file read
//   hash.Update(chunk); ...              // in chunks, rows as they are emitted), never held whole
//   hash.HexDigest()
//
// OpenSSL's implementation (SHA-NI where the CPU has it); its headers stay out of this one.

#include <memory>
#include <string>

#include "absl/strings/string_view.h"

namespace fabrique::core {

// Lowercase hex SHA-256 of `bytes`.
std::string Sha256Hex(absl::string_view bytes);

// SHA-256 over bytes fed in pieces: the digest depends only on the bytes, never on how they were
// split. Not copyable: one stream, one digest.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;

  // Feeds the next `bytes` (empty is fine).
  void Update(absl::string_view bytes);
  // Returns the lowercase hex SHA-256 of everything fed. Call once, last.
  std::string HexDigest();

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

}  // namespace fabrique::core

#endif  // FABRIQUE_LIBS_CORE_SHA256_H_
