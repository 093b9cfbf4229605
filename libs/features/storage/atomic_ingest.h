#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_ATOMIC_INGEST_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_ATOMIC_INGEST_H_

// AtomicIngest: one SST file per column family of a store, each written in key order, then
// ingested together by one rocksdb::DB::IngestExternalFiles. RocksDB records every file in one
// MANIFEST write, so after Ingest returns, fails, or the process or machine crashes at any point,
// either every file is in the store or none is. A reader without a snapshot may see one family's
// file before another's while Ingest runs; one reading under a snapshot sees all or none.
//
// The files behave as one write batch committed when Ingest returns: RocksDB gives them a
// sequence number past every earlier write (after flushing a memtable that overlaps them), so
// their Puts replace stored values and their Merge operands merge over stored values and memtable
// entries, later than them, as a WriteBatch::Merge would. They skip the write-ahead log and the
// memtable: ingestion is durable when it returns (RocksDB syncs the files and the MANIFEST).
//
// Files are written under `dir` and moved (hard-linked) into the store; the ones not ingested
// are deleted when the AtomicIngest is destroyed.
//
// Not thread-safe: one per ingestion. Several may run at once on the same store and directory.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/kv/store.h"
#include "rocksdb/sst_file_writer.h"

namespace fabrique::features {

class AtomicIngest {
 public:
  // FAILED_PRECONDITION for a closed store; the Env's errors creating `dir`. `context` names the
  // operation in every error (e.g. "bulk load of group 'g'").
  static absl::StatusOr<std::unique_ptr<AtomicIngest>> Create(kv::Store* store, std::string dir,
                                                              std::string context);
  AtomicIngest(const AtomicIngest&) = delete;
  AtomicIngest& operator=(const AtomicIngest&) = delete;
  // Deletes the files that were not ingested.
  ~AtomicIngest();

  // One family's file. Entries must come in strictly ascending key order (the family's
  // comparator); RocksDB refuses others with INVALID_ARGUMENT.
  class File {
   public:
    absl::Status Put(absl::string_view key, absl::string_view value);
    absl::Status Merge(absl::string_view key, absl::string_view operand);
    absl::Status Delete(absl::string_view key);
    // Entries added so far.
    int64_t entries() const { return entries_; }

   private:
    friend class AtomicIngest;
    File(kv::ColumnFamily family, std::string path, const rocksdb::Options& options,
         const std::string* context)
        : family_(family),
          path_(std::move(path)),
          writer_(rocksdb::EnvOptions(), options, family.handle()),
          context_(context) {}
    absl::Status Check(const rocksdb::Status& status) const;

    const kv::ColumnFamily family_;
    const std::string path_;
    rocksdb::SstFileWriter writer_;
    const std::string* const context_;
    int64_t entries_ = 0;
  };

  // The file of `family`, created on first use.
  absl::StatusOr<File*> FileOf(kv::ColumnFamily family);
  // The file of `family` if there is one, else null.
  File* Find(kv::ColumnFamily family) const;

  // Finishes every file that has entries and ingests them all in one call. Errors: the store's
  // ingestion errors; nothing is ingested then. Call at most once.
  absl::Status Ingest();

 private:
  AtomicIngest(kv::Store* store, std::string dir, std::string context)
      : store_(store), dir_(std::move(dir)), context_(std::move(context)) {}

  kv::Store* const store_;
  const std::string dir_;
  const std::string context_;
  std::vector<std::unique_ptr<File>> files_;
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_ATOMIC_INGEST_H_
