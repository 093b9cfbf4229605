#include "libs/features/storage/atomic_ingest.h"

#include <atomic>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/kv/rocksdb_status.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/options.h"

namespace fabrique::features {
namespace {

rocksdb::Slice ToSlice(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

// Distinguishes the files of ingestions running at once in one process; the time in the name
// keeps them apart across restarts.
std::atomic<int64_t> next_file{0};

}  // namespace

absl::StatusOr<std::unique_ptr<AtomicIngest>> AtomicIngest::Create(kv::Store* store,
                                                                   std::string dir,
                                                                   std::string context) {
  rocksdb::DB* db = store->raw_db();
  if (db == nullptr) return absl::FailedPreconditionError(absl::StrCat(context, ": store closed"));
  RETURN_IF_ERROR(kv::FromRocksDbStatus(db->GetEnv()->CreateDirIfMissing(dir), context));
  return std::unique_ptr<AtomicIngest>(new AtomicIngest(store, std::move(dir), std::move(context)));
}

AtomicIngest::~AtomicIngest() {
  rocksdb::DB* db = store_->raw_db();
  if (db == nullptr) return;
  // Moved files are gone already; the others (not ingested, or copied) are removed here, each
  // once its writer has closed it.
  for (std::unique_ptr<File>& file : files_) {
    const std::string path = file->path_;
    file.reset();
    db->GetEnv()->DeleteFile(path).PermitUncheckedError();
  }
}

absl::Status AtomicIngest::File::Check(const rocksdb::Status& status) const {
  if (status.ok()) return absl::OkStatus();
  return kv::FromRocksDbStatus(status, absl::StrCat(*context_, ", family '", family_.name(), "'"));
}

absl::Status AtomicIngest::File::Put(absl::string_view key, absl::string_view value) {
  ++entries_;
  return Check(writer_.Put(ToSlice(key), ToSlice(value)));
}

absl::Status AtomicIngest::File::Merge(absl::string_view key, absl::string_view operand) {
  ++entries_;
  return Check(writer_.Merge(ToSlice(key), ToSlice(operand)));
}

absl::Status AtomicIngest::File::Delete(absl::string_view key) {
  ++entries_;
  return Check(writer_.Delete(ToSlice(key)));
}

AtomicIngest::File* AtomicIngest::Find(kv::ColumnFamily family) const {
  for (const std::unique_ptr<File>& file : files_) {
    if (file->family_ == family) return file.get();
  }
  return nullptr;
}

absl::StatusOr<AtomicIngest::File*> AtomicIngest::FileOf(kv::ColumnFamily family) {
  if (File* file = Find(family)) return file;
  rocksdb::DB* db = store_->raw_db();
  if (db == nullptr) return absl::FailedPreconditionError(absl::StrCat(context_, ": store closed"));
  if (!family.valid() || family.owner() != store_) {
    return absl::InvalidArgumentError(
        absl::StrCat(context_, ": column family '", family.name(), "' is not of this store"));
  }
  std::string path = absl::StrCat(dir_, "/", db->GetEnv()->NowMicros(), "-", next_file.fetch_add(1),
                                  "-", family.name(), ".sst");
  // The family's own options: its table format, filters and comparator, as a flush would write.
  auto file = std::unique_ptr<File>(
      new File(family, std::move(path), db->GetOptions(family.handle()), &context_));
  RETURN_IF_ERROR(file->Check(file->writer_.Open(file->path_)));
  files_.push_back(std::move(file));
  return files_.back().get();
}

absl::Status AtomicIngest::Ingest() {
  rocksdb::DB* db = store_->raw_db();
  if (db == nullptr) return absl::FailedPreconditionError(absl::StrCat(context_, ": store closed"));
  std::vector<rocksdb::IngestExternalFileArg> args;
  for (const std::unique_ptr<File>& file : files_) {
    if (file->entries_ == 0) continue;  // RocksDB refuses empty files.
    RETURN_IF_ERROR(file->Check(file->writer_.Finish()));
    rocksdb::IngestExternalFileArg& arg = args.emplace_back();
    arg.column_family = file->family_.handle();
    arg.external_files = {file->path_};
    // Linked in; RocksDB copies when linking is not possible (another file system).
    arg.options.move_files = true;
  }
  if (args.empty()) return absl::OkStatus();
  // RocksDB flushes the memtables a file overlaps before it ingests the file, and answers
  // TryAgain when one still overlaps once it holds the write lock: about one run in 150 of a
  // test making 80 bulk loads among streamed batches of the same entities, under concurrent
  // lookups, failed so. A failed ingestion changes nothing and leaves the files in place, so it
  // is tried again at once, a few times.
  constexpr int kAttempts = 5;
  rocksdb::Status status = db->IngestExternalFiles(args);
  for (int attempt = 1; status.IsTryAgain() && attempt < kAttempts; ++attempt) {
    status = db->IngestExternalFiles(args);
  }
  return kv::FromRocksDbStatus(status, context_);
}

}  // namespace fabrique::features
