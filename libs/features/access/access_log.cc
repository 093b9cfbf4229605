#include "libs/features/access/access_log.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/util/time_util.h"
#include "libs/core/log.h"
#include "libs/core/status_macros.h"
#include "libs/features/access/access_log_records.h"
#include "libs/kv/key_codec.h"
#include "libs/kv/write_batch.h"

namespace fabrique::features {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;
// How often a writer that cannot write tries again.
constexpr absl::Duration kRetryEvery = absl::Seconds(1);

absl::StatusOr<v1::PersonalDataRead> Parse(absl::string_view key, absl::string_view value) {
  v1::PersonalDataRead read;
  if (!read.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::DataLossError(
        absl::StrCat("access log entry at key ", absl::CHexEscape(key), " is corrupt"));
  }
  return read;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AccessLog>> AccessLog::Create(Options options) {
  if (options.store == nullptr) return absl::InvalidArgumentError("AccessLog: no store given");
  if (options.max_queued < 1 || options.max_batch < 1) {
    return absl::InvalidArgumentError(absl::StrCat("AccessLog: max_queued (", options.max_queued,
                                                   ") and max_batch (", options.max_batch,
                                                   ") must be at least 1"));
  }
  if (options.clock == nullptr) options.clock = core::Clock::Real();
  absl::StatusOr<kv::ColumnFamily> family = options.store->Family(options.family);
  if (absl::IsNotFound(family.status())) family = options.store->CreateFamily(options.family);
  RETURN_IF_ERROR(family.status());
  // The chain goes on from the last stored entry.
  ASSIGN_OR_RETURN(std::unique_ptr<kv::Iterator> it,
                   options.store->NewIterator(*family, kv::KeyRange::Prefix(ReadsPrefix())));
  it->SeekToLast();
  int64_t last_sequence = 0;
  std::string head_hash;
  if (it->Valid()) {
    ASSIGN_OR_RETURN(v1::PersonalDataRead last, Parse(it->key(), it->value()));
    last_sequence = last.sequence();
    head_hash = last.hash();
  }
  RETURN_IF_ERROR(it->status());
  return std::unique_ptr<AccessLog>(
      new AccessLog(std::move(options), *family, last_sequence, std::move(head_hash)));
}

AccessLog::AccessLog(Options options, kv::ColumnFamily family, int64_t last_sequence,
                     std::string head_hash)
    : options_(std::move(options)),
      family_(family),
      last_sequence_(last_sequence),
      head_hash_(std::move(head_hash)) {
  writer_ = std::thread([this] { Write(); });
}

AccessLog::~AccessLog() { Close().IgnoreError(); }

absl::Status AccessLog::Append(v1::PersonalDataRead read) {
  *read.mutable_time() = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
      absl::ToUnixMicros(options_.clock->Now()));
  absl::MutexLock lock(&mu_);
  if (closing_) return absl::UnavailableError("the personal-data access log is closed");
  if (static_cast<int>(queue_.size()) >= options_.max_queued) {
    return absl::UnavailableError(absl::StrCat(
        "the personal-data access log is behind (", queue_.size(), " entries wait to be written",
        write_error_.ok() ? "" : ": ", write_error_.ok() ? "" : write_error_.message(),
        "); the read cannot be recorded, so it is refused: retry later"));
  }
  queue_.push_back(std::move(read));
  ++appended_;
  return absl::OkStatus();
}

absl::Status AccessLog::Flush() {
  absl::MutexLock lock(&mu_);
  const int64_t target = appended_;
  const auto done = [this, target]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return written_ >= target || !write_error_.ok();
  };
  mu_.Await(absl::Condition(&done));
  return written_ >= target ? absl::OkStatus() : write_error_;
}

absl::Status AccessLog::Close() {
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
  }
  if (writer_.joinable()) writer_.join();
  absl::MutexLock lock(&mu_);
  if (written_ == appended_) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat(
      appended_ - written_, " personal-data reads were not recorded: ", write_error_.message()));
}

void AccessLog::Write() {
  std::deque<v1::PersonalDataRead> batch;  // Kept across a failed write, to retry it.
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (batch.empty()) {
        mu_.Await(absl::Condition(this, &AccessLog::HasWork));
        if (queue_.empty()) return;  // Closing, and everything is written.
        const size_t take = std::min(queue_.size(), static_cast<size_t>(options_.max_batch));
        std::move(queue_.begin(), queue_.begin() + take, std::back_inserter(batch));
        queue_.erase(queue_.begin(), queue_.begin() + take);
      }
    }
    const absl::Status written = WriteBatch(batch);
    absl::MutexLock lock(&mu_);
    if (written.ok()) {
      written_ += static_cast<int64_t>(batch.size());
      write_error_ = absl::OkStatus();
      batch.clear();
      continue;
    }
    write_error_ = written;
    core::Log(core::LogLevel::kError, "access_log_write_failed",
              {{"entries", static_cast<int64_t>(batch.size())},
               {"error", std::string(written.message())}});
    if (closing_) return;  // Close reports the entries lost.
    mu_.AwaitWithTimeout(absl::Condition(&closing_), kRetryEvery);
  }
}

absl::Status AccessLog::WriteBatch(std::deque<v1::PersonalDataRead>& batch) {
  kv::WriteBatch write;
  int64_t sequence = last_sequence_;
  std::string head = head_hash_;
  for (v1::PersonalDataRead& read : batch) {
    read.set_sequence(++sequence);
    SealPersonalDataRead(&read, head);
    head = read.hash();
    write.Put(family_, ReadKey(static_cast<uint64_t>(sequence)), read.SerializeAsString());
    write.Put(family_, GroupReadKey(read.group(), static_cast<uint64_t>(sequence)), "");
  }
  RETURN_IF_ERROR(options_.store->Write(write));
  last_sequence_ = sequence;
  head_hash_ = std::move(head);
  return absl::OkStatus();
}

absl::StatusOr<v1::ListPersonalDataReadsResponse> AccessLog::List(
    const v1::ListPersonalDataReadsRequest& request) const {
  if (request.group().empty()) {
    return absl::InvalidArgumentError("ListPersonalDataReadsRequest.group is required");
  }
  const int page_size =
      request.page_size() <= 0 ? kDefaultPageSize : std::min(request.page_size(), kMaxPageSize);
  const std::string prefix = GroupReadsPrefix(request.group());
  ASSIGN_OR_RETURN(std::unique_ptr<kv::Iterator> it,
                   options_.store->NewIterator(family_, kv::KeyRange::Prefix(prefix)));
  if (request.page_token().empty()) {
    it->SeekToLast();
  } else {
    uint64_t after = 0;
    if (!absl::SimpleAtoi(request.page_token(), &after)) {
      return absl::InvalidArgumentError(
          absl::StrCat("page_token \"", request.page_token(), "\" is not one this call returned"));
    }
    // The token is the last sequence of the previous page: continue just below it.
    it->SeekForPrev(GroupReadKey(request.group(), after));
    if (it->Valid() && it->key() == GroupReadKey(request.group(), after)) it->Prev();
  }
  v1::ListPersonalDataReadsResponse response;
  uint64_t last = 0;
  for (; it->Valid() && response.reads_size() < page_size; it->Prev()) {
    kv::KeyReader reader(it->key().substr(prefix.size()));
    ASSIGN_OR_RETURN(last, reader.ReadUint64());
    const std::string key = ReadKey(last);
    ASSIGN_OR_RETURN(const std::string value, options_.store->Get(family_, key));
    ASSIGN_OR_RETURN(v1::PersonalDataRead read, Parse(key, value));
    if (!request.feature().empty() && std::find(read.features().begin(), read.features().end(),
                                                request.feature()) == read.features().end()) {
      continue;
    }
    *response.add_reads() = std::move(read);
  }
  RETURN_IF_ERROR(it->status());
  if (it->Valid()) response.set_next_page_token(absl::StrCat(last));
  return response;
}

absl::StatusOr<core::HashChainResult> AccessLog::Verify(int64_t start, int64_t end) const {
  start = std::max<int64_t>(start, 1);
  std::string prev_hash;
  if (start > 1) {
    const std::string key = ReadKey(static_cast<uint64_t>(start - 1));
    ASSIGN_OR_RETURN(const std::string value, options_.store->Get(family_, key));
    ASSIGN_OR_RETURN(v1::PersonalDataRead before, Parse(key, value));
    prev_hash = before.hash();
  }
  core::HashChainVerifier verifier(std::move(prev_hash), start - 1);
  ASSIGN_OR_RETURN(std::unique_ptr<kv::Iterator> it,
                   options_.store->NewIterator(family_, kv::KeyRange::Prefix(ReadsPrefix())));
  for (it->Seek(ReadKey(static_cast<uint64_t>(start))); it->Valid(); it->Next()) {
    ASSIGN_OR_RETURN(v1::PersonalDataRead read, Parse(it->key(), it->value()));
    if (end > 0 && read.sequence() > end) break;
    if (!verifier.Add(read.sequence(), read.prev_hash(), read.hash(), PersonalDataReadHash(read))) {
      break;
    }
  }
  RETURN_IF_ERROR(it->status());
  return verifier.result();
}

}  // namespace fabrique::features
