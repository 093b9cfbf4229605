// `fabrique version`: what this build is and what it was built with.

#include <iostream>

#include "google/protobuf/stubs/common.h"
#include "grpcpp/grpcpp.h"
#include "libs/core/version.h"
#include "rocksdb/version.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/commands.h"

namespace fabrique::cli {

int RunVersion(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] != "--help" && args[0] != "-h") {
    return UsageError("fabrique version", "takes no arguments (got '" + args[0] + "')");
  }
  if (!args.empty()) {
    std::cout << "Usage: fabrique version\n\nPrints Fabrique's version and the versions of "
                 "gRPC, Protobuf and RocksDB it was built with.\n";
    return 0;
  }
  std::cout << "fabrique " << core::kVersion << "\n"
            << "grpc " << grpc::Version() << "\n"
            << "protobuf " << google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION)
            << "\n"
            << "rocksdb " << ROCKSDB_MAJOR << "." << ROCKSDB_MINOR << "." << ROCKSDB_PATCH << "\n";
  return 0;
}

}  // namespace fabrique::cli
