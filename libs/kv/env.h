#ifndef FABRIQUE_LIBS_KV_ENV_H_
#define FABRIQUE_LIBS_KV_ENV_H_

// Envs to plug into StoreOptions::env.

#include <memory>

#include "rocksdb/env.h"

namespace fabrique::kv {

// Returns an Env that keeps every file in memory and touches no disk. Unlike
// StoreOptions::in_memory, the caller owns it, so a Store can be closed and reopened on it with
// its data intact (tests of recovery that must not touch the disk). It must outlive every Store
// opened on it.
std::unique_ptr<rocksdb::Env> NewInMemoryEnv();

}  // namespace fabrique::kv

#endif  // FABRIQUE_LIBS_KV_ENV_H_
