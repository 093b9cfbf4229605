#ifndef FABRIQUE_TESTS_KV_OBSERVED_ENV_H_
#define FABRIQUE_TESTS_KV_OBSERVED_ENV_H_

// ObservedEnv: a rocksdb::Env for tests that forwards everything to another Env and lets a test
// see, and hold, what RocksDB does with its files:
//   - wal_syncs(): how many times a write-ahead log (*.log) was fsynced (Sync or Fsync), so a
//     test can prove how many fsyncs a write path really pays;
//   - HoldNextSstFile() / sst_file_held() / Release(): blocks the next creation of a table file
//     (*.sst) until released, so a test can act while a flush or compaction is provably running.
//
//   std::unique_ptr<rocksdb::Env> memory = kv::NewInMemoryEnv();
//   testing::ObservedEnv env(memory.get());
//   options.env = &env;  // The ObservedEnv must outlive the Store.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/env.h"

namespace fabrique::testing {

class ObservedEnv : public rocksdb::EnvWrapper {
 public:
  // `target` is not owned and must outlive this Env.
  explicit ObservedEnv(rocksdb::Env* target) : rocksdb::EnvWrapper(target) {}

  const char* Name() const override { return "ObservedEnv"; }

  rocksdb::Status NewWritableFile(const std::string& name,
                                  std::unique_ptr<rocksdb::WritableFile>* result,
                                  const rocksdb::EnvOptions& options) override {
    if (absl::EndsWith(name, ".sst")) WaitIfHeld();
    rocksdb::Status status = target()->NewWritableFile(name, result, options);
    if (status.ok() && absl::EndsWith(name, ".log")) {
      *result = std::make_unique<WalFile>(std::move(*result), this);
    }
    return status;
  }

  // Write-ahead-log fsyncs so far.
  int64_t wal_syncs() const {
    absl::MutexLock lock(&mu_);
    return wal_syncs_;
  }

  // Makes the next table file creation wait until Release().
  void HoldNextSstFile() {
    absl::MutexLock lock(&mu_);
    hold_ = true;
  }
  // Whether a table file creation is waiting now.
  bool sst_file_held() const {
    absl::MutexLock lock(&mu_);
    return held_;
  }
  // Lets a held creation (and every later one) go on.
  void Release() {
    absl::MutexLock lock(&mu_);
    hold_ = false;
  }

 private:
  // A write-ahead log whose fsyncs are counted.
  class WalFile : public rocksdb::WritableFileWrapper {
   public:
    WalFile(std::unique_ptr<rocksdb::WritableFile> file, ObservedEnv* env)
        : rocksdb::WritableFileWrapper(file.get()), file_(std::move(file)), env_(env) {}
    rocksdb::Status Sync() override {
      env_->CountWalSync();
      return rocksdb::WritableFileWrapper::Sync();
    }
    rocksdb::Status Fsync() override {
      env_->CountWalSync();
      return rocksdb::WritableFileWrapper::Fsync();
    }

   private:
    std::unique_ptr<rocksdb::WritableFile> file_;
    ObservedEnv* env_;
  };

  void CountWalSync() {
    absl::MutexLock lock(&mu_);
    ++wal_syncs_;
  }

  void WaitIfHeld() {
    absl::MutexLock lock(&mu_);
    if (!hold_) return;
    held_ = true;
    mu_.Await(absl::Condition(
        +[](bool* hold) { return !*hold; }, &hold_));
    held_ = false;
  }

  mutable absl::Mutex mu_;
  int64_t wal_syncs_ ABSL_GUARDED_BY(mu_) = 0;
  bool hold_ ABSL_GUARDED_BY(mu_) = false;
  bool held_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace fabrique::testing

#endif  // FABRIQUE_TESTS_KV_OBSERVED_ENV_H_
