#include "libs/kv/env.h"

namespace fabrique::kv {

std::unique_ptr<rocksdb::Env> NewInMemoryEnv() {
  // The memory Env takes a base Env only for its clock and threads; files never reach it.
  return std::unique_ptr<rocksdb::Env>(rocksdb::NewMemEnv(rocksdb::Env::Default()));
}

}  // namespace fabrique::kv
